/*
 * test_reader.c - content readers (streaming without the store handle) and
 * read snapshots on read-only store and catalogue handles.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "content/catalog.h"
#include "content/object.h"
#include "content/store.h"
#include "test.h"

static char dir[256];

static void fill(uint8_t *p, size_t n, uint32_t seed)
{
    for (size_t i = 0; i < n; i++) {
        seed = seed * 1103515245u + 12345u;
        p[i] = (i % 7 == 0) ? (uint8_t)(seed >> 24) : (uint8_t)('a' + i % 13); /* half compressible */
    }
}

static void test_reader_ranges(void)
{
    cs_err err = {0};
    content_store *w = NULL, *r = NULL;
    char sdir[300];
    snprintf(sdir, sizeof sdir, "%s/s1", dir);
    REQUIRE(content_store_open(&w, sdir, 0, &err) == 0);
    const uint64_t B = CONTENT_OBJ_BLOCK;
    size_t n = 3 * B + 123;
    uint8_t *data = malloc(n), *got = malloc(n);
    fill(data, n, 7);
    uint8_t id[32];
    REQUIRE(content_store_put_buf(w, data, n, id, &err) == 0);
    REQUIRE(content_store_flush(w, &err) == 0);
    REQUIRE(content_store_open(&r, sdir, CONTENT_STORE_RDONLY, &err) == 0);
    content_reader *rd = NULL;
    REQUIRE(content_store_reader_open(r, id, &rd, &err) == 0);
    CHECK_EQ_INT(content_reader_size(rd), n);
    /* The reader outlives the handle it came from. */
    content_store_free(r);
    const uint64_t offs[] = {0, 1, B - 1, B, B + 1, 2 * B - 1, 3 * B, 3 * B + 92};
    for (size_t i = 0; i < sizeof offs / sizeof offs[0]; i++) {
        size_t want = 70000, out = 0;
        CHECK(content_reader_read(rd, offs[i], got, want, &out, &err) == 0);
        size_t expect = n - offs[i] < want ? n - offs[i] : want;
        CHECK_EQ_INT(out, expect);
        CHECK(memcmp(got, data + offs[i], expect) == 0);
    }
    size_t out = 9;
    CHECK(content_reader_read(rd, n, got, 10, &out, &err) == 0 && out == 0);
    CHECK(content_reader_read(rd, 0, got, n, &out, &err) == 0 && out == n && memcmp(got, data, n) == 0);
    content_reader_free(rd);
    content_reader_free(NULL);
    uint8_t missing[32] = {1};
    r = NULL;
    REQUIRE(content_store_open(&r, sdir, CONTENT_STORE_RDONLY, &err) == 0);
    CHECK(content_store_reader_open(r, missing, &rd, &err) == CS_ENOENT);
    content_store_free(r);
    content_store_free(w);
    free(data);
    free(got);
}

static int keep_none(void *ctx, const uint8_t id[32])
{
    const uint8_t *keep = ctx;
    return memcmp(id, keep, 32) == 0;
}

static void test_reader_survives_gc(void)
{
    cs_err err = {0};
    content_store *w = NULL, *r = NULL;
    char sdir[300];
    snprintf(sdir, sizeof sdir, "%s/s2", dir);
    REQUIRE(content_store_open(&w, sdir, 0, &err) == 0);
    size_t n = 200000;
    uint8_t *a = malloc(n), *b = malloc(n), *got = malloc(n);
    fill(a, n, 1);
    fill(b, n, 2);
    uint8_t ida[32], idb[32];
    REQUIRE(content_store_put_buf(w, a, n, ida, &err) == 0);
    REQUIRE(content_store_put_buf(w, b, n, idb, &err) == 0);
    REQUIRE(content_store_flush(w, &err) == 0);
    REQUIRE(content_store_open(&r, sdir, CONTENT_STORE_RDONLY, &err) == 0);
    content_reader *rd = NULL;
    REQUIRE(content_store_reader_open(r, idb, &rd, &err) == 0);
    /* Drop a: the pack is under half live, so gc rewrites it and unlinks it. */
    uint64_t fo = 0, fb = 0;
    CHECK(content_store_gc(w, keep_none, idb, &fo, &fb, &err) == 0);
    CHECK_EQ_INT(fo, 1);
    size_t out = 0;
    CHECK(content_reader_read(rd, 0, got, n, &out, &err) == 0 && out == n && memcmp(got, b, n) == 0);
    content_reader_free(rd);
    content_store_free(r);
    content_store_free(w);
    free(a);
    free(b);
    free(got);
}

static void test_snapshots(void)
{
    cs_err err = {0};
    content_store *w = NULL, *r = NULL;
    char sdir[300];
    snprintf(sdir, sizeof sdir, "%s/s3", dir);
    REQUIRE(content_store_open(&w, sdir, 0, &err) == 0);
    uint8_t id1[32], id2[32];
    REQUIRE(content_store_put_buf(w, "one", 3, id1, &err) == 0);
    REQUIRE(content_store_flush(w, &err) == 0);
    REQUIRE(content_store_open(&r, sdir, CONTENT_STORE_RDONLY, &err) == 0);
    CHECK(content_store_snapshot(w, &err) == CS_EINVAL); /* writers do not take snapshots */
    CHECK(content_store_snapshot(r, &err) == 0);
    CHECK(content_store_has(r, id1));
    REQUIRE(content_store_put_buf(w, "two", 3, id2, &err) == 0);
    REQUIRE(content_store_flush(w, &err) == 0);
    CHECK(!content_store_has(r, id2)); /* the snapshot does not see it yet */
    CHECK(content_store_snapshot(r, &err) == 0);
    CHECK(content_store_has(r, id2)); /* a refreshed one does */
    content_store_snapshot_end(r);
    content_store_snapshot_end(r); /* twice is fine */
    CHECK(content_store_integrity(r, &err) == 0);
    content_store_free(r);
    content_store_free(w);

    char cpath[300];
    snprintf(cpath, sizeof cpath, "%s/cat.db", dir);
    content_catalog *cw = NULL, *cr = NULL;
    REQUIRE(content_catalog_open(&cw, cpath, 0, &err) == 0);
    REQUIRE(content_catalog_begin(cw, &err) == 0 && content_catalog_set_version(cw, 1, &err) == 0 &&
            content_catalog_commit(cw, &err) == 0);
    REQUIRE(content_catalog_open(&cr, cpath, CONTENT_CATALOG_RDONLY, &err) == 0);
    CHECK(content_catalog_snapshot(cr, &err) == 0);
    REQUIRE(content_catalog_begin(cw, &err) == 0 && content_catalog_set_version(cw, 2, &err) == 0 &&
            content_catalog_commit(cw, &err) == 0);
    int64_t v = 0;
    CHECK(content_catalog_version(cr, &v, &err) == 0 && v == 1);
    CHECK(content_catalog_snapshot(cr, &err) == 0);
    CHECK(content_catalog_version(cr, &v, &err) == 0 && v == 2);
    content_catalog_snapshot_end(cr);
    CHECK(content_catalog_integrity(cr, &err) == 0);
    content_catalog_free(cr);
    content_catalog_free(cw);
}

int main(void)
{
    const char *base = getenv("CISTERN_TEST_TMP");
    snprintf(dir, sizeof dir, "%s/reader.XXXXXX", base && *base ? base : "/tmp");
    if (base && *base)
        mkdir(base, 0700);
    if (!mkdtemp(dir)) {
        perror(dir);
        return 1;
    }
    RUN(test_reader_ranges);
    RUN(test_reader_survives_gc);
    RUN(test_snapshots);
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
    return TEST_SUMMARY();
}
