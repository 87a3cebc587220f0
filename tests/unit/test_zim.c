/*
 * test_zim.c - ZIM paths and titles as resource paths and search entries:
 * the mapping rules, the titles file, ids and languages from an archive's
 * metadata, and the catalogue's entries (article titles inside resources),
 * including the upgrade of a format-1 catalogue.
 */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "content/catalog.h"
#include "content/store.h"
#include "content/zim.h"
#include "sync/zimsource.h"
#include "test.h"

static char tmp_dir[512];

static const char *map(const char *in)
{
    static char out[CONTENT_PATH_MAX + 1];
    if (content_zim_path_map(in, out, sizeof out) != 0)
        return "(error)";
    return out;
}

static void test_path_map(void)
{
    /* Valid paths are kept exactly: the archive's relative links work. */
    CHECK_STR(map("A/Photosynthesis"), "A/Photosynthesis");
    CHECK_STR(map("Першая_старонка.html"), "Першая_старонка.html");
    CHECK_STR(map("光合作用.html"), "光合作用.html");
    CHECK_STR(map("Q&A?x=1#y %.html"), "Q&A?x=1#y %.html");
    CHECK_STR(map("AC/DC"), "AC/DC");
    CHECK_STR(map("-/favicon"), "-/favicon");
    CHECK_STR(map(".hidden/x"), ".hidden/x");
    /* What content_path_valid refuses is escaped, never dropped. */
    CHECK_STR(map("a\\b"), "a%5Cb");
    CHECK_STR(map("tab\there"), "tab%09here");
    CHECK_STR(map("/rooted"), "%2Frooted");
    CHECK_STR(map("a//b"), "a/%20/b");
    CHECK_STR(map("a/./b/../c"), "a/%2E/b/%2E%2E/c");
    CHECK_STR(map(".."), "%2E%2E");
    CHECK_STR(map("trailing/"), "trailing/%20");
    CHECK_STR(map("bad\xff"
                  "byte"),
              "bad%FFbyte");
    CHECK_STR(map("c1\xc2\x85x"), "c1%C2%85x");
    CHECK_STR(map(".cistern/titles.tsv"), "%2Ecistern/titles.tsv"); /* reserved for the resource */
    CHECK_STR(map("x/.cistern/y"), "x/.cistern/y");
    /* Every result is a valid resource path. */
    const char *odd[] = {"a\\b", "/x", "a//b", "..", "x/", "\x01", "\xc0\xaf", ".cistern/a"};
    for (size_t i = 0; i < sizeof odd / sizeof odd[0]; i++)
        CHECK(content_path_valid(map(odd[i])));
    char out[CONTENT_PATH_MAX + 1];
    CHECK_EQ_INT(content_zim_path_map("", out, sizeof out), CS_EINVAL);
    CHECK_EQ_INT(content_zim_path_map(NULL, out, sizeof out), CS_EINVAL);
    /* Length caps: the limit itself fits, one more byte does not, nor does
     * an escape that grows past it. */
    char longp[CONTENT_PATH_MAX + 2];
    memset(longp, 'a', sizeof longp);
    longp[CONTENT_PATH_MAX] = '\0';
    CHECK_EQ_INT(content_zim_path_map(longp, out, sizeof out), 0);
    longp[CONTENT_PATH_MAX] = 'a';
    longp[CONTENT_PATH_MAX + 1] = '\0';
    CHECK_EQ_INT(content_zim_path_map(longp, out, sizeof out), CS_ETOOBIG);
    memset(longp, 'a', sizeof longp);
    longp[CONTENT_PATH_MAX - 1] = '\\';
    longp[CONTENT_PATH_MAX] = '\0';
    CHECK_EQ_INT(content_zim_path_map(longp, out, sizeof out), CS_ETOOBIG);
    CHECK_EQ_INT(content_zim_path_map("abcdef", out, 4), CS_ETOOBIG);
}

static const char *clean(const char *in)
{
    static char out[CONTENT_ZIM_TITLE_MAX + 1];
    content_zim_title_clean(in, strlen(in), out, sizeof out);
    return out;
}

