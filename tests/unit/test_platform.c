/*
 * test_platform.c - the platform module: errors, capped buffers, sizes,
 * configuration files, atomic writes (with injected full-disk failures),
 * hex, SHA-256, ECDSA P-256 keys and signatures, time stamps and leveled
 * logging.
 */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "platform/buf.h"
#include "platform/conf.h"
#include "platform/crypto.h"
#include "platform/error.h"
#include "platform/file.h"
#include "platform/log.h"
#include "platform/time.h"
#include "test.h"

static char tmp_dir[512];

/* A fresh per-process scratch directory under CISTERN_TEST_TMP. */
static void tmp_init(void)
{
    const char *base = getenv("CISTERN_TEST_TMP");
    if (!base || !base[0])
        base = "/tmp";
    mkdir(base, 0755);
    snprintf(tmp_dir, sizeof tmp_dir, "%s/platform-%ld", base, (long)getpid());
    mkdir(tmp_dir, 0755);
}

/* Remove what the tests leave behind (files are unlinked as they go). */
static void tmp_cleanup(void)
{
    static const char *const dirs[] = {"mk/a/b/c", "mk/a/b", "mk/a", "mk", ""};
    char p[700];
    for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++) {
        snprintf(p, sizeof p, "%s/%s", tmp_dir, dirs[i]);
        rmdir(p);
    }
}

static void tmp_path(char *buf, size_t cap, const char *name)
{
    snprintf(buf, cap, "%s/%s", tmp_dir, name);
    unlink(buf);
}

/* Number of leftover ".NAME.tmp.*" files next to NAME in the scratch dir. */
static int temp_files_left(const char *name)
{
    char prefix[300];
    snprintf(prefix, sizeof prefix, ".%s.tmp.", name);
    DIR *d = opendir(tmp_dir);
    int n = 0;
    struct dirent *e;
    while (d && (e = readdir(d)) != NULL)
        if (strncmp(e->d_name, prefix, strlen(prefix)) == 0)
            n++;
    if (d)
        closedir(d);
    return n;
}

static char *slurp(const char *path, size_t *len)
{
    char *s = NULL;
    if (cs_file_read_all(path, 1 << 20, &s, len, NULL) != 0)
        return NULL;
    return s;
}

/* ---- errors ---- */

static void test_err_names(void)
{
    static const struct {
        int code;
        const char *name;
        const char *text;
    } rows[] = {
#define ROW(name, value, text) {name, #name, text},
        CS_ERROR_LIST(ROW)
#undef ROW
    };
    size_t n = sizeof rows / sizeof rows[0];
    CHECK(n >= 22);
    for (size_t i = 0; i < n; i++) {
        CHECK_STR(cs_err_name(rows[i].code), rows[i].name);
        CHECK_STR(cs_err_text(rows[i].code), rows[i].text);
        CHECK(rows[i].code <= 0);
        for (size_t j = i + 1; j < n; j++)
            CHECK(rows[i].code != rows[j].code);
    }
    CHECK_STR(cs_err_name(CS_EHASH), "CS_EHASH");
    CHECK_EQ_INT(CS_EHASH, -7);
    CHECK_EQ_INT(CS_ENOSPC, -11);
    CHECK_STR(cs_err_name(-9999), "CS_EUNKNOWN");
    CHECK_STR(cs_err_text(12345), "unknown error");
}

static void test_err_set_wrap(void)
{
    cs_err err;
    cs_err_clear(&err);
    CHECK_EQ_INT(err.code, 0);
    CHECK_STR(err.msg, "");
    CHECK_EQ_INT(cs_err_set(&err, CS_EHASH, "file %s: %d", "a.cat", 7), CS_EHASH);
    CHECK_EQ_INT(err.code, CS_EHASH);
    CHECK_STR(err.msg, "file a.cat: 7");
    CHECK_EQ_INT(cs_err_wrap(&err, "while %s", "syncing"), CS_EHASH);
    CHECK_STR(err.msg, "while syncing: file a.cat: 7");
    CHECK_EQ_INT(err.code, CS_EHASH);

    /* NULL err: the code still comes back. */
    CHECK_EQ_INT(cs_err_set(NULL, CS_EIO, "x"), CS_EIO);
    CHECK_EQ_INT(cs_err_wrap(NULL, "x"), CS_EINVAL);

    /* Wrapping an empty message falls back to the code's text. */
    cs_err_clear(&err);
    err.code = CS_ENOSPC;
    cs_err_wrap(&err, "ctx");
    CHECK_STR(err.msg, "ctx: no space left on device");

    /* Long messages are truncated, never overflow. */
    char big[2000];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    cs_err_set(&err, CS_EIO, "%s", big);
    CHECK_EQ_INT(strlen(err.msg), CS_ERR_MSG_MAX - 1);
    cs_err_wrap(&err, "%s", big);
    CHECK_EQ_INT(strlen(err.msg), CS_ERR_MSG_MAX - 1);

    CHECK_EQ_INT(cs_err_from_errno(0), CS_OK);
    CHECK_EQ_INT(cs_err_from_errno(ENOSPC), CS_ENOSPC);
    CHECK_EQ_INT(cs_err_from_errno(ENOENT), CS_ENOENT);
    CHECK_EQ_INT(cs_err_from_errno(ENOMEM), CS_ENOMEM);
    CHECK_EQ_INT(cs_err_from_errno(EEXIST), CS_EEXIST);
    CHECK_EQ_INT(cs_err_from_errno(EACCES), CS_EIO);
    errno = ENOENT;
    CHECK_EQ_INT(cs_err_errno(&err, "thing"), CS_ENOENT);
    CHECK(strstr(err.msg, "thing") != NULL);
}

/* ---- buffers ---- */

