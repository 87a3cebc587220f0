/*
 * test_object.c - the encoded object format: round trips, hostile input.
 */
#include <fcntl.h>
#include <lz4.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "content/object.h"
#include "platform/buf.h"
#include "platform/crypto.h"
#include "platform/error.h"
#include "test.h"

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

/* Text-like data LZ4 compresses well. */
static void fill_text(uint8_t *p, size_t n)
{
    static const char words[] = "the quick brown fox jumps over the lazy dog 0123456789 ";
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)words[(i * 7 + i / 61) % (sizeof words - 1)];
}

static void roundtrip(const uint8_t *raw, size_t len, int compressible)
{
    uint8_t id[32], want[32];
    uint8_t *enc = NULL;
    size_t enc_len = 0;
    cs_err err = {0};
    cs_sha256_buf(len ? (const void *)raw : "", len, want);
    int rc = content_obj_encode_buf(raw, len, id, &enc, &enc_len, &err);
    CHECK_EQ_INT(rc, 0);
    if (rc)
        return;
    CHECK(memcmp(id, want, 32) == 0);
    CHECK(enc_len <= content_obj_bound(len));
    content_obj_header h;
    CHECK_EQ_INT(content_obj_header_parse(&h, enc, enc_len, &err), 0);
    CHECK_EQ_INT(h.raw_len, len);
    CHECK_EQ_INT(h.block_size, CONTENT_OBJ_BLOCK);
    CHECK_EQ_INT(h.nblocks, (len + CONTENT_OBJ_BLOCK - 1) / CONTENT_OBJ_BLOCK);
    CHECK(memcmp(h.id, want, 32) == 0);
    if (compressible)
        CHECK(enc_len < len / 2 + 1024);
    else /* incompressible: every block raw, header and table only */
        CHECK_EQ_INT(enc_len, CONTENT_OBJ_HDR + 8 * ((len + CONTENT_OBJ_BLOCK - 1) / CONTENT_OBJ_BLOCK) + len);
    CHECK(enc_len <= content_obj_bound(len));
    uint8_t *back = malloc(len + 1);
    CHECK_EQ_INT(content_obj_verify_buf(enc, enc_len, id, back, len, &err), 0);
    CHECK(len == 0 || memcmp(back, raw, len) == 0);
    CHECK_EQ_INT(content_obj_verify_buf(enc, enc_len, NULL, NULL, 0, &err), 0);
    /* wrong id, too small output */
    uint8_t other[32];
    memcpy(other, id, 32);
    other[5] ^= 1;
    CHECK_EQ_INT(content_obj_verify_buf(enc, enc_len, other, NULL, 0, &err), CS_EHASH);
    if (len > 0)
        CHECK_EQ_INT(content_obj_verify_buf(enc, enc_len, id, back, len - 1, &err), CS_ETOOBIG);
    free(back);
    free(enc);
}

static void test_roundtrips(void)
{
    size_t big = 3u * 1024 * 1024 + 17;
    uint8_t *r = malloc(big);
    uint8_t *t = malloc(big);
    REQUIRE(r && t);
    fill_random(r, big, 1);
    fill_text(t, big);
    roundtrip(r, 0, 0);
    roundtrip(r, 1, 0);
    roundtrip(r, CONTENT_OBJ_BLOCK, 0);
    roundtrip(r, CONTENT_OBJ_BLOCK + 1, 0);
    roundtrip(r, big, 0);
    roundtrip(t, CONTENT_OBJ_BLOCK, 1);
    roundtrip(t, CONTENT_OBJ_BLOCK + 1, 1);
    roundtrip(t, big, 1);
    free(r);
    free(t);
}

typedef struct mem_sink {
    cs_buf b;
} mem_sink;

static int mem_sink_write(void *ctx, const void *data, size_t len, cs_err *err)
{
    mem_sink *m = ctx;
    return cs_buf_append(&m->b, data, len) == 0 ? 0 : cs_err_set(err, CS_ENOMEM, "sink full");
}

static int failing_sink(void *ctx, const void *data, size_t len, cs_err *err)
{
    int *budget = ctx;
    if (*budget <= 0)
        return cs_err_set(err, CS_ENOSPC, "sink full");
    (*budget)--;
    return 0;
}

