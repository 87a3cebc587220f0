/*
 * fts.c - the "cistern" FTS5 tokenizer (see docs/catalogue.md).
 *
 * The text is cut into runs.  Runs of CJK characters (Han, Kana, Hangul) are
 * tokenized here: in documents every character is a token and the bigram it
 * starts is a second token colocated at the same position; in queries a run
 * of one character is that character and a longer run is its overlapping
 * bigrams, which FTS5 matches as a phrase at consecutive positions.  Every
 * other run goes to the built-in unicode61 tokenizer ("remove_diacritics 2")
 * and its tokens are forwarded with offsets shifted back into the whole text.
 *
 * One subtlety in queries: a run of k >= 2 characters covers k positions in
 * the document but only k-1 bigrams in the query, so when more tokens follow
 * the run in the same query string ("数学abc") its last character is emitted
 * as a unigram first, keeping the phrase aligned.  At the end of the string
 * nothing is added, so "数学课" is exactly "数学" "学课".
 */
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#include "content/catalog.h"
#include "fts_int.h"

typedef struct cs_fts_tok {
    fts5_tokenizer u61;   /* unicode61's methods */
    Fts5Tokenizer *inner; /* unicode61 instance */
} cs_fts_tok;

/* Decode one UTF-8 character at s[0..n); returns its length (1..4) and the
 * code point in *cp, or 1 with *cp = -1 for an invalid or truncated byte. */
static int utf8_next(const unsigned char *s, int n, long *cp)
{
    unsigned c = s[0];
    int len;
    long v, min;
    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    if ((c & 0xE0) == 0xC0) {
        len = 2;
        v = c & 0x1F;
        min = 0x80;
    } else if ((c & 0xF0) == 0xE0) {
        len = 3;
        v = c & 0x0F;
        min = 0x800;
    } else if ((c & 0xF8) == 0xF0) {
        len = 4;
        v = c & 0x07;
        min = 0x10000;
    } else {
        *cp = -1;
        return 1;
    }
    if (len > n) {
        *cp = -1;
        return 1;
    }
    for (int i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80) {
            *cp = -1;
            return 1;
        }
        v = (v << 6) | (s[i] & 0x3F);
    }
    if (v < min || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF)) {
        *cp = -1;
        return 1;
    }
    *cp = v;
    return len;
}

static int is_cjk(long cp)
{
    return (cp >= 0x3400 && cp <= 0x4DBF) || (cp >= 0x4E00 && cp <= 0x9FFF) ||
           (cp >= 0xF900 && cp <= 0xFAFF) || (cp >= 0x20000 && cp <= 0x2FFFF) ||
           (cp >= 0x3040 && cp <= 0x30FF) || (cp >= 0xAC00 && cp <= 0xD7AF);
}

/* State shared by one xTokenize call. */
struct tok_run {
    void *ctx;
    int (*xToken)(void *, int, const char *, int, int, int);
    const char *text;
    int shift;      /* offset of the current unicode61 segment in text */
    int pend_start; /* query mode: a unigram to emit before the next token */
    int pend_end;   /* (pend_end > pend_start when pending) */
    int any;        /* a token has been emitted */
};

static int flush_pending(struct tok_run *t)
{
    int rc = SQLITE_OK;
    if (t->pend_end > t->pend_start) {
        rc = t->xToken(t->ctx, 0, t->text + t->pend_start, t->pend_end - t->pend_start,
                       t->pend_start, t->pend_end);
        t->pend_start = t->pend_end = 0;
        t->any = 1;
    }
    return rc;
}

static int forward_token(void *p, int tflags, const char *tok, int ntok, int start, int end)
{
    struct tok_run *t = p;
    int rc = flush_pending(t);
    if (rc != SQLITE_OK)
        return rc;
    if (!t->any)
        tflags &= ~FTS5_TOKEN_COLOCATED;
    t->any = 1;
    return t->xToken(t->ctx, tflags, tok, ntok, start + t->shift, end + t->shift);
}

