/*
 * test_resource.c - resource.json parsing and validation, ids, paths, MIME.
 */
#include <stdlib.h>
#include <string.h>

#include "content/resource.h"
#include "test.h"

#define VALID                                                                                      \
    "{\"id\":\"math-8-01\",\"title\":{\"zh\":\"勾股定理\",\"en\":\"Pythagoras\"},"             \
    "\"language\":\"zh\",\"type\":\"video\",\"entry\":\"index.html\""

/* Parse VALID plus extra members; expect code and a message containing msg. */
static void expect(const char *extra, int code, const char *msg)
{
    char text[4096];
    json_t *j = NULL;
    cs_err err = {0};
    snprintf(text, sizeof text, VALID "%s}", extra);
    int rc = content_resource_parse_json(&j, text, strlen(text), &err);
    CHECK_EQ_INT(rc, code);
    if (code == 0) {
        CHECK(j != NULL);
    } else {
        CHECK(j == NULL);
        if (!strstr(err.msg, msg))
            fprintf(stderr, "  for %s: message \"%s\" lacks \"%s\"\n", extra, err.msg, msg);
        CHECK(strstr(err.msg, msg) != NULL);
    }
    json_decref(j);
}

static void test_valid(void)
{
    expect("", 0, NULL);
    expect(",\"description\":{\"zh\":\"直角三角形\"},\"subject\":\"math\",\"grades\":[7,8],"
           "\"edition\":\"pep\",\"volume\":2,\"unit\":\"3\",\"license\":\"CC-BY-4.0\","
           "\"publisher\":\"PEP\",\"keywords\":[\"几何\",\"geometry\"],"
           "\"prerequisites\":[\"math-7-10\"],\"x-extra\":{\"a\":[1,2,3]}",
           0, NULL);
    expect(",\"grades\":[0,13]", 0, NULL);
    expect(",\"description\":{}", 0, NULL);
}

static void test_invalid_fields(void)
{
    expect(",\"grades\":[7,8,14]", CS_EFORMAT,
           "field \"grades\": element 2 is not an integer in 0..13");
    expect(",\"grades\":[\"7\"]", CS_EFORMAT,
           "field \"grades\": element 0 is not an integer in 0..13");
    expect(",\"grades\":[-1]", CS_EFORMAT, "element 0 is not an integer in 0..13");
    expect(",\"grades\":[1.5]", CS_EFORMAT, "element 0 is not an integer");
    expect(",\"grades\":7", CS_EFORMAT, "field \"grades\": not an array");
    expect(",\"subject\":5", CS_EFORMAT, "field \"subject\": not a string");
    expect(",\"subject\":null", CS_EFORMAT, "field \"subject\": not a string");
    expect(",\"edition\":[1]", CS_EFORMAT, "field \"edition\": not a string or an integer");
    expect(",\"volume\":1.5", CS_EFORMAT, "field \"volume\": not a string or an integer");
    expect(",\"keywords\":[\"a\",3]", CS_EFORMAT, "field \"keywords\": element 1 is not a string");
    expect(",\"keywords\":\"a\"", CS_EFORMAT, "field \"keywords\": not an array");
    expect(",\"prerequisites\":[\"ok\",\"../x\"]", CS_EFORMAT,
           "field \"prerequisites\": element 1 is not a resource id");
    expect(",\"description\":\"text\"", CS_EFORMAT,
           "field \"description\": not an object of language to text");
    expect(",\"description\":{\"zh\":1}", CS_EFORMAT,
           "field \"description\": \"zh\" is not a string");
    expect(",\"description\":{\"z h\":\"x\"}", CS_EFORMAT,
           "field \"description\": \"z h\" is not a language tag");
    expect(",\"license\":true", CS_EFORMAT, "field \"license\": not a string");
    expect(",\"publisher\":{}", CS_EFORMAT, "field \"publisher\": not a string");
}