static void test_buf_caps(void)
{
    cs_buf b;
    cs_buf_init(&b, 10);
    CHECK_EQ_INT(cs_buf_append(&b, "abcdef", 6), 0);
    CHECK_EQ_INT(b.len, 6);
    CHECK_EQ_INT(cs_buf_append(&b, "ghijk", 5), CS_ETOOBIG);
    CHECK_EQ_INT(b.len, 6);
    CHECK_STR((char *)b.data, "abcdef");
    CHECK_EQ_INT(cs_buf_printf(&b, "%s", "12345"), CS_ETOOBIG);
    CHECK_EQ_INT(b.len, 6);
    CHECK_STR((char *)b.data, "abcdef");
    CHECK_EQ_INT(cs_buf_append(&b, "ghij", 4), 0); /* exactly at the cap */
    CHECK_EQ_INT(b.len, 10);
    CHECK_STR((char *)b.data, "abcdefghij");
    CHECK_EQ_INT(cs_buf_append(&b, "k", 1), CS_ETOOBIG);
    CHECK_EQ_INT(cs_buf_append(&b, "", 0), 0);
    CHECK_EQ_INT(b.len, 10);
    CHECK_EQ_INT(cs_buf_reserve(&b, SIZE_MAX), CS_ETOOBIG);
    CHECK_STR((char *)b.data, "abcdefghij");

    cs_buf_reset(&b);
    CHECK_EQ_INT(b.len, 0);
    CHECK_STR((char *)b.data, "");
    CHECK_EQ_INT(cs_buf_printf(&b, "%d-%s", 42, "x"), 0);
    CHECK_STR((char *)b.data, "42-x");
    size_t n = 0;
    uint8_t *d = cs_buf_steal(&b, &n);
    CHECK_EQ_INT(n, 4);
    CHECK(d && memcmp(d, "42-x", 5) == 0);
    free(d);
    CHECK(b.data == NULL && b.len == 0);
    cs_buf_free(&b);
    cs_buf_free(&b); /* twice is fine */

    /* printf longer than the internal small buffer, under and over the cap. */
    char big[3000];
    memset(big, 'q', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    cs_buf_init(&b, 4000);
    CHECK_EQ_INT(cs_buf_append(&b, "<", 1), 0);
    CHECK_EQ_INT(cs_buf_printf(&b, "%s", big), 0);
    CHECK_EQ_INT(b.len, 3000);
    CHECK_EQ_INT(b.data[b.len], 0);
    CHECK_EQ_INT(cs_buf_printf(&b, "%s", big), CS_ETOOBIG);
    CHECK_EQ_INT(b.len, 3000);
    CHECK_EQ_INT(b.data[0], '<');
    CHECK_EQ_INT(b.data[b.len], 0);
    cs_buf_free(&b);

    /* A zero cap refuses everything but empty appends. */
    cs_buf_init(&b, 0);
    CHECK_EQ_INT(cs_buf_append(&b, "x", 1), CS_ETOOBIG);
    CHECK_EQ_INT(cs_buf_append(&b, "", 0), 0);
    CHECK_EQ_INT(b.len, 0);
    cs_buf_free(&b);

    uint8_t le[8];
    cs_put_u32(le, 0x01020304u);
    CHECK(le[0] == 4 && le[3] == 1);
    CHECK_EQ_INT(cs_get_u32(le), 0x01020304u);
    cs_put_u64(le, 0x0102030405060708ull);
    CHECK(le[0] == 8 && le[7] == 1);
    CHECK(cs_get_u64(le) == 0x0102030405060708ull);
}

/* ---- sizes ---- */

static void test_parse_size(void)
{
    uint64_t v = 0;
    CHECK_EQ_INT(cs_parse_size("256k", &v), 0);
    CHECK(v == 262144);
    CHECK_EQ_INT(cs_parse_size("10m", &v), 0);
    CHECK(v == 10485760);
    CHECK_EQ_INT(cs_parse_size("1g", &v), 0);
    CHECK(v == 1073741824);
    CHECK_EQ_INT(cs_parse_size("12", &v), 0);
    CHECK(v == 12);
    CHECK_EQ_INT(cs_parse_size("0", &v), 0);
    CHECK(v == 0);
    CHECK_EQ_INT(cs_parse_size("2G", &v), 0);
    CHECK(v == 2147483648ull);
    CHECK_EQ_INT(cs_parse_size("18446744073709551615", &v), 0);
    CHECK(v == UINT64_MAX);
    CHECK_EQ_INT(cs_parse_size("17179869183g", &v), 0); /* (2^34 - 1) << 30 fits */
    CHECK(v == (((uint64_t)1 << 34) - 1) << 30);

    static const char *const bad[] = {
        "",
        "k",
        "12x",
        "-1",
        "+1",
        " 12",
        "12 ",
        "12kk",
        "1.5m",
        "m12",
        "0x10",
        "12 k",
        "18446744073709551616", /* 2^64 */
        "99999999999999999999999",
        "17179869184g",       /* 2^34 << 30 = 2^64 */
        "17592186044416m",    /* 2^44 << 20 = 2^64 */
        "18014398509481984k", /* 2^54 << 10 = 2^64 */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        v = 777;
        int rc = cs_parse_size(bad[i], &v);
        if (rc == 0)
            fprintf(stderr, "cs_parse_size accepted \"%s\"\n", bad[i]);
        CHECK(rc != 0);
        CHECK(v == 777); /* out-parameter untouched on failure */
    }
    CHECK(cs_parse_size(NULL, &v) != 0);
}

/* ---- configuration ---- */

static int conf_parse_str(cs_conf *c, const char *text, cs_err *err)
{
    return cs_conf_parse(c, "test.conf", text, strlen(text), err);
}

static void test_conf_parse(void)
{
    const char *text = "# Cistern node configuration\n"
                       "\n"
                       "   \t \n"
                       "  hub.url   =   https://hub.example.org/repo  \t\n"
                       "sync.window=18:00-07:00\r\n"
                       "\t# indented comment\n"
                       "a = first\n"
                       "sync.max_rate = 256k\n"
                       "a = second\n"
                       "empty =\n"
                       "spaces = a b  c # not a comment\n"
                       "n_2-x.y = -42"; /* no final newline */
    cs_conf *c = NULL;
    cs_err err = {0};
    REQUIRE(cs_conf_new(&c) == 0);
    int rc = conf_parse_str(c, text, &err);
    if (rc)
        fprintf(stderr, "conf: %s\n", err.msg);
    CHECK_EQ_INT(rc, 0);
    CHECK_EQ_INT(cs_conf_count(c), 7);
    CHECK_STR(cs_conf_get(c, "hub.url"), "https://hub.example.org/repo");
    CHECK_STR(cs_conf_get(c, "sync.window"), "18:00-07:00");
    CHECK_STR(cs_conf_get(c, "a"), "second");
    CHECK_STR(cs_conf_get(c, "empty"), "");
    CHECK_STR(cs_conf_get(c, "spaces"), "a b  c # not a comment");
    CHECK_STR(cs_conf_get(c, "n_2-x.y"), "-42");
    CHECK(cs_conf_get(c, "missing") == NULL);
    CHECK_STR(cs_conf_get_str(c, "missing", "dflt"), "dflt");
    CHECK_STR(cs_conf_get_str(c, "a", "dflt"), "second");

    /* File order: the duplicate keeps its first position. */
    const char *k, *v;
    cs_conf_at(c, 0, &k, &v);
    CHECK_STR(k, "hub.url");
    cs_conf_at(c, 2, &k, &v);
    CHECK_STR(k, "a");
    CHECK_STR(v, "second");

    uint64_t sz = 0;
    CHECK_EQ_INT(cs_conf_get_size(c, "sync.max_rate", 1, &sz, &err), 0);
    CHECK(sz == 262144);
    CHECK_EQ_INT(cs_conf_get_size(c, "absent", 99, &sz, &err), 0);
    CHECK(sz == 99);
    CHECK_EQ_INT(cs_conf_get_size(c, "hub.url", 1, &sz, &err), CS_ECONFIG);
    CHECK(strstr(err.msg, "hub.url") != NULL);
    int64_t iv = 0;
    CHECK_EQ_INT(cs_conf_get_int(c, "n_2-x.y", 0, &iv, &err), 0);
    CHECK_EQ_INT(iv, -42);
    CHECK_EQ_INT(cs_conf_get_int(c, "absent", 5, &iv, &err), 0);
    CHECK_EQ_INT(iv, 5);
    CHECK_EQ_INT(cs_conf_get_int(c, "sync.max_rate", 0, &iv, &err), CS_ECONFIG);
    CHECK_EQ_INT(cs_conf_get_int(c, "empty", 0, &iv, &err), CS_ECONFIG);
    cs_conf_free(c);
    cs_conf_free(NULL);
}

/* Each bad text must fail with `code` and name line `line`. */
static void conf_expect_fail(const char *text, size_t len, int code, int line)
{
    cs_conf *c = NULL;
    cs_err err = {0};
    if (cs_conf_new(&c) != 0) {
        CHECK(0);
        return;
    }
    int rc = cs_conf_parse(c, "bad.conf", text, len, &err);
    CHECK_EQ_INT(rc, code);
    if (line > 0) {
        char want[64];
        snprintf(want, sizeof want, "bad.conf:%d:", line);
        if (!strstr(err.msg, want))
            fprintf(stderr, "conf error \"%s\" does not name %s\n", err.msg, want);
        CHECK(strstr(err.msg, want) != NULL);
    }
    cs_conf_free(c);
}

static void test_conf_errors(void)
{
#define BAD(text, code, line) conf_expect_fail(text, strlen(text), code, line)
    BAD("a = 1\nUpper = 2\n", CS_ECONFIG, 2);
    BAD("# c\n\nbad key = 1\n", CS_ECONFIG, 3);
    BAD("= value\n", CS_ECONFIG, 1);
    BAD("a = 1\nb = 2\nno equals sign\n", CS_ECONFIG, 3);
    BAD("k\xc3\xa9y = 1\n", CS_ECONFIG, 1);
    BAD("a/b = 1\n", CS_ECONFIG, 1);
    BAD("a b\n", CS_ECONFIG, 1);
#undef BAD
    /* NUL inside a line. */
    conf_expect_fail("a = 1\nb = x\0y\n", 12, CS_ECONFIG, 2);

    /* Key of 128 characters is fine, 129 is not. */
    char key[200];
    memset(key, 'k', 129);
    strcpy(key + 129, " = v\n");
    conf_expect_fail(key, strlen(key), CS_ECONFIG, 1);
    {
        cs_conf *c = NULL;
        REQUIRE(cs_conf_new(&c) == 0);
        memmove(key + 128, key + 129, strlen(key + 129) + 1);
        CHECK_EQ_INT(conf_parse_str(c, key, NULL), 0);
        CHECK_EQ_INT(cs_conf_count(c), 1);
        cs_conf_free(c);
    }

    /* Line length: CS_CONF_MAX_LINE bytes parse, one more fails. */
    size_t big = CS_CONF_MAX_LINE + 64;
    char *t = malloc(big * 2);
    REQUIRE(t != NULL);
    strcpy(t, "first = 1\n");
    size_t off = strlen(t);
    memcpy(t + off, "long = ", 7);
    memset(t + off + 7, 'v', CS_CONF_MAX_LINE - 7);
    t[off + CS_CONF_MAX_LINE] = '\n';
    size_t ok_len = off + CS_CONF_MAX_LINE + 1;
    {
        cs_conf *c = NULL;
        cs_err err = {0};
        REQUIRE(cs_conf_new(&c) == 0);
        int rc = cs_conf_parse(c, "ok.conf", t, ok_len, &err);
        if (rc)
            fprintf(stderr, "max line: %s\n", err.msg);
        CHECK_EQ_INT(rc, 0);
        CHECK_EQ_INT(strlen(cs_conf_get_str(c, "long", "")), CS_CONF_MAX_LINE - 7);
        cs_conf_free(c);
    }
    memmove(t + off + 1, t + off, CS_CONF_MAX_LINE + 1);
    t[off] = ' '; /* leading blank: now MAX_LINE + 1 bytes */
    conf_expect_fail(t, ok_len + 1, CS_ECONFIG, 2);
    /* Same line without a final newline. */
    conf_expect_fail(t, ok_len, CS_ECONFIG, 2);
    free(t);

    /* More than CS_CONF_MAX_KEYS keys (redefinitions do not count). */
    size_t cap = (CS_CONF_MAX_KEYS + 2) * 32;
    char *many = malloc(cap);
    REQUIRE(many != NULL);
    size_t n = 0;
    for (int i = 0; i < CS_CONF_MAX_KEYS; i++)
        n += (size_t)snprintf(many + n, cap - n, "key%d = %d\n", i, i);
    n += (size_t)snprintf(many + n, cap - n, "key0 = again\n");
    {
        cs_conf *c = NULL;
        REQUIRE(cs_conf_new(&c) == 0);
        CHECK_EQ_INT(cs_conf_parse(c, "many.conf", many, n, NULL), 0);
        CHECK_EQ_INT(cs_conf_count(c), CS_CONF_MAX_KEYS);
        CHECK_STR(cs_conf_get(c, "key0"), "again");
        cs_err err = {0};
        CHECK_EQ_INT(cs_conf_set(c, "one.more", "x", &err), CS_ETOOBIG);
        cs_conf_free(c);
    }
    n += (size_t)snprintf(many + n, cap - n, "key%d = x\n", CS_CONF_MAX_KEYS);
    conf_expect_fail(many, n, CS_ETOOBIG, CS_CONF_MAX_KEYS + 2);
    free(many);

    /* Whole file over the cap. */
    char *huge = malloc(CS_CONF_MAX_FILE + 2);
    REQUIRE(huge != NULL);
    memset(huge, '\n', CS_CONF_MAX_FILE + 1);
    conf_expect_fail(huge, CS_CONF_MAX_FILE + 1, CS_ETOOBIG, 0);
    {
        cs_conf *c = NULL;
        REQUIRE(cs_conf_new(&c) == 0);
        CHECK_EQ_INT(cs_conf_parse(c, "blank.conf", huge, CS_CONF_MAX_FILE, NULL), 0);
        cs_conf_free(c);
    }
    free(huge);

    /* cs_conf_set checks keys and values too. */
    cs_conf *c = NULL;
    cs_err err = {0};
    REQUIRE(cs_conf_new(&c) == 0);
    CHECK_EQ_INT(cs_conf_set(c, "Bad", "x", &err), CS_ECONFIG);
    CHECK_EQ_INT(cs_conf_set(c, "", "x", &err), CS_ECONFIG);
    CHECK_EQ_INT(cs_conf_set(c, "ok", "two\nlines", &err), CS_ECONFIG);
    CHECK_EQ_INT(cs_conf_count(c), 0);
    cs_conf_free(c);
}

static void test_conf_save_load(void)
{
    char path[600];
    tmp_path(path, sizeof path, "node.conf");
    cs_conf *c = NULL, *d = NULL;
    cs_err err = {0};
    REQUIRE(cs_conf_new(&c) == 0);
    CHECK_EQ_INT(cs_conf_set(c, "hub.url", "https://hub.example.org/repo", &err), 0);
    CHECK_EQ_INT(cs_conf_set(c, "sync.window", "18:00-07:00", &err), 0);
    CHECK_EQ_INT(cs_conf_set(c, "sync.max_rate", "256k", &err), 0);
    CHECK_EQ_INT(cs_conf_set(c, "note", "a = b # c", &err), 0);
    CHECK_EQ_INT(cs_conf_set(c, "empty", "", &err), 0);
    CHECK_EQ_INT(cs_conf_set(c, "sync.window", "20:00-06:00", &err), 0);
    CHECK_EQ_INT(cs_conf_save(c, path, &err), 0);
    struct stat st;
    CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600);
    CHECK_EQ_INT(temp_files_left("node.conf"), 0);

    int rc = cs_conf_load(&d, path, &err);
    if (rc)
        fprintf(stderr, "load: %s\n", err.msg);
    REQUIRE(rc == 0);
    CHECK_EQ_INT(cs_conf_count(d), cs_conf_count(c));
    for (size_t i = 0; i < cs_conf_count(c) && i < cs_conf_count(d); i++) {
        const char *k1, *v1, *k2, *v2;
        cs_conf_at(c, i, &k1, &v1);
        cs_conf_at(d, i, &k2, &v2);
        CHECK_STR(k2, k1);
        CHECK_STR(v2, v1);
    }
    cs_conf_free(d);
    d = NULL;

    /* Missing file and a bad file. */
    char missing[600];
    tmp_path(missing, sizeof missing, "nope.conf");
    CHECK_EQ_INT(cs_conf_load(&d, missing, &err), CS_ENOENT);
    CHECK(d == NULL);
    CHECK_EQ_INT(cs_file_write_atomic(path, "ok = 1\nBAD = 2\n", 15, 0600, &err), 0);
    CHECK_EQ_INT(cs_conf_load(&d, path, &err), CS_ECONFIG);
    CHECK(d == NULL);
    CHECK(strstr(err.msg, path) != NULL);
    CHECK(strstr(err.msg, ":2:") != NULL);
    cs_conf_free(c);
    unlink(path);
}