/* A CJK run: characters start at off[0..n), the run ends at off[n].  When
 * more is set the run was cut at CJK_RUN_MAX and goes on: off[n+1] is the end
 * of the next character, so the bigram across the cut is not lost. */
static int cjk_run(struct tok_run *t, const int *off, int n, int more, int query)
{
    int rc = SQLITE_OK;
    int nbi = more ? n : n - 1; /* bigrams starting in this run */
    if (query) {
        rc = flush_pending(t);
        if (n == 1 && !more) {
            if (rc == SQLITE_OK)
                rc = t->xToken(t->ctx, 0, t->text + off[0], off[1] - off[0], off[0], off[1]);
        } else {
            for (int i = 0; rc == SQLITE_OK && i < nbi; i++)
                rc =
                    t->xToken(t->ctx, 0, t->text + off[i], off[i + 2] - off[i], off[i], off[i + 2]);
            if (!more) {
                t->pend_start = off[n - 1];
                t->pend_end = off[n];
            }
        }
        t->any = 1;
        return rc;
    }
    for (int i = 0; rc == SQLITE_OK && i < n; i++) {
        rc = t->xToken(t->ctx, 0, t->text + off[i], off[i + 1] - off[i], off[i], off[i + 1]);
        if (rc == SQLITE_OK && i < nbi)
            rc = t->xToken(t->ctx, FTS5_TOKEN_COLOCATED, t->text + off[i], off[i + 2] - off[i],
                           off[i], off[i + 2]);
    }
    t->any = 1;
    return rc;
}

/* Longest CJK run handled at once; longer runs are cut in pieces. */
#define CJK_RUN_MAX 256

static int cs_tokenize(Fts5Tokenizer *p, void *ctx, int flags, const char *text, int n,
                       int (*xToken)(void *, int, const char *, int, int, int))
{
    cs_fts_tok *tk = (cs_fts_tok *)p;
    const unsigned char *s = (const unsigned char *)text;
    int query = (flags & FTS5_TOKENIZE_QUERY) != 0;
    struct tok_run t = {ctx, xToken, text, 0, 0, 0, 0};
    int off[CJK_RUN_MAX + 2];
    int rc = SQLITE_OK;
    int i = 0, seg = 0; /* seg: start of the pending non-CJK segment */

    if (n < 0)
        n = text ? (int)strlen(text) : 0;
    while (rc == SQLITE_OK && i < n) {
        long cp;
        int len = utf8_next(s + i, n - i, &cp);
        if (!is_cjk(cp)) {
            i += len;
            continue;
        }
        if (i > seg) {
            t.shift = seg;
            rc = tk->u61.xTokenize(tk->inner, &t, flags, text + seg, i - seg, forward_token);
            if (rc != SQLITE_OK)
                break;
        }
        int k = 0;
        while (i < n && k < CJK_RUN_MAX) {
            len = utf8_next(s + i, n - i, &cp);
            if (!is_cjk(cp))
                break;
            off[k++] = i;
            i += len;
        }
        off[k] = i;
        int more = 0;
        if (i < n && k == CJK_RUN_MAX) {
            len = utf8_next(s + i, n - i, &cp);
            if (is_cjk(cp)) {
                more = 1;
                off[k + 1] = i + len;
            }
        }
        rc = cjk_run(&t, off, k, more, query);
        seg = i;
    }
    if (rc == SQLITE_OK && n > seg) {
        t.shift = seg;
        rc = tk->u61.xTokenize(tk->inner, &t, flags, text + seg, n - seg, forward_token);
    }
    return rc;
}

