/*
 * test_catalog.c - the catalogue: put/get round trips, files and objects,
 * state, transactions, and search with expected result ids.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "content/catalog.h"
#include "test.h"

static char db_path[512];

static void tmp_path(char *buf, size_t cap, const char *name)
{
    const char *dir = getenv("CISTERN_TEST_TMP");
    if (!dir || !dir[0])
        dir = "/tmp";
    mkdir(dir, 0755);
    snprintf(buf, cap, "%s/%s-%ld.db", dir, name, (long)getpid());
    unlink(buf);
    char side[600];
    snprintf(side, sizeof side, "%s-wal", buf);
    unlink(side);
    snprintf(side, sizeof side, "%s-shm", buf);
    unlink(side);
}

/* A resource from a few fields; zh/en/desc may be NULL; grades end with -1. */
static content_resource *mk(const char *id, const char *zh, const char *en, const char *desc_lang,
                            const char *desc, const char *subject, const char *lang,
                            const char *type, const int *grades)
{
    content_resource *r = calloc(1, sizeof *r);
    json_t *m = json_object(), *title = json_object(), *g = json_array();
    json_object_set_new(m, "id", json_string(id));
    if (zh)
        json_object_set_new(title, "zh", json_string(zh));
    if (en)
        json_object_set_new(title, "en", json_string(en));
    json_object_set_new(m, "title", title);
    if (desc)
        json_object_set_new(m, "description", json_pack("{s:s}", desc_lang, desc));
    json_object_set_new(m, "language", json_string(lang));
    if (subject)
        json_object_set_new(m, "subject", json_string(subject));
    for (int i = 0; grades && grades[i] >= 0; i++)
        json_array_append_new(g, json_integer(grades[i]));
    json_object_set_new(m, "grades", g);
    json_object_set_new(m, "type", json_string(type));
    json_object_set_new(m, "entry", json_string("index.html"));
    r->meta = m;
    return r;
}

static void add_file(content_resource *r, const char *path, uint64_t size, uint8_t obj_byte)
{
    r->files = realloc(r->files, (r->nfiles + 1) * sizeof *r->files);
    content_file *f = &r->files[r->nfiles++];
    memset(f, 0, sizeof *f);
    f->path = strdup(path);
    f->size = size;
    memset(f->object, obj_byte, 32);
    f->enc_len = size + 56;
}

static int put(content_catalog *c, content_resource *r)
{
    cs_err err = {0};
    int rc = content_catalog_put(c, r, &err);
    if (rc != 0)
        fprintf(stderr, "put: %s\n", err.msg);
    content_resource_free(r);
    return rc;
}

/* The sample catalogue: Chinese and English titles. */
static void fill(content_catalog *c)
{
    static const int g1[] = {1, -1}, g2_3[] = {2, 3, -1}, g3[] = {3, -1}, g5[] = {5, -1},
                     g7[] = {7, -1}, g8[] = {8, -1}, g9[] = {9, -1}, g10[] = {10, -1};
    content_resource *r;
    cs_err err = {0};

    CHECK_EQ_INT(content_catalog_begin(c, &err), 0);
    r = mk("r01", "勾股定理", "Pythagorean theorem", "zh", "初中数学课：直角三角形", "math", "zh",
           "video", g8);
    json_object_set_new(r->meta, "keywords", json_pack("[s]", "几何"));
    add_file(r, "index.html", 100, 0xA1);
    add_file(r, "video/lesson.mp4", 5000, 0xA2);
    CHECK_EQ_INT(put(c, r), 0);
    r = mk("r02", "数学游戏", NULL, NULL, NULL, "math", "zh", "exercise", g3);
    add_file(r, "index.html", 100, 0xA1); /* same object as r01's */
    CHECK_EQ_INT(put(c, r), 0);
    CHECK_EQ_INT(put(c, mk("r03", "数字与学习", NULL, NULL, NULL, "chinese", "zh", "document", g1)),
                 0);
    CHECK_EQ_INT(put(c, mk("r04", NULL, "Photosynthesis", "en", "How plants make food from light",
                           "biology", "en", "video", g7)),
                 0);
    CHECK_EQ_INT(
        put(c, mk("r05", NULL, "Photography Basics", NULL, NULL, "art", "en", "image", g9)), 0);
    CHECK_EQ_INT(
        put(c, mk("r06", NULL, "Café Culture", NULL, NULL, "geography", "en", "document", g10)), 0);
    r = mk("r07", "语文阅读", NULL, "zh", "阅读材料", "chinese", "zh", "document", g2_3);
    json_object_set_new(r->meta, "keywords", json_pack("[s]", "阅读"));
    CHECK_EQ_INT(put(c, r), 0);
    CHECK_EQ_INT(put(c, mk("r08", "勾股数表", NULL, NULL, NULL, "math", "zh", "document", g8)), 0);
    CHECK_EQ_INT(
        put(c, mk("r09", NULL, "Plant biology", "en", "Chapter on photosynthesis and respiration",
                  "biology", "en", "video", g7)),
        0);
    CHECK_EQ_INT(
        put(c, mk("r10", "数学", "Math grade 5 review", NULL, NULL, "math", "zh", "exercise", g5)),
        0);
    CHECK_EQ_INT(content_catalog_commit(c, &err), 0);
}

/* Run a search and render the ids as "a,b,c" (in result order). */
static int search_ids(content_catalog *c, const content_query *q, char *buf, size_t cap,
                      uint64_t *total)
{
    content_hits h = {0};
    cs_err err = {0};
    int rc = content_catalog_search(c, q, &h, &err);
    size_t n = 0;
    buf[0] = '\0';
    if (rc != 0) {
        snprintf(buf, cap, "error %d: %s", rc, err.msg);
        return rc;
    }
    for (size_t i = 0; i < h.n; i++)
        n += (size_t)snprintf(buf + n, cap - n, "%s%s", i ? "," : "", h.items[i].id);
    if (total)
        *total = h.total;
    content_hits_clear(&h);
    return 0;
}