/* ---- files ---- */

static void test_atomic_write(void)
{
    char path[600];
    cs_err err = {0};
    tmp_path(path, sizeof path, "atomic.bin");
    CHECK_EQ_INT(cs_file_write_atomic(path, "old content", 11, 0644, &err), 0);
    struct stat st;
    CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0644);
    size_t len = 0;
    char *s = slurp(path, &len);
    CHECK(s && len == 11 && memcmp(s, "old content", 11) == 0);
    free(s);

    char data[100];
    for (int i = 0; i < 100; i++)
        data[i] = (char)('A' + i % 26);
    CHECK_EQ_INT(cs_file_write_atomic(path, data, 100, 0600, &err), 0);
    CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600 && st.st_size == 100);
    s = slurp(path, &len);
    CHECK(s && len == 100 && memcmp(s, data, 100) == 0);
    free(s);
    CHECK_EQ_INT(temp_files_left("atomic.bin"), 0);

    /* Put the old content back, then fill the "disk" after 10 bytes. */
    CHECK_EQ_INT(cs_file_write_atomic(path, "old content", 11, 0644, &err), 0);
    cs_file_fail_after(10);
    cs_err_clear(&err);
    int rc = cs_file_write_atomic(path, data, 100, 0644, &err);
    CHECK_EQ_INT(rc, CS_ENOSPC);
    CHECK_EQ_INT(err.code, CS_ENOSPC);
    CHECK(strstr(err.msg, "atomic.bin") != NULL);
    s = slurp(path, &len);
    CHECK(s && len == 11 && memcmp(s, "old content", 11) == 0);
    free(s);
    CHECK_EQ_INT(temp_files_left("atomic.bin"), 0);
    /* Still full: a second attempt fails too. */
    CHECK_EQ_INT(cs_file_write_atomic(path, "x", 1, 0644, &err), CS_ENOSPC);
    CHECK_EQ_INT(cs_file_write_check(1), -1);
    cs_file_fail_after(-1);
    CHECK_EQ_INT(cs_file_write_check(1000000), 0);
    CHECK_EQ_INT(cs_file_write_atomic(path, data, 100, 0644, &err), 0);
    s = slurp(path, &len);
    CHECK(s && len == 100 && memcmp(s, data, 100) == 0);
    free(s);
    CHECK_EQ_INT(temp_files_left("atomic.bin"), 0);

    /* A budget that is exactly enough. */
    cs_file_fail_after(100);
    CHECK_EQ_INT(cs_file_write_atomic(path, data, 100, 0644, &err), 0);
    CHECK_EQ_INT(cs_file_write_atomic(path, data, 1, 0644, &err), CS_ENOSPC);
    cs_file_fail_after(-1);

    /* Empty content, and a directory that does not exist. */
    CHECK_EQ_INT(cs_file_write_atomic(path, "", 0, 0644, &err), 0);
    CHECK(stat(path, &st) == 0 && st.st_size == 0);
    char nodir[700];
    snprintf(nodir, sizeof nodir, "%s/no/such/dir/f", tmp_dir);
    CHECK_EQ_INT(cs_file_write_atomic(nodir, "x", 1, 0644, &err), CS_ENOENT);
    unlink(path);
}

