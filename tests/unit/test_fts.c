/*
 * test_fts.c - the "cistern" FTS5 tokenizer: tokens in document and query
 * mode, and matching through a real FTS5 table.
 */
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#include "content/catalog.h"
#include "test.h"

/* Tokens rendered as "a|b|+c" ('+' marks a colocated token). */
typedef struct toks {
    char s[8192];
    size_t n;
    int count;
} toks;

static void collect(void *ctx, const char *tok, int len, int colocated)
{
    toks *t = ctx;
    if (t->n + (size_t)len + 3 >= sizeof t->s)
        return;
    if (t->count++)
        t->s[t->n++] = '|';
    if (colocated)
        t->s[t->n++] = '+';
    memcpy(t->s + t->n, tok, (size_t)len);
    t->n += (size_t)len;
    t->s[t->n] = '\0';
}

static const char *tokens(toks *t, const char *text, int query)
{
    memset(t, 0, sizeof *t);
    int rc = content_fts_tokenize(text, -1, query, collect, t);
    CHECK_EQ_INT(rc, 0);
    return t->s;
}

static void test_cjk_document(void)
{
    toks t;
    CHECK_STR(tokens(&t, "初中数学", 0), "初|+初中|中|+中数|数|+数学|学");
    CHECK_STR(tokens(&t, "数", 0), "数");
    CHECK_STR(tokens(&t, "数学课", 0), "数|+数学|学|+学课|课");
    /* Kana and Hangul are CJK runs too. */
    CHECK_STR(tokens(&t, "ひらがな", 0), "ひ|+ひら|ら|+らが|が|+がな|な");
    CHECK_STR(tokens(&t, "한국어", 0), "한|+한국|국|+국어|어");
    /* CJK punctuation splits runs. */
    CHECK_STR(tokens(&t, "数学，语文", 0), "数|+数学|学|语|+语文|文");
}

static void test_cjk_query(void)
{
    toks t;
    CHECK_STR(tokens(&t, "初中数学", 1), "初中|中数|数学");
    CHECK_STR(tokens(&t, "数", 1), "数");
    CHECK_STR(tokens(&t, "数学", 1), "数学");
    CHECK_STR(tokens(&t, "数学课", 1), "数学|学课");
    /* a run followed by more tokens keeps positions aligned */
    CHECK_STR(tokens(&t, "数学abc", 1), "数学|学|abc");
    CHECK_STR(tokens(&t, "abc数学", 1), "abc|数学");
}

static void test_mixed_and_folding(void)
{
    toks t;
    CHECK_STR(tokens(&t, "Hello 数学 Café", 0), "hello|数|+数学|学|cafe");
    CHECK_STR(tokens(&t, "grade7数学", 0), "grade7|数|+数学|学");
    CHECK_STR(tokens(&t, "ÉCOLE Naïve façade", 0), "ecole|naive|facade");
    CHECK_STR(tokens(&t, "Photosynthesis, light-dependent", 1), "photosynthesis|light|dependent");
    CHECK_STR(tokens(&t, "!!! ,,, ", 0), "");
    CHECK_STR(tokens(&t, "", 1), "");
    /* invalid UTF-8 does not crash and does not start CJK runs */
    tokens(&t, "a\xff\xfe\xe6\x95", 0);
    CHECK(t.count >= 1);
}

static void test_long_run(void)
{
    /* 300 Han characters: 300 unigrams + 299 bigrams in documents, 299
     * bigrams in queries, also across the internal 256-character cut. */
    char text[300 * 3 + 1];
    toks t;
    for (int i = 0; i < 300; i++)
        memcpy(text + 3 * i, i % 2 ? "学" : "数", 3);
    text[900] = '\0';
    memset(&t, 0, sizeof t);
    CHECK_EQ_INT(content_fts_tokenize(text, -1, 0, collect, &t), 0);
    CHECK_EQ_INT(t.count, 599);
    memset(&t, 0, sizeof t);
    CHECK_EQ_INT(content_fts_tokenize(text, -1, 1, collect, &t), 0);
    CHECK_EQ_INT(t.count, 299);
}

static int count_matches(sqlite3 *db, const char *match)
{
    sqlite3_stmt *st = NULL;
    int n = 0;
    if (sqlite3_prepare_v2(db, "SELECT count(*) FROM t WHERE t MATCH ?1", -1, &st, NULL) != 0)
        return -1;
    sqlite3_bind_text(st, 1, match, -1, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_ROW)
        n = sqlite3_column_int(st, 0);
    else
        n = -1;
    sqlite3_finalize(st);
    return n;
}

static void test_in_fts5(void)
{
    sqlite3 *db = NULL;
    cs_err err = {0};
    REQUIRE(sqlite3_open(":memory:", &db) == SQLITE_OK);
    REQUIRE(content_fts_register(db, &err) == 0);
    REQUIRE(sqlite3_exec(db,
                         "CREATE VIRTUAL TABLE t USING fts5(x, tokenize='cistern', prefix='2 3');"
                         "INSERT INTO t VALUES('初中数学课程');"
                         "INSERT INTO t VALUES('数字与学习');"
                         "INSERT INTO t VALUES('Photosynthesis 数学abc');",
                         NULL, NULL, NULL) == SQLITE_OK);
    CHECK_EQ_INT(count_matches(db, "\"数\""), 3);
    CHECK_EQ_INT(count_matches(db, "\"数学\""), 2);
    CHECK_EQ_INT(count_matches(db, "\"数学课\""), 1);
    CHECK_EQ_INT(count_matches(db, "\"初中数学课程\""), 1);
    CHECK_EQ_INT(count_matches(db, "\"学习\""), 1);
    CHECK_EQ_INT(count_matches(db, "\"数学abc\""), 1);
    CHECK_EQ_INT(count_matches(db, "\"学abc\""), 1);
    CHECK_EQ_INT(count_matches(db, "\"数abc\""), 0);
    CHECK_EQ_INT(count_matches(db, "\"photo\"*"), 1);
    CHECK_EQ_INT(count_matches(db, "\"PHOTOSYNTHESIS\""), 1);
    CHECK_EQ_INT(count_matches(db, "\"课程表\""), 0);
    sqlite3_close(db);
}

int main(void)
{
    RUN(test_cjk_document);
    RUN(test_cjk_query);
    RUN(test_mixed_and_folding);
    RUN(test_long_run);
    RUN(test_in_fts5);
    return TEST_SUMMARY();
}