static content_query query(const char *text)
{
    content_query q = {0};
    q.q = text;
    q.grade = -1;
    return q;
}

/* Sorted-set comparison: the ids of a search, sorted, equal want. */
static void expect_set(content_catalog *c, content_query q, const char *want)
{
    char buf[4096], *ids[64], sorted[4096];
    size_t n = 0, k = 0;
    uint64_t total = 0;
    q.limit = CONTENT_QUERY_MAX_LIMIT;
    search_ids(c, &q, buf, sizeof buf, &total);
    for (char *s = strtok(buf, ","); s && n < 64; s = strtok(NULL, ","))
        ids[n++] = s;
    for (size_t i = 0; i < n; i++)
        for (size_t j = i + 1; j < n; j++)
            if (strcmp(ids[j], ids[i]) < 0) {
                char *t = ids[i];
                ids[i] = ids[j];
                ids[j] = t;
            }
    sorted[0] = '\0';
    for (size_t i = 0; i < n; i++)
        k += (size_t)snprintf(sorted + k, sizeof sorted - k, "%s%s", i ? "," : "", ids[i]);
    if (strcmp(sorted, want) != 0)
        fprintf(stderr, "  query \"%s\" (prefix %d, subject %s, grade %d): got [%s] want [%s]\n",
                q.q ? q.q : "", q.prefix, q.subject ? q.subject : "-", q.grade, sorted, want);
    CHECK_STR(sorted, want);
    CHECK_EQ_INT(total, n);
}

static void expect_order(content_catalog *c, content_query q, const char *want)
{
    char buf[4096];
    search_ids(c, &q, buf, sizeof buf, NULL);
    if (strcmp(buf, want) != 0)
        fprintf(stderr, "  query \"%s\": got [%s] want [%s]\n", q.q ? q.q : "", buf, want);
    CHECK_STR(buf, want);
}

static content_catalog *open_db(const char *path, int flags)
{
    content_catalog *c = NULL;
    cs_err err = {0};
    int rc = content_catalog_open(&c, path, flags, &err);
    if (rc != 0)
        fprintf(stderr, "open %s: %s\n", path, err.msg);
    return c;
}

static void test_search_chinese(void)
{
    content_catalog *c = open_db(db_path, 0);
    REQUIRE(c);
    fill(c);
    expect_set(c, query("数"), "r01,r02,r03,r08,r10");
    expect_set(c, query("数学"), "r01,r02,r10"); /* r03 has 数…学 apart */
    expect_set(c, query("勾股定"), "r01");
    expect_set(c, query("勾股"), "r01,r08");
    expect_set(c, query("数学课"), "r01");
    expect_set(c, query("直角三角形"), "r01");
    expect_set(c, query("三角形 数学"), "r01");
    expect_set(c, query("学习"), "r03");
    expect_set(c, query("阅读"), "r07");
    expect_set(c, query("几何"), "r01");
    expect_set(c, query("化学"), "");
    /* a typed prefix on CJK text matches the same resources */
    content_query q = query("数学");
    q.prefix = 1;
    expect_set(c, q, "r01,r02,r10");
    q = query("勾");
    q.prefix = 1;
    expect_set(c, q, "r01,r08");
    /* title matches rank above the description-only one */
    char buf[256];
    q = query("数学");
    search_ids(c, &q, buf, sizeof buf, NULL);
    CHECK(strlen(buf) == 11 && strcmp(buf + 8, "r01") == 0);
    content_catalog_free(c);
}

static void test_search_english(void)
{
    content_catalog *c = open_db(db_path, 0);
    REQUIRE(c);
    expect_set(c, query("photosynthesis"), "r04,r09");
    expect_order(c, query("photosynthesis"), "r04,r09"); /* title above description */
    expect_set(c, query("PhotoSynthesis"), "r04,r09");
    expect_set(c, query("photo"), "");
    content_query q = query("photo");
    q.prefix = 1;
    expect_set(c, q, "r04,r05,r09");
    q = query("ph");
    q.prefix = 1;
    expect_set(c, q, "r04,r05,r09");
    q = query("plant bio");
    q.prefix = 1;
    expect_set(c, q, "r09");
    expect_set(c, query("cafe"), "r06");
    expect_set(c, query("CAFÉ"), "r06");
    expect_set(c, query("café culture"), "r06");
    expect_set(c, query("数学 grade"), "r10");
    expect_set(c, query("math"), "r10");
    expect_set(c, query("  pythagorean\ttheorem  "), "r01");
    expect_set(c, query("pythagorean　theorem"), "r01"); /* U+3000 separates too */
    content_catalog_free(c);
}

static void test_search_hostile(void)
{
    content_catalog *c = open_db(db_path, 0);
    REQUIRE(c);
    const char *qs[] = {"\"数学\" OR x", "AND",        "NEAR(a b)",  "*",      "-",     "title:abc",
                        "^abc",          "a OR b",     "\"",         "\"\"\"", "(",     ")",
                        "NOT",           "a\" OR \"b", "{title}: x", "+",      "数\"学"};
    for (size_t i = 0; i < sizeof qs / sizeof qs[0]; i++) {
        content_query q = query(qs[i]);
        content_hits h = {0};
        cs_err err = {0};
        int rc = content_catalog_search(c, &q, &h, &err);
        if (rc != 0)
            fprintf(stderr, "  \"%s\": %s\n", qs[i], err.msg);
        CHECK_EQ_INT(rc, 0);
        content_hits_clear(&h);
        q.prefix = 1;
        rc = content_catalog_search(c, &q, &h, &err);
        CHECK_EQ_INT(rc, 0);
        content_hits_clear(&h);
    }
    /* operators are words, not syntax */
    expect_set(c, query("photosynthesis OR cafe"), "");
    expect_set(c, query("!!! ,,,"), "");
    expect_set(c, query("photosynthesis !!!"), "r04,r09");

    char longq[CONTENT_QUERY_MAX_TEXT + 2];
    memset(longq, 'a', sizeof longq);
    longq[CONTENT_QUERY_MAX_TEXT + 1] = '\0';
    content_query q = query(longq);
    content_hits h = {0};
    cs_err err = {0};
    CHECK_EQ_INT(content_catalog_search(c, &q, &h, &err), CS_ETOOBIG);
    CHECK(h.items == NULL);
    longq[CONTENT_QUERY_MAX_TEXT] = '\0';
    CHECK_EQ_INT(content_catalog_search(c, &q, &h, &err), 0);
    content_hits_clear(&h);
    content_catalog_free(c);
}

