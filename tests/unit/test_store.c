/*
 * test_store.c - the packed object store: round trips, dedupe, range reads,
 * refused imports, torn tails, a power cut after a flush, verify, gc, full
 * disk, many small files.
 */
#define _XOPEN_SOURCE 700
#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "content/object.h"
#include "content/store.h"
#include "platform/crypto.h"
#include "platform/error.h"
#include "platform/file.h"
#include "test.h"

#define KIB 1024u
#define MIB (1024u * 1024u)

static void fill_random(uint8_t *p, size_t n, uint64_t seed)
{
    uint64_t x = seed * 0x9E3779B97F4A7C15ULL + 1;
    for (size_t i = 0; i < n; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        p[i] = (uint8_t)(x >> 32);
    }
}

static void fill_text(uint8_t *p, size_t n, unsigned salt)
{
    static const char words[] = "lorem ipsum dolor sit amet consectetur adipiscing elit ";
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)words[(i * 3 + i / 97 + salt) % (sizeof words - 1)];
}

static int rm_cb(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    return remove(path);
}

static void rm_rf(const char *path)
{
    nftw(path, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
}

/* A fresh directory under $CISTERN_TEST_TMP (or /tmp); the store goes in
 * dir/store.  Removed by tmp_done. */
static char tmp_root[1024];
static void tmp_new(char *dir, size_t cap)
{
    const char *base = getenv("CISTERN_TEST_TMP");
    if (!base || !*base)
        base = "/tmp";
    cs_mkdirs(base, 0755, NULL);
    snprintf(tmp_root, sizeof tmp_root, "%s/cs-store-XXXXXX", base);
    if (!mkdtemp(tmp_root)) {
        perror("mkdtemp");
        exit(1);
    }
    snprintf(dir, cap, "%s/store", tmp_root);
}

static void tmp_done(void)
{
    rm_rf(tmp_root);
}

static uint64_t file_size(const char *dir, const char *name)
{
    char p[2048];
    struct stat sb;
    snprintf(p, sizeof p, "%s/%s", dir, name);
    return stat(p, &sb) == 0 ? (uint64_t)sb.st_size : 0;
}

static int count_packs(const char *dir)
{
    int n = 0;
    DIR *d = opendir(dir);
    struct dirent *e;
    while (d && (e = readdir(d)) != NULL)
        if (strncmp(e->d_name, "pack-", 5) == 0)
            n++;
    if (d)
        closedir(d);
    return n;
}

static int write_file(const char *path, const void *data, size_t len)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0)
        return -1;
    int ok = write(fd, data, len) == (ssize_t)len;
    close(fd);
    return ok ? 0 : -1;
}

/* Whole object back through content_store_read equals raw. */
static int reads_back(content_store *s, const uint8_t id[32], const uint8_t *raw, size_t len)
{
    uint8_t *b = malloc(len + 16);
    size_t n = 0;
    cs_err err = {0};
    int ok = b && content_store_read(s, id, 0, b, len + 16, &n, &err) == 0 && n == len &&
             (len == 0 || memcmp(b, raw, len) == 0);
    if (!ok)
        fprintf(stderr, "  read back failed: %s\n", err.msg);
    free(b);
    return ok;
}

static void test_roundtrip(void)
{
    char dir[1100];
    tmp_new(dir, sizeof dir);
    cs_err err = {0};
    content_store *s = NULL;
    REQUIRE(content_store_open(&s, dir, 0, &err) == 0);
    size_t sizes[] = {0, 1, 64 * KIB, 64 * KIB + 1, 5 * MIB + 3, 3 * MIB};
    uint8_t ids[6][32];
    uint8_t *data[6];
    for (int i = 0; i < 6; i++) {
        data[i] = malloc(sizes[i] + 1);
        if (i == 5)
            fill_text(data[i], sizes[i], 1);
        else
            fill_random(data[i], sizes[i], (uint64_t)i + 10);
        CHECK_EQ_INT(content_store_put_buf(s, data[i], sizes[i], ids[i], &err), 0);
        uint8_t want[32];
        cs_sha256_buf(sizes[i] ? (const void *)data[i] : "", sizes[i], want);
        CHECK(memcmp(want, ids[i], 32) == 0);
        CHECK(content_store_has(s, ids[i])); /* pending objects count */
        CHECK(reads_back(s, ids[i], data[i], sizes[i]));
    }
    CHECK(content_store_pending(s) > 0);
    CHECK_EQ_INT(content_store_flush(s, &err), 0);
    CHECK_EQ_INT(content_store_pending(s), 0);
    content_store_free(s);

    /* a second writer is refused while one holds the lock */
    content_store *w = NULL, *w2 = NULL, *r = NULL;
    REQUIRE(content_store_open(&w, dir, 0, &err) == 0);
    CHECK_EQ_INT(content_store_open(&w2, dir, 0, &err), CS_EBUSY);
    CHECK(w2 == NULL);
    REQUIRE(content_store_open(&r, dir, CONTENT_STORE_RDONLY, &err) == 0);
    for (int i = 0; i < 6; i++) {
        CHECK(content_store_has(r, ids[i]));
        CHECK(reads_back(r, ids[i], data[i], sizes[i]));
        content_obj_info info;
        CHECK_EQ_INT(content_store_stat(r, ids[i], &info, &err), 0);
        CHECK_EQ_INT(info.raw_len, sizes[i]);
        if (i < 5) /* random: stored raw, header + table only */
            CHECK_EQ_INT(info.enc_len,
                         CONTENT_OBJ_HDR +
                             8 * ((sizes[i] + CONTENT_OBJ_BLOCK - 1) / CONTENT_OBJ_BLOCK) +
                             sizes[i]);
        else
            CHECK(info.enc_len < sizes[i] / 2);
    }
    /* the reader sees what the writer commits, and only then */
    uint8_t extra[1000], xid[32];
    fill_random(extra, sizeof extra, 99);
    CHECK_EQ_INT(content_store_put_buf(w, extra, sizeof extra, xid, &err), 0);
    CHECK(!content_store_has(r, xid));
    CHECK_EQ_INT(content_store_flush(w, &err), 0);
    CHECK(content_store_has(r, xid));
    CHECK(reads_back(r, xid, extra, sizeof extra));
    CHECK(content_store_put_buf(r, extra, 10, xid, &err) != 0); /* read-only */
    content_store_stats st;
    CHECK_EQ_INT(content_store_stats_get(r, &st, &err), 0);
    CHECK_EQ_INT(st.objects, 7);
    CHECK_EQ_INT(st.packs, 1);
    CHECK(st.disk_bytes >= st.enc_bytes);
    uint8_t missing[32] = {1};
    size_t n;
    CHECK_EQ_INT(content_store_read(r, missing, 0, extra, 10, &n, &err), CS_ENOENT);
    content_store_free(r);
    content_store_free(w);
    content_store_free(NULL);
    CHECK_EQ_INT(content_store_open(&r, "/nonexistent/cs-store", CONTENT_STORE_RDONLY, &err),
                 CS_ENOENT);
    for (int i = 0; i < 6; i++)
        free(data[i]);
    tmp_done();
}