static void test_read_all(void)
{
    char path[600];
    cs_err err = {0};
    tmp_path(path, sizeof path, "read.bin");
    char data[100];
    memset(data, 'z', sizeof data);
    REQUIRE(cs_file_write_atomic(path, data, 100, 0644, &err) == 0);
    char *s = (char *)0x1;
    size_t len = 0;
    CHECK_EQ_INT(cs_file_read_all(path, 99, &s, &len, &err), CS_ETOOBIG);
    CHECK(s == (char *)0x1);
    s = NULL;
    CHECK_EQ_INT(cs_file_read_all(path, 100, &s, &len, &err), 0);
    CHECK(s && len == 100 && s[100] == '\0' && memcmp(s, data, 100) == 0);
    free(s);
    s = NULL;
    CHECK_EQ_INT(cs_file_read_all(path, 100, &s, NULL, &err), 0);
    free(s);
    CHECK_EQ_INT(cs_file_read_all(tmp_dir, 1 << 20, &s, &len, &err), CS_EINVAL);
    char missing[600];
    tmp_path(missing, sizeof missing, "missing.bin");
    CHECK_EQ_INT(cs_file_read_all(missing, 100, &s, &len, &err), CS_ENOENT);
    REQUIRE(cs_file_write_atomic(path, "", 0, 0644, &err) == 0);
    s = NULL;
    CHECK_EQ_INT(cs_file_read_all(path, 0, &s, &len, &err), 0);
    CHECK(s && len == 0 && s[0] == '\0');
    free(s);
    unlink(path);

    char buf[16];
    CHECK_EQ_INT(cs_path_join(buf, sizeof buf, "abc", "def"), 0);
    CHECK_STR(buf, "abc/def");
    CHECK_EQ_INT(cs_path_join(buf, sizeof buf, "abcdefgh", "12345678"), CS_ETOOBIG);
    char deep[700];
    snprintf(deep, sizeof deep, "%s/mk/a/b/c", tmp_dir);
    CHECK_EQ_INT(cs_mkdirs(deep, 0755, &err), 0);
    CHECK_EQ_INT(cs_mkdirs(deep, 0755, &err), 0);
    CHECK(cs_path_exists(deep));
    CHECK_EQ_INT(cs_fsync_dir(deep, &err), 0);
    CHECK_EQ_INT(cs_mkdirs("", 0755, &err), CS_EINVAL);
}