static void test_filters(void)
{
    content_catalog *c = open_db(db_path, 0);
    REQUIRE(c);
    content_query q = query(NULL);
    q.subject = "math";
    expect_set(c, q, "r01,r02,r08,r10");
    expect_order(c, q, "r01,r02,r08,r10");
    q = query("");
    q.grade = 8;
    expect_set(c, q, "r01,r08");
    q.grade = 3;
    expect_set(c, q, "r02,r07");
    q = query(NULL);
    q.language = "en";
    expect_set(c, q, "r04,r05,r06,r09");
    q = query(NULL);
    q.type = "video";
    expect_set(c, q, "r01,r04,r09");
    q = query(NULL);
    q.type = "video";
    q.language = "zh";
    expect_set(c, q, "r01");
    q = query("数");
    q.subject = "math";
    expect_set(c, q, "r01,r02,r08,r10");
    q = query("数");
    q.grade = 3;
    expect_set(c, q, "r02");
    q = query("数");
    q.subject = "math";
    q.grade = 8;
    q.type = "document";
    q.language = "zh";
    expect_set(c, q, "r08");
    q = query("photosynthesis");
    q.type = "video";
    expect_set(c, q, "r04,r09");
    q.language = "zh";
    expect_set(c, q, "");
    q = query(NULL);
    q.subject = "nothing";
    expect_set(c, q, "");
    content_catalog_free(c);
}

static void test_paging(void)
{
    content_catalog *c = open_db(db_path, 0);
    REQUIRE(c);
    char buf[1024];
    uint64_t total = 0;
    content_query q = query(NULL);
    q.limit = 3;
    CHECK_EQ_INT(search_ids(c, &q, buf, sizeof buf, &total), 0);
    CHECK_STR(buf, "r01,r02,r03");
    CHECK_EQ_INT(total, 10);
    q.offset = 3;
    search_ids(c, &q, buf, sizeof buf, &total);
    CHECK_STR(buf, "r04,r05,r06");
    CHECK_EQ_INT(total, 10);
    q.offset = 9;
    search_ids(c, &q, buf, sizeof buf, &total);
    CHECK_STR(buf, "r10");
    q.offset = 20;
    search_ids(c, &q, buf, sizeof buf, &total);
    CHECK_STR(buf, "");
    CHECK_EQ_INT(total, 10);
    q = query(NULL);
    q.limit = 100000; /* capped, not an error */
    CHECK_EQ_INT(search_ids(c, &q, buf, sizeof buf, &total), 0);
    CHECK_EQ_INT(total, 10);

    /* text: the full ranking, then pages of it */
    char all[1024];
    q = query("数");
    q.limit = 10;
    search_ids(c, &q, all, sizeof all, &total);
    CHECK_EQ_INT(total, 5);
    q.limit = 2;
    search_ids(c, &q, buf, sizeof buf, &total);
    CHECK_EQ_INT(total, 5);
    CHECK(strncmp(all, buf, strlen(buf)) == 0 && strlen(buf) == 7);
    q.offset = 4;
    search_ids(c, &q, buf, sizeof buf, &total);
    CHECK_EQ_INT(total, 5);
    CHECK_EQ_INT(strlen(buf), 3);
    CHECK_STR(buf, all + strlen(all) - 3);
    q.offset = 10;
    search_ids(c, &q, buf, sizeof buf, &total);
    CHECK_STR(buf, "");
    CHECK_EQ_INT(total, 5);

    /* scores: bm25, lower is better, ascending */
    content_hits h = {0};
    cs_err err = {0};
    q = query("photosynthesis");
    CHECK_EQ_INT(content_catalog_search(c, &q, &h, &err), 0);
    REQUIRE(h.n == 2);
    CHECK(h.items[0].score < h.items[1].score);
    content_hits_clear(&h);
    q = query(NULL);
    CHECK_EQ_INT(content_catalog_search(c, &q, &h, &err), 0);
    CHECK_EQ_INT(h.n, 10); /* limit 0 means 20 */
    CHECK(h.items[0].score == 0.0);
    content_hits_clear(&h);
    content_hits_clear(NULL);
    content_catalog_free(c);
}