static void test_dedupe(void)
{
    char dir[1100], path[1200];
    tmp_new(dir, sizeof dir);
    cs_err err = {0};
    content_store *s = NULL;
    REQUIRE(content_store_open(&s, dir, 0, &err) == 0);
    size_t len = 6 * MIB + 77; /* over the in-memory limit: put_file streams */
    uint8_t *raw = malloc(len);
    REQUIRE(raw);
    fill_random(raw, len / 3, 4);
    fill_text(raw + len / 3, len - len / 3, 2);
    uint8_t a[32], b[32], c[32];
    uint64_t rl = 0;
    CHECK_EQ_INT(content_store_put_buf(s, raw, len, a, &err), 0);
    uint64_t p1 = content_store_pending(s);
    CHECK_EQ_INT(content_store_put_buf(s, raw, len, b, &err), 0); /* pending duplicate */
    CHECK(memcmp(a, b, 32) == 0);
    CHECK_EQ_INT(content_store_pending(s), p1);
    CHECK_EQ_INT(content_store_flush(s, &err), 0);
    uint64_t size1 = file_size(dir, "pack-000001.pack");
    CHECK_EQ_INT(content_store_put_buf(s, raw, len, b, &err), 0); /* committed duplicate */
    snprintf(path, sizeof path, "%s/big.bin", tmp_root);
    REQUIRE(write_file(path, raw, len) == 0);
    CHECK_EQ_INT(content_store_put_file(s, path, c, &rl, &err), 0); /* streamed duplicate */
    CHECK(memcmp(a, c, 32) == 0);
    CHECK_EQ_INT(rl, len);
    CHECK_EQ_INT(content_store_flush(s, &err), 0);
    CHECK_EQ_INT(file_size(dir, "pack-000001.pack"), size1);
    content_store_stats st;
    CHECK_EQ_INT(content_store_stats_get(s, &st, &err), 0);
    CHECK_EQ_INT(st.objects, 1);
    CHECK_EQ_INT(st.raw_bytes, len);

    /* a new streamed file is stored and reads back */
    raw[12345] ^= 0xff;
    REQUIRE(write_file(path, raw, len) == 0);
    CHECK_EQ_INT(content_store_put_file(s, path, c, &rl, &err), 0);
    CHECK(memcmp(a, c, 32) != 0);
    CHECK(reads_back(s, c, raw, len));
    CHECK_EQ_INT(content_store_flush(s, &err), 0);
    CHECK(reads_back(s, c, raw, len));
    content_store_free(s);
    free(raw);
    tmp_done();
}