static void test_invalid_required(void)
{
    struct {
        const char *json;
        int code;
        const char *msg;
    } cases[] = {
        {"{\"title\":{\"zh\":\"x\"},\"language\":\"zh\",\"type\":\"video\",\"entry\":\"a\"}",
         CS_EFORMAT, "field \"id\": missing"},
        {"{\"id\":\".hidden\",\"title\":{\"zh\":\"x\"},\"language\":\"zh\",\"type\":\"video\","
         "\"entry\":\"a\"}",
         CS_EFORMAT, "field \"id\": not 1..128 characters"},
        {"{\"id\":\"a/b\",\"title\":{\"zh\":\"x\"},\"language\":\"zh\",\"type\":\"video\","
         "\"entry\":\"a\"}",
         CS_EFORMAT, "field \"id\""},
        {"{\"id\":7,\"title\":{\"zh\":\"x\"},\"language\":\"zh\",\"type\":\"video\","
         "\"entry\":\"a\"}",
         CS_EFORMAT, "field \"id\""},
        {"{\"id\":\"a\",\"language\":\"zh\",\"type\":\"video\",\"entry\":\"a\"}", CS_EFORMAT,
         "field \"title\": missing"},
        {"{\"id\":\"a\",\"title\":{},\"language\":\"zh\",\"type\":\"video\",\"entry\":\"a\"}",
         CS_EFORMAT, "field \"title\": has no language"},
        {"{\"id\":\"a\",\"title\":\"x\",\"language\":\"zh\",\"type\":\"video\",\"entry\":\"a\"}",
         CS_EFORMAT, "field \"title\": not an object"},
        {"{\"id\":\"a\",\"title\":{\"zh\":\"x\"},\"type\":\"video\",\"entry\":\"a\"}", CS_EFORMAT,
         "field \"language\": missing"},
        {"{\"id\":\"a\",\"title\":{\"zh\":\"x\"},\"language\":\"\",\"type\":\"video\","
         "\"entry\":\"a\"}",
         CS_EFORMAT, "field \"language\": not a language tag"},
        {"{\"id\":\"a\",\"title\":{\"zh\":\"x\"},\"language\":\"zh\",\"entry\":\"a\"}", CS_EFORMAT,
         "field \"type\": missing"},
        {"{\"id\":\"a\",\"title\":{\"zh\":\"x\"},\"language\":\"zh\",\"type\":\"movie\","
         "\"entry\":\"a\"}",
         CS_EFORMAT, "field \"type\": not one of video, audio"},
        {"{\"id\":\"a\",\"title\":{\"zh\":\"x\"},\"language\":\"zh\",\"type\":\"video\"}",
         CS_EFORMAT, "field \"entry\": missing"},
        {"{\"id\":\"a\",\"title\":{\"zh\":\"x\"},\"language\":\"zh\",\"type\":\"video\","
         "\"entry\":\"../etc/passwd\"}",
         CS_EFORMAT, "field \"entry\": not a safe relative path"},
        {"{\"id\":\"a\",\"title\":{\"zh\":\"x\"},\"language\":\"zh\",\"type\":\"video\","
         "\"entry\":\"/abs\"}",
         CS_EFORMAT, "field \"entry\": not a safe relative path"},
        {"[1,2]", CS_EFORMAT, "top level is not an object"},
        {"\"id\"", CS_EFORMAT, "resource.json: line 1"},
        {"{\"id\":\"a\",\"id\":\"b\"}", CS_EFORMAT, "duplicate"},
        {"{\"id\":", CS_EFORMAT, "resource.json: line 1"},
        {"", CS_EFORMAT, "resource.json"},
        {"{\"id\":\"a\\u0000b\",\"title\":{\"zh\":\"x\"},\"language\":\"zh\",\"type\":\"video\","
         "\"entry\":\"a\"}",
         CS_EFORMAT, "resource.json"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        json_t *j = NULL;
        cs_err err = {0};
        int rc = content_resource_parse_json(&j, cases[i].json, strlen(cases[i].json), &err);
        CHECK_EQ_INT(rc, cases[i].code);
        CHECK(j == NULL);
        if (!strstr(err.msg, cases[i].msg))
            fprintf(stderr, "  case %zu: message \"%s\" lacks \"%s\"\n", i, err.msg, cases[i].msg);
        CHECK(strstr(err.msg, cases[i].msg) != NULL);
    }
}

static void test_limits(void)
{
    size_t n = CONTENT_RESOURCE_JSON_MAX + 1;
    char *big = malloc(n + 1);
    json_t *j = NULL;
    cs_err err = {0};
    REQUIRE(big);
    memset(big, ' ', n);
    big[0] = '{';
    big[n - 1] = '}';
    big[n] = '\0';
    CHECK_EQ_INT(content_resource_parse_json(&j, big, n, &err), CS_ETOOBIG);
    CHECK(j == NULL);
    CHECK(strstr(err.msg, "bytes") != NULL);
    free(big);

    /* title of 4097 bytes */
    char *t = malloc(8192);
    REQUIRE(t);
    int k = snprintf(t, 8192,
                     "{\"id\":\"a\",\"language\":\"zh\",\"type\":\"video\","
                     "\"entry\":\"a\",\"title\":{\"en\":\"");
    memset(t + k, 'x', 4097);
    snprintf(t + k + 4097, 8192 - (size_t)k - 4097, "\"}}");
    CHECK_EQ_INT(content_resource_parse_json(&j, t, strlen(t), &err), CS_EFORMAT);
    CHECK(strstr(err.msg, "field \"title\": \"en\" is longer than 4096 bytes") != NULL);
    free(t);

    /* 257 keywords */
    json_t *m = json_pack("{s:s, s:{s:s}, s:s, s:s, s:s}", "id", "a", "title", "en", "x",
                          "language", "en", "type", "html", "entry", "index.html");
    json_t *kw = json_array();
    for (int i = 0; i < 257; i++)
        json_array_append_new(kw, json_string("k"));
    json_object_set_new(m, "keywords", kw);
    CHECK_EQ_INT(content_resource_validate(m, &err), CS_EFORMAT);
    CHECK(strstr(err.msg, "field \"keywords\": more than 256 elements") != NULL);
    json_array_remove(kw, 0);
    CHECK_EQ_INT(content_resource_validate(m, &err), 0);
    /* a string with an embedded NUL built in memory */
    json_object_set_new(m, "subject", json_stringn("ma\0th", 5));
    CHECK_EQ_INT(content_resource_validate(m, &err), CS_EFORMAT);
    json_decref(m);
    CHECK_EQ_INT(content_resource_validate(NULL, &err), CS_EFORMAT);
}

static void test_ids(void)
{
    CHECK(content_id_valid("a"));
    CHECK(content_id_valid("math-8_01.v2"));
    CHECK(!content_id_valid(""));
    CHECK(!content_id_valid(NULL));
    CHECK(!content_id_valid(".a"));
    CHECK(!content_id_valid("a/b"));
    CHECK(!content_id_valid("a b"));
    CHECK(!content_id_valid("数学"));
    char id[CONTENT_ID_MAX + 2];
    memset(id, 'a', sizeof id);
    id[CONTENT_ID_MAX] = '\0';
    CHECK(content_id_valid(id));
    id[CONTENT_ID_MAX] = 'a';
    id[CONTENT_ID_MAX + 1] = '\0';
    CHECK(!content_id_valid(id));
}

static void test_paths(void)
{
    const char *good[] = {"index.html",    "a/b/c.js", "数学/第一课.pdf",
                          ".well-known/x", "a/..b/c",  "a/b../c",
                          "...",           "a/.x"};
    const char *bad[] = {"",     "/etc/passwd", "../x",  "a/../x",   "a/..",
                         "..",   ".",           "./a",   "a/./b",    "a/.",
                         "a//b", "a/",          "a\\b",  "..\\x",    "a\\..\\b",
                         "a\nb", "a\tb",        "a\x7f", "\xc0\xaf", "a/\xe0\x80\xaf",
                         "\xff", "a\r"};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        if (!content_path_valid(good[i]))
            fprintf(stderr, "  good path refused: %s\n", good[i]);
        CHECK(content_path_valid(good[i]));
    }
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (content_path_valid(bad[i]))
            fprintf(stderr, "  bad path accepted: case %zu\n", i);
        CHECK(!content_path_valid(bad[i]));
    }
    CHECK(!content_path_valid(NULL));
    char p[CONTENT_PATH_MAX + 2];
    memset(p, 'a', sizeof p);
    p[CONTENT_PATH_MAX] = '\0';
    CHECK(content_path_valid(p));
    p[CONTENT_PATH_MAX] = 'a';
    p[CONTENT_PATH_MAX + 1] = '\0';
    CHECK(!content_path_valid(p));
}