static int cs_create(void *user, const char **argv, int argc, Fts5Tokenizer **out)
{
    fts5_api *api = user;
    static const char *const defaults[] = {"remove_diacritics", "2"};
    void *u61_user = NULL;
    cs_fts_tok *tk = calloc(1, sizeof *tk);
    int rc;

    if (!tk)
        return SQLITE_NOMEM;
    rc = api->xFindTokenizer(api, "unicode61", &u61_user, &tk->u61);
    if (rc == SQLITE_OK) {
        /* Arguments given to "cistern" go to unicode61; none = the defaults. */
        if (argc == 0) {
            argv = (const char **)defaults;
            argc = 2;
        }
        rc = tk->u61.xCreate(u61_user, argv, argc, &tk->inner);
    }
    if (rc != SQLITE_OK) {
        free(tk);
        return rc;
    }
    *out = (Fts5Tokenizer *)tk;
    return SQLITE_OK;
}

static void cs_delete(Fts5Tokenizer *p)
{
    cs_fts_tok *tk = (cs_fts_tok *)p;
    if (!tk)
        return;
    if (tk->inner)
        tk->u61.xDelete(tk->inner);
    free(tk);
}

int content_fts5_api(sqlite3 *db, fts5_api **out)
{
    fts5_api *api = NULL;
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db, "SELECT fts5(?1)", -1, &st, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_bind_pointer(st, 1, (void *)&api, "fts5_api_ptr", NULL);
        sqlite3_step(st);
        rc = sqlite3_finalize(st);
    }
    if (rc == SQLITE_OK && !api)
        rc = SQLITE_ERROR;
    if (rc == SQLITE_OK)
        *out = api;
    return rc;
}

int content_fts_register(struct sqlite3 *db, cs_err *err)
{
    static const fts5_tokenizer methods = {cs_create, cs_delete, cs_tokenize};
    fts5_api *api = NULL;
    int rc = content_fts5_api(db, &api);
    if (rc != SQLITE_OK)
        return cs_err_set(err, CS_EDB, "fts5 is not available: %s", sqlite3_errmsg(db));
    /* The api pointer lives as long as the connection, as does the tokenizer. */
    rc = api->xCreateTokenizer(api, "cistern", api, (fts5_tokenizer *)&methods, NULL);
    if (rc != SQLITE_OK)
        return cs_err_set(err, CS_EDB, "cannot register the cistern tokenizer: %s",
                          sqlite3_errstr(rc));
    return 0;
}

struct cb_adapter {
    content_token_cb cb;
    void *ctx;
};

static int adapt_token(void *p, int tflags, const char *tok, int ntok, int start, int end)
{
    struct cb_adapter *a = p;
    a->cb(a->ctx, tok, ntok, (tflags & FTS5_TOKEN_COLOCATED) != 0);
    return SQLITE_OK;
}

int content_fts_tokenize(const char *text, int len, int query, content_token_cb cb, void *ctx)
{
    sqlite3 *db = NULL;
    fts5_api *api = NULL;
    fts5_tokenizer methods;
    void *user = NULL;
    Fts5Tokenizer *tok = NULL;
    struct cb_adapter a = {cb, ctx};
    int ret = CS_EDB;

    if (!text || !cb)
        return CS_EINVAL;
    if (sqlite3_open_v2(":memory:", &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_MEMORY, NULL) !=
        SQLITE_OK)
        goto out;
    if (content_fts_register(db, NULL) != 0 || content_fts5_api(db, &api) != SQLITE_OK)
        goto out;
    if (api->xFindTokenizer(api, "cistern", &user, &methods) != SQLITE_OK)
        goto out;
    if (methods.xCreate(user, NULL, 0, &tok) != SQLITE_OK)
        goto out;
    if (len < 0)
        len = (int)strlen(text);
    if (methods.xTokenize(tok, &a, query ? FTS5_TOKENIZE_QUERY : FTS5_TOKENIZE_DOCUMENT, text, len,
                          adapt_token) != SQLITE_OK)
        goto out;
    ret = 0;
out:
    if (tok)
        methods.xDelete(tok);
    sqlite3_close(db);
    return ret;
}