/* encode_fd must produce exactly the bytes encode_buf does. */
static void test_encode_fd(void)
{
    char path[] = "/tmp/cs-test-object-XXXXXX";
    size_t len = 2u * 1024 * 1024 + 4321;
    uint8_t *raw = malloc(len);
    REQUIRE(raw);
    fill_random(raw, len / 2, 7);
    fill_text(raw + len / 2, len - len / 2);
    int fd = mkstemp(path);
    REQUIRE(fd >= 0);
    REQUIRE(write(fd, raw, len) == (ssize_t)len);
    REQUIRE(lseek(fd, 0, SEEK_SET) == 0);

    uint8_t id[32], id2[32];
    uint8_t *enc = NULL, *hdr = NULL;
    size_t enc_len = 0, hl = 0;
    uint64_t el = 0;
    cs_err err = {0};
    mem_sink m;
    cs_buf_init(&m.b, 64u << 20);
    CHECK_EQ_INT(content_obj_encode_buf(raw, len, id, &enc, &enc_len, &err), 0);
    CHECK_EQ_INT(content_obj_encode_fd(fd, len, mem_sink_write, &m, id2, &hdr, &hl, &el, &err), 0);
    CHECK(memcmp(id, id2, 32) == 0);
    CHECK_EQ_INT(el, enc_len);
    CHECK_EQ_INT(m.b.len, enc_len);
    if (hdr && m.b.len == enc_len && hl <= enc_len) {
        memcpy(m.b.data, hdr, hl);
        CHECK(memcmp(m.b.data, enc, enc_len) == 0);
    }
    free(hdr);
    hdr = NULL;

    /* A file shorter than announced is an error, not a short object. */
    REQUIRE(lseek(fd, 0, SEEK_SET) == 0);
    cs_buf_reset(&m.b);
    CHECK(content_obj_encode_fd(fd, len + 1, mem_sink_write, &m, id2, &hdr, &hl, &el, &err) != 0);
    CHECK(hdr == NULL);
    /* A sink error is passed through. */
    REQUIRE(lseek(fd, 0, SEEK_SET) == 0);
    int budget = 1;
    CHECK_EQ_INT(content_obj_encode_fd(fd, len, failing_sink, &budget, id2, &hdr, &hl, &el, &err),
                 CS_ENOSPC);
    CHECK(hdr == NULL);

    cs_buf_free(&m.b);
    free(enc);
    free(raw);
    close(fd);
    unlink(path);
}

static int refused(const uint8_t *enc, size_t len, const uint8_t *id)
{
    cs_err err = {0};
    return content_obj_verify_buf(enc, len, id, NULL, 0, &err) != 0;
}

static void test_tamper(void)
{
    size_t len = 3 * CONTENT_OBJ_BLOCK + 999;
    uint8_t *raw = malloc(len);
    REQUIRE(raw);
    fill_text(raw, len / 2);
    fill_random(raw + len / 2, len - len / 2, 3); /* both LZ4 and raw blocks */
    uint8_t id[32];
    uint8_t *enc = NULL;
    size_t enc_len = 0;
    cs_err err = {0};
    REQUIRE(content_obj_encode_buf(raw, len, id, &enc, &enc_len, &err) == 0);
    REQUIRE(!refused(enc, enc_len, id));
    size_t data_off = CONTENT_OBJ_HDR + 8 * 4;
    /* every byte of header and table, with and without an expected id */
    int all = 1;
    for (size_t i = 0; i < data_off; i++) {
        for (int bit = 0; bit < 8; bit += 3) {
            enc[i] ^= (uint8_t)(1u << bit);
            if (!refused(enc, enc_len, id) || !refused(enc, enc_len, NULL))
                all = 0;
            enc[i] ^= (uint8_t)(1u << bit);
        }
    }
    CHECK(all);
    /* data bytes: a stride through LZ4 and raw blocks, plus first and last */
    all = 1;
    for (size_t i = data_off; i < enc_len; i += (i < data_off + 64 ? 1 : 997)) {
        enc[i] ^= 0x40;
        if (!refused(enc, enc_len, id) || !refused(enc, enc_len, NULL))
            all = 0;
        enc[i] ^= 0x40;
    }
    enc[enc_len - 1] ^= 1;
    CHECK(refused(enc, enc_len, NULL));
    enc[enc_len - 1] ^= 1;
    CHECK(all);
    /* every truncation, and one extra byte */
    all = 1;
    for (size_t n = 0; n < enc_len; n += (n < data_off + 16 ? 1 : 811))
        if (!refused(enc, n, NULL))
            all = 0;
    CHECK(all);
    uint8_t *longer = malloc(enc_len + 1);
    memcpy(longer, enc, enc_len);
    longer[enc_len] = 0;
    CHECK(refused(longer, enc_len + 1, NULL));
    free(longer);
    CHECK(!refused(enc, enc_len, id));
    free(enc);
    free(raw);
}

static void put_hdr(uint8_t *p, uint32_t bs, uint64_t raw_len, uint32_t nblocks)
{
    memset(p, 0, CONTENT_OBJ_HDR);
    memcpy(p, "CSO1", 4);
    cs_put_u32(p + 4, bs);
    cs_put_u64(p + 8, raw_len);
    cs_put_u32(p + 48, nblocks);
}