static void test_roundtrip(void)
{
    content_catalog *c = open_db(db_path, 0);
    content_resource *r = NULL;
    content_file f = {0};
    cs_err err = {0};
    REQUIRE(c);

    /* unknown fields survive put/get */
    r = mk("x01", "测试", NULL, NULL, NULL, "math", "zh", "html", NULL);
    json_object_set_new(r->meta, "x_custom", json_pack("{s:[i,i],s:s}", "a", 1, 2, "b", "c"));
    json_object_set_new(r->meta, "edition", json_integer(3));
    json_t *copy = json_deep_copy(r->meta);
    add_file(r, "index.html", 10, 0x01);
    add_file(r, "a/b.css", 20, 0x02);
    r->files[1].mime = strdup("text/x-custom");
    CHECK_EQ_INT(put(c, r), 0);
    r = NULL;
    CHECK_EQ_INT(content_catalog_get(c, "x01", &r, &err), 0);
    REQUIRE(r);
    CHECK_STR(r->id, "x01");
    CHECK(json_equal(r->meta, copy));
    CHECK_EQ_INT(r->nfiles, 2);
    CHECK_STR(r->files[0].path, "a/b.css"); /* path order */
    CHECK_STR(r->files[0].mime, "text/x-custom");
    CHECK_STR(r->files[1].path, "index.html");
    CHECK_STR(r->files[1].mime, "text/html; charset=utf-8");
    CHECK_EQ_INT(r->files[1].size, 10);
    CHECK_EQ_INT(r->files[1].enc_len, 66);
    CHECK(r->files[1].object[0] == 0x01 && r->files[1].object[31] == 0x01);
    CHECK_EQ_INT(r->cached, 0);
    content_resource_free(r);
    r = NULL;
    json_decref(copy);

    CHECK_EQ_INT(content_catalog_file(c, "x01", "a/b.css", &f, &err), 0);
    CHECK_STR(f.path, "a/b.css");
    CHECK_EQ_INT(f.size, 20);
    CHECK(f.object[0] == 0x02);
    content_file_clear(&f);
    CHECK_EQ_INT(content_catalog_file(c, "x01", "nope", &f, &err), CS_ENOENT);
    CHECK(f.path == NULL);
    CHECK_EQ_INT(content_catalog_file(c, "nope", "index.html", &f, &err), CS_ENOENT);
    CHECK_EQ_INT(content_catalog_get(c, "nope", &r, &err), CS_ENOENT);
    CHECK(r == NULL);

    CHECK_EQ_INT(content_catalog_set_cached(c, "x01", 1, &err), 0);
    CHECK_EQ_INT(content_catalog_get(c, "x01", &r, &err), 0);
    CHECK_EQ_INT(r->cached, 1);
    content_resource_free(r);
    r = NULL;
    CHECK_EQ_INT(content_catalog_set_cached(c, "nope", 1, &err), CS_ENOENT);

    /* replace: new title, files replaced, old tokens gone */
    r = mk("x01", "新标题", NULL, NULL, NULL, "math", "zh", "html", NULL);
    add_file(r, "index.html", 11, 0x03);
    CHECK_EQ_INT(put(c, r), 0);
    r = NULL;
    expect_set(c, query("测试"), "");
    expect_set(c, query("标题"), "x01");
    CHECK_EQ_INT(content_catalog_get(c, "x01", &r, &err), 0);
    CHECK_EQ_INT(r->nfiles, 1);
    CHECK_EQ_INT(r->files[0].size, 11);
    content_resource_free(r);
    r = NULL;
    uint8_t o1[32], o3[32];
    memset(o1, 0x01, 32);
    memset(o3, 0x03, 32);
    CHECK_EQ_INT(content_catalog_references(c, o1), 0);
    CHECK_EQ_INT(content_catalog_references(c, o3), 1);

    /* refused: invalid metadata, unsafe paths, id mismatch */
    r = mk("x02", "标题", NULL, NULL, NULL, "math", "zh", "film", NULL);
    CHECK_EQ_INT(content_catalog_put(c, r, &err), CS_EFORMAT);
    CHECK(strstr(err.msg, "field \"type\"") != NULL);
    content_resource_free(r);
    r = mk("x02", "标题", NULL, NULL, NULL, "math", "zh", "html", NULL);
    add_file(r, "../evil", 1, 0x09);
    CHECK_EQ_INT(content_catalog_put(c, r, &err), CS_EFORMAT);
    CHECK(strstr(err.msg, "unsafe path") != NULL);
    content_resource_free(r);
    r = mk("x02", "标题", NULL, NULL, NULL, "math", "zh", "html", NULL);
    r->id = strdup("x03");
    CHECK_EQ_INT(content_catalog_put(c, r, &err), CS_EINVAL);
    content_resource_free(r);
    /* duplicate paths: refused as a whole, nothing left behind */
    r = mk("x02", "标题", NULL, NULL, NULL, "math", "zh", "html", NULL);
    add_file(r, "a.html", 1, 0x09);
    add_file(r, "a.html", 1, 0x09);
    CHECK(content_catalog_put(c, r, &err) != 0);
    content_resource_free(r);
    r = NULL;
    CHECK_EQ_INT(content_catalog_get(c, "x02", &r, &err), CS_ENOENT);

    CHECK_EQ_INT(content_catalog_delete(c, "x01", &err), 0);
    CHECK_EQ_INT(content_catalog_delete(c, "x01", &err), CS_ENOENT);
    expect_set(c, query("标题"), "");
    CHECK_EQ_INT(content_catalog_references(c, o3), 0);
    content_catalog_free(c);
}

struct obj_walk {
    int n;
    uint64_t raw;
};

static int count_objects(void *ctx, const uint8_t id[32], uint64_t raw_len, uint64_t enc_len)
{
    struct obj_walk *w = ctx;
    w->n++;
    w->raw += raw_len;
    return enc_len == raw_len + 56 ? 0 : 99;
}

static int stop_at_two(void *ctx, const uint8_t id[32], uint64_t raw_len, uint64_t enc_len)
{
    return ++*(int *)ctx == 2 ? 7 : 0;
}

struct res_walk {
    char ids[512];
    size_t n;
    size_t files;
};

static int list_resources(void *ctx, const content_resource *r)
{
    struct res_walk *w = ctx;
    w->n += (size_t)snprintf(w->ids + w->n, sizeof w->ids - w->n, "%s%s", w->n ? "," : "", r->id);
    w->files += r->nfiles;
    return 0;
}