static void test_range(void)
{
    char dir[1100];
    tmp_new(dir, sizeof dir);
    cs_err err = {0};
    content_store *s = NULL;
    REQUIRE(content_store_open(&s, dir, 0, &err) == 0);
    size_t len = MIB + 123;
    uint8_t *raw = malloc(len);
    uint8_t *b = malloc(len + 100);
    REQUIRE(raw && b);
    fill_text(raw, len / 2, 3);
    fill_random(raw + len / 2, len - len / 2, 5);
    uint8_t id[32];
    size_t n = 99;
    REQUIRE(content_store_put_buf(s, raw, len, id, &err) == 0);
    REQUIRE(content_store_flush(s, &err) == 0);
    const size_t B = CONTENT_OBJ_BLOCK;
    struct {
        uint64_t off;
        size_t len, want;
    } cases[] = {
        {0, 1, 1},
        {len - 1, 1, 1},
        {len - 1, 50, 1},
        {B - 6, 20, 20},                   /* across a block boundary */
        {B * 3 - 3, B * 2 + 6, B * 2 + 6}, /* three blocks */
        {B, B, B},                         /* exactly one block */
        {len / 2 - 10, 20, 20},            /* from LZ4 into raw blocks */
        {len - 3, 10, 3},
        {len, 10, 0}, /* past the end */
        {len + 5000, 10, 0},
        {0, len + 100, len},
        {12345, 0, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        n = 99;
        CHECK_EQ_INT(content_store_read(s, id, cases[i].off, b, cases[i].len, &n, &err), 0);
        CHECK_EQ_INT(n, cases[i].want);
        CHECK(n == 0 || memcmp(b, raw + cases[i].off, n) == 0);
    }
    /* repeated small reads inside one block use the cached block */
    int ok = 1;
    for (uint64_t o = 100000; o < 100000 + 5000; o += 7) {
        if (content_store_read(s, id, o, b, 7, &n, &err) != 0 || n != 7 ||
            memcmp(b, raw + o, 7) != 0)
            ok = 0;
    }
    CHECK(ok);
    /* encoded reads give the object.h bytes */
    content_obj_info info;
    REQUIRE(content_store_stat(s, id, &info, &err) == 0);
    uint8_t *enc = malloc(info.enc_len + 10);
    CHECK_EQ_INT(content_store_read_encoded(s, id, 0, enc, info.enc_len + 10, &n, &err), 0);
    CHECK_EQ_INT(n, info.enc_len);
    CHECK_EQ_INT(content_obj_verify_buf(enc, n, id, b, len, &err), 0);
    CHECK(memcmp(b, raw, len) == 0);
    CHECK_EQ_INT(content_store_read_encoded(s, id, info.enc_len - 4, enc, 100, &n, &err), 0);
    CHECK_EQ_INT(n, 4);
    CHECK_EQ_INT(content_store_read_encoded(s, id, info.enc_len, enc, 100, &n, &err), 0);
    CHECK_EQ_INT(n, 0);
    free(enc);
    free(raw);
    free(b);
    content_store_free(s);
    tmp_done();
}

static void test_put_encoded(void)
{
    char dir[1100], path[1200];
    tmp_new(dir, sizeof dir);
    cs_err err = {0};
    content_store *s = NULL;
    REQUIRE(content_store_open(&s, dir, 0, &err) == 0);
    size_t len = 200 * KIB + 5;
    uint8_t *raw = malloc(len);
    REQUIRE(raw);
    fill_text(raw, len / 2, 7);
    fill_random(raw + len / 2, len - len / 2, 8);
    uint8_t id[32];
    uint8_t *enc = NULL;
    size_t el = 0;
    REQUIRE(content_obj_encode_buf(raw, len, id, &enc, &el, &err) == 0);
    /* header, table, LZ4 data, raw data, last byte */
    size_t where[] = {0, 5, 9, 20, 49, 53, 56, 60, 56 + 8 * 3, 56 + 8 * 4 + 10, el / 2 + 7, el - 1};
    snprintf(path, sizeof path, "%s/obj.cso", tmp_root);
    REQUIRE(content_store_flush(s, &err) == 0);
    for (size_t i = 0; i < sizeof where / sizeof where[0]; i++) {
        enc[where[i]] ^= 0x10;
        CHECK(content_store_put_encoded(s, id, enc, el, &err) != 0);
        CHECK(!content_store_has(s, id));
        /* the streaming import from a file (at an offset) refuses it too */
        uint8_t *pre = malloc(el + 100);
        memset(pre, 'x', 100);
        memcpy(pre + 100, enc, el);
        REQUIRE(write_file(path, pre, el + 100) == 0);
        free(pre);
        int fd = open(path, O_RDONLY);
        CHECK(content_store_put_encoded_fd(s, id, fd, 100, el, &err) != 0);
        close(fd);
        CHECK(!content_store_has(s, id));
        enc[where[i]] ^= 0x10;
    }
    CHECK_EQ_INT(content_store_pending(s), 0);
    CHECK_EQ_INT(content_store_flush(s, &err), 0);
    /* nothing refused stayed on disk */
    CHECK(file_size(dir, "pack-000001.pack") <= 16);
    uint8_t wrong[32];
    memcpy(wrong, id, 32);
    wrong[0] ^= 1;
    CHECK(content_store_put_encoded(s, wrong, enc, el, &err) != 0);
    CHECK(content_store_put_encoded(s, id, enc, el - 1, &err) != 0);
    CHECK_EQ_INT(content_store_put_encoded(s, id, enc, el, &err), 0);
    CHECK(content_store_has(s, id));
    CHECK(reads_back(s, id, raw, len));

    /* streamed import of a valid object (second object) */
    raw[0] ^= 1;
    uint8_t id2[32];
    uint8_t *enc2 = NULL;
    size_t el2 = 0;
    REQUIRE(content_obj_encode_buf(raw, len, id2, &enc2, &el2, &err) == 0);
    REQUIRE(write_file(path, enc2, el2) == 0);
    int fd = open(path, O_RDONLY);
    CHECK_EQ_INT(content_store_put_encoded_fd(s, id2, fd, 0, el2, &err), 0);
    CHECK_EQ_INT(content_store_put_encoded_fd(s, id2, fd, 0, el2, &err), 0); /* dedupe */
    close(fd);
    CHECK_EQ_INT(content_store_flush(s, &err), 0);
    CHECK(reads_back(s, id2, raw, len));
    uint64_t dmg = 9;
    CHECK_EQ_INT(content_store_verify(s, NULL, NULL, NULL, NULL, &dmg, &err), 0);
    CHECK_EQ_INT(dmg, 0);
    free(enc);
    free(enc2);
    free(raw);
    content_store_free(s);
    tmp_done();
}

static void test_torn_tail(void)
{
    char dir[1100], path[1200];
    tmp_new(dir, sizeof dir);
    cs_err err = {0};
    content_store *s = NULL;
    REQUIRE(content_store_open(&s, dir, 0, &err) == 0);
    uint8_t raw[3000], id[32], id2[32];
    fill_random(raw, sizeof raw, 11);
    REQUIRE(content_store_put_buf(s, raw, sizeof raw, id, &err) == 0);
    REQUIRE(content_store_flush(s, &err) == 0);
    uint64_t committed = file_size(dir, "pack-000001.pack");
    /* an unflushed put dies with the process */
    REQUIRE(content_store_put_buf(s, raw, 1000, id2, &err) == 0);
    content_store_free(s);
    /* plus garbage appended, and a stray unregistered pack */
    snprintf(path, sizeof path, "%s/pack-000001.pack", dir);
    int fd = open(path, O_WRONLY | O_APPEND);
    REQUIRE(fd >= 0);
    REQUIRE(write(fd, "garbage-garbage", 15) == 15);
    close(fd);
    snprintf(path, sizeof path, "%s/pack-000007.pack", dir);
    REQUIRE(write_file(path, "CSPKjunk", 8) == 0);
    CHECK(file_size(dir, "pack-000001.pack") > committed);

    REQUIRE(content_store_open(&s, dir, 0, &err) == 0);
    CHECK_EQ_INT(file_size(dir, "pack-000001.pack"), committed);
    CHECK(!cs_path_exists(path));
    CHECK(content_store_has(s, id));
    CHECK(!content_store_has(s, id2));
    CHECK(reads_back(s, id, raw, sizeof raw));
    REQUIRE(content_store_put_buf(s, raw, 1000, id2, &err) == 0);
    CHECK_EQ_INT(content_store_flush(s, &err), 0);
    content_store_free(s);
    REQUIRE(content_store_open(&s, dir, CONTENT_STORE_RDONLY, &err) == 0);
    CHECK(reads_back(s, id2, raw, 1000));
    CHECK(reads_back(s, id, raw, sizeof raw));
    content_store_free(s);
    tmp_done();
}

typedef struct damage_log {
    int n;
    uint8_t id[32];
    char reason[256];
    uint64_t last_done, last_total;
} damage_log;

static void on_damage(void *ctx, const uint8_t id[32], const char *reason)
{
    damage_log *d = ctx;
    d->n++;
    memcpy(d->id, id, 32);
    snprintf(d->reason, sizeof d->reason, "%s", reason);
}

static void on_progress(void *ctx, uint64_t done, uint64_t total)
{
    damage_log *d = ctx;
    d->last_done = done;
    d->last_total = total;
}

/* ---- power cut ----------------------------------------------------------
 * What survives a power cut is each file as it was at its last fsync.  A
 * SQLite VFS wrapped around the default one copies a file into pc_image
 * whenever SQLite syncs it, so pc_image holds index.db and its WAL exactly as
 * a power cut would leave them.  The packs are fsynced by the store itself
 * (cs_fsync) before the commit, so their bytes at that point are durable. */
typedef struct pc_file {
    sqlite3_file base;  /* pMethods = &pc_io once open */
    sqlite3_file *real; /* the default VFS's file, right after this struct */
    char path[1100];
} pc_file;

static sqlite3_vfs *pc_orig;
static sqlite3_vfs pc_vfs;
static char pc_image[1100]; /* empty: no copies */
static int pc_syncs;        /* syncs copied */

static void copy_file(const char *from, const char *to)
{
    int in = open(from, O_RDONLY), out = open(to, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    char buf[65536];
    ssize_t n;
    while (in >= 0 && out >= 0 && (n = read(in, buf, sizeof buf)) > 0)
        if (write(out, buf, (size_t)n) != n)
            break;
    if (in >= 0)
        close(in);
    if (out >= 0)
        close(out);
}

#define PC_REAL(f) (((pc_file *)(f))->real)
static int pc_close(sqlite3_file *f)
{
    return PC_REAL(f)->pMethods->xClose(PC_REAL(f));
}
static int pc_read(sqlite3_file *f, void *b, int n, sqlite3_int64 o)
{
    return PC_REAL(f)->pMethods->xRead(PC_REAL(f), b, n, o);
}
static int pc_write(sqlite3_file *f, const void *b, int n, sqlite3_int64 o)
{
    return PC_REAL(f)->pMethods->xWrite(PC_REAL(f), b, n, o);
}
static int pc_truncate(sqlite3_file *f, sqlite3_int64 n)
{
    return PC_REAL(f)->pMethods->xTruncate(PC_REAL(f), n);
}
static int pc_sync(sqlite3_file *f, int flags)
{
    int rc = PC_REAL(f)->pMethods->xSync(PC_REAL(f), flags);
    const char *path = ((pc_file *)f)->path, *base = strrchr(path, '/');
    if (rc == SQLITE_OK && pc_image[0] && base) {
        char to[1300];
        snprintf(to, sizeof to, "%s%s", pc_image, base);
        copy_file(path, to);
        pc_syncs++;
    }
    return rc;
}
static int pc_size(sqlite3_file *f, sqlite3_int64 *n)
{
    return PC_REAL(f)->pMethods->xFileSize(PC_REAL(f), n);
}
static int pc_lock(sqlite3_file *f, int l)
{
    return PC_REAL(f)->pMethods->xLock(PC_REAL(f), l);
}
static int pc_unlock(sqlite3_file *f, int l)
{
    return PC_REAL(f)->pMethods->xUnlock(PC_REAL(f), l);
}
static int pc_reserved(sqlite3_file *f, int *out)
{
    return PC_REAL(f)->pMethods->xCheckReservedLock(PC_REAL(f), out);
}
static int pc_fcntl(sqlite3_file *f, int op, void *arg)
{
    return PC_REAL(f)->pMethods->xFileControl(PC_REAL(f), op, arg);
}
static int pc_sector(sqlite3_file *f)
{
    return PC_REAL(f)->pMethods->xSectorSize(PC_REAL(f));
}
static int pc_devchar(sqlite3_file *f)
{
    return PC_REAL(f)->pMethods->xDeviceCharacteristics(PC_REAL(f));
}
static int pc_shm_map(sqlite3_file *f, int pg, int sz, int ext, void volatile **out)
{
    return PC_REAL(f)->pMethods->xShmMap(PC_REAL(f), pg, sz, ext, out);
}
static int pc_shm_lock(sqlite3_file *f, int off, int n, int flags)
{
    return PC_REAL(f)->pMethods->xShmLock(PC_REAL(f), off, n, flags);
}
static void pc_shm_barrier(sqlite3_file *f)
{
    PC_REAL(f)->pMethods->xShmBarrier(PC_REAL(f));
}
static int pc_shm_unmap(sqlite3_file *f, int del)
{
    return PC_REAL(f)->pMethods->xShmUnmap(PC_REAL(f), del);
}
static const sqlite3_io_methods pc_io = {
    .iVersion = 2,
    .xClose = pc_close,
    .xRead = pc_read,
    .xWrite = pc_write,
    .xTruncate = pc_truncate,
    .xSync = pc_sync,
    .xFileSize = pc_size,
    .xLock = pc_lock,
    .xUnlock = pc_unlock,
    .xCheckReservedLock = pc_reserved,
    .xFileControl = pc_fcntl,
    .xSectorSize = pc_sector,
    .xDeviceCharacteristics = pc_devchar,
    .xShmMap = pc_shm_map,
    .xShmLock = pc_shm_lock,
    .xShmBarrier = pc_shm_barrier,
    .xShmUnmap = pc_shm_unmap,
};

static int pc_open(sqlite3_vfs *v, const char *name, sqlite3_file *file, int flags, int *oflags)
{
    pc_file *f = (pc_file *)file;
    f->real = (sqlite3_file *)(f + 1);
    snprintf(f->path, sizeof f->path, "%s", name ? name : "");
    int rc = pc_orig->xOpen(pc_orig, name, f->real, flags, oflags);
    if (rc != SQLITE_OK) {
        if (f->real->pMethods)
            f->real->pMethods->xClose(f->real);
        f->base.pMethods = NULL;
        return rc;
    }
    f->base.pMethods = &pc_io;
    return SQLITE_OK;
}
/* A delete is taken as durable at once (the one SQLite makes here is the
 * rollback journal of the switch to WAL mode). */
static int pc_delete(sqlite3_vfs *v, const char *name, int dirsync)
{
    const char *base = strrchr(name, '/');
    if (pc_image[0] && base) {
        char to[1300];
        snprintf(to, sizeof to, "%s%s", pc_image, base);
        unlink(to);
    }
    return pc_orig->xDelete(pc_orig, name, dirsync);
}
static int pc_access(sqlite3_vfs *v, const char *name, int flags, int *out)
{
    return pc_orig->xAccess(pc_orig, name, flags, out);
}
static int pc_fullpath(sqlite3_vfs *v, const char *name, int n, char *out)
{
    return pc_orig->xFullPathname(pc_orig, name, n, out);
}
static int pc_random(sqlite3_vfs *v, int n, char *out)
{
    return pc_orig->xRandomness(pc_orig, n, out);
}
static int pc_sleep(sqlite3_vfs *v, int us)
{
    return pc_orig->xSleep(pc_orig, us);
}
static int pc_time(sqlite3_vfs *v, double *out)
{
    return pc_orig->xCurrentTime(pc_orig, out);
}
static int pc_lasterr(sqlite3_vfs *v, int n, char *out)
{
    return pc_orig->xGetLastError(pc_orig, n, out);
}
static int pc_time64(sqlite3_vfs *v, sqlite3_int64 *out)
{
    return pc_orig->xCurrentTimeInt64(pc_orig, out);
}

/* Make the wrapper SQLite's default VFS (every connection opened from now
 * on goes through it) and start copying synced files into image. */
static int pc_install(const char *image)
{
    pc_orig = sqlite3_vfs_find(NULL);
    if (!pc_orig || pc_orig->iVersion < 2)
        return -1;
    memset(&pc_vfs, 0, sizeof pc_vfs);
    pc_vfs.iVersion = 2;
    pc_vfs.szOsFile = (int)sizeof(pc_file) + pc_orig->szOsFile;
    pc_vfs.mxPathname = pc_orig->mxPathname;
    pc_vfs.zName = "cistern-powercut";
    pc_vfs.xOpen = pc_open;
    pc_vfs.xDelete = pc_delete;
    pc_vfs.xAccess = pc_access;
    pc_vfs.xFullPathname = pc_fullpath;
    pc_vfs.xRandomness = pc_random;
    pc_vfs.xSleep = pc_sleep;
    pc_vfs.xCurrentTime = pc_time;
    pc_vfs.xGetLastError = pc_lasterr;
    pc_vfs.xCurrentTimeInt64 = pc_time64;
    snprintf(pc_image, sizeof pc_image, "%s", image);
    pc_syncs = 0;
    return sqlite3_vfs_register(&pc_vfs, 1) == SQLITE_OK ? 0 : -1;
}

static void pc_uninstall(void)
{
    pc_image[0] = 0;
    sqlite3_vfs_unregister(&pc_vfs);
    sqlite3_vfs_register(pc_orig, 1);
}

/* A flush that returned must survive a power cut: the node commits a
 * catalogue version naming the objects right after it (catalog.db runs
 * synchronous=FULL), and a store that came back without them would cut them
 * off the packs at its next open. */
static void test_power_cut(void)
{
    char dir[1100], image[1200], from[1300], to[1300];
    tmp_new(dir, sizeof dir);
    snprintf(image, sizeof image, "%s/after-power-cut", tmp_root);
    REQUIRE(cs_mkdirs(image, 0755, NULL) == 0);
    REQUIRE(pc_install(image) == 0);
    cs_err err = {0};
    content_store *s = NULL;
    uint8_t a[5000], b[200 * KIB], ida[32], idb[32];
    fill_random(a, sizeof a, 21);
    fill_text(b, sizeof b, 4);
    if (content_store_open(&s, dir, 0, &err) != 0) {
        pc_uninstall();
        REQUIRE(!"store opens through the wrapping VFS");
    }
    CHECK_EQ_INT(content_store_put_buf(s, a, sizeof a, ida, &err), 0);
    CHECK_EQ_INT(content_store_flush(s, &err), 0);
    CHECK_EQ_INT(content_store_put_buf(s, b, sizeof b, idb, &err), 0);
    CHECK_EQ_INT(content_store_flush(s, &err), 0);
    /* The power goes now.  Stop copying first: closing checkpoints and syncs. */
    int syncs = pc_syncs;
    pc_image[0] = 0;
    snprintf(from, sizeof from, "%s/pack-000001.pack", dir);
    snprintf(to, sizeof to, "%s/pack-000001.pack", image);
    copy_file(from, to);
    content_store_free(s);
    pc_uninstall();
    CHECK(syncs > 0);

    s = NULL;
    REQUIRE(content_store_open(&s, image, 0, &err) == 0);
    CHECK(content_store_has(s, ida));
    CHECK(content_store_has(s, idb));
    CHECK(reads_back(s, ida, a, sizeof a));
    CHECK(reads_back(s, idb, b, sizeof b));
    CHECK_EQ_INT(content_store_integrity(s, &err), 0);
    content_store_free(s);
    tmp_done();
}

static void test_verify(void)
{
    char dir[1100], path[1200];
    tmp_new(dir, sizeof dir);
    cs_err err = {0};
    content_store *s = NULL;
    REQUIRE(content_store_open(&s, dir, 0, &err) == 0);
    size_t len = 300 * KIB;
    uint8_t *raw = malloc(len);
    uint8_t ids[3][32];
    content_obj_info info[3];
    for (int i = 0; i < 3; i++) {
        fill_text(raw, len, (unsigned)i);
        REQUIRE(content_store_put_buf(s, raw, len, ids[i], &err) == 0);
        REQUIRE(content_store_stat(s, ids[i], &info[i], &err) == 0);
    }
    REQUIRE(content_store_flush(s, &err) == 0);
    damage_log d = {0};
    uint64_t dmg = 99;
    CHECK_EQ_INT(content_store_verify(s, on_damage, &d, on_progress, &d, &dmg, &err), 0);
    CHECK_EQ_INT(dmg, 0);
    CHECK_EQ_INT(d.n, 0);
    CHECK(d.last_total > 0 && d.last_done == d.last_total);
    content_store_free(s);

    /* flip a byte in the middle of the second object's data */
    uint64_t off = 16 + info[0].enc_len + info[1].enc_len / 2;
    snprintf(path, sizeof path, "%s/pack-000001.pack", dir);
    int fd = open(path, O_RDWR);
    REQUIRE(fd >= 0);
    uint8_t c;
    REQUIRE(pread(fd, &c, 1, (off_t)off) == 1);
    c ^= 0x01;
    REQUIRE(pwrite(fd, &c, 1, (off_t)off) == 1);
    close(fd);

    REQUIRE(content_store_open(&s, dir, CONTENT_STORE_RDONLY, &err) == 0);
    memset(&d, 0, sizeof d);
    CHECK_EQ_INT(content_store_verify(s, on_damage, &d, NULL, NULL, &dmg, &err), 0);
    CHECK_EQ_INT(dmg, 1);
    CHECK_EQ_INT(d.n, 1);
    CHECK(memcmp(d.id, ids[1], 32) == 0);
    CHECK(d.reason[0] != 0);
    content_store_free(s);

    REQUIRE(content_store_open(&s, dir, 0, &err) == 0);
    CHECK_EQ_INT(content_store_forget(s, ids[1], &err), 0);
    CHECK(!content_store_has(s, ids[1]));
    CHECK_EQ_INT(content_store_verify(s, NULL, NULL, NULL, NULL, &dmg, &err), 0);
    CHECK_EQ_INT(dmg, 0);
    /* fetched again: stored anew */
    fill_text(raw, len, 1);
    uint8_t again[32];
    CHECK_EQ_INT(content_store_put_buf(s, raw, len, again, &err), 0);
    CHECK(memcmp(again, ids[1], 32) == 0);
    CHECK_EQ_INT(content_store_flush(s, &err), 0);
    CHECK(reads_back(s, again, raw, len));
    content_store_free(s);
    free(raw);
    tmp_done();
}

typedef struct liveness {
    uint8_t (*ids)[32];
    int n;
    unsigned dead; /* bit i: ids[i] is dead */
} liveness;

static int is_live(void *ctx, const uint8_t id[32])
{
    const liveness *l = ctx;
    for (int i = 0; i < l->n; i++)
        if (memcmp(l->ids[i], id, 32) == 0)
            return !(l->dead & (1u << i));
    return 0; /* unknown objects are dead */
}

/* What content_store_gc reported through its progress callback. */
typedef struct gc_seen {
    int calls_refs, calls_compact;
    uint64_t refs_done, refs_total, compact_done, compact_total;
} gc_seen;

static void gc_progress(void *ctx, const char *phase, uint64_t done, uint64_t total)
{
    gc_seen *g = ctx;
    if (strcmp(phase, "checking references") == 0) {
        g->calls_refs++;
        g->refs_done = done;
        g->refs_total = total;
    } else if (strcmp(phase, "compacting") == 0) {
        g->calls_compact++;
        g->compact_done = done;
        g->compact_total = total;
    }
}

static void test_gc(void)
{
    char dir[1100];
    tmp_new(dir, sizeof dir);
    cs_err err = {0};
    content_store *s = NULL, *r = NULL;
    REQUIRE(content_store_open(&s, dir, 0, &err) == 0);
    size_t len = 100 * KIB;
    uint8_t *raw = malloc(10 * len);
    uint8_t ids[10][32];
    for (int i = 0; i < 10; i++) {
        fill_random(raw + i * len, len, (uint64_t)i + 100);
        REQUIRE(content_store_put_buf(s, raw + i * len, len, ids[i], &err) == 0);
    }
    REQUIRE(content_store_flush(s, &err) == 0);
    REQUIRE(content_store_open(&r, dir, CONTENT_STORE_RDONLY, &err) == 0);
    CHECK(reads_back(r, ids[1], raw + len, len)); /* reader holds pack 1 open */
    uint64_t before = file_size(dir, "pack-000001.pack");
    uint64_t fo = 0, fb = 0;

    /* 2 of 10 dead: rows go, the pack stays as it is */
    liveness lv = {ids, 10, 0x3u << 1};
    CHECK_EQ_INT(content_store_gc(s, is_live, &lv, &fo, &fb, &err), 0);
    CHECK_EQ_INT(fo, 2);
    CHECK(fb >= 2 * len);
    CHECK_EQ_INT(file_size(dir, "pack-000001.pack"), before);
    for (int i = 0; i < 10; i++)
        CHECK_EQ_INT(content_store_has(s, ids[i]), !(lv.dead & (1u << i)));

    /* 6 of 10 dead: under half live, compacted into a new pack */
    lv.dead = 0x3fu << 1;
    gc_seen g = {0};
    content_store_gc_progress_set(s, gc_progress, &g);
    CHECK_EQ_INT(content_store_gc(s, is_live, &lv, &fo, &fb, &err), 0);
    content_store_gc_progress_set(s, NULL, NULL);
    CHECK_EQ_INT(fo, 4);
    CHECK(g.calls_refs >= 2); /* a start and an end */
    CHECK_EQ_INT(g.refs_total, 8);
    CHECK_EQ_INT(g.refs_done, 8);
    CHECK(g.calls_compact >= 2);
    CHECK(g.compact_total >= 4 * len); /* the 4 live objects, copied */
    CHECK_EQ_INT(g.compact_done, g.compact_total);
    CHECK_EQ_INT(count_packs(dir), 1);
    CHECK_EQ_INT(file_size(dir, "pack-000001.pack"), 0); /* gone */
    CHECK(file_size(dir, "pack-000002.pack") > 0);
    content_store_stats st;
    CHECK_EQ_INT(content_store_stats_get(s, &st, &err), 0);
    CHECK_EQ_INT(st.objects, 4);
    CHECK_EQ_INT(st.packs, 1);
    CHECK(st.disk_bytes < before);
    for (int i = 0; i < 10; i++) {
        int live = !(lv.dead & (1u << i));
        CHECK_EQ_INT(content_store_has(s, ids[i]), live);
        CHECK_EQ_INT(content_store_has(r, ids[i]), live);
        if (live) {
            CHECK(reads_back(s, ids[i], raw + i * len, len));
            CHECK(reads_back(r, ids[i], raw + i * len, len)); /* reader follows the move */
        }
    }
    uint64_t dmg = 9;
    CHECK_EQ_INT(content_store_verify(s, NULL, NULL, NULL, NULL, &dmg, &err), 0);
    CHECK_EQ_INT(dmg, 0);

    /* appends go on after gc and survive a reopen */
    uint8_t nid[32];
    CHECK_EQ_INT(content_store_put_buf(s, raw + 3, len, nid, &err), 0);
    CHECK_EQ_INT(content_store_flush(s, &err), 0);
    content_store_free(s);
    REQUIRE(content_store_open(&s, dir, 0, &err) == 0);
    CHECK(reads_back(s, nid, raw + 3, len));
    for (int i = 0; i < 10; i++)
        if (!(lv.dead & (1u << i)))
            CHECK(reads_back(s, ids[i], raw + i * len, len));

    /* everything dead: the empty pack is removed, the store still works */
    lv.dead = 0x3ffu;
    CHECK_EQ_INT(content_store_gc(s, is_live, &lv, &fo, &fb, &err), 0);
    CHECK_EQ_INT(fo, 5);
    CHECK_EQ_INT(content_store_stats_get(s, &st, &err), 0);
    CHECK_EQ_INT(st.objects, 0);
    CHECK_EQ_INT(st.packs, 0);
    CHECK_EQ_INT(count_packs(dir), 0);
    CHECK_EQ_INT(content_store_put_buf(s, raw, 10, nid, &err), 0);
    CHECK_EQ_INT(content_store_flush(s, &err), 0);
    CHECK(reads_back(s, nid, raw, 10));
    CHECK(reads_back(r, nid, raw, 10));
    content_store_free(s);
    content_store_free(r);
    free(raw);
    tmp_done();
}

static void test_enospc(void)
{
    char dir[1100], path[1200];
    tmp_new(dir, sizeof dir);
    cs_err err = {0};
    content_store *s = NULL;
    REQUIRE(content_store_open(&s, dir, 0, &err) == 0);
    size_t len = 7 * MIB;
    uint8_t *raw = malloc(len);
    REQUIRE(raw);
    fill_random(raw, len, 21);
    uint8_t a[32], b[32], c[32], d[32];
    REQUIRE(content_store_put_buf(s, raw, 1000, a, &err) == 0);
    REQUIRE(content_store_flush(s, &err) == 0);
    uint64_t committed = file_size(dir, "pack-000001.pack");

    /* put_buf */
    cs_file_fail_after(500);
    CHECK_EQ_INT(content_store_put_buf(s, raw + 1000, 200 * KIB, b, &err), CS_ENOSPC);
    CHECK_EQ_INT(err.code, CS_ENOSPC);
    CHECK(strstr(err.msg, "space") != NULL);
    CHECK(!content_store_has(s, b));
    /* put_file, streaming */
    snprintf(path, sizeof path, "%s/big.bin", tmp_root);
    cs_file_fail_after(-1);
    REQUIRE(write_file(path, raw, len) == 0);
    cs_file_fail_after(3 * MIB);
    uint64_t rl;
    CHECK_EQ_INT(content_store_put_file(s, path, c, &rl, &err), CS_ENOSPC);
    CHECK_EQ_INT(err.code, CS_ENOSPC);
    /* put_encoded_fd */
    uint8_t *enc = NULL;
    size_t el = 0;
    cs_file_fail_after(-1);
    REQUIRE(content_obj_encode_buf(raw + 5, 300 * KIB, d, &enc, &el, &err) == 0);
    snprintf(path, sizeof path, "%s/obj.cso", tmp_root);
    REQUIRE(write_file(path, enc, el) == 0);
    int fd = open(path, O_RDONLY);
    cs_file_fail_after(1000);
    CHECK_EQ_INT(content_store_put_encoded_fd(s, d, fd, 0, el, &err), CS_ENOSPC);
    CHECK_EQ_INT(content_store_put_encoded(s, d, enc, el, &err), CS_ENOSPC);
    CHECK_EQ_INT(content_store_pending(s), 0);
    CHECK_EQ_INT(content_store_flush(s, &err), 0);
    CHECK_EQ_INT(file_size(dir, "pack-000001.pack"), committed);

    /* retry with space */
    cs_file_fail_after(-1);
    CHECK_EQ_INT(content_store_put_buf(s, raw + 1000, 200 * KIB, b, &err), 0);
    snprintf(path, sizeof path, "%s/big.bin", tmp_root);
    CHECK_EQ_INT(content_store_put_file(s, path, c, &rl, &err), 0);
    CHECK_EQ_INT(content_store_put_encoded_fd(s, d, fd, 0, el, &err), 0);
    close(fd);
    CHECK_EQ_INT(content_store_flush(s, &err), 0);
    content_store_free(s);

    /* a failure in the middle of a batch of puts, then the process dies */
    REQUIRE(content_store_open(&s, dir, 0, &err) == 0);
    uint8_t e1[32], e2[32];
    CHECK_EQ_INT(content_store_put_buf(s, raw + 77, 100 * KIB, e1, &err), 0);
    cs_file_fail_after(100);
    CHECK_EQ_INT(content_store_put_buf(s, raw + 99, 100 * KIB, e2, &err), CS_ENOSPC);
    cs_file_fail_after(-1);
    content_store_free(s);

    REQUIRE(content_store_open(&s, dir, 0, &err) == 0);
    CHECK(content_store_has(s, a));
    CHECK(!content_store_has(s, e1)); /* never flushed */
    CHECK(reads_back(s, a, raw, 1000));
    CHECK(reads_back(s, b, raw + 1000, 200 * KIB));
    CHECK(reads_back(s, c, raw, len));
    CHECK(reads_back(s, d, raw + 5, 300 * KIB));
    uint64_t dmg = 9;
    CHECK_EQ_INT(content_store_verify(s, NULL, NULL, NULL, NULL, &dmg, &err), 0);
    CHECK_EQ_INT(dmg, 0);
    content_store_free(s);
    free(enc);
    free(raw);
    tmp_done();
}

static void test_many_small(void)
{
    char dir[1100], path[1200];
    tmp_new(dir, sizeof dir);
    cs_err err = {0};
    content_store *s = NULL;
    REQUIRE(content_store_open(&s, dir, 0, &err) == 0);
    uint8_t ids[100][32];
    char body[256];
    for (int i = 0; i < 100; i++) {
        int n = snprintf(body, sizeof body, "<html><body>page %d of the course</body></html>\n", i);
        snprintf(path, sizeof path, "%s/f%03d.html", tmp_root, i);
        REQUIRE(write_file(path, body, (size_t)n) == 0);
        uint64_t rl = 0;
        CHECK_EQ_INT(content_store_put_file(s, path, ids[i], &rl, &err), 0);
        CHECK_EQ_INT(rl, n);
    }
    CHECK_EQ_INT(content_store_flush(s, &err), 0);
    CHECK_EQ_INT(count_packs(dir), 1);
    content_store_stats st;
    CHECK_EQ_INT(content_store_stats_get(s, &st, &err), 0);
    CHECK_EQ_INT(st.objects, 100);
    CHECK_EQ_INT(st.packs, 1);
    for (int i = 0; i < 100; i++) {
        int n = snprintf(body, sizeof body, "<html><body>page %d of the course</body></html>\n", i);
        CHECK(reads_back(s, ids[i], (const uint8_t *)body, (size_t)n));
    }
    content_store_free(s);
    tmp_done();
}

int main(void)
{
    RUN(test_roundtrip);
    RUN(test_dedupe);
    RUN(test_range);
    RUN(test_put_encoded);
    RUN(test_torn_tail);
    RUN(test_power_cut);
    RUN(test_verify);
    RUN(test_gc);
    RUN(test_enospc);
    RUN(test_many_small);
    return TEST_SUMMARY();
}