static void test_title_clean(void)
{
    CHECK_STR(clean("Photosynthesis"), "Photosynthesis");
    CHECK_STR(clean("  Water\tcycle\n(part 1)  "), "Water cycle (part 1)");
    CHECK_STR(clean("Італьянская мова/Урок 1"), "Італьянская мова/Урок 1");
    CHECK_STR(clean("光合作用"), "光合作用");
    CHECK_STR(clean("bad\xff\xfe utf8"), "bad utf8");
    CHECK_STR(clean("\r\n\t "), "");
    /* Cut at a character boundary. */
    char out[8];
    CHECK_EQ_INT(content_zim_title_clean("光合作用", strlen("光合作用"), out, sizeof out), 6);
    CHECK_STR(out, "光合");
    char big[3000];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    char o2[4096];
    CHECK_EQ_INT(content_zim_title_clean(big, strlen(big), o2, sizeof o2), CONTENT_ZIM_TITLE_MAX);
}

typedef struct seen {
    char buf[1024];
    int n;
} seen;

static int collect(void *ctx, const char *path, const char *title)
{
    seen *s = ctx;
    size_t l = strlen(s->buf);
    snprintf(s->buf + l, sizeof s->buf - l, "%s=%s;", path, title);
    s->n++;
    return 0;
}

static void test_titles_parse(void)
{
    seen s = {"", 0};
    uint64_t skipped = 0;
    cs_err err = {0};
    const char good[] =
        "cistern-titles "
        "1\nA/Foo\tFoo\n\nB/光\t光合作用\nno-tab\n../x\tEscape\nC\t\nD\tbad\x01title\nE\tE";
    CHECK_EQ_INT(content_titles_parse(good, sizeof good - 1, collect, &s, &skipped, &err), 0);
    CHECK_STR(s.buf, "A/Foo=Foo;B/光=光合作用;E=E;");
    CHECK_EQ_INT(skipped, 4);
    s.buf[0] = '\0';
    CHECK_EQ_INT(content_titles_parse("A\tB\n", 4, collect, &s, NULL, &err), CS_EFORMAT);
    CHECK_EQ_INT(content_titles_parse("", 0, collect, &s, NULL, &err), CS_EFORMAT);
    CHECK_EQ_INT(content_titles_parse(good, CONTENT_TITLES_MAX + 1, collect, &s, NULL, &err),
                 CS_ETOOBIG);
}

static void test_id_and_language(void)
{
    char id[CONTENT_ID_MAX + 1], tag[36];
    CHECK_EQ_INT(sync_zim_default_id("kiwix.wikibooks_be_all", "x.zim", id, sizeof id), 0);
    CHECK_STR(id, "kiwix.wikibooks_be_all");
    CHECK_EQ_INT(
        sync_zim_default_id(NULL, "/a/b/wikipedia_en_medicine_maxi_2023-06.zim", id, sizeof id), 0);
    CHECK_STR(id, "wikipedia_en_medicine_maxi");
    CHECK_EQ_INT(sync_zim_default_id("", "dir/nons-small.zim", id, sizeof id), 0);
    CHECK_STR(id, "nons-small");
    CHECK_EQ_INT(sync_zim_default_id("my archive/2", NULL, id, sizeof id), 0);
    CHECK_STR(id, "my-archive-2");
    CHECK_EQ_INT(sync_zim_default_id("local-school", NULL, id, sizeof id), 0);
    CHECK_STR(id, "school");
    CHECK_EQ_INT(sync_zim_default_id("...", NULL, id, sizeof id), CS_EINVAL);
    sync_zim_language("eng", tag, sizeof tag);
    CHECK_STR(tag, "en");
    sync_zim_language("bel", tag, sizeof tag);
    CHECK_STR(tag, "be");
    sync_zim_language("zho,eng", tag, sizeof tag);
    CHECK_STR(tag, "zh");
    sync_zim_language("=en", tag, sizeof tag);
    CHECK_STR(tag, "en");
    sync_zim_language("", tag, sizeof tag);
    CHECK_STR(tag, "und");
    sync_zim_language("kab", tag, sizeof tag);
    CHECK_STR(tag, "kab");
    sync_zim_language(NULL, tag, sizeof tag);
    CHECK_STR(tag, "und");
}