static void test_objects_counts(void)
{
    content_catalog *c = open_db(db_path, 0);
    cs_err err = {0};
    REQUIRE(c);
    struct obj_walk w = {0};
    /* r01: A1 (100), A2 (5000); r02: A1 again */
    CHECK_EQ_INT(content_catalog_foreach_object(c, count_objects, &w, &err), 0);
    CHECK_EQ_INT(w.n, 2);
    CHECK_EQ_INT(w.raw, 5100);
    int k = 0;
    CHECK_EQ_INT(content_catalog_foreach_object(c, stop_at_two, &k, &err), 7);

    uint64_t nr = 0, nf = 0, nb = 0;
    CHECK_EQ_INT(content_catalog_counts(c, &nr, &nf, &nb, &err), 0);
    CHECK_EQ_INT(nr, 10);
    CHECK_EQ_INT(nf, 3);
    CHECK_EQ_INT(nb, 5200);

    struct res_walk rw = {{0}, 0, 0};
    CHECK_EQ_INT(content_catalog_foreach_resource(c, list_resources, &rw, &err), 0);
    CHECK_STR(rw.ids, "r01,r02,r03,r04,r05,r06,r07,r08,r09,r10");
    CHECK_EQ_INT(rw.files, 3);
    content_catalog_free(c);
}

static void test_state_and_transactions(void)
{
    content_catalog *c = open_db(db_path, 0);
    cs_err err = {0};
    int64_t v = -1;
    char *s = NULL;
    REQUIRE(c);
    CHECK_EQ_INT(content_catalog_version(c, &v, &err), 0);
    CHECK_EQ_INT(v, 0);
    CHECK_EQ_INT(content_catalog_set_version(c, 42, &err), 0);
    CHECK_EQ_INT(content_catalog_version(c, &v, &err), 0);
    CHECK_EQ_INT(v, 42);
    CHECK_EQ_INT(content_catalog_state_get(c, "etag", &s, &err), 0);
    CHECK(s == NULL);
    CHECK_EQ_INT(content_catalog_state_set(c, "etag", "\"abc\"", &err), 0);
    CHECK_EQ_INT(content_catalog_state_get(c, "etag", &s, &err), 0);
    CHECK_STR(s, "\"abc\"");
    free(s);
    s = NULL;

    /* a rolled-back transaction leaves nothing */
    CHECK_EQ_INT(content_catalog_begin(c, &err), 0);
    CHECK_EQ_INT(put(c, mk("t01", "回滚", NULL, NULL, NULL, NULL, "zh", "html", NULL)), 0);
    CHECK_EQ_INT(content_catalog_set_version(c, 43, &err), 0);
    CHECK_EQ_INT(content_catalog_state_set(c, "etag", NULL, &err), 0);
    expect_set(c, query("回滚"), "t01");
    content_catalog_rollback(c);
    content_catalog_rollback(c); /* no transaction: harmless */
    expect_set(c, query("回滚"), "");
    CHECK_EQ_INT(content_catalog_version(c, &v, &err), 0);
    CHECK_EQ_INT(v, 42);
    CHECK_EQ_INT(content_catalog_state_get(c, "etag", &s, &err), 0);
    CHECK_STR(s, "\"abc\"");
    free(s);
    s = NULL;

    /* an uncommitted transaction is invisible to a reader and dropped by free */
    CHECK_EQ_INT(content_catalog_begin(c, &err), 0);
    CHECK_EQ_INT(put(c, mk("t02", "未提交", NULL, NULL, NULL, NULL, "zh", "html", NULL)), 0);
    content_catalog *ro = open_db(db_path, CONTENT_CATALOG_RDONLY);
    CHECK(ro != NULL);
    if (ro) {
        expect_set(ro, query("未提交"), "");
        expect_set(ro, query("数学"), "r01,r02,r10");
        CHECK_EQ_INT(content_catalog_version(ro, &v, &err), 0);
        CHECK_EQ_INT(v, 42);
        CHECK(content_catalog_set_version(ro, 1, &err) != 0);
        content_catalog_free(ro);
    }
    content_catalog_free(c);
    c = open_db(db_path, 0);
    REQUIRE(c);
    expect_set(c, query("未提交"), "");
    content_catalog_free(c);

    CHECK_EQ_INT(
        content_catalog_open(&c, "/nonexistent/dir/x.db", CONTENT_CATALOG_RDONLY, &err) < 0, 1);
    content_catalog_free(NULL);
}

static void test_delete_and_clear(void)
{
    content_catalog *c = open_db(db_path, 0);
    cs_err err = {0};
    REQUIRE(c);
    CHECK_EQ_INT(content_catalog_delete(c, "r02", &err), 0);
    expect_set(c, query("数学"), "r01,r10");
    expect_set(c, query("游戏"), "");
    content_query q = query(NULL);
    q.grade = 3;
    expect_set(c, q, "r07");
    /* A school's own resource survives a full replacement of the hub's. */
    const int g4[] = {4, -1};
    content_resource *loc = mk("local-0123456789abcdef", "本校河流观察", NULL, NULL, NULL, "science", "zh",
                               "html", g4);
    REQUIRE(loc);
    CHECK_EQ_INT(content_catalog_begin(c, &err), 0);
    CHECK_EQ_INT(content_catalog_put(c, loc, &err), 0);
    CHECK_EQ_INT(content_catalog_commit(c, &err), 0);
    content_resource_free(loc);
    CHECK_EQ_INT(content_catalog_clear(c, &err), 0);
    expect_set(c, query("数"), "");
    expect_set(c, query("河流"), "local-0123456789abcdef");
    expect_set(c, query(NULL), "local-0123456789abcdef");
    CHECK_EQ_INT(content_catalog_delete(c, "local-0123456789abcdef", &err), 0);
    uint64_t nr = 1, nf = 1, nb = 1;
    CHECK_EQ_INT(content_catalog_counts(c, &nr, &nf, &nb, &err), 0);
    CHECK_EQ_INT(nr + nf + nb, 0);
    content_catalog_free(c);
}

/* ---- a generated catalogue ---------------------------------------------- */

static const char *const zh_words[] = {
    "数学", "语文", "英语", "物理", "化学", "生物", "历史", "地理", "政治", "音乐",
    "美术", "体育", "方程", "函数", "几何", "代数", "三角", "概率", "统计", "阅读",
    "写作", "古诗", "文言", "实验", "电路", "力学", "光学", "细胞", "遗传", "生态",
    "朝代", "战争", "地图", "气候", "河流", "山脉", "练习", "复习", "单元", "课堂"};