/* ---- hex and SHA-256 ---- */

static void test_hex(void)
{
    const uint8_t bin[] = {0x00, 0xab, 0xff, 0x10};
    char hex[9];
    cs_hex_encode(bin, 4, hex);
    CHECK_STR(hex, "00abff10");
    cs_hex_encode(bin, 0, hex);
    CHECK_STR(hex, "");
    uint8_t out[4] = {9, 9, 9, 9};
    CHECK_EQ_INT(cs_hex_decode("00ABff10", out, 4), 0);
    CHECK(memcmp(out, bin, 4) == 0);
    CHECK_EQ_INT(cs_hex_decode("", out, 0), 0);
    static const struct {
        const char *hex;
        size_t len;
    } bad[] = {
        {"0", 1},  {"000", 1}, {"", 1},   {"00", 0}, {"00abff1", 4}, {"00abff100", 4},
        {"zz", 1}, {"0g", 1},  {" 0", 1}, {"0 ", 1}, {"-1", 1},      {"0x", 1},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        CHECK(cs_hex_decode(bad[i].hex, out, bad[i].len) != 0);
    CHECK(cs_hex_decode(NULL, out, 1) != 0);
}

static void sha_hex(const void *data, size_t len, char out[CS_SHA256_HEX])
{
    uint8_t h[CS_SHA256_LEN];
    cs_sha256_buf(data, len, h);
    cs_hex_encode(h, sizeof h, out);
}

static void test_sha256(void)
{
    char hex[CS_SHA256_HEX];
    sha_hex("abc", 3, hex);
    CHECK_STR(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    sha_hex("", 0, hex);
    CHECK_STR(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    const char *two = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    sha_hex(two, strlen(two), hex);
    CHECK_STR(hex, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");

    /* Streaming in uneven pieces equals one-shot; final resets the state. */
    size_t n = 100000;
    uint8_t *data = malloc(n);
    REQUIRE(data != NULL);
    for (size_t i = 0; i < n; i++)
        data[i] = (uint8_t)(i * 31 + (i >> 8));
    uint8_t one[32], streamed[32], again[32];
    cs_sha256_buf(data, n, one);
    cs_sha256 *h = NULL;
    REQUIRE(cs_sha256_new(&h) == 0);
    size_t pos = 0, step = 1;
    while (pos < n) {
        size_t k = step < n - pos ? step : n - pos;
        cs_sha256_update(h, data + pos, k);
        pos += k;
        step = step * 3 + 1;
        if (step > 7000)
            step = 0;
    }
    cs_sha256_final(h, streamed);
    CHECK(memcmp(one, streamed, 32) == 0);
    cs_sha256_update(h, "abc", 3);
    cs_sha256_final(h, again);
    cs_hex_encode(again, 32, hex);
    CHECK_STR(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    cs_sha256_final(h, again); /* empty after reset */
    cs_hex_encode(again, 32, hex);
    CHECK_STR(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    cs_sha256_free(h);
    cs_sha256_free(NULL);
    free(data);

    uint8_t r1[32] = {0}, r2[32] = {0};
    CHECK_EQ_INT(cs_random(r1, sizeof r1, NULL), 0);
    CHECK_EQ_INT(cs_random(r2, sizeof r2, NULL), 0);
    CHECK(memcmp(r1, r2, 32) != 0);
    uint8_t w[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    cs_wipe(w, sizeof w);
    for (int i = 0; i < 8; i++)
        CHECK_EQ_INT(w[i], 0);
}

/* ---- keys and signatures ---- */

static void test_keys(void)
{
    cs_key *k = NULL, *priv = NULL, *pub = NULL, *other = NULL;
    cs_err err = {0};
    char pem_priv[2048], pem_pub[1024];
    char id0[CS_KEYID_HEX], id1[CS_KEYID_HEX], id2[CS_KEYID_HEX], id3[CS_KEYID_HEX];
    REQUIRE(cs_key_generate(&k, &err) == 0);
    CHECK(cs_key_is_private(k));
    CHECK(!cs_key_is_private(NULL));
    REQUIRE(cs_key_write_private_pem(k, pem_priv, sizeof pem_priv, &err) == 0);
    REQUIRE(cs_key_write_public_pem(k, pem_pub, sizeof pem_pub, &err) == 0);
    CHECK(strstr(pem_priv, "PRIVATE KEY-----") != NULL);
    CHECK(strstr(pem_pub, "-----BEGIN PUBLIC KEY-----") != NULL);
    REQUIRE(cs_key_parse_private(&priv, pem_priv, strlen(pem_priv), &err) == 0);
    REQUIRE(cs_key_parse_public(&pub, pem_pub, strlen(pem_pub), &err) == 0);
    CHECK(cs_key_is_private(priv));
    CHECK(!cs_key_is_private(pub));
    CHECK_EQ_INT(cs_key_id(k, id0, &err), 0);
    CHECK_EQ_INT(cs_key_id(priv, id1, &err), 0);
    CHECK_EQ_INT(cs_key_id(pub, id2, &err), 0);
    CHECK_EQ_INT(strlen(id0), 64);
    CHECK_EQ_INT(strspn(id0, "0123456789abcdef"), 64);
    CHECK_STR(id1, id0);
    CHECK_STR(id2, id0);

    /* Private key from a file. */
    char path[600];
    tmp_path(path, sizeof path, "root.key");
    REQUIRE(cs_file_write_atomic(path, pem_priv, strlen(pem_priv), 0600, &err) == 0);
    cs_key *loaded = NULL;
    CHECK_EQ_INT(cs_key_load_private(&loaded, path, &err), 0);
    if (loaded) {
        CHECK_EQ_INT(cs_key_id(loaded, id3, &err), 0);
        CHECK_STR(id3, id0);
    }
    cs_key_free(loaded);
    unlink(path);

    const char msg[] = "the signed part of some metadata";
    uint8_t sig[CS_SIG_MAX];
    size_t sig_len = 0;
    REQUIRE(cs_key_sign(k, msg, sizeof msg - 1, sig, &sig_len, &err) == 0);
    CHECK(sig_len > 0 && sig_len <= 72);
    CHECK_EQ_INT(cs_key_verify(pub, msg, sizeof msg - 1, sig, sig_len, &err), 0);
    CHECK_EQ_INT(cs_key_verify(k, msg, sizeof msg - 1, sig, sig_len, &err), 0);
    CHECK_EQ_INT(cs_key_verify(priv, msg, sizeof msg - 1, sig, sig_len, &err), 0);

    /* Flip every byte of the message, one at a time. */
    char m2[sizeof msg];
    int flipped_ok = 0;
    for (size_t i = 0; i < sizeof msg - 1; i++) {
        memcpy(m2, msg, sizeof msg);
        m2[i] ^= 0x01;
        if (cs_key_verify(pub, m2, sizeof msg - 1, sig, sig_len, NULL) != CS_ESIG)
            flipped_ok++;
    }
    CHECK_EQ_INT(flipped_ok, 0);
    CHECK_EQ_INT(cs_key_verify(pub, msg, sizeof msg - 2, sig, sig_len, &err), CS_ESIG);

    /* Flip every byte of the signature, one at a time. */
    int sig_ok = 0;
    for (size_t i = 0; i < sig_len; i++) {
        uint8_t s2[CS_SIG_MAX];
        memcpy(s2, sig, sig_len);
        s2[i] ^= 0x80;
        if (cs_key_verify(pub, msg, sizeof msg - 1, s2, sig_len, NULL) != CS_ESIG)
            sig_ok++;
    }
    CHECK_EQ_INT(sig_ok, 0);
    CHECK_EQ_INT(cs_key_verify(pub, msg, sizeof msg - 1, sig, sig_len - 1, &err), CS_ESIG);
    CHECK_EQ_INT(cs_key_verify(pub, msg, sizeof msg - 1, sig, 0, &err), CS_ESIG);
    CHECK_EQ_INT(cs_key_verify(pub, msg, sizeof msg - 1, sig, CS_SIG_MAX + 1, &err), CS_ESIG);
    CHECK_EQ_INT(err.code, CS_ESIG);

    /* Another key. */
    REQUIRE(cs_key_generate(&other, &err) == 0);
    CHECK_EQ_INT(cs_key_id(other, id3, &err), 0);
    CHECK(strcmp(id3, id0) != 0);
    CHECK_EQ_INT(cs_key_verify(other, msg, sizeof msg - 1, sig, sig_len, &err), CS_ESIG);
    uint8_t sig2[CS_SIG_MAX];
    size_t sig2_len = 0;
    REQUIRE(cs_key_sign(other, msg, sizeof msg - 1, sig2, &sig2_len, &err) == 0);
    CHECK_EQ_INT(cs_key_verify(pub, msg, sizeof msg - 1, sig2, sig2_len, &err), CS_ESIG);
    CHECK_EQ_INT(cs_key_verify(other, msg, sizeof msg - 1, sig2, sig2_len, &err), 0);

    /* A public key cannot sign nor be written as a private key. */
    sig_len = 0;
    CHECK_EQ_INT(cs_key_sign(pub, msg, sizeof msg - 1, sig, &sig_len, &err), CS_EINVAL);
    CHECK_EQ_INT(sig_len, 0);
    CHECK_EQ_INT(cs_key_write_private_pem(pub, pem_priv, sizeof pem_priv, &err), CS_EINVAL);
    /* Too small a buffer. */
    char tiny[16];
    CHECK(cs_key_write_public_pem(pub, tiny, sizeof tiny, &err) != 0);

    /* Garbage and mixed-up PEMs. */
    cs_key *x = NULL;
    CHECK_EQ_INT(cs_key_parse_public(&x, "not a key", 9, &err), CS_ECRYPTO);
    CHECK_EQ_INT(cs_key_parse_private(&x, "not a key", 9, &err), CS_ECRYPTO);
    CHECK_EQ_INT(cs_key_parse_private(&x, pem_pub, strlen(pem_pub), &err), CS_ECRYPTO);
    CHECK_EQ_INT(cs_key_parse_public(&x, "", 0, &err), CS_ECRYPTO);
    char broken[1024];
    snprintf(broken, sizeof broken, "%s", pem_pub);
    broken[40] = broken[40] == 'A' ? 'B' : 'A';
    broken[41] = broken[41] == 'A' ? 'B' : 'A';
    if (cs_key_parse_public(&x, broken, strlen(broken), &err) == 0) {
        /* Still parses as some key: it must at least be a different one. */
        CHECK_EQ_INT(cs_key_id(x, id3, &err), 0);
        CHECK(strcmp(id3, id0) != 0);
        cs_key_free(x);
    }
    x = NULL;
    CHECK(cs_key_parse_public(&x, pem_pub, 60, &err) != 0); /* truncated */
    CHECK(x == NULL);

    cs_key_free(k);
    cs_key_free(priv);
    cs_key_free(pub);
    cs_key_free(other);
    cs_key_free(NULL);
}

/* ---- time ---- */

static void test_time(void)
{
    char buf[32];
    cs_time_format(0, buf, sizeof buf);
    CHECK_STR(buf, "1970-01-01T00:00:00Z");
    cs_time_format(1795374600, buf, sizeof buf);
    CHECK_STR(buf, "2026-11-22T19:10:00Z");
    int64_t t = 0;
    CHECK_EQ_INT(cs_time_parse("2026-11-22T19:10:00Z", &t), 0);
    CHECK_EQ_INT(t, 1795374600);

    static const int64_t samples[] = {0,          1,          951782400,  951868799,
                                      1709208000, 1795374600, 4102444799, 253402300799};
    for (size_t i = 0; i < sizeof samples / sizeof samples[0]; i++) {
        cs_time_format(samples[i], buf, sizeof buf);
        t = -1;
        CHECK_EQ_INT(cs_time_parse(buf, &t), 0);
        CHECK_EQ_INT(t, samples[i]);
    }
    static const char *const stamps[] = {"2024-02-29T12:34:56Z", "2000-02-29T00:00:00Z",
                                         "1999-12-31T23:59:59Z", "2038-01-19T03:14:08Z"};
    for (size_t i = 0; i < sizeof stamps / sizeof stamps[0]; i++) {
        CHECK_EQ_INT(cs_time_parse(stamps[i], &t), 0);
        cs_time_format(t, buf, sizeof buf);
        CHECK_STR(buf, stamps[i]);
    }

    /* Too small a buffer gives an empty string, not an overflow. */
    char small[8] = "xxxxxxx";
    cs_time_format(0, small, sizeof small);
    CHECK_STR(small, "");

    static const char *const bad[] = {
        "",
        "2026-11-22T19:10:00",
        "2026-11-22T19:10:00ZZ",
        "2026-11-22 19:10:00Z",
        "2026-11-22t19:10:00Z",
        "2026-11-22T19:10:00z",
        "2026/11/22T19:10:00Z",
        "2026-11-22T19.10.00Z",
        "2026-13-01T00:00:00Z",
        "2026-00-01T00:00:00Z",
        "2026-11-00T00:00:00Z",
        "2026-11-32T00:00:00Z",
        "2026-11-22T24:00:00Z",
        "2026-11-22T19:60:00Z",
        "2026-11-22T19:10:61Z",
        "+026-11-22T19:10:00Z",
        "2026-1-22T19:10:00Z ",
        " 2026-11-22T19:10:00Z",
        "2026-11-22T19:10:00+00:00",
        "20261122T191000Z",
        "2026-11-22T19:10:0xZ",
        "2026-11-22T-9:10:00Z",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        t = 4242;
        int rc = cs_time_parse(bad[i], &t);
        if (rc == 0)
            fprintf(stderr, "cs_time_parse accepted \"%s\"\n", bad[i]);
        CHECK(rc != 0);
        CHECK_EQ_INT(t, 4242);
    }
    CHECK(cs_time_parse(NULL, &t) != 0);

    int64_t a = cs_time_mono_ms(), b = cs_time_mono_ms();
    CHECK(b >= a);
}

/* Dates that do not exist are malformed stamps too: a parser that accepts
 * them silently moves "expires" to another day (and parse/format no longer
 * round-trips). */
static void test_time_impossible_dates(void)
{
    static const char *const bad[] = {
        "2026-02-29T00:00:00Z", /* not a leap year */
        "2026-02-30T00:00:00Z", "2026-02-31T00:00:00Z",
        "2026-04-31T00:00:00Z", "1900-02-29T00:00:00Z",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int64_t t = 4242;
        int rc = cs_time_parse(bad[i], &t);
        if (rc == 0) {
            char back[32];
            cs_time_format(t, back, sizeof back);
            fprintf(stderr, "cs_time_parse accepted impossible date \"%s\" (as %s)\n", bad[i],
                    back);
        }
        CHECK(rc != 0);
    }
}

static void test_fake_now(void)
{
    int64_t real = (int64_t)time(NULL);
    unsetenv("CISTERN_FAKE_NOW");
    int64_t n = cs_time_now();
    CHECK(n >= real && n <= real + 5);
    setenv("CISTERN_FAKE_NOW", "1234567890", 1);
    CHECK_EQ_INT(cs_time_now(), 1234567890);
    setenv("CISTERN_FAKE_NOW", "0", 1);
    CHECK_EQ_INT(cs_time_now(), 0);
    setenv("CISTERN_FAKE_NOW", "4102444800", 1);
    CHECK_EQ_INT(cs_time_now(), 4102444800);
    /* Malformed or empty values are ignored. */
    setenv("CISTERN_FAKE_NOW", "12abc", 1);
    n = cs_time_now();
    CHECK(n >= real && n <= real + 5);
    setenv("CISTERN_FAKE_NOW", "", 1);
    n = cs_time_now();
    CHECK(n >= real && n <= real + 5);
    unsetenv("CISTERN_FAKE_NOW");
    n = cs_time_now();
    CHECK(n >= real && n <= real + 5);
}

static void test_kdf_mac_aead(void)
{
    uint8_t out[64], mac[32];
    char hex[129];
    /* RFC 7914 section 11 */
    CHECK(cs_pbkdf2_sha256("passwd", 6, (const uint8_t *)"salt", 4, 1, out, 64, NULL) == 0);
    cs_hex_encode(out, 64, hex);
    CHECK_STR(hex, "55ac046e56e3089fec1691c22544b605f94185216dde0465e68b9d57c20dacbc"
                   "49ca9cccf179b645991664b39d77ef317c71b845b1e30bd509112041d3a19783");
    /* RFC 4231 test case 2 */
    cs_hmac_sha256("Jefe", 4, "what do ya want for nothing?", 28, mac);
    cs_hex_encode(mac, 32, hex);
    CHECK_STR(hex, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");

    uint8_t key[32], box[64 + CS_AEAD_OVERHEAD], back[64], box2[sizeof box];
    memset(key, 7, sizeof key);
    const char *msg = "Li Xiaoming";
    size_t n = strlen(msg);
    CHECK(cs_aead_seal(key, "name", 4, msg, n, box, NULL) == 0);
    CHECK(memmem(box, n + CS_AEAD_OVERHEAD, "Xiaoming", 8) == NULL);
    CHECK(cs_aead_open(key, "name", 4, box, n + CS_AEAD_OVERHEAD, back, NULL) == 0);
    CHECK(memcmp(back, msg, n) == 0);
    CHECK(cs_aead_seal(key, "name", 4, msg, n, box2, NULL) == 0);
    CHECK(memcmp(box, box2, n + CS_AEAD_OVERHEAD) != 0); /* fresh nonce each time */
    CHECK(cs_aead_open(key, "other", 5, box, n + CS_AEAD_OVERHEAD, back, NULL) == CS_ECRYPTO);
    box[14] ^= 1;
    CHECK(cs_aead_open(key, "name", 4, box, n + CS_AEAD_OVERHEAD, back, NULL) == CS_ECRYPTO);
    box[14] ^= 1;
    key[0] ^= 1;
    CHECK(cs_aead_open(key, "name", 4, box, n + CS_AEAD_OVERHEAD, back, NULL) == CS_ECRYPTO);
    CHECK(cs_aead_open(key, "name", 4, box, 10, back, NULL) == CS_ECRYPTO);
}

/* ---- logging ---- */

/* Everything written to f so far, NUL-terminated, and f emptied. */
static void log_take(FILE *f, char *buf, size_t cap)
{
    fflush(f);
    long n = ftell(f);
    rewind(f);
    size_t got = n > 0 ? fread(buf, 1, cap - 1, f) : 0;
    buf[got] = 0;
    rewind(f);
    if (ftruncate(fileno(f), 0) != 0)
        buf[0] = 0;
}

static void test_log(void)
{
    static char buf[8192];
    FILE *f = tmpfile();
    REQUIRE(f != NULL);
    cs_logger lg;
    cs_logger_init(&lg, CS_LOG_WARN);
    lg.out = f;

    /* At warn: error and warn pass, info and debug are dropped. */
    cs_log_error(&lg, "disk %s", "full");
    cs_log_warn(&lg, "retry %d of %d", 2, 5);
    cs_log_info(&lg, "not shown");
    cs_log_debug(&lg, "not shown either");
    log_take(f, buf, sizeof buf);
    CHECK_STR(buf, "error: disk full\nwarn: retry 2 of 5\n");

    /* Raised to debug at run time (a daemon's SIGHUP): everything passes. */
    cs_logger_set_level(&lg, CS_LOG_DEBUG);
    cs_log_info(&lg, "listening on %s port %u", "127.0.0.1", 8080u);
    cs_log_debug(&lg, "x=%d", 7);
    log_take(f, buf, sizeof buf);
    CHECK_STR(buf, "info: listening on 127.0.0.1 port 8080\ndebug: x=7\n");

    /* Lowered to error: only errors. */
    cs_logger_set_level(&lg, CS_LOG_ERROR);
    cs_log_warn(&lg, "dropped");
    cs_log_error(&lg, "kept");
    log_take(f, buf, sizeof buf);
    CHECK_STR(buf, "error: kept\n");

    /* A level outside the table is named "error", not read past it. */
    cs_log(&lg, -3, "odd level");
    log_take(f, buf, sizeof buf);
    CHECK_STR(buf, "error: odd level\n");

    /* Time stamps: ISO-8601 UTC, then a space, then the level. */
    cs_logger_set_level(&lg, CS_LOG_INFO);
    lg.stamp = 1;
    setenv("CISTERN_FAKE_NOW", "1700000000", 1);
    cs_log_info(&lg, "stamped");
    unsetenv("CISTERN_FAKE_NOW");
    log_take(f, buf, sizeof buf);
    CHECK_STR(buf, "2023-11-14T22:13:20Z info: stamped\n");
    lg.stamp = 0;

    /* A long message is cut to one line of the logger's buffer, still
     * ending in a newline: one write, nothing interleaved. */
    char *big = malloc(5000);
    REQUIRE(big != NULL);
    memset(big, 'x', 4999);
    big[4999] = 0;
    cs_log_error(&lg, "%s", big);
    free(big);
    log_take(f, buf, sizeof buf);
    size_t n = strlen(buf);
    CHECK(n > 1000 && n <= 2048);
    CHECK(strncmp(buf, "error: xxx", 10) == 0);
    CHECK(n > 0 && buf[n - 1] == '\n' && strchr(buf, '\n') == buf + n - 1);

    /* Level names. */
    CHECK_EQ_INT(cs_log_level_parse("error"), CS_LOG_ERROR);
    CHECK_EQ_INT(cs_log_level_parse("warn"), CS_LOG_WARN);
    CHECK_EQ_INT(cs_log_level_parse("info"), CS_LOG_INFO);
    CHECK_EQ_INT(cs_log_level_parse("debug"), CS_LOG_DEBUG);
    CHECK_EQ_INT(cs_log_level_parse("warning"), -1);
    CHECK_EQ_INT(cs_log_level_parse("INFO"), -1);
    CHECK_EQ_INT(cs_log_level_parse(""), -1);
    CHECK_EQ_INT(cs_log_level_parse(NULL), -1);
    fclose(f);
}

int main(void)
{
    tmp_init();
    RUN(test_err_names);
    RUN(test_err_set_wrap);
    RUN(test_buf_caps);
    RUN(test_parse_size);
    RUN(test_conf_parse);
    RUN(test_conf_errors);
    RUN(test_conf_save_load);
    RUN(test_atomic_write);
    RUN(test_read_all);
    RUN(test_hex);
    RUN(test_sha256);
    RUN(test_keys);
    RUN(test_time);
    RUN(test_time_impossible_dates);
    RUN(test_fake_now);
    RUN(test_kdf_mac_aead);
    RUN(test_log);
    tmp_cleanup();
    return TEST_SUMMARY();
}