static void test_header_limits(void)
{
    uint8_t p[CONTENT_OBJ_HDR];
    content_obj_header h;
    cs_err err = {0};
    put_hdr(p, 65536, 65537, 2);
    CHECK_EQ_INT(content_obj_header_parse(&h, p, sizeof p, &err), 0);
    CHECK(content_obj_header_parse(&h, p, sizeof p - 1, &err) != 0);
    put_hdr(p, 65536, 65537, 1);
    CHECK_EQ_INT(content_obj_header_parse(&h, p, sizeof p, &err), CS_EFORMAT);
    put_hdr(p, 0, 0, 0);
    CHECK_EQ_INT(content_obj_header_parse(&h, p, sizeof p, &err), CS_EFORMAT);
    put_hdr(p, 2048, 0, 0);
    CHECK_EQ_INT(content_obj_header_parse(&h, p, sizeof p, &err), CS_EFORMAT);
    put_hdr(p, 8u << 20, 0, 0);
    CHECK_EQ_INT(content_obj_header_parse(&h, p, sizeof p, &err), CS_EFORMAT);
    put_hdr(p, 65535, 0, 0);
    CHECK_EQ_INT(content_obj_header_parse(&h, p, sizeof p, &err), CS_EFORMAT);
    put_hdr(p, 4096, 0, 0);
    CHECK_EQ_INT(content_obj_header_parse(&h, p, sizeof p, &err), 0);
    put_hdr(p, 4u << 20, CONTENT_OBJ_MAX_RAW + 1, (uint32_t)((CONTENT_OBJ_MAX_RAW >> 22) + 1));
    CHECK(content_obj_header_parse(&h, p, sizeof p, &err) != 0);
    put_hdr(p, 4096, UINT64_MAX, 0);
    CHECK(content_obj_header_parse(&h, p, sizeof p, &err) != 0);
    put_hdr(p, 4096, 0, 0);
    p[52] = 1; /* reserved */
    CHECK_EQ_INT(content_obj_header_parse(&h, p, sizeof p, &err), CS_EFORMAT);

    /* A huge claimed object in a tiny buffer: table does not fit. */
    put_hdr(p, 4096, 1ULL << 30, 1u << 18);
    CHECK_EQ_INT(content_obj_verify_buf(p, sizeof p, NULL, NULL, 0, &err), CS_EFORMAT);

    /* A block claiming more stored bytes than LZ4 can ever produce. */
    uint32_t blen = 4096;
    size_t sl = (size_t)LZ4_compressBound((int)blen) + 1;
    size_t n = CONTENT_OBJ_HDR + 8 + sl;
    uint8_t *o = calloc(1, n);
    put_hdr(o, 4096, blen, 1);
    cs_put_u64(o + CONTENT_OBJ_HDR, sl);
    CHECK_EQ_INT(content_obj_verify_buf(o, n, NULL, NULL, 0, &err), CS_EFORMAT);
    free(o);

    /* A raw 4 KiB-block object made by hand verifies (foreign block size). */
    uint8_t raw[5000];
    fill_random(raw, sizeof raw, 9);
    n = CONTENT_OBJ_HDR + 16 + sizeof raw;
    o = calloc(1, n);
    put_hdr(o, 4096, sizeof raw, 2);
    cs_sha256_buf(raw, sizeof raw, o + 16);
    cs_put_u64(o + CONTENT_OBJ_HDR, 4096);
    cs_put_u64(o + CONTENT_OBJ_HDR + 8, sizeof raw);
    memcpy(o + CONTENT_OBJ_HDR + 16, raw, sizeof raw);
    uint8_t back[5000];
    CHECK_EQ_INT(content_obj_verify_buf(o, n, o + 16, back, sizeof back, &err), 0);
    CHECK(memcmp(back, raw, sizeof raw) == 0);
    free(o);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Not a pass/fail check: prints encode and verify speed on incompressible data. */
static void test_speed(void)
{
    size_t len = 32u << 20;
    uint8_t *raw = malloc(len);
    REQUIRE(raw);
    fill_random(raw, len, 5);
    uint8_t id[32];
    uint8_t *enc = NULL;
    size_t enc_len = 0;
    cs_err err = {0};
    double t0 = now_s();
    CHECK_EQ_INT(content_obj_encode_buf(raw, len, id, &enc, &enc_len, &err), 0);
    double t1 = now_s();
    CHECK_EQ_INT(content_obj_verify_buf(enc, enc_len, id, NULL, 0, &err), 0);
    double t2 = now_s();
    fprintf(stderr, "incompressible 32 MiB: encode %.0f MB/s, verify %.0f MB/s\n",
            len / 1e6 / (t1 - t0), len / 1e6 / (t2 - t1));
    free(enc);
    free(raw);
}

int main(void)
{
    RUN(test_roundtrips);
    RUN(test_encode_fd);
    RUN(test_tamper);
    RUN(test_header_limits);
    RUN(test_speed);
    return TEST_SUMMARY();
}