static const char *const en_words[] = {
    "algebra",        "geometry",  "reading",   "writing",     "physics",    "chemistry",
    "biology",        "history",   "maps",      "climate",     "rivers",     "practice",
    "review",         "lesson",    "unit",      "grade",       "energy",     "motion",
    "cells",          "genetics",  "poetry",    "grammar",     "numbers",    "fractions",
    "photosynthesis", "equations", "functions", "probability", "statistics", "experiment"};
static const char *const subjects[] = {"math",      "chinese", "english", "physics",
                                       "chemistry", "biology", "history", "geography"};
static const char *const types[] = {"video", "audio", "document", "html", "exercise", "image"};

static uint32_t rnd(uint32_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 17;
    *s ^= *s << 5;
    return *s;
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static void test_generated(void)
{
    enum { N = 20000 };
    char path[512];
    cs_err err = {0};
    uint32_t seed = 12345;
    content_catalog *c;
    tmp_path(path, sizeof path, "catalog-big");
    c = open_db(path, 0);
    REQUIRE(c);
    double t0 = now_ms();
    CHECK_EQ_INT(content_catalog_begin(c, &err), 0);
    for (int i = 0; i < N; i++) {
        char id[32], zh[256], en[256], desc[512];
        size_t nz = 0, ne = 0, nd = 0;
        int g[] = {(int)(rnd(&seed) % 13), -1};
        for (int w = 0; w < 3; w++) {
            nz += (size_t)snprintf(zh + nz, sizeof zh - nz, "%s",
                                   zh_words[rnd(&seed) % (sizeof zh_words / sizeof *zh_words)]);
            ne += (size_t)snprintf(en + ne, sizeof en - ne, "%s%s", w ? " " : "",
                                   en_words[rnd(&seed) % (sizeof en_words / sizeof *en_words)]);
        }
        for (int w = 0; w < 12; w++)
            nd += (size_t)snprintf(desc + nd, sizeof desc - nd, "%s%s",
                                   zh_words[rnd(&seed) % (sizeof zh_words / sizeof *zh_words)],
                                   w % 3 == 2 ? "，" : "");
        snprintf(id, sizeof id, "gen-%06d", i);
        content_resource *r = mk(id, zh, en, "zh", desc, subjects[rnd(&seed) % 8],
                                 i % 4 ? "zh" : "en", types[rnd(&seed) % 6], g);
        add_file(r, "index.html", 1000, (uint8_t)(i & 0xff));
        if (put(c, r) != 0) {
            CHECK(0);
            break;
        }
    }
    CHECK_EQ_INT(content_catalog_commit(c, &err), 0);
    double t1 = now_ms();
    fprintf(stderr, "  generated %d resources in %.0f ms\n", N, t1 - t0);

    struct {
        const char *q;
        int prefix;
        const char *subject;
        int grade;
    } qs[] = {{"数学", 0, NULL, -1},
              {"数", 0, NULL, -1},
              {"函数方程", 0, NULL, -1},
              {"几何", 0, "math", 8},
              {"photosynthesis", 0, NULL, -1},
              {"pho", 1, NULL, -1},
              {"algebra review", 0, NULL, -1},
              {"g", 1, NULL, -1},
              {NULL, 0, "physics", 5},
              {"细胞 遗传", 0, NULL, -1},
              {"课", 0, NULL, -1},
              {"stat", 1, "math", -1}};
    for (size_t i = 0; i < sizeof qs / sizeof qs[0]; i++) {
        content_query q = query(qs[i].q);
        q.prefix = qs[i].prefix;
        q.subject = qs[i].subject;
        q.grade = qs[i].grade;
        content_hits h = {0};
        double best = 1e9, worst = 0;
        int rc = 0;
        for (int rep = 0; rep < 5; rep++) {
            double a = now_ms();
            rc = content_catalog_search(c, &q, &h, &err);
            double b = now_ms() - a;
            best = b < best ? b : best;
            worst = b > worst ? b : worst;
            if (rep < 4)
                content_hits_clear(&h);
        }
        CHECK_EQ_INT(rc, 0);
        CHECK(h.n <= 20);
        CHECK(h.total >= h.n);
        fprintf(stderr,
                "  search %-18s%s subject=%-8s grade=%-2d: %6llu hits, %.2f ms (worst %.2f)\n",
                qs[i].q ? qs[i].q : "(browse)", qs[i].prefix ? "*" : " ",
                qs[i].subject ? qs[i].subject : "-", qs[i].grade, (unsigned long long)h.total, best,
                worst);
        content_hits_clear(&h);
    }
    content_catalog_free(c);
    if (!getenv("CISTERN_TEST_KEEP")) /* keep it to experiment with */
        unlink(path);
}

/* ---- precomputed answers (search_hot) ----------------------------------- */

/* The reference answer, from fts itself: every match ranked by bm25, ties by
 * rowid, the page then by score and id; total by count(*).  "a,b,c|total". */
static void reference_page(sqlite3 *db, const char *match, int limit, int offset, char *buf,
                           size_t cap)
{
    sqlite3_stmt *st = NULL;
    size_t n = 0;
    int k = 0;
    buf[0] = '\0';
    REQUIRE(sqlite3_prepare_v2(db,
                               "SELECT r.id, t.s FROM (SELECT rowid AS rid, bm25(fts, 10.0, 5.0, 1.0) AS s"
                               " FROM fts WHERE fts MATCH ?1 ORDER BY s, rid LIMIT ?2 OFFSET ?3) t"
                               " JOIN resources r ON r.rid = t.rid ORDER BY t.s, r.id",
                               -1, &st, NULL) == SQLITE_OK);
    sqlite3_bind_text(st, 1, match, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 2, limit);
    sqlite3_bind_int(st, 3, offset);
    while (sqlite3_step(st) == SQLITE_ROW)
        n += (size_t)snprintf(buf + n, cap - n, "%s%s", k++ ? "," : "", sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    REQUIRE(sqlite3_prepare_v2(db, "SELECT count(*) FROM fts WHERE fts MATCH ?1", -1, &st, NULL) ==
            SQLITE_OK);
    sqlite3_bind_text(st, 1, match, -1, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_ROW)
        snprintf(buf + n, cap - n, "|%lld", (long long)sqlite3_column_int64(st, 0));
    sqlite3_finalize(st);
}

static int64_t db_int(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st = NULL;
    int64_t v = -1;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
}

/* Every precomputed token (and a few that are not), several pages each:
 * content_catalog_search equals the reference.  Returns the tokens seen. */
static int check_hot_answers(content_catalog *c, sqlite3 *db)
{
    static const struct {
        int limit, offset;
    } pages[] = {{20, 0}, {20, 20}, {30, 40}, {10, 90}, {8, 0}, {100, 0}, {20, 100}, {200, 0}};
    sqlite3_stmt *st = NULL;
    int seen = 0;
    if (sqlite3_prepare_v2(db, "SELECT token, prefix FROM search_hot UNION ALL "
                               "SELECT 'zzzz', 1 UNION ALL SELECT '数学', 0",
                           -1, &st, NULL) != SQLITE_OK) {
        CHECK(0);
        return 0;
    }
    while (sqlite3_step(st) == SQLITE_ROW) {
        const char *tok = (const char *)sqlite3_column_text(st, 0);
        int prefix = sqlite3_column_int(st, 1);
        char match[256], got[8192], want[8192];
        snprintf(match, sizeof match, "\"%s\"%s", tok, prefix ? "*" : "");
        seen++;
        for (size_t p = 0; p < sizeof pages / sizeof pages[0]; p++) {
            content_query q = query(tok);
            uint64_t total = 0;
            q.prefix = prefix;
            q.limit = (uint32_t)pages[p].limit;
            q.offset = (uint32_t)pages[p].offset;
            CHECK_EQ_INT(search_ids(c, &q, got, sizeof got - 32, &total), 0);
            snprintf(got + strlen(got), 32, "|%llu", (unsigned long long)total);
            reference_page(db, match, pages[p].limit, pages[p].offset, want, sizeof want);
            if (strcmp(got, want) != 0)
                fprintf(stderr, "  %s (limit %d offset %d): got [%.200s] want [%.200s]\n", match,
                        pages[p].limit, pages[p].offset, got, want);
            CHECK_STR(got, want);
        }
    }
    sqlite3_finalize(st);
    return seen;
}

static void test_hot(void)
{
    enum { N = 3000 };
    char path[512], ref_order[8192], rank_order[8192];
    cs_err err = {0};
    uint32_t seed = 777;
    content_catalog *c, *ro;
    sqlite3 *db = NULL;
    tmp_path(path, sizeof path, "catalog-hot");
    c = open_db(path, 0);
    REQUIRE(c);
    CHECK_EQ_INT(content_catalog_begin(c, &err), 0);
    for (int i = 0; i < N; i++) {
        /* Few distinct titles (many equal scores) and ids out of rowid order,
         * so ties and their order are tested. */
        char id[32], zh[64], en[64];
        int g[] = {1, -1};
        snprintf(zh, sizeof zh, "%s%s", zh_words[rnd(&seed) % 6], zh_words[rnd(&seed) % 3]);
        snprintf(en, sizeof en, "%s %s", en_words[rnd(&seed) % 4], en_words[12 + rnd(&seed) % 2]);
        snprintf(id, sizeof id, "hot-%06d", (i * 7919) % N);
        content_resource *r = mk(id, zh, en, "zh", i % 5 ? NULL : "复习", "math", "zh", "video", g);
        if (put(c, r) != 0) {
            CHECK(0);
            break;
        }
    }
    CHECK_EQ_INT(content_catalog_commit(c, &err), 0);
    REQUIRE(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL) == SQLITE_OK);
    REQUIRE(content_fts_register(db, &err) == 0);
    CHECK(db_int(db, "SELECT count(*) FROM search_hot WHERE prefix = 0") > 5);
    CHECK(db_int(db, "SELECT count(*) FROM search_hot WHERE prefix = 1") > 5);
    CHECK(db_int(db, "SELECT count(*) FROM search_hot WHERE token = 'lesson' AND prefix = 0") == 1);
    CHECK(db_int(db, "SELECT count(*) FROM search_hot WHERE token = 'l' AND prefix = 1") == 1);
    CHECK(check_hot_answers(c, db) > 10);

    /* The ranked order is the order of fts's rank (ties by rowid). */
    content_query q = query("lesson");
    q.limit = 200;
    REQUIRE(sqlite3_exec(db, "CREATE TEMP TABLE o AS SELECT rowid AS rid FROM fts WHERE fts MATCH"
                             " 'lesson' ORDER BY rank", NULL, NULL, NULL) == SQLITE_OK);
    snprintf(rank_order, sizeof rank_order, "%lld",
             (long long)db_int(db, "SELECT count(*) FROM temp.o"));
    snprintf(ref_order, sizeof ref_order, "%lld",
             (long long)db_int(db, "SELECT count(*) FROM (SELECT o.rowid AS n, o.rid FROM temp.o o) a"
                                   " JOIN (SELECT row_number() OVER (ORDER BY bm25(fts, 10.0, 5.0, 1.0),"
                                   " rowid) AS n, rowid AS rid FROM fts WHERE fts MATCH 'lesson') b"
                                   " ON a.n = b.n AND a.rid = b.rid"));
    CHECK_STR(ref_order, rank_order);

    /* A change on its own empties the table (until the next commit); the
     * answers stay right. */
    content_resource *r = mk("hot-extra", "数学", "lesson lesson", NULL, NULL, "math", "zh", "video", NULL);
    CHECK_EQ_INT(put(c, r), 0);
    CHECK_EQ_INT(db_int(db, "SELECT count(*) FROM search_hot"), 0);
    CHECK_EQ_INT(db_int(db, "SELECT count(*) FROM meta WHERE key = 'hot_stale'"), 1);
    check_hot_answers(c, db);
    /* A writable open leaves it empty (any command may open the catalogue;
     * at national scale the computation takes ~25 s)... */
    content_catalog_free(c);
    c = open_db(path, 0);
    REQUIRE(c);
    CHECK_EQ_INT(db_int(db, "SELECT count(*) FROM search_hot"), 0);
    CHECK_EQ_INT(db_int(db, "SELECT count(*) FROM meta WHERE key = 'hot_stale'"), 1);
    check_hot_answers(c, db);
    /* ...and so does a commit that changes nothing searchable; the next
     * commit that changes fts recomputes it. */
    CHECK_EQ_INT(content_catalog_begin(c, &err), 0);
    CHECK_EQ_INT(content_catalog_state_set(c, "note", "x", &err), 0);
    CHECK_EQ_INT(content_catalog_commit(c, &err), 0);
    CHECK_EQ_INT(db_int(db, "SELECT count(*) FROM search_hot"), 0);
    CHECK_EQ_INT(content_catalog_begin(c, &err), 0);
    CHECK_EQ_INT(put(c, mk("hot-extra", "数学", "lesson lesson", NULL, NULL, "math", "zh", "video", NULL)), 0);
    CHECK_EQ_INT(content_catalog_commit(c, &err), 0);
    CHECK(db_int(db, "SELECT count(*) FROM search_hot") > 10);
    CHECK_EQ_INT(db_int(db, "SELECT count(*) FROM meta WHERE key = 'hot_stale'"), 0);
    check_hot_answers(c, db);
    /* Deferred (a teacher's upload): the commit only empties it. */
    content_catalog_hot_defer(c, 1);
    CHECK_EQ_INT(content_catalog_begin(c, &err), 0);
    CHECK_EQ_INT(put(c, mk("hot-extra2", "数学", "lesson", NULL, NULL, "math", "zh", "video", NULL)), 0);
    CHECK_EQ_INT(content_catalog_commit(c, &err), 0);
    CHECK_EQ_INT(db_int(db, "SELECT count(*) FROM search_hot"), 0);
    CHECK_EQ_INT(db_int(db, "SELECT count(*) FROM meta WHERE key = 'hot_stale'"), 1);
    check_hot_answers(c, db);
    content_catalog_hot_defer(c, 0);
    /* Inside begin/commit: recomputed at commit; a rollback keeps the old. */
    CHECK_EQ_INT(content_catalog_begin(c, &err), 0);
    CHECK_EQ_INT(content_catalog_delete(c, "hot-000000", &err), 0);
    CHECK_EQ_INT(content_catalog_delete(c, "hot-000001", &err), 0);
    content_catalog_rollback(c);
    CHECK_EQ_INT(content_catalog_begin(c, &err), 0);
    CHECK_EQ_INT(content_catalog_delete(c, "hot-000000", &err), 0);
    CHECK_EQ_INT(content_catalog_delete(c, "hot-extra", &err), 0);
    CHECK_EQ_INT(content_catalog_delete(c, "hot-extra2", &err), 0);
    CHECK_EQ_INT(content_catalog_commit(c, &err), 0);
    CHECK(check_hot_answers(c, db) > 10);

    /* A format-2 catalogue: read-only handles search it live; a writable open
     * upgrades it to 3, and the next commit that changes fts precomputes
     * the answers. */
    content_catalog_free(c);
    REQUIRE(sqlite3_exec(db, "DROP TABLE search_hot; UPDATE meta SET value = '2' WHERE key = 'format'",
                         NULL, NULL, NULL) == SQLITE_OK);
    ro = open_db(path, CONTENT_CATALOG_RDONLY);
    REQUIRE(ro);
    q = query("lesson");
    char live[4096];
    uint64_t total = 0;
    CHECK_EQ_INT(search_ids(ro, &q, live, sizeof live, &total), 0);
    content_catalog_free(ro);
    c = open_db(path, 0);
    REQUIRE(c);
    CHECK_EQ_INT(db_int(db, "SELECT value FROM meta WHERE key = 'format'"), 3);
    CHECK_EQ_INT(db_int(db, "SELECT count(*) FROM search_hot"), 0);
    char upgraded[4096];
    uint64_t utotal = 0;
    CHECK_EQ_INT(search_ids(c, &q, upgraded, sizeof upgraded, &utotal), 0);
    CHECK_STR(upgraded, live);
    CHECK_EQ_INT(utotal, total);
    CHECK_EQ_INT(content_catalog_begin(c, &err), 0);
    CHECK_EQ_INT(put(c, mk("hot-extra3", "数学", "lesson", NULL, NULL, "math", "zh", "video", NULL)), 0);
    CHECK_EQ_INT(content_catalog_delete(c, "hot-extra3", &err), 0);
    CHECK_EQ_INT(content_catalog_commit(c, &err), 0);
    CHECK(db_int(db, "SELECT count(*) FROM search_hot") > 10);
    char hot[4096];
    uint64_t htotal = 0;
    CHECK_EQ_INT(search_ids(c, &q, hot, sizeof hot, &htotal), 0);
    CHECK_STR(hot, live);
    CHECK_EQ_INT(htotal, total);
    check_hot_answers(c, db);
    content_catalog_free(c);
    sqlite3_close(db);
    unlink(path);
}

int main(void)
{
    tmp_path(db_path, sizeof db_path, "catalog");
    RUN(test_search_chinese);
    RUN(test_search_english);
    RUN(test_search_hostile);
    RUN(test_filters);
    RUN(test_paging);
    RUN(test_roundtrip);
    RUN(test_objects_counts);
    RUN(test_state_and_transactions);
    RUN(test_delete_and_clear);
    RUN(test_generated);
    RUN(test_hot);
    return TEST_SUMMARY();
}