/* ---- the catalogue's entries -------------------------------------------- */

static content_resource *make_res(const char *id, const char *title, content_store *st,
                                  const char *titles)
{
    cs_err err = {0};
    content_resource *r = calloc(1, sizeof *r);
    char json[512];
    snprintf(json, sizeof json,
             "{\"id\":\"%s\",\"title\":{\"en\":\"%s\"},\"language\":\"en\",\"subject\":\"science\","
             "\"type\":\"html\",\"entry\":\"index.html\"}",
             id, title);
    if (content_resource_parse_json(&r->meta, json, strlen(json), &err) != 0) {
        fprintf(stderr, "%s\n", err.msg);
        free(r);
        return NULL;
    }
    r->id = strdup(id);
    r->cached = 1;
    const char *paths[] = {"index.html", "Photosynthesis.html", "Water_cycle.html", "A/光合作用",
                           CONTENT_TITLES_PATH};
    r->nfiles = titles ? 5 : 4;
    r->files = calloc(r->nfiles, sizeof *r->files);
    for (size_t i = 0; i < r->nfiles; i++) {
        const char *data = i == 4 ? titles : paths[i];
        r->files[i].path = strdup(paths[i]);
        r->files[i].mime = strdup(i == 4 ? "text/tab-separated-values" : "text/html");
        r->files[i].size = strlen(data);
        content_store_put_buf(st, data, strlen(data), r->files[i].object, NULL);
    }
    content_store_flush(st, NULL);
    return r;
}

static char *search(content_catalog *c, const char *text, int entries, uint32_t limit,
                    uint32_t offset, uint64_t *total)
{
    static char buf[2048];
    content_query q;
    content_hits h = {0};
    cs_err err = {0};
    memset(&q, 0, sizeof q);
    q.q = text;
    q.grade = -1;
    q.entries = entries;
    q.limit = limit;
    q.offset = offset;
    buf[0] = '\0';
    if (content_catalog_search(c, &q, &h, &err) != 0) {
        snprintf(buf, sizeof buf, "error: %s", err.msg);
        return buf;
    }
    for (size_t i = 0; i < h.n; i++) {
        size_t l = strlen(buf);
        snprintf(buf + l, sizeof buf - l, "%s%s%s%s", i ? " " : "", h.items[i].id,
                 h.items[i].path ? ":" : "", h.items[i].path ? h.items[i].path : "");
    }
    if (total)
        *total = h.total;
    content_hits_clear(&h);
    return buf;
}

static const char titles_file[] =
    "cistern-titles 1\n"
    "Photosynthesis.html\tPhotosynthesis\n"
    "Water_cycle.html\tWater cycle\n"
    "A/光合作用\t光合作用\n"
    "Missing.html\tPhotosynthesis missing\n"; /* not a file of the resource: not indexed */

