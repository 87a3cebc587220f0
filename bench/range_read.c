/*
 * range_read.c - `cistern-range-read`: time random range reads from one
 * object of a node's store (bench/store.sh uses it; not part of the tests).
 *
 *   cistern-range-read [-n N] [-l LEN] [-s SEED] [-f PLAIN_FILE] STORE_DIR OBJECT_HEX
 *
 * Opens STORE_DIR read-only, then does N content_store_read calls of LEN
 * bytes (default 2000 x 64 KiB) at random offsets in [0, raw_len - LEN],
 * drawn from a fixed-seed generator so runs are repeatable.  Each call is
 * timed on its own with CLOCK_MONOTONIC.  With -f, the same offsets are also
 * read with pread(2) from PLAIN_FILE (the object's original file): that is
 * the peer, and the bytes are compared, so a wrong read fails the run.
 *
 * Output, one line per reader (parsed by bench/store.sh):
 *   store n=2000 len=65536 median_us=12.3 p99_us=40.5 max_us=310.0 mean_us=14.1
 *   file  n=2000 len=65536 median_us=4.1 p99_us=9.9 max_us=80.2 mean_us=4.6
 * Exit status: 0 ok, 1 usage, 2 store or I/O error, 3 data mismatch.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "content/store.h"

typedef struct bench_opts {
    unsigned long n;
    size_t len;
    uint64_t seed;
    const char *file; /* optional plain copy of the object (peer + check) */
    const char *store_dir;
    const char *id_hex;
} bench_opts;

static void usage(void)
{
    fprintf(stderr, "usage: cistern-range-read [-n N] [-l LEN] [-s SEED] [-f PLAIN_FILE] "
                    "STORE_DIR OBJECT_HEX\n");
}

/* xorshift64*: small, seedable, good enough to spread offsets. */
static uint64_t rng_next(uint64_t *state)
{
    uint64_t x = *state;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *state = x;
    return x * 0x2545F4914F6CDD1DULL;
}

static double now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static int parse_hex_id(const char *hex, uint8_t id[32])
{
    if (strlen(hex) != 64)
        return -1;
    for (int i = 0; i < 32; i++) {
        unsigned v;
        if (sscanf(hex + 2 * i, "%2x", &v) != 1)
            return -1;
        id[i] = (uint8_t)v;
    }
    return 0;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Sorts t in place, then prints the summary line. */
static void report(const char *name, double *t, unsigned long n, size_t len)
{
    double sum = 0;
    for (unsigned long i = 0; i < n; i++)
        sum += t[i];
    qsort(t, n, sizeof *t, cmp_double);
    unsigned long p99 = (unsigned long)((double)(n - 1) * 0.99);
    printf("%-5s n=%lu len=%zu median_us=%.1f p99_us=%.1f max_us=%.1f mean_us=%.1f\n", name, n, len,
           t[n / 2], t[p99], t[n - 1], sum / (double)n);
}

static int parse_args(bench_opts *o, int argc, char **argv)
{
    int c;
    o->n = 2000;
    o->len = 64 * 1024;
    o->seed = 0x9E3779B97F4A7C15ULL;
    o->file = NULL;
    while ((c = getopt(argc, argv, "n:l:s:f:h")) != -1) {
        switch (c) {
        case 'n':
            o->n = strtoul(optarg, NULL, 10);
            break;
        case 'l':
            o->len = (size_t)strtoul(optarg, NULL, 10);
            break;
        case 's':
            o->seed = strtoull(optarg, NULL, 10) | 1; /* xorshift state must not be 0 */
            break;
        case 'f':
            o->file = optarg;
            break;
        default:
            return -1;
        }
    }
    if (argc - optind != 2 || o->n == 0 || o->n > 10000000 || o->len == 0 || o->len > (64u << 20))
        return -1;
    o->store_dir = argv[optind];
    o->id_hex = argv[optind + 1];
    return 0;
}

int main(int argc, char **argv)
{
    bench_opts o;
    cs_err err = {0};
    content_store *s = NULL;
    content_obj_info info;
    uint8_t id[32];
    uint8_t *buf = NULL, *ref = NULL;
    double *ts = NULL, *tf = NULL;
    int fd = -1;
    int status = 2;

    if (parse_args(&o, argc, argv) != 0) {
        usage();
        return 1;
    }
    if (parse_hex_id(o.id_hex, id) != 0) {
        fprintf(stderr, "cistern-range-read: %s: not a 64-digit hex object id\n", o.id_hex);
        return 1;
    }
    if (content_store_open(&s, o.store_dir, CONTENT_STORE_RDONLY, &err) != 0 ||
        content_store_stat(s, id, &info, &err) != 0) {
        fprintf(stderr, "cistern-range-read: %s: %s\n", o.store_dir, err.msg);
        goto out;
    }
    if (info.raw_len < o.len) {
        fprintf(stderr, "cistern-range-read: object has %llu bytes, fewer than one read\n",
                (unsigned long long)info.raw_len);
        goto out;
    }
    buf = malloc(o.len);
    ref = malloc(o.len);
    ts = calloc(o.n, sizeof *ts);
    tf = calloc(o.n, sizeof *tf);
    if (!buf || !ref || !ts || !tf) {
        fprintf(stderr, "cistern-range-read: out of memory\n");
        goto out;
    }
    if (o.file && (fd = open(o.file, O_RDONLY)) < 0) {
        fprintf(stderr, "cistern-range-read: %s: %s\n", o.file, strerror(errno));
        goto out;
    }

    uint64_t state = o.seed;
    uint64_t span = info.raw_len - o.len + 1;
    for (unsigned long i = 0; i < o.n; i++) {
        uint64_t off = rng_next(&state) % span;
        size_t got = 0;
        double t0 = now_us();
        int rc = content_store_read(s, id, off, buf, o.len, &got, &err);
        ts[i] = now_us() - t0;
        if (rc != 0 || got != o.len) {
            fprintf(stderr, "cistern-range-read: read at %llu: %s\n", (unsigned long long)off,
                    rc ? err.msg : "short read");
            goto out;
        }
        if (fd >= 0) {
            t0 = now_us();
            ssize_t r = pread(fd, ref, o.len, (off_t)off);
            tf[i] = now_us() - t0;
            if (r != (ssize_t)o.len) {
                fprintf(stderr, "cistern-range-read: %s: short pread at %llu\n", o.file,
                        (unsigned long long)off);
                goto out;
            }
            if (memcmp(buf, ref, o.len) != 0) {
                fprintf(stderr, "cistern-range-read: bytes at %llu differ from %s\n",
                        (unsigned long long)off, o.file);
                status = 3;
                goto out;
            }
        }
    }
    report("store", ts, o.n, o.len);
    if (fd >= 0)
        report("file", tf, o.n, o.len);
    status = 0;
out:
    if (fd >= 0)
        close(fd);
    free(buf);
    free(ref);
    free(ts);
    free(tf);
    content_store_free(s);
    return status;
}