static void test_mime(void)
{
    CHECK_STR(content_mime_guess("index.html"), "text/html; charset=utf-8");
    CHECK_STR(content_mime_guess("a/B.HTM"), "text/html; charset=utf-8");
    CHECK_STR(content_mime_guess("app.js"), "text/javascript; charset=utf-8");
    CHECK_STR(content_mime_guess("x.mjs"), "text/javascript; charset=utf-8");
    CHECK_STR(content_mime_guess("s.css"), "text/css; charset=utf-8");
    CHECK_STR(content_mime_guess("d.json"), "application/json");
    CHECK_STR(content_mime_guess("i.svg"), "image/svg+xml");
    CHECK_STR(content_mime_guess("i.png"), "image/png");
    CHECK_STR(content_mime_guess("i.jpg"), "image/jpeg");
    CHECK_STR(content_mime_guess("i.JPEG"), "image/jpeg");
    CHECK_STR(content_mime_guess("i.webp"), "image/webp");
    CHECK_STR(content_mime_guess("book.pdf"), "application/pdf");
    CHECK_STR(content_mime_guess("a.mp3"), "audio/mpeg");
    CHECK_STR(content_mime_guess("a.opus"), "audio/ogg");
    CHECK_STR(content_mime_guess("v.mp4"), "video/mp4");
    CHECK_STR(content_mime_guess("v.webm"), "video/webm");
    CHECK_STR(content_mime_guess("v.ogv"), "video/ogg");
    CHECK_STR(content_mime_guess("r.txt"), "text/plain; charset=utf-8");
    CHECK_STR(content_mime_guess("b.epub"), "application/epub+zip");
    CHECK_STR(content_mime_guess("f.woff2"), "font/woff2");
    CHECK_STR(content_mime_guess("s.vtt"), "text/vtt; charset=utf-8");
    CHECK_STR(content_mime_guess("t.csv"), "text/csv; charset=utf-8");
    CHECK_STR(content_mime_guess("noext"), "application/octet-stream");
    CHECK_STR(content_mime_guess("dir.html/noext"), "application/octet-stream");
    CHECK_STR(content_mime_guess("x."), "application/octet-stream");
    CHECK_STR(content_mime_guess("x.exe"), "application/octet-stream");
    CHECK_STR(content_mime_guess(NULL), "application/octet-stream");
}

static void test_free(void)
{
    content_resource_free(NULL);
    content_file_clear(NULL);
    content_resource *r = calloc(1, sizeof *r);
    REQUIRE(r);
    r->id = strdup("a");
    r->meta = json_object();
    r->files = calloc(2, sizeof *r->files);
    r->nfiles = 2;
    r->files[0].path = strdup("a.html");
    r->files[0].mime = strdup("text/html");
    content_resource_free(r);
    content_file f = {0};
    f.path = strdup("x");
    content_file_clear(&f);
    CHECK(f.path == NULL && f.mime == NULL);
}

int main(void)
{
    RUN(test_valid);
    RUN(test_invalid_fields);
    RUN(test_invalid_required);
    RUN(test_limits);
    RUN(test_ids);
    RUN(test_paths);
    RUN(test_mime);
    RUN(test_free);
    return TEST_SUMMARY();
}