static void test_catalog_entries(void)
{
    char db[600], sdir[600];
    cs_err err = {0};
    content_store *st = NULL;
    content_catalog *c = NULL;
    uint64_t total = 0;
    snprintf(db, sizeof db, "%s/entries.db", tmp_dir);
    snprintf(sdir, sizeof sdir, "%s/store", tmp_dir);
    REQUIRE(content_store_open(&st, sdir, 0, &err) == 0);
    REQUIRE(content_catalog_open(&c, db, 0, &err) == 0);
    REQUIRE(content_catalog_attach_store(c, st, &err) == 0);
    content_resource *wiki = make_res("wiki", "Science wiki", st, titles_file);
    content_resource *lesson = make_res("lesson", "Photosynthesis lesson", st, NULL);
    REQUIRE(wiki && lesson);
    REQUIRE(content_catalog_put(c, wiki, &err) == 0);
    REQUIRE(content_catalog_put(c, lesson, &err) == 0);
    /* Resources first, then pages inside them. */
    CHECK_STR(search(c, "photosynthesis", 1, 20, 0, &total), "lesson wiki:Photosynthesis.html");
    CHECK_EQ_INT(total, 2);
    CHECK_STR(search(c, "photosynthesis", 0, 20, 0, &total), "lesson");
    CHECK_STR(search(c, "光合", 1, 20, 0, &total), "wiki:A/光合作用");
    CHECK_STR(search(c, "water", 1, 20, 0, &total), "wiki:Water_cycle.html");
    CHECK_STR(search(c, "missing", 1, 20, 0, &total), "");
    /* Paging runs across both lists. */
    CHECK_STR(search(c, "photosynthesis", 1, 1, 0, &total), "lesson");
    CHECK_EQ_INT(total, 2);
    CHECK_STR(search(c, "photosynthesis", 1, 1, 1, &total), "wiki:Photosynthesis.html");
    CHECK_EQ_INT(total, 2);
    CHECK_STR(search(c, "photosynthesis", 1, 1, 2, &total), "");
    CHECK_EQ_INT(total, 2);
    /* Not cached: its pages cannot be opened, so they are not found. */
    REQUIRE(content_catalog_set_cached(c, "wiki", 0, &err) == 0);
    CHECK_STR(search(c, "water", 1, 20, 0, &total), "");
    REQUIRE(content_catalog_set_cached(c, "wiki", 1, &err) == 0);
    CHECK_STR(search(c, "water", 1, 20, 0, &total), "wiki:Water_cycle.html");
    /* Put again (a new version): indexed once, not twice. */
    REQUIRE(content_catalog_put(c, wiki, &err) == 0);
    CHECK_STR(search(c, "water", 1, 20, 0, &total), "wiki:Water_cycle.html");
    /* Deleted, cleared: gone. */
    REQUIRE(content_catalog_delete(c, "wiki", &err) == 0);
    CHECK_STR(search(c, "water", 1, 20, 0, &total), "");
    REQUIRE(content_catalog_put(c, wiki, &err) == 0);
    REQUIRE(content_catalog_clear(c, &err) == 0);
    CHECK_STR(search(c, "water", 1, 20, 0, &total), "");
    content_catalog_free(c);

    /* A format-1 catalogue (an older node) that cached the archive: read-only
     * handles still read it; the first writable open with a store upgrades it
     * and indexes the titles already there. */
    snprintf(db, sizeof db, "%s/old.db", tmp_dir);
    REQUIRE(content_catalog_open(&c, db, 0, &err) == 0);
    REQUIRE(content_catalog_put(c, wiki, &err) == 0);
    content_catalog_free(c);
    sqlite3 *raw = NULL;
    REQUIRE(sqlite3_open(db, &raw) == SQLITE_OK);
    REQUIRE(content_fts_register(raw, &err) == 0);
    CHECK_EQ_INT(sqlite3_exec(raw,
                              "DROP TABLE entries_fts; DROP TABLE entries;"
                              "UPDATE meta SET value = '1' WHERE key = 'format'",
                              NULL, NULL, NULL),
                 SQLITE_OK);
    sqlite3_close(raw);
    REQUIRE(content_catalog_open(&c, db, CONTENT_CATALOG_RDONLY, &err) == 0);
    CHECK_STR(search(c, "water", 1, 20, 0, &total), "");
    content_catalog_free(c);
    REQUIRE(content_catalog_open(&c, db, 0, &err) == 0);
    REQUIRE(content_catalog_attach_store(c, st, &err) == 0);
    CHECK_STR(search(c, "water", 1, 20, 0, &total), "wiki:Water_cycle.html");
    content_catalog_free(c);
    content_resource_free(wiki);
    content_resource_free(lesson);
    content_store_free(st);
}

int main(void)
{
    const char *dir = getenv("CISTERN_TEST_TMP");
    snprintf(tmp_dir, sizeof tmp_dir, "%s/zim-%ld", dir && *dir ? dir : "/tmp", (long)getpid());
    mkdir(dir && *dir ? dir : "/tmp", 0755);
    mkdir(tmp_dir, 0755);
    RUN(test_path_map);
    RUN(test_title_clean);
    RUN(test_titles_parse);
    RUN(test_id_and_language);
    RUN(test_catalog_entries);
    char cmd[700];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp_dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", tmp_dir);
    return TEST_SUMMARY();
}
