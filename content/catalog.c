/*
 * catalog.c - the catalogue in SQLite: resources, files, state and full-text
 * search (schema and query rules in docs/catalogue.md).
 *
 * One handle is one connection; it is not shared between threads.  Prepared
 * statements are cached in the handle, including one per combination of
 * search filters, so the hot path never re-parses SQL.
 */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "content/catalog.h"
#include "content/store.h"
#include "content/zim.h"
#include "fts_int.h"

#define CATALOG_FORMAT                                                                             \
    3 /* 2 added entries/entries_fts, 3 search_hot; older ones are upgraded in place */
#define BUSY_TIMEOUT_MS 5000
#define MATCH_MAX 4096 /* the MATCH expression built from <= 256 bytes of q */
/* Precomputed answers (search_hot, docs/catalogue.md): a single token or
 * prefix matching at least HOT_MIN_DOCS resources keeps its match count and
 * its first HOT_TOP hits; at most HOT_MAX_ROWS tokens, the most frequent. */
#define HOT_MIN_DOCS 1000
#define HOT_TOP 100
#define HOT_MAX_ROWS 2048
#define HOT_TOKEN_MAX 64 /* bytes; longer tokens and prefixes are never precomputed */
/* Every match of a text query in rank order: bm25 (the fts table's rank),
 * ties by rowid.  The live search and search_hot both read this order, so a
 * precomputed page is the live page.  ORDER BY bm25() rather than rank lets
 * the sort keep only LIMIT rows. */
#define RANKED_SQL(param)                                                                          \
    "SELECT rowid AS rid, bm25(fts, 10.0, 5.0, 1.0) AS s FROM fts WHERE fts MATCH " param          \
    " ORDER BY s, rid"

/* Cached statements: name and SQL, listed once. */
#define STMT_LIST(X)                                                                               \
    X(ST_RID, "SELECT rid FROM resources WHERE id = ?1")                                           \
    X(ST_RES_INSERT, "INSERT INTO resources(id, language, subject, type, edition, volume, unit, "  \
                     "entry, cached) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)")                  \
    X(ST_RES_UPDATE, "UPDATE resources SET id = ?1, language = ?2, subject = ?3, type = ?4, "      \
                     "edition = ?5, volume = ?6, unit = ?7, entry = ?8, cached = ?9 "              \
                     "WHERE rid = ?10")                                                            \
    X(ST_RES_DELETE, "DELETE FROM resources WHERE rid = ?1")                                       \
    X(ST_JSON_PUT, "INSERT OR REPLACE INTO resource_json(rid, json) VALUES(?1, ?2)")               \
    X(ST_GRADES_DELETE, "DELETE FROM resource_grades WHERE resource = ?1")                         \
    X(ST_GRADE_INSERT, "INSERT OR IGNORE INTO resource_grades(resource, grade) VALUES(?1, ?2)")    \
    X(ST_FILES_DELETE, "DELETE FROM files WHERE resource = ?1")                                    \
    X(ST_FILE_INSERT, "INSERT INTO files(resource, path, size, mime, object, enc_len) "            \
                      "VALUES(?1, ?2, ?3, ?4, ?5, ?6)")                                            \
    X(ST_FTS_DELETE, "DELETE FROM fts WHERE rowid = ?1")                                           \
    X(ST_FTS_INSERT, "INSERT INTO fts(rowid, title, keywords, description) "                       \
                     "VALUES(?1, ?2, ?3, ?4)")                                                     \
    X(ST_SET_CACHED, "UPDATE resources SET cached = ?2 WHERE id = ?1")                             \
    X(ST_META_GET, "SELECT value FROM meta WHERE key = ?1")                                        \
    X(ST_META_SET, "INSERT OR REPLACE INTO meta(key, value) VALUES(?1, ?2)")                       \
    X(ST_STATE_GET, "SELECT value FROM state WHERE key = ?1")                                      \
    X(ST_STATE_SET, "INSERT OR REPLACE INTO state(key, value) VALUES(?1, ?2)")                     \
    X(ST_STATE_DELETE, "DELETE FROM state WHERE key = ?1")                                         \
    X(ST_GET, "SELECT r.rid, r.cached, j.json FROM resources r "                                   \
              "JOIN resource_json j ON j.rid = r.rid WHERE r.id = ?1")                             \
    X(ST_FILES_OF, "SELECT path, size, mime, object, enc_len FROM files WHERE resource = ?1 "      \
                   "ORDER BY path")                                                                \
    X(ST_FILE_ONE, "SELECT f.path, f.size, f.mime, f.object, f.enc_len FROM resources r "          \
                   "JOIN files f ON f.resource = r.rid WHERE r.id = ?1 AND f.path = ?2")           \
    X(ST_REFERENCES, "SELECT 1 FROM files WHERE object = ?1 LIMIT 1")                              \
    X(ST_ENTRY, "SELECT entry FROM resources WHERE id = ?1")                                       \
    X(ST_ID_OF_RID, "SELECT id FROM resources WHERE rid = ?1")                                     \
    X(ST_HOT_GET, "SELECT total, top FROM search_hot WHERE token = ?1 AND prefix = ?2")            \
    X(ST_HOT_PUT, "INSERT INTO search_hot(token, prefix, total, top) VALUES(?1, ?2, ?3, ?4)")      \
    X(ST_COUNT_RESOURCES, "SELECT count(*) FROM resources")                                        \
    X(ST_COUNT_FILES, "SELECT count(*), coalesce(sum(size), 0) FROM files")                        \
    X(ST_ENT_FTS_DELETE, "DELETE FROM entries_fts WHERE rowid IN "                                 \
                         "(SELECT eid FROM entries WHERE resource = ?1)")                          \
    X(ST_ENT_DELETE, "DELETE FROM entries WHERE resource = ?1")                                    \
    X(ST_ENT_INSERT, "INSERT INTO entries(resource, path) SELECT ?1, ?2 WHERE EXISTS "             \
                     "(SELECT 1 FROM files WHERE resource = ?1 AND path = ?2)")                    \
    X(ST_ENT_FTS_INSERT, "INSERT INTO entries_fts(rowid, title) VALUES(?1, ?2)")                   \
    X(ST_ENT_ANY, "SELECT 1 FROM entries WHERE resource = ?1 LIMIT 1")                             \
    X(ST_TITLES_FILE,                                                                              \
      "SELECT r.rid, f.object, f.size FROM resources r JOIN files f "                              \
      "ON f.resource = r.rid WHERE r.id = ?1 AND r.cached = 1 AND f.path = '" CONTENT_TITLES_PATH  \
      "'")

enum {
#define X_ENUM(name, sql) name,
    STMT_LIST(X_ENUM)
#undef X_ENUM
        ST_COUNT
};

static const char *const stmt_sql[ST_COUNT] = {
#define X_SQL(name, sql) sql,
    STMT_LIST(X_SQL)
#undef X_SQL
};

/* Search filters, as bits of the statement-cache index. */
enum { F_SUBJECT = 1, F_LANGUAGE = 2, F_TYPE = 4, F_GRADE = 8, F_ALL = 16 };

struct content_catalog {
    sqlite3 *db;
    int rdonly;
    int has_entries;      /* format >= 2: article titles (entries, entries_fts) */
    int has_hot;          /* format >= 3: precomputed answers (search_hot) */
    int in_txn;           /* inside content_catalog_begin/commit */
    int hot_dirty;        /* this transaction changed fts: rebuild search_hot at commit */
    int hot_defer;        /* content_catalog_hot_defer: a commit empties search_hot instead */
    content_store *store; /* attached: titles files are read from it (not owned) */
    sqlite3_stmt *st[ST_COUNT];
    sqlite3_stmt *page[2][F_ALL];  /* [has text][filters] */
    sqlite3_stmt *count[2][F_ALL]; /* same, count only */
    sqlite3_stmt *epage[F_ALL];    /* entries search, by filters */
    sqlite3_stmt *ecount[F_ALL];
    fts5_tokenizer tok; /* "cistern", to drop query terms with no tokens */
    Fts5Tokenizer *tok_inst;
};

static const char schema_sql[] =
    "CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS state(key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS resources("
    " rid INTEGER PRIMARY KEY,"
    " id TEXT NOT NULL UNIQUE,"
    " language TEXT NOT NULL,"
    " subject TEXT,"
    " type TEXT NOT NULL,"
    " edition, volume, unit,"
    " entry TEXT NOT NULL,"
    " cached INTEGER NOT NULL DEFAULT 0);"
    "CREATE INDEX IF NOT EXISTS resources_subject ON resources(subject, id);"
    "CREATE INDEX IF NOT EXISTS resources_language ON resources(language, id);"
    "CREATE INDEX IF NOT EXISTS resources_type ON resources(type, id);"
    "CREATE TABLE IF NOT EXISTS resource_json("
    " rid INTEGER PRIMARY KEY REFERENCES resources(rid) ON DELETE CASCADE,"
    " json TEXT NOT NULL);"
    "CREATE TABLE IF NOT EXISTS resource_grades("
    " resource INTEGER NOT NULL REFERENCES resources(rid) ON DELETE CASCADE,"
    " grade INTEGER NOT NULL,"
    " PRIMARY KEY(resource, grade)) WITHOUT ROWID;"
    "CREATE INDEX IF NOT EXISTS resource_grades_grade ON resource_grades(grade, resource);"
    "CREATE TABLE IF NOT EXISTS files("
    " resource INTEGER NOT NULL REFERENCES resources(rid) ON DELETE CASCADE,"
    " path TEXT NOT NULL,"
    " size INTEGER NOT NULL,"
    " mime TEXT NOT NULL,"
    " object BLOB NOT NULL CHECK(length(object) = 32),"
    " enc_len INTEGER NOT NULL,"
    " PRIMARY KEY(resource, path)) WITHOUT ROWID;"
    "CREATE INDEX IF NOT EXISTS files_object ON files(object);"
    "CREATE VIRTUAL TABLE IF NOT EXISTS fts USING fts5(title, keywords, description,"
    " tokenize = 'cistern', prefix = '2 3');"
    /* Format 2: article titles inside resources (a ZIM archive's pages). */
    "CREATE TABLE IF NOT EXISTS entries("
    " eid INTEGER PRIMARY KEY,"
    " resource INTEGER NOT NULL REFERENCES resources(rid) ON DELETE CASCADE,"
    " path TEXT NOT NULL);"
    "CREATE INDEX IF NOT EXISTS entries_resource ON entries(resource);"
    "CREATE VIRTUAL TABLE IF NOT EXISTS entries_fts USING fts5(title, tokenize = 'cistern');"
    /* Format 3: precomputed answers for the most frequent tokens (rebuilt
     * at each commit that changed fts; meta.hot_stale = 1 until then). */
    "CREATE TABLE IF NOT EXISTS search_hot("
    " token TEXT NOT NULL,"
    " prefix INTEGER NOT NULL,"
    " total INTEGER NOT NULL,"
    " top BLOB NOT NULL,"
    " PRIMARY KEY(token, prefix)) WITHOUT ROWID;"
    /* A format-1 database is upgraded: its cached resources' titles files are
     * indexed when a store is attached (content_catalog_attach_store). */
    "INSERT OR IGNORE INTO meta(key, value) SELECT 'entries_backfill', '1' FROM meta"
    " WHERE key = 'format' AND value = '1';"
    "UPDATE meta SET value = '2' WHERE key = 'format' AND value = '1';"
    "INSERT OR IGNORE INTO meta(key, value) SELECT 'hot_stale', '1' FROM meta"
    " WHERE key = 'format' AND value = '2';"
    "UPDATE meta SET value = '3' WHERE key = 'format' AND value = '2';"
    "INSERT OR IGNORE INTO meta(key, value) VALUES('format', '3');"
    "INSERT OR IGNORE INTO meta(key, value) VALUES('version', '0');";

/* ---- errors and statements ---------------------------------------------- */

static int db_code(int rc)
{
    switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
        return CS_EBUSY;
    case SQLITE_NOMEM:
        return CS_ENOMEM;
    case SQLITE_FULL:
        return CS_ENOSPC;
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
        return CS_ECORRUPT;
    case SQLITE_IOERR:
        return CS_EIO;
    case SQLITE_CONSTRAINT:
        return CS_EINVAL;
    case SQLITE_CANTOPEN:
        return CS_ENOENT;
    default:
        return CS_EDB;
    }
}

static int db_fail(content_catalog *c, int rc, cs_err *err, const char *what)
{
    return cs_err_set(err, db_code(rc), "catalogue: %s: %s", what,
                      c && c->db ? sqlite3_errmsg(c->db) : sqlite3_errstr(rc));
}

static int prep(content_catalog *c, int which, sqlite3_stmt **out, cs_err *err)
{
    if (!c->st[which]) {
        int rc = sqlite3_prepare_v3(c->db, stmt_sql[which], -1, SQLITE_PREPARE_PERSISTENT,
                                    &c->st[which], NULL);
        if (rc != SQLITE_OK)
            return db_fail(c, rc, err, "prepare");
    }
    *out = c->st[which];
    return 0;
}

static void release(sqlite3_stmt *st)
{
    if (st) {
        sqlite3_reset(st);
        sqlite3_clear_bindings(st);
    }
}

static int exec(content_catalog *c, const char *sql, cs_err *err)
{
    int rc = sqlite3_exec(c->db, sql, NULL, NULL, NULL);
    return rc == SQLITE_OK ? 0 : db_fail(c, rc, err, sql);
}

/* Step a statement that returns no rows. */
static int step_done(content_catalog *c, sqlite3_stmt *st, cs_err *err, const char *what)
{
    int rc = sqlite3_step(st);
    if (rc != SQLITE_DONE && rc != SQLITE_ROW)
        return db_fail(c, rc, err, what);
    return 0;
}

static char *dup_column(sqlite3_stmt *st, int col)
{
    const unsigned char *s = sqlite3_column_text(st, col);
    return s ? strdup((const char *)s) : NULL;
}

/* ---- open and close ----------------------------------------------------- */

static int open_tokenizer(content_catalog *c, cs_err *err)
{
    fts5_api *api = NULL;
    void *user = NULL;
    int rc = content_fts5_api(c->db, &api);
    if (rc == SQLITE_OK)
        rc = api->xFindTokenizer(api, "cistern", &user, &c->tok);
    if (rc == SQLITE_OK)
        rc = c->tok.xCreate(user, NULL, 0, &c->tok_inst);
    if (rc != SQLITE_OK)
        return db_fail(c, rc, err, "tokenizer");
    return 0;
}

static int check_format(content_catalog *c, cs_err *err)
{
    sqlite3_stmt *st = NULL;
    int rc =
        sqlite3_prepare_v2(c->db, "SELECT value FROM meta WHERE key = 'format'", -1, &st, NULL);
    if (rc != SQLITE_OK) {
        rc = cs_err_set(err, CS_EFORMAT, "catalogue: not a catalogue database: %s",
                        sqlite3_errmsg(c->db));
        goto out;
    }
    rc = sqlite3_step(st);
    if (rc != SQLITE_ROW) {
        rc = rc == SQLITE_DONE ? cs_err_set(err, CS_EFORMAT, "catalogue: no format version")
                               : db_fail(c, rc, err, "format version");
        goto out;
    }
    /* Read-only handles also read formats 1 (no entries) and 2 (no
     * precomputed answers) until a writer upgrades them. */
    if (sqlite3_column_int64(st, 0) != CATALOG_FORMAT &&
        !(c->rdonly && sqlite3_column_int64(st, 0) >= 1 &&
          sqlite3_column_int64(st, 0) < CATALOG_FORMAT)) {
        rc = cs_err_set(err, CS_EUNSUPPORTED, "catalogue: format %lld, this build reads %d",
                        (long long)sqlite3_column_int64(st, 0), CATALOG_FORMAT);
        goto out;
    }
    c->has_entries = sqlite3_column_int64(st, 0) >= 2;
    c->has_hot = sqlite3_column_int64(st, 0) >= 3;
    rc = 0;
out:
    sqlite3_finalize(st);
    return rc;
}

static int rank_configured(content_catalog *c);

int content_catalog_open(content_catalog **out, const char *path, int flags, cs_err *err)
{
    content_catalog *c = NULL;
    int rc, oflags;

    if (!out || !path)
        return cs_err_set(err, CS_EINVAL, "catalogue: no path");
    c = calloc(1, sizeof *c);
    if (!c)
        return cs_err_set(err, CS_ENOMEM, "catalogue: out of memory");
    c->rdonly = (flags & CONTENT_CATALOG_RDONLY) != 0;
    oflags = c->rdonly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
    rc = sqlite3_open_v2(path, &c->db, oflags, NULL);
    if (rc != SQLITE_OK) {
        rc = cs_err_set(err, db_code(rc), "catalogue: %s",
                        c->db ? sqlite3_errmsg(c->db) : sqlite3_errstr(rc));
        goto out;
    }
    sqlite3_busy_timeout(c->db, BUSY_TIMEOUT_MS);
    if ((rc = exec(c, "PRAGMA foreign_keys = ON", err)) != 0)
        goto out;
    if (!c->rdonly) {
        /* An in-memory database answers "memory"; files become WAL. */
        if ((rc = exec(c, "PRAGMA journal_mode = WAL", err)) != 0 ||
            (rc = exec(c, "PRAGMA synchronous = FULL", err)) != 0)
            goto out;
    }
    if ((rc = content_fts_register(c->db, err)) != 0)
        goto out;
    if (!c->rdonly) {
        if ((rc = exec(c, "BEGIN IMMEDIATE", err)) != 0)
            goto out;
        rc = exec(c, schema_sql, err);
        /* ORDER BY rank: title, then keywords, then description.  Set once:
         * writing FTS5's config at every open would change it under the
         * server's readers, whose statements then fail. */
        if (rc == 0 && !rank_configured(c))
            rc = exec(c, "INSERT INTO fts(fts, rank) VALUES('rank', 'bm25(10.0, 5.0, 1.0)')", err);
        if (rc != 0) {
            sqlite3_exec(c->db, "ROLLBACK", NULL, NULL, NULL);
            goto out;
        }
        if ((rc = exec(c, "COMMIT", err)) != 0)
            goto out;
    }
    if ((rc = check_format(c, err)) != 0 || (rc = open_tokenizer(c, err)) != 0)
        goto out;
    /* Upgraded from format 2, or changed outside begin/commit: search_hot
     * stays empty (searches run live) until the next commit that changes
     * fts, an import or a sync, precomputes it.  Not here: at 130,000
     * resources that takes ~25 s, and any command may open the catalogue. */
    *out = c;
    c = NULL;
out:
    if (rc != 0)
        cs_err_wrap(err, "opening %s", path);
    content_catalog_free(c);
    return rc;
}

static int rank_configured(content_catalog *c)
{
    sqlite3_stmt *st = NULL;
    int yes = 0;
    if (sqlite3_prepare_v2(c->db, "SELECT 1 FROM fts_config WHERE k = 'rank'", -1, &st, NULL) ==
        SQLITE_OK)
        yes = sqlite3_step(st) == SQLITE_ROW;
    sqlite3_finalize(st);
    return yes;
}

void content_catalog_free(content_catalog *c)
{
    if (!c)
        return;
    if (c->db && !sqlite3_get_autocommit(c->db))
        sqlite3_exec(c->db, "ROLLBACK", NULL, NULL, NULL);
    for (int i = 0; i < ST_COUNT; i++)
        sqlite3_finalize(c->st[i]);
    for (int t = 0; t < 2; t++)
        for (int f = 0; f < F_ALL; f++) {
            sqlite3_finalize(c->page[t][f]);
            sqlite3_finalize(c->count[t][f]);
        }
    for (int f = 0; f < F_ALL; f++) {
        sqlite3_finalize(c->epage[f]);
        sqlite3_finalize(c->ecount[f]);
    }
    if (c->tok_inst)
        c->tok.xDelete(c->tok_inst);
    sqlite3_close(c->db);
    free(c);
}

/* ---- transactions ------------------------------------------------------- */

static int hot_rebuild(content_catalog *c, cs_err *err);

int content_catalog_begin(content_catalog *c, cs_err *err)
{
    int rc = exec(c, "BEGIN IMMEDIATE", err);
    c->in_txn = rc == 0;
    c->hot_dirty = 0;
    return rc;
}

static int hot_mark_stale(content_catalog *c, cs_err *err)
{
    return exec(c,
                "DELETE FROM search_hot;"
                "INSERT OR REPLACE INTO meta(key, value) VALUES('hot_stale', '1')",
                err);
}

void content_catalog_hot_defer(content_catalog *c, int on)
{
    c->hot_defer = on != 0;
}

/* A commit that changed the full-text index first recomputes search_hot, in
 * the same transaction: readers never see answers of another version.  With
 * hot_defer it only empties it (meta.hot_stale): a later such commit
 * recomputes it, and searches run live meanwhile. */
int content_catalog_commit(content_catalog *c, cs_err *err)
{
    int rc;
    if (c->has_hot && !c->rdonly && c->hot_dirty &&
        (rc = c->hot_defer ? hot_mark_stale(c, err) : hot_rebuild(c, err)) != 0)
        return rc;
    if ((rc = exec(c, "COMMIT", err)) != 0)
        return rc;
    c->in_txn = c->hot_dirty = 0;
    return 0;
}

void content_catalog_rollback(content_catalog *c)
{
    if (c)
        c->in_txn = c->hot_dirty = 0;
    if (c && c->db && !sqlite3_get_autocommit(c->db))
        sqlite3_exec(c->db, "ROLLBACK", NULL, NULL, NULL);
}

/* Each change is atomic on its own too: a savepoint nests inside begin/commit
 * and is a transaction of its own outside them. */
static int save_begin(content_catalog *c, cs_err *err)
{
    return exec(c, "SAVEPOINT cs_change", err);
}

/* The change being made touches fts: search_hot no longer answers for it.
 * Inside begin/commit the commit rebuilds it (hot_dirty); a change made on
 * its own empties it and leaves meta.hot_stale for the next commit or
 * writable open.  Called inside the change's savepoint. */
static int hot_invalidate(content_catalog *c, cs_err *err)
{
    if (!c->has_hot || c->hot_dirty)
        return 0;
    if (c->in_txn) { /* the commit rebuilds; a savepoint rolled back changes nothing */
        c->hot_dirty = 1;
        return 0;
    }
    return hot_mark_stale(c, err);
}

static int save_end(content_catalog *c, int rc, cs_err *err)
{
    if (rc == 0) {
        rc = exec(c, "RELEASE cs_change", err);
        if (rc == 0)
            return 0;
    }
    sqlite3_exec(c->db, "ROLLBACK TO cs_change; RELEASE cs_change", NULL, NULL, NULL);
    return rc;
}

/* ---- put, delete, clear ------------------------------------------------- */

/* The string values of an object or array (non-strings skipped), joined with
 * newlines; malloc'd, "" when v is NULL, NULL when out of memory. */
static char *join_strings(const json_t *v)
{
    size_t total = 1, n = 0;
    const char *key;
    json_t *x;
    size_t i;
    char *s;

#define JOIN_EACH(body)                                                                            \
    do {                                                                                           \
        if (json_is_object(v)) {                                                                   \
            json_object_foreach((json_t *)v, key, x)                                               \
            {                                                                                      \
                body;                                                                              \
            }                                                                                      \
        } else if (json_is_array(v)) {                                                             \
            json_array_foreach(v, i, x)                                                            \
            {                                                                                      \
                body;                                                                              \
            }                                                                                      \
        }                                                                                          \
    } while (0)

    JOIN_EACH(if (json_is_string(x)) total += json_string_length(x) + 1);
    s = malloc(total);
    if (!s)
        return NULL;
    JOIN_EACH(if (json_is_string(x)) {
        if (n)
            s[n++] = '\n';
        memcpy(s + n, json_string_value(x), json_string_length(x));
        n += json_string_length(x);
    });
#undef JOIN_EACH
    (void)key;
    s[n] = '\0';
    return s;
}

static void bind_str_or_int(sqlite3_stmt *st, int idx, const json_t *v)
{
    if (json_is_integer(v))
        sqlite3_bind_int64(st, idx, json_integer_value(v));
    else if (json_is_string(v))
        sqlite3_bind_text(st, idx, json_string_value(v), (int)json_string_length(v), SQLITE_STATIC);
    else
        sqlite3_bind_null(st, idx);
}

static int lookup_rid(content_catalog *c, const char *id, sqlite3_int64 *rid, cs_err *err)
{
    sqlite3_stmt *st = NULL;
    int rc = prep(c, ST_RID, &st, err);
    if (rc != 0)
        return rc;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        *rid = sqlite3_column_int64(st, 0);
        rc = 0;
    } else if (rc == SQLITE_DONE) {
        rc = CS_ENOENT;
    } else {
        rc = db_fail(c, rc, err, "lookup");
    }
    release(st);
    return rc;
}

/* Run a one-parameter statement on rid. */
static int by_rid(content_catalog *c, int which, sqlite3_int64 rid, cs_err *err)
{
    sqlite3_stmt *st = NULL;
    int rc = prep(c, which, &st, err);
    if (rc != 0)
        return rc;
    sqlite3_bind_int64(st, 1, rid);
    rc = step_done(c, st, err, "write");
    release(st);
    return rc;
}

static int put_row(content_catalog *c, const char *id, const content_resource *r,
                   sqlite3_int64 *rid, int exists, cs_err *err)
{
    const json_t *m = r->meta;
    sqlite3_stmt *st = NULL;
    int rc = prep(c, exists ? ST_RES_UPDATE : ST_RES_INSERT, &st, err);
    if (rc != 0)
        return rc;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, json_string_value(json_object_get(m, "language")), -1, SQLITE_STATIC);
    bind_str_or_int(st, 3, json_object_get(m, "subject"));
    sqlite3_bind_text(st, 4, json_string_value(json_object_get(m, "type")), -1, SQLITE_STATIC);
    bind_str_or_int(st, 5, json_object_get(m, "edition"));
    bind_str_or_int(st, 6, json_object_get(m, "volume"));
    bind_str_or_int(st, 7, json_object_get(m, "unit"));
    sqlite3_bind_text(st, 8, json_string_value(json_object_get(m, "entry")), -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 9, r->cached ? 1 : 0);
    if (exists)
        sqlite3_bind_int64(st, 10, *rid);
    rc = step_done(c, st, err, "resource row");
    if (rc == 0 && !exists)
        *rid = sqlite3_last_insert_rowid(c->db);
    release(st);
    return rc;
}

static int put_children(content_catalog *c, sqlite3_int64 rid, const content_resource *r,
                        const char *json_text, cs_err *err)
{
    const json_t *m = r->meta, *grades = json_object_get(m, "grades"), *g;
    sqlite3_stmt *st = NULL;
    char *title = NULL, *keywords = NULL, *desc = NULL;
    size_t i;
    int rc;

    if ((rc = prep(c, ST_JSON_PUT, &st, err)) != 0)
        goto out;
    sqlite3_bind_int64(st, 1, rid);
    sqlite3_bind_text(st, 2, json_text, -1, SQLITE_STATIC);
    rc = step_done(c, st, err, "resource json");
    release(st);
    if (rc != 0 || (rc = prep(c, ST_GRADE_INSERT, &st, err)) != 0)
        goto out;
    json_array_foreach(grades, i, g)
    {
        sqlite3_bind_int64(st, 1, rid);
        sqlite3_bind_int64(st, 2, json_integer_value(g));
        rc = step_done(c, st, err, "grade");
        release(st);
        if (rc != 0)
            goto out;
    }
    if ((rc = prep(c, ST_FILE_INSERT, &st, err)) != 0)
        goto out;
    for (i = 0; i < r->nfiles; i++) {
        const content_file *f = &r->files[i];
        sqlite3_bind_int64(st, 1, rid);
        sqlite3_bind_text(st, 2, f->path, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 3, (sqlite3_int64)f->size);
        sqlite3_bind_text(st, 4, f->mime ? f->mime : content_mime_guess(f->path), -1,
                          SQLITE_STATIC);
        sqlite3_bind_blob(st, 5, f->object, 32, SQLITE_STATIC);
        sqlite3_bind_int64(st, 6, (sqlite3_int64)f->enc_len);
        rc = step_done(c, st, err, "file");
        release(st);
        if (rc != 0) {
            cs_err_wrap(err, "file \"%s\"", f->path);
            goto out;
        }
    }
    title = join_strings(json_object_get(m, "title"));
    keywords = join_strings(json_object_get(m, "keywords"));
    desc = join_strings(json_object_get(m, "description"));
    if (!title || !keywords || !desc) {
        rc = cs_err_set(err, CS_ENOMEM, "catalogue: out of memory");
        goto out;
    }
    if ((rc = prep(c, ST_FTS_INSERT, &st, err)) != 0)
        goto out;
    sqlite3_bind_int64(st, 1, rid);
    sqlite3_bind_text(st, 2, title, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, keywords, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, desc, -1, SQLITE_STATIC);
    rc = step_done(c, st, err, "search index");
    release(st);
out:
    free(title);
    free(keywords);
    free(desc);
    return rc;
}

/* ---- entries: article titles inside resources -------------------------- */

static int kv_get(content_catalog *c, int which, const char *key, char **out, cs_err *err);

/* Forget the article titles of a resource. */
static int entries_drop(content_catalog *c, sqlite3_int64 rid, cs_err *err)
{
    int rc;
    if (!c->has_entries)
        return 0;
    if ((rc = by_rid(c, ST_ENT_FTS_DELETE, rid, err)) != 0)
        return rc;
    return by_rid(c, ST_ENT_DELETE, rid, err);
}

typedef struct entries_ctx {
    content_catalog *c;
    sqlite3_int64 rid;
    sqlite3_stmt *ins, *fts;
    cs_err *err;
} entries_ctx;

static int entries_add(void *vctx, const char *path, const char *title)
{
    entries_ctx *e = vctx;
    sqlite3_bind_int64(e->ins, 1, e->rid);
    sqlite3_bind_text(e->ins, 2, path, -1, SQLITE_STATIC);
    int rc = step_done(e->c, e->ins, e->err, "entry");
    int added = rc == 0 && sqlite3_changes(e->c->db) > 0; /* paths that are not files: skipped */
    sqlite3_reset(e->ins);
    if (rc != 0 || !added)
        return rc;
    sqlite3_bind_int64(e->fts, 1, sqlite3_last_insert_rowid(e->c->db));
    sqlite3_bind_text(e->fts, 2, title, -1, SQLITE_STATIC);
    rc = step_done(e->c, e->fts, e->err, "entry index");
    sqlite3_reset(e->fts);
    return rc;
}

/* Index the titles file of a cached resource (if it has one, the store is
 * attached and it is not indexed yet).  A titles file that is missing from
 * the store, damaged or malformed indexes nothing: search is a convenience,
 * never a reason to refuse a catalogue. */
static int entries_index_resource(content_catalog *c, const char *id, cs_err *err)
{
    sqlite3_stmt *st = NULL;
    uint8_t object[32];
    sqlite3_int64 rid = 0, size = 0;
    char *data = NULL;
    size_t got = 0;
    int rc, found = 0;

    if (!c->has_entries || !c->store)
        return 0;
    if ((rc = prep(c, ST_TITLES_FILE, &st, err)) != 0)
        return rc;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW && sqlite3_column_bytes(st, 1) == 32) {
        found = 1;
        rid = sqlite3_column_int64(st, 0);
        memcpy(object, sqlite3_column_blob(st, 1), 32);
        size = sqlite3_column_int64(st, 2);
        rc = 0;
    } else {
        rc = rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : db_fail(c, rc, err, "titles file");
    }
    release(st);
    if (rc != 0 || !found || size <= 0 || (uint64_t)size > CONTENT_TITLES_MAX)
        return rc;
    if ((rc = prep(c, ST_ENT_ANY, &st, err)) != 0)
        return rc;
    sqlite3_bind_int64(st, 1, rid);
    rc = sqlite3_step(st);
    release(st);
    if (rc == SQLITE_ROW)
        return 0; /* already indexed */
    data = malloc((size_t)size);
    if (!data)
        return cs_err_set(err, CS_ENOMEM, "catalogue: out of memory");
    if (content_store_read(c->store, object, 0, data, (size_t)size, &got, NULL) != 0 ||
        got != (size_t)size) {
        free(data);
        return 0;
    }
    entries_ctx e = {c, rid, NULL, NULL, err};
    if ((rc = prep(c, ST_ENT_INSERT, &e.ins, err)) == 0 &&
        (rc = prep(c, ST_ENT_FTS_INSERT, &e.fts, err)) == 0) {
        rc = content_titles_parse(data, (size_t)size, entries_add, &e, NULL, NULL);
        if (rc == CS_EFORMAT || rc == CS_ETOOBIG)
            rc = 0; /* what was indexed before the problem stays */
    }
    release(e.ins);
    release(e.fts);
    free(data);
    return rc;
}

static int backfill_one(void *ctx, const content_resource *r)
{
    entries_ctx *e = ctx;
    for (size_t i = 0; i < r->nfiles; i++)
        if (r->cached && strcmp(r->files[i].path, CONTENT_TITLES_PATH) == 0)
            return entries_index_resource(e->c, r->id, e->err);
    return 0;
}

int content_catalog_attach_store(content_catalog *c, content_store *s, cs_err *err)
{
    char *todo = NULL;
    int rc;
    if (!c)
        return cs_err_set(err, CS_EINVAL, "catalogue: no handle");
    c->store = s;
    if (!s || c->rdonly || !c->has_entries)
        return 0;
    if ((rc = kv_get(c, ST_META_GET, "entries_backfill", &todo, err)) != 0 || !todo)
        return rc;
    free(todo);
    /* Upgraded from format 1: resources cached before then may carry titles. */
    entries_ctx e = {c, 0, NULL, NULL, err};
    if ((rc = content_catalog_begin(c, err)) != 0)
        return rc;
    rc = content_catalog_foreach_resource(c, backfill_one, &e, err);
    if (rc == 0)
        rc = exec(c, "DELETE FROM meta WHERE key = 'entries_backfill'", err);
    if (rc == 0)
        return content_catalog_commit(c, err);
    content_catalog_rollback(c);
    return rc;
}

int content_catalog_put(content_catalog *c, const content_resource *r, cs_err *err)
{
    char *json_text = NULL;
    const char *id;
    sqlite3_int64 rid = 0;
    int rc, exists, saving = 0;

    if (!c || !r || !r->meta)
        return cs_err_set(err, CS_EINVAL, "catalogue put: no resource");
    if ((rc = content_resource_validate(r->meta, err)) != 0)
        return rc;
    id = json_string_value(json_object_get(r->meta, "id"));
    if (r->id && strcmp(r->id, id) != 0)
        return cs_err_set(err, CS_EINVAL, "catalogue put: id \"%s\" but resource.json says \"%s\"",
                          r->id, id);
    if (r->nfiles > CONTENT_RESOURCE_MAX_FILES)
        return cs_err_set(err, CS_ETOOBIG, "resource %s: %zu files, more than %d", id, r->nfiles,
                          CONTENT_RESOURCE_MAX_FILES);
    if (r->nfiles && !r->files)
        return cs_err_set(err, CS_EINVAL, "resource %s: no files array", id);
    for (size_t i = 0; i < r->nfiles; i++)
        if (!content_path_valid(r->files[i].path))
            return cs_err_set(err, CS_EFORMAT, "resource %s: file %zu: unsafe path \"%.100s\"", id,
                              i, r->files[i].path ? r->files[i].path : "(null)");
    json_text = json_dumps(r->meta, JSON_COMPACT);
    if (!json_text)
        return cs_err_set(err, CS_ENOMEM, "catalogue: cannot serialise resource.json");

    if ((rc = save_begin(c, err)) != 0)
        goto out;
    saving = 1;
    if ((rc = hot_invalidate(c, err)) != 0)
        goto out;
    rc = lookup_rid(c, id, &rid, err);
    if (rc != 0 && rc != CS_ENOENT)
        goto out;
    exists = rc == 0;
    if (exists &&
        ((rc = by_rid(c, ST_GRADES_DELETE, rid, err)) != 0 ||
         (rc = by_rid(c, ST_FILES_DELETE, rid, err)) != 0 ||
         (rc = by_rid(c, ST_FTS_DELETE, rid, err)) != 0 || (rc = entries_drop(c, rid, err)) != 0))
        goto out;
    if ((rc = put_row(c, id, r, &rid, exists, err)) != 0 ||
        (rc = put_children(c, rid, r, json_text, err)) != 0)
        goto out;
    if (r->cached && (rc = entries_index_resource(c, id, err)) != 0)
        goto out;
out:
    if (saving)
        rc = save_end(c, rc, err);
    if (rc != 0)
        cs_err_wrap(err, "putting resource %s", id);
    free(json_text);
    return rc;
}

int content_catalog_delete(content_catalog *c, const char *id, cs_err *err)
{
    sqlite3_int64 rid = 0;
    int rc;

    if (!c || !id)
        return cs_err_set(err, CS_EINVAL, "catalogue delete: no id");
    if ((rc = save_begin(c, err)) != 0)
        return rc;
    rc = lookup_rid(c, id, &rid, err);
    if (rc == 0)
        rc = hot_invalidate(c, err);
    if (rc == CS_ENOENT)
        cs_err_set(err, CS_ENOENT, "resource %s: not in the catalogue", id);
    if (rc == 0 && (rc = by_rid(c, ST_FTS_DELETE, rid, err)) == 0 &&
        (rc = entries_drop(c, rid, err)) == 0)
        rc = by_rid(c, ST_RES_DELETE, rid, err); /* files, grades, json cascade */
    return save_end(c, rc, err);
}

int content_catalog_clear(content_catalog *c, cs_err *err)
{
    int rc;
    if ((rc = save_begin(c, err)) != 0)
        return rc;
    if ((rc = hot_invalidate(c, err)) != 0)
        return save_end(c, rc, err);
    rc = exec(c,
              /* A school's own resources (ids "local-…", which hubs never
               * publish) stay: they did not come from the hub. */
              "CREATE TEMP TABLE IF NOT EXISTS gone(rid INTEGER PRIMARY KEY); DELETE FROM gone;"
              "INSERT INTO gone SELECT rid FROM resources WHERE id NOT LIKE 'local-%';",
              err);
    if (rc == 0 && c->has_entries)
        rc = exec(c,
                  "DELETE FROM entries_fts WHERE rowid IN"
                  " (SELECT eid FROM entries WHERE resource IN gone);"
                  "DELETE FROM entries WHERE resource IN gone;",
                  err);
    if (rc == 0)
        rc = exec(
            c,
            "DELETE FROM fts WHERE rowid IN gone; DELETE FROM files WHERE resource IN gone;"
            "DELETE FROM resource_grades WHERE resource IN gone;"
            "DELETE FROM resource_json WHERE rid IN gone; DELETE FROM resources WHERE rid IN gone;",
            err);
    return save_end(c, rc, err);
}

int content_catalog_set_cached(content_catalog *c, const char *id, int cached, cs_err *err)
{
    sqlite3_stmt *st = NULL;
    int rc;
    if (!c || !id)
        return cs_err_set(err, CS_EINVAL, "catalogue: no id");
    if ((rc = prep(c, ST_SET_CACHED, &st, err)) != 0)
        return rc;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 2, cached ? 1 : 0);
    rc = step_done(c, st, err, "cached flag");
    if (rc == 0 && sqlite3_changes(c->db) == 0)
        rc = cs_err_set(err, CS_ENOENT, "resource %s: not in the catalogue", id);
    release(st);
    if (rc == 0 && c->has_entries) {
        /* Article titles are searchable while the pages can be opened. */
        sqlite3_int64 rid = 0;
        if (cached)
            rc = entries_index_resource(c, id, err);
        else if ((rc = lookup_rid(c, id, &rid, err)) == 0)
            rc = entries_drop(c, rid, err);
    }
    return rc;
}

/* ---- version and state -------------------------------------------------- */

/* Get a text value; *out malloc'd or NULL when absent. */
static int kv_get(content_catalog *c, int which, const char *key, char **out, cs_err *err)
{
    sqlite3_stmt *st = NULL;
    char *v = NULL;
    int rc;
    if ((rc = prep(c, which, &st, err)) != 0)
        return rc;
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        v = dup_column(st, 0);
        rc = v ? 0 : cs_err_set(err, CS_ENOMEM, "catalogue: out of memory");
    } else if (rc == SQLITE_DONE) {
        rc = 0;
    } else {
        rc = db_fail(c, rc, err, "read");
    }
    release(st);
    if (rc == 0)
        *out = v;
    return rc;
}

static int kv_set(content_catalog *c, int which, const char *key, const char *value, cs_err *err)
{
    sqlite3_stmt *st = NULL;
    int rc;
    if ((rc = prep(c, which, &st, err)) != 0)
        return rc;
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    if (value)
        sqlite3_bind_text(st, 2, value, -1, SQLITE_STATIC);
    rc = step_done(c, st, err, "write");
    release(st);
    return rc;
}

int content_catalog_version(content_catalog *c, int64_t *out, cs_err *err)
{
    char *v = NULL, *end = NULL;
    long long n = 0;
    int rc;
    if (!c || !out)
        return cs_err_set(err, CS_EINVAL, "catalogue: bad arguments");
    if ((rc = kv_get(c, ST_META_GET, "version", &v, err)) != 0)
        return rc;
    if (v) {
        n = strtoll(v, &end, 10);
        if (end == v || *end)
            rc = cs_err_set(err, CS_ECORRUPT, "catalogue: version \"%.40s\" is not a number", v);
    }
    free(v);
    if (rc == 0)
        *out = n;
    return rc;
}

int content_catalog_set_version(content_catalog *c, int64_t v, cs_err *err)
{
    char buf[32];
    if (!c)
        return cs_err_set(err, CS_EINVAL, "catalogue: no handle");
    snprintf(buf, sizeof buf, "%lld", (long long)v);
    return kv_set(c, ST_META_SET, "version", buf, err);
}

int content_catalog_state_get(content_catalog *c, const char *key, char **out, cs_err *err)
{
    if (!c || !key || !out)
        return cs_err_set(err, CS_EINVAL, "catalogue: bad arguments");
    return kv_get(c, ST_STATE_GET, key, out, err);
}

int content_catalog_state_set(content_catalog *c, const char *key, const char *value, cs_err *err)
{
    if (!c || !key)
        return cs_err_set(err, CS_EINVAL, "catalogue: bad arguments");
    return kv_set(c, value ? ST_STATE_SET : ST_STATE_DELETE, key, value, err);
}

/* ---- reading resources -------------------------------------------------- */

/* Fill f from a (path, size, mime, object, enc_len) row. */
static int file_from_row(sqlite3_stmt *st, content_file *f)
{
    const void *obj = sqlite3_column_blob(st, 3);
    memset(f, 0, sizeof *f);
    f->path = dup_column(st, 0);
    f->mime = dup_column(st, 2);
    if (!f->path || !f->mime) {
        content_file_clear(f);
        return CS_ENOMEM;
    }
    f->size = (uint64_t)sqlite3_column_int64(st, 1);
    if (obj && sqlite3_column_bytes(st, 3) == 32)
        memcpy(f->object, obj, 32);
    f->enc_len = (uint64_t)sqlite3_column_int64(st, 4);
    return 0;
}

/* Build a resource from (rid, cached, json) columns of row and the files
 * statement fst (bound and reset here). */
static int resource_from_row(content_catalog *c, sqlite3_stmt *row, sqlite3_stmt *fst,
                             content_resource **out, cs_err *err)
{
    content_resource *r = calloc(1, sizeof *r);
    const char *text = (const char *)sqlite3_column_text(row, 2);
    size_t cap = 0;
    int rc;

    if (!r)
        return cs_err_set(err, CS_ENOMEM, "catalogue: out of memory");
    r->cached = sqlite3_column_int(row, 1);
    r->meta = text ? json_loads(text, 0, NULL) : NULL;
    if (!json_is_object(r->meta) || !json_is_string(json_object_get(r->meta, "id"))) {
        rc = cs_err_set(err, CS_ECORRUPT, "catalogue: stored resource.json is damaged");
        goto out;
    }
    r->id = strdup(json_string_value(json_object_get(r->meta, "id")));
    if (!r->id) {
        rc = cs_err_set(err, CS_ENOMEM, "catalogue: out of memory");
        goto out;
    }
    sqlite3_bind_int64(fst, 1, sqlite3_column_int64(row, 0));
    while ((rc = sqlite3_step(fst)) == SQLITE_ROW) {
        if (r->nfiles == cap) {
            size_t ncap = cap ? cap * 2 : 8;
            content_file *nf = realloc(r->files, ncap * sizeof *nf);
            if (!nf) {
                rc = cs_err_set(err, CS_ENOMEM, "catalogue: out of memory");
                goto out;
            }
            r->files = nf;
            cap = ncap;
        }
        if (file_from_row(fst, &r->files[r->nfiles]) != 0) {
            rc = cs_err_set(err, CS_ENOMEM, "catalogue: out of memory");
            goto out;
        }
        r->nfiles++;
    }
    if (rc != SQLITE_DONE) {
        rc = db_fail(c, rc, err, "files");
        goto out;
    }
    rc = 0;
    *out = r;
    r = NULL;
out:
    release(fst);
    content_resource_free(r);
    return rc;
}

/* *out = ST_GET stepped to id's row; CS_ENOENT or a database error (and
 * nothing to release) otherwise. */
static int get_row(content_catalog *c, const char *id, sqlite3_stmt **out, cs_err *err)
{
    sqlite3_stmt *st = NULL;
    int rc = prep(c, ST_GET, &st, err);
    if (rc != 0)
        return rc;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        *out = st;
        return 0;
    }
    rc = rc == SQLITE_DONE ? cs_err_set(err, CS_ENOENT, "resource %s: not in the catalogue", id)
                           : db_fail(c, rc, err, "get");
    release(st);
    return rc;
}

int content_catalog_get(content_catalog *c, const char *id, content_resource **out, cs_err *err)
{
    sqlite3_stmt *st = NULL, *fst = NULL;
    int rc;
    if (!c || !id || !out)
        return cs_err_set(err, CS_EINVAL, "catalogue get: bad arguments");
    if ((rc = get_row(c, id, &st, err)) != 0)
        return rc;
    if ((rc = prep(c, ST_FILES_OF, &fst, err)) == 0)
        rc = resource_from_row(c, st, fst, out, err);
    release(st);
    return rc;
}

int content_catalog_get_json(content_catalog *c, const char *id, char **json, int *cached,
                             cs_err *err)
{
    sqlite3_stmt *st = NULL;
    int rc;
    if (!c || !id || !json || !cached)
        return cs_err_set(err, CS_EINVAL, "catalogue get: bad arguments");
    if ((rc = get_row(c, id, &st, err)) != 0)
        return rc;
    char *text = dup_column(st, 2);
    if (text) {
        *json = text;
        *cached = sqlite3_column_int(st, 1);
    } else {
        rc = cs_err_set(err, CS_ENOMEM, "catalogue: out of memory");
    }
    release(st);
    return rc;
}

int content_catalog_file(content_catalog *c, const char *id, const char *path, content_file *out,
                         cs_err *err)
{
    sqlite3_stmt *st = NULL;
    int rc;
    if (!c || !id || !path || !out)
        return cs_err_set(err, CS_EINVAL, "catalogue file: bad arguments");
    if ((rc = prep(c, ST_FILE_ONE, &st, err)) != 0)
        return rc;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, path, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        content_file f;
        rc = file_from_row(st, &f);
        if (rc == 0)
            *out = f;
        else
            cs_err_set(err, rc, "catalogue: out of memory");
    } else if (rc == SQLITE_DONE) {
        rc = cs_err_set(err, CS_ENOENT, "resource %s has no file \"%.200s\"", id, path);
    } else {
        rc = db_fail(c, rc, err, "file");
    }
    release(st);
    return rc;
}

int content_catalog_foreach_object(content_catalog *c, content_catalog_object_cb cb, void *ctx,
                                   cs_err *err)
{
    sqlite3_stmt *st = NULL;
    int rc;
    if (!c || !cb)
        return cs_err_set(err, CS_EINVAL, "catalogue: bad arguments");
    /* Own statement: the callback may use the handle. */
    rc = sqlite3_prepare_v2(
        c->db, "SELECT object, max(size), max(enc_len) FROM files GROUP BY object", -1, &st, NULL);
    if (rc != SQLITE_OK) {
        rc = db_fail(c, rc, err, "objects");
        goto out;
    }
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        uint8_t id[32] = {0};
        const void *b = sqlite3_column_blob(st, 0);
        if (b && sqlite3_column_bytes(st, 0) == 32)
            memcpy(id, b, 32);
        int r = cb(ctx, id, (uint64_t)sqlite3_column_int64(st, 1),
                   (uint64_t)sqlite3_column_int64(st, 2));
        if (r != 0) {
            rc = r;
            goto out;
        }
    }
    rc = rc == SQLITE_DONE ? 0 : db_fail(c, rc, err, "objects");
out:
    sqlite3_finalize(st);
    return rc;
}

int content_catalog_foreach_resource(content_catalog *c, content_catalog_resource_cb cb, void *ctx,
                                     cs_err *err)
{
    sqlite3_stmt *st = NULL, *fst = NULL;
    int rc;
    if (!c || !cb)
        return cs_err_set(err, CS_EINVAL, "catalogue: bad arguments");
    rc = sqlite3_prepare_v2(c->db,
                            "SELECT r.rid, r.cached, j.json FROM resources r "
                            "JOIN resource_json j ON j.rid = r.rid ORDER BY r.id",
                            -1, &st, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_prepare_v2(c->db, stmt_sql[ST_FILES_OF], -1, &fst, NULL);
    if (rc != SQLITE_OK) {
        rc = db_fail(c, rc, err, "resources");
        goto out;
    }
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        content_resource *r = NULL;
        if ((rc = resource_from_row(c, st, fst, &r, err)) != 0)
            goto out;
        rc = cb(ctx, r);
        content_resource_free(r);
        if (rc != 0)
            goto out;
    }
    rc = rc == SQLITE_DONE ? 0 : db_fail(c, rc, err, "resources");
out:
    sqlite3_finalize(fst);
    sqlite3_finalize(st);
    return rc;
}

int content_catalog_references(content_catalog *c, const uint8_t id[32])
{
    sqlite3_stmt *st = NULL;
    int rc;
    if (!c || !id)
        return CS_EINVAL;
    if ((rc = prep(c, ST_REFERENCES, &st, NULL)) != 0)
        return rc;
    sqlite3_bind_blob(st, 1, id, 32, SQLITE_STATIC);
    rc = sqlite3_step(st);
    rc = rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : db_code(rc);
    release(st);
    return rc;
}

int content_catalog_counts(content_catalog *c, uint64_t *resources, uint64_t *files,
                           uint64_t *bytes, cs_err *err)
{
    sqlite3_stmt *st = NULL;
    uint64_t nr = 0, nf = 0, nb = 0;
    int rc;
    if (!c)
        return cs_err_set(err, CS_EINVAL, "catalogue: no handle");
    if ((rc = prep(c, ST_COUNT_RESOURCES, &st, err)) != 0)
        return rc;
    rc = sqlite3_step(st);
    nr = (uint64_t)sqlite3_column_int64(st, 0);
    release(st);
    if (rc != SQLITE_ROW)
        return db_fail(c, rc, err, "counts");
    if ((rc = prep(c, ST_COUNT_FILES, &st, err)) != 0)
        return rc;
    rc = sqlite3_step(st);
    nf = (uint64_t)sqlite3_column_int64(st, 0);
    nb = (uint64_t)sqlite3_column_int64(st, 1);
    release(st);
    if (rc != SQLITE_ROW)
        return db_fail(c, rc, err, "counts");
    if (resources)
        *resources = nr;
    if (files)
        *files = nf;
    if (bytes)
        *bytes = nb;
    return 0;
}

/* ---- search ------------------------------------------------------------- */

static int count_token(void *ctx, int tflags, const char *tok, int ntok, int start, int end)
{
    (*(int *)ctx)++;
    return SQLITE_OK;
}

/* Length of the whitespace character at s (ASCII or U+3000), 0 if none. */
static size_t space_len(const char *s)
{
    if (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r' || *s == '\f' || *s == '\v')
        return 1;
    if ((unsigned char)s[0] == 0xE3 && (unsigned char)s[1] == 0x80 && (unsigned char)s[2] == 0x80)
        return 3;
    return 0;
}

/* 1 if the last character of s[0..n) is Han/Kana/Hangul (a prefix there adds
 * nothing: the last unigram or bigram already matches every position). */
static int ends_cjk(const char *s, size_t n)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t i = n;
    long cp;
    while (i > 0 && (u[i - 1] & 0xC0) == 0x80 && n - i < 3)
        i--;
    if (i == 0)
        return 0;
    i--;
    if (n - i == 3 && (u[i] & 0xF0) == 0xE0)
        cp = ((long)(u[i] & 0x0F) << 12) | ((long)(u[i + 1] & 0x3F) << 6) | (u[i + 2] & 0x3F);
    else if (n - i == 4 && (u[i] & 0xF8) == 0xF0)
        cp = ((long)(u[i] & 0x07) << 18) | ((long)(u[i + 1] & 0x3F) << 12) |
             ((long)(u[i + 2] & 0x3F) << 6) | (u[i + 3] & 0x3F);
    else
        return 0;
    return (cp >= 0x3400 && cp <= 0x4DBF) || (cp >= 0x4E00 && cp <= 0x9FFF) ||
           (cp >= 0xF900 && cp <= 0xFAFF) || (cp >= 0x20000 && cp <= 0x2FFFF) ||
           (cp >= 0x3040 && cp <= 0x30FF) || (cp >= 0xAC00 && cp <= 0xD7AF);
}

/* The MATCH expression for q: whitespace-separated terms, each an FTS5
 * string with '"' doubled, joined by AND; terms without tokens are dropped;
 * the last term gets '*' when prefix is set.  *mi: what was kept. */
typedef struct match_info {
    int nterms;        /* terms kept */
    size_t start, end; /* the last kept term is q[start..end) */
    int star;          /* it got a '*' */
} match_info;

static int build_match(content_catalog *c, const char *q, int prefix, char *buf, size_t cap,
                       match_info *mi)
{
    size_t n = 0, i = 0, qlen = strlen(q);
    int kept = 0;

    while (i < qlen) {
        size_t sp, start, end;
        int ntok = 0;
        while (i < qlen && (sp = space_len(q + i)) != 0)
            i += sp;
        if (i >= qlen)
            break;
        start = i;
        while (i < qlen && space_len(q + i) == 0)
            i++;
        end = i;
        if (c->tok.xTokenize(c->tok_inst, &ntok, FTS5_TOKENIZE_QUERY, q + start, (int)(end - start),
                             count_token) != SQLITE_OK)
            return CS_EDB;
        if (ntok == 0)
            continue;
        if (n + 2 * (end - start) + 16 > cap)
            return CS_ETOOBIG;
        if (kept++)
            memcpy(buf + n, " AND ", 5), n += 5;
        buf[n++] = '"';
        for (size_t k = start; k < end; k++) {
            if (q[k] == '"')
                buf[n++] = '"';
            buf[n++] = q[k];
        }
        buf[n++] = '"';
        mi->start = start;
        mi->end = end;
        mi->star = prefix && end == qlen && !ends_cjk(q + start, end - start);
        if (mi->star)
            buf[n++] = '*';
    }
    buf[n] = '\0';
    mi->nterms = kept;
    return 0;
}

/* The WHERE clauses of the filters on resources r (appended after a WHERE). */
static size_t filter_sql(char *sql, size_t cap, int filters)
{
    size_t n = 0;
    if (filters & F_SUBJECT)
        n += snprintf(sql + n, cap - n, " AND r.subject = :subject");
    if (filters & F_LANGUAGE)
        n += snprintf(sql + n, cap - n, " AND r.language = :language");
    if (filters & F_TYPE)
        n += snprintf(sql + n, cap - n, " AND r.type = :type");
    if (filters & F_GRADE)
        n += snprintf(sql + n, cap - n,
                      " AND EXISTS (SELECT 1 FROM resource_grades g"
                      " WHERE g.resource = r.rid AND g.grade = :grade)");
    return n;
}

static int search_stmt(content_catalog *c, int text, int filters, int count, sqlite3_stmt **out,
                       cs_err *err)
{
    sqlite3_stmt **slot = count ? &c->count[text][filters] : &c->page[text][filters];
    char sql[1024];
    size_t n = 0;
    int rc;

    if (*slot) {
        *out = *slot;
        return 0;
    }
    if (text && count && !filters)
        n += snprintf(sql + n, sizeof sql - n, "SELECT count(*) FROM fts WHERE fts MATCH :q");
    else if (text && count)
        n += snprintf(sql + n, sizeof sql - n,
                      "SELECT count(*) FROM fts CROSS JOIN resources r ON r.rid = fts.rowid "
                      "WHERE fts MATCH :q");
    else if (text && !filters) {
        /* Rank inside FTS5 and join only the page: a query matching 30,000
         * resources must not look each of them up in resources. */
        n += snprintf(sql + n, sizeof sql - n,
                      "SELECT r.id, t.s FROM (" RANKED_SQL(
                          ":q") " LIMIT :limit OFFSET :offset) t "
                                "CROSS JOIN resources r ON r.rid = t.rid ORDER BY t.s, r.id");
        goto prepare;
    } else if (text) /* fts drives the join; the sort keeps only the page */
        n += snprintf(sql + n, sizeof sql - n,
                      "SELECT r.id, bm25(fts, 10.0, 5.0, 1.0) AS s "
                      "FROM fts CROSS JOIN resources r ON r.rid = fts.rowid WHERE fts MATCH :q");
    else if (count)
        n += snprintf(sql + n, sizeof sql - n, "SELECT count(*) FROM resources r WHERE 1");
    else
        n += snprintf(sql + n, sizeof sql - n, "SELECT r.id FROM resources r WHERE 1");
    n += filter_sql(sql + n, sizeof sql - n, filters);
    if (!count)
        n += snprintf(sql + n, sizeof sql - n, "%s LIMIT :limit OFFSET :offset",
                      text ? " ORDER BY s, r.id" : " ORDER BY r.id");
prepare:
    rc = sqlite3_prepare_v3(c->db, sql, (int)n, SQLITE_PREPARE_PERSISTENT, slot, NULL);
    if (rc != SQLITE_OK)
        return db_fail(c, rc, err, "prepare search");
    *out = *slot;
    return 0;
}

/* Pages inside resources whose titles match; the same filters on their
 * resource.  Ranked by bm25 of the title, ties by resource id and path. */
static int entries_stmt(content_catalog *c, int filters, int count, sqlite3_stmt **out, cs_err *err)
{
    sqlite3_stmt **slot = count ? &c->ecount[filters] : &c->epage[filters];
    char sql[1024];
    size_t n = 0;
    int rc;

    if (*slot) {
        *out = *slot;
        return 0;
    }
    n += snprintf(sql + n, sizeof sql - n,
                  count ? "SELECT count(*)"
                        : "SELECT r.id, bm25(entries_fts) AS s, e.path, entries_fts.title");
    n += snprintf(sql + n, sizeof sql - n,
                  " FROM entries_fts CROSS JOIN entries e ON e.eid = entries_fts.rowid"
                  " CROSS JOIN resources r ON r.rid = e.resource WHERE entries_fts MATCH :q");
    n += filter_sql(sql + n, sizeof sql - n, filters);
    if (!count)
        n += snprintf(sql + n, sizeof sql - n,
                      " ORDER BY s, r.id, e.path LIMIT :limit OFFSET :offset");
    rc = sqlite3_prepare_v3(c->db, sql, (int)n, SQLITE_PREPARE_PERSISTENT, slot, NULL);
    if (rc != SQLITE_OK)
        return db_fail(c, rc, err, "prepare entries search");
    *out = *slot;
    return 0;
}

static void bind_named_text(sqlite3_stmt *st, const char *name, const char *v)
{
    int idx = sqlite3_bind_parameter_index(st, name);
    if (idx > 0)
        sqlite3_bind_text(st, idx, v, -1, SQLITE_STATIC);
}

static void bind_named_int(sqlite3_stmt *st, const char *name, sqlite3_int64 v)
{
    int idx = sqlite3_bind_parameter_index(st, name);
    if (idx > 0)
        sqlite3_bind_int64(st, idx, v);
}

static void bind_query(sqlite3_stmt *st, const content_query *q, const char *match, uint32_t limit)
{
    bind_named_text(st, ":q", match);
    bind_named_text(st, ":subject", q->subject);
    bind_named_text(st, ":language", q->language);
    bind_named_text(st, ":type", q->type);
    bind_named_int(st, ":grade", q->grade);
    bind_named_int(st, ":limit", limit);
    bind_named_int(st, ":offset", q->offset);
}

static int run_count(content_catalog *c, int text, int filters, const content_query *q,
                     const char *match, uint64_t *total, cs_err *err)
{
    sqlite3_stmt *st = NULL;
    int rc = search_stmt(c, text, filters, 1, &st, err);
    if (rc != 0)
        return rc;
    bind_query(st, q, match, 0);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        *total = (uint64_t)sqlite3_column_int64(st, 0);
        rc = 0;
    } else {
        rc = db_fail(c, rc, err, "search count");
    }
    release(st);
    return rc;
}

/* Append the page's share of entry hits to h (whose resource hits are
 * ranks 0..h->total-1 of the combined list) and add their count to total. */
static int search_entries(content_catalog *c, const content_query *q, const char *match,
                          int filters, uint32_t limit, content_hits *h, cs_err *err)
{
    sqlite3_stmt *st = NULL;
    uint64_t resources = h->total, etotal = 0;
    uint32_t want = limit - (uint32_t)h->n, got = 0;
    uint64_t eoff = q->offset > resources ? q->offset - resources : 0;
    int rc = 0;

    if (want > 0) {
        content_query eq = *q;
        eq.offset = (uint32_t)eoff;
        if ((rc = entries_stmt(c, filters, 0, &st, err)) != 0)
            return rc;
        bind_query(st, &eq, match, want);
        while ((rc = sqlite3_step(st)) == SQLITE_ROW && got < want) {
            content_hit *hit = &h->items[h->n];
            hit->id = dup_column(st, 0);
            hit->path = dup_column(st, 2);
            hit->title = dup_column(st, 3);
            hit->score = sqlite3_column_double(st, 1);
            if (!hit->id || !hit->path || !hit->title) {
                free(hit->id), free(hit->path), free(hit->title);
                memset(hit, 0, sizeof *hit);
                release(st);
                return cs_err_set(err, CS_ENOMEM, "search: out of memory");
            }
            h->n++;
            got++;
        }
        release(st);
        if (rc != SQLITE_DONE && rc != SQLITE_ROW)
            return db_fail(c, rc, err, "entries search");
        rc = 0;
    }
    if (want > 0 && eoff == 0 && got < want) {
        etotal = got;
    } else {
        if ((rc = entries_stmt(c, filters, 1, &st, err)) != 0)
            return rc;
        bind_query(st, q, match, 0);
        rc = sqlite3_step(st);
        if (rc == SQLITE_ROW) {
            etotal = (uint64_t)sqlite3_column_int64(st, 0);
            rc = 0;
        } else {
            rc = db_fail(c, rc, err, "entries count");
        }
        release(st);
    }
    h->total = resources + etotal;
    return rc;
}

/* ---- precomputed answers (search_hot) ------------------------------------ */

/* The tokens of one query term: how many, and the first one. */
typedef struct tok_one {
    int n, colocated, len;
    char tok[HOT_TOKEN_MAX + 1];
} tok_one;

static int take_token(void *ctx, int tflags, const char *tok, int ntok, int start, int end)
{
    tok_one *t = ctx;
    (void)start, (void)end;
    if (tflags & FTS5_TOKEN_COLOCATED)
        t->colocated = 1;
    if (t->n++ == 0) {
        t->len = ntok;
        if (ntok >= 0 && ntok <= HOT_TOKEN_MAX)
            memcpy(t->tok, tok, (size_t)ntok), t->tok[ntok] = '\0';
    }
    return SQLITE_OK;
}

/* 1 if s[0..n) is exactly one query token (put in *t), else 0. */
static int single_token(content_catalog *c, const char *s, size_t n, tok_one *t)
{
    memset(t, 0, sizeof *t);
    if (c->tok.xTokenize(c->tok_inst, t, FTS5_TOKENIZE_QUERY, s, (int)n, take_token) != SQLITE_OK)
        return 0;
    return t->n == 1 && !t->colocated && t->len > 0 && t->len <= HOT_TOKEN_MAX;
}

static uint64_t get_be64(const unsigned char *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | p[i];
    return v;
}

static void put_be64(unsigned char *p, uint64_t v)
{
    for (int i = 7; i >= 0; i--, v >>= 8)
        p[i] = (unsigned char)v;
}

static int hit_cmp(const void *a, const void *b)
{
    const content_hit *x = a, *y = b;
    if (x->score != y->score)
        return x->score < y->score ? -1 : 1;
    return strcmp(x->id, y->id);
}

/* The page of q from search_hot when q is one precomputed token without
 * filters and the page lies within the stored hits: *found = 1 and *h
 * filled (total too), else *found = 0 and *h untouched. */
static int hot_search(content_catalog *c, const content_query *q, const match_info *mi,
                      uint32_t limit, content_hits *h, int *found, cs_err *err)
{
    sqlite3_stmt *st = NULL, *ids = NULL;
    const unsigned char *top;
    uint64_t total;
    size_t ntop, end;
    tok_one t;
    int rc;

    *found = 0;
    if (!c->has_hot || mi->nterms != 1 ||
        !single_token(c, q->q + mi->start, mi->end - mi->start, &t))
        return 0;
    if ((rc = prep(c, ST_HOT_GET, &st, err)) != 0)
        return rc;
    sqlite3_bind_text(st, 1, t.tok, t.len, SQLITE_STATIC);
    sqlite3_bind_int(st, 2, mi->star);
    rc = sqlite3_step(st);
    if (rc != SQLITE_ROW) {
        release(st);
        return rc == SQLITE_DONE ? 0 : db_fail(c, rc, err, "search_hot");
    }
    total = (uint64_t)sqlite3_column_int64(st, 0);
    top = sqlite3_column_blob(st, 1);
    ntop = (size_t)sqlite3_column_bytes(st, 1) / 16;
    /* Only pages inside the stored hits (or all of them when they are all). */
    if ((size_t)sqlite3_column_bytes(st, 1) % 16 != 0 || ntop > HOT_TOP || ntop > total ||
        (ntop < total && (uint64_t)q->offset + limit > ntop)) {
        release(st);
        return 0;
    }
    end = q->offset + (size_t)limit < ntop ? q->offset + (size_t)limit : ntop;
    if ((rc = prep(c, ST_ID_OF_RID, &ids, err)) != 0)
        goto out;
    for (size_t i = q->offset; i < end; i++) {
        const unsigned char *p = top + 16 * i;
        uint64_t bits = get_be64(p + 8);
        content_hit *hit = &h->items[h->n];
        sqlite3_bind_int64(ids, 1, (sqlite3_int64)get_be64(p));
        rc = sqlite3_step(ids);
        if (rc == SQLITE_ROW)
            hit->id = dup_column(ids, 0);
        release(ids);
        if (rc != SQLITE_ROW) { /* cannot happen in one transaction: use the live search */
            rc = rc == SQLITE_DONE ? 0 : db_fail(c, rc, err, "search_hot id");
            goto out;
        }
        if (!hit->id) {
            rc = cs_err_set(err, CS_ENOMEM, "search: out of memory");
            goto out;
        }
        memcpy(&hit->score, &bits, sizeof hit->score);
        h->n++;
    }
    qsort(h->items, h->n, sizeof *h->items, hit_cmp); /* the page by score, then id */
    h->total = total;
    *found = 1;
    rc = 0;
out:
    if (!*found) {
        for (size_t i = 0; i < h->n; i++)
            free(h->items[i].id), h->items[i].id = NULL;
        h->n = 0;
    }
    release(st);
    return rc;
}

/* A token or prefix worth precomputing; df is its document frequency (for
 * a prefix, an upper bound: the sum over its terms); it matches the terms
 * first..last of the vocabulary (so two with the same range have the same
 * answer: "lesson", "lesson"* and "less"* when lesson is the only such term). */
typedef struct hot_cand {
    char tok[HOT_TOKEN_MAX + 1];
    int prefix;
    sqlite3_int64 df, first, last;
} hot_cand;

typedef struct hot_list {
    hot_cand *v;
    size_t n, cap;
} hot_list;

static int hot_add(hot_list *l, const char *tok, size_t len, int prefix, sqlite3_int64 df,
                   sqlite3_int64 first, sqlite3_int64 last)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 256;
        hot_cand *v = realloc(l->v, cap * sizeof *v);
        if (!v)
            return CS_ENOMEM;
        l->v = v, l->cap = cap;
    }
    memcpy(l->v[l->n].tok, tok, len);
    l->v[l->n].tok[len] = '\0';
    l->v[l->n].prefix = prefix;
    l->v[l->n].df = df;
    l->v[l->n].first = first;
    l->v[l->n].last = last;
    l->n++;
    return 0;
}

static int hot_cand_cmp(const void *a, const void *b)
{
    const hot_cand *x = a, *y = b;
    if (x->df != y->df)
        return x->df > y->df ? -1 : 1;
    if (x->first != y->first)
        return x->first < y->first ? -1 : 1;
    if (x->last != y->last)
        return x->last < y->last ? -1 : 1;
    if (x->prefix != y->prefix)
        return x->prefix - y->prefix;
    return strcmp(x->tok, y->tok);
}

/* Byte length of the longest prefix of s[0..n) that ends on a UTF-8
 * character boundary and is at most max bytes. */
static size_t utf8_cut(const char *s, size_t n, size_t max)
{
    if (n <= max)
        return n;
    while (max > 0 && ((unsigned char)s[max] & 0xC0) == 0x80)
        max--;
    return max;
}

/* Candidates from the vocabulary (terms in byte order): each term with df
 * >= HOT_MIN_DOCS, and each character prefix whose terms' df add up to at
 * least that (a stack of the prefixes of the current term: terms sharing a
 * prefix are adjacent).  Prefixes ending in a CJK character are left out:
 * the query builder never puts '*' after one. */
static int hot_candidates(content_catalog *c, hot_list *l, cs_err *err)
{
    sqlite3_stmt *st = NULL;
    char cur[HOT_TOKEN_MAX + 1];
    size_t lens[HOT_TOKEN_MAX + 1], depth = 0, curlen = 0;
    sqlite3_int64 sums[HOT_TOKEN_MAX + 1], firsts[HOT_TOKEN_MAX + 1], idx = -1;
    int rc = exec(
        c,
        "CREATE VIRTUAL TABLE IF NOT EXISTS temp.search_vocab USING fts5vocab(main, 'fts', 'row')",
        err);
    if (rc != 0)
        return rc;
    rc = sqlite3_prepare_v2(c->db, "SELECT term, doc FROM temp.search_vocab", -1, &st, NULL);
    if (rc != SQLITE_OK)
        return db_fail(c, rc, err, "search_hot vocabulary");
    for (;;) {
        int step = sqlite3_step(st);
        const char *term = NULL;
        size_t len = 0, common = 0, k;
        sqlite3_int64 doc = 0;
        if (step == SQLITE_ROW) {
            term = (const char *)sqlite3_column_text(st, 0);
            len = (size_t)sqlite3_column_bytes(st, 0);
            doc = sqlite3_column_int64(st, 1);
            if (!term)
                continue;
            idx++;
            if (doc >= HOT_MIN_DOCS && len <= HOT_TOKEN_MAX &&
                (rc = hot_add(l, term, len, 0, doc, idx, idx)) != 0) {
                rc = cs_err_set(err, rc, "search_hot: out of memory");
                break;
            }
            len = utf8_cut(term, len, HOT_TOKEN_MAX);
            while (common < len && common < curlen && term[common] == cur[common])
                common++;
        } else if (step != SQLITE_DONE) {
            rc = db_fail(c, step, err, "search_hot vocabulary");
            break;
        }
        /* Prefixes no longer shared are complete. */
        while (depth > 0 && lens[depth - 1] > common) {
            depth--;
            if (sums[depth] >= HOT_MIN_DOCS && !ends_cjk(cur, lens[depth]) &&
                (rc = hot_add(l, cur, lens[depth], 1, sums[depth], firsts[depth],
                              step == SQLITE_ROW ? idx - 1 : idx)) != 0) {
                rc = cs_err_set(err, rc, "search_hot: out of memory");
                break;
            }
        }
        if (rc != 0 || step != SQLITE_ROW)
            break;
        memcpy(cur, term, len);
        curlen = len;
        for (k = depth ? lens[depth - 1] + 1 : 1; k <= len; k++)
            if (k == len || ((unsigned char)term[k] & 0xC0) != 0x80) {
                lens[depth] = k;
                firsts[depth] = idx;
                sums[depth++] = 0;
            }
        for (k = 0; k < depth; k++)
            sums[k] += doc;
    }
    sqlite3_finalize(st);
    if (rc == 0)
        rc = exec(c, "DROP TABLE temp.search_vocab", err);
    return rc;
}

/* Recompute search_hot from fts (inside the caller's transaction). */
static int hot_rebuild(content_catalog *c, cs_err *err)
{
    hot_list l = {NULL, 0, 0};
    sqlite3_stmt *count = NULL, *ranked = NULL, *put = NULL;
    unsigned char *blob = malloc(16 * HOT_TOP);
    size_t kept = 0, n = 0;
    sqlite3_int64 total = 0, first = -1, last = -1; /* the answer in blob, for terms first..last */
    int rc;

    if (!blob)
        return cs_err_set(err, CS_ENOMEM, "search_hot: out of memory");
    if ((rc = exec(c, "DELETE FROM search_hot; DELETE FROM meta WHERE key = 'hot_stale'", err)) !=
            0 ||
        (rc = hot_candidates(c, &l, err)) != 0)
        goto out;
    if (l.n == 0) /* a small catalogue: nothing is frequent enough */
        goto out;
    qsort(l.v, l.n, sizeof *l.v, hot_cand_cmp);
    if ((rc = sqlite3_prepare_v2(c->db, "SELECT count(*) FROM fts WHERE fts MATCH ?1", -1, &count,
                                 NULL)) != SQLITE_OK ||
        (rc = sqlite3_prepare_v2(c->db, RANKED_SQL("?1") " LIMIT ?2", -1, &ranked, NULL)) !=
            SQLITE_OK) {
        rc = db_fail(c, rc, err, "prepare search_hot");
        goto out;
    }
    if ((rc = prep(c, ST_HOT_PUT, &put, err)) != 0)
        goto out;
    for (size_t i = 0; i < l.n && kept < HOT_MAX_ROWS; i++) {
        const hot_cand *h = &l.v[i];
        char match[2 * HOT_TOKEN_MAX + 4];
        size_t m = 0;
        tok_one t;
        /* Only what a query can ask: a token that is its own single token. */
        if (!single_token(c, h->tok, strlen(h->tok), &t) || strcmp(t.tok, h->tok) != 0)
            continue;
        if (h->first == first && h->last == last)
            goto store; /* the same terms: the same answer */
        first = h->first, last = h->last, n = 0;
        match[m++] = '"';
        for (const char *p = h->tok; *p; p++) {
            if (*p == '"')
                match[m++] = '"';
            match[m++] = *p;
        }
        match[m++] = '"';
        if (h->prefix)
            match[m++] = '*';
        match[m] = '\0';
        sqlite3_bind_text(count, 1, match, (int)m, SQLITE_STATIC);
        rc = sqlite3_step(count);
        total = sqlite3_column_int64(count, 0);
        sqlite3_reset(count);
        if (rc != SQLITE_ROW) {
            rc = db_fail(c, rc, err, "search_hot count");
            goto out;
        }
        if (total < HOT_MIN_DOCS)
            continue;
        sqlite3_bind_text(ranked, 1, match, (int)m, SQLITE_STATIC);
        sqlite3_bind_int(ranked, 2, HOT_TOP);
        while ((rc = sqlite3_step(ranked)) == SQLITE_ROW && n < HOT_TOP) {
            double s = sqlite3_column_double(ranked, 1);
            uint64_t bits;
            memcpy(&bits, &s, sizeof bits);
            put_be64(blob + 16 * n, (uint64_t)sqlite3_column_int64(ranked, 0));
            put_be64(blob + 16 * n + 8, bits);
            n++;
        }
        sqlite3_reset(ranked);
        if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
            rc = db_fail(c, rc, err, "search_hot ranking");
            goto out;
        }
    store:
        if (total < HOT_MIN_DOCS)
            continue;
        sqlite3_bind_text(put, 1, h->tok, -1, SQLITE_STATIC);
        sqlite3_bind_int(put, 2, h->prefix);
        sqlite3_bind_int64(put, 3, total);
        sqlite3_bind_blob(put, 4, blob, (int)(16 * n), SQLITE_STATIC);
        rc = step_done(c, put, err, "search_hot insert");
        release(put);
        if (rc != 0)
            goto out;
        kept++;
    }
    rc = 0;
out:
    sqlite3_finalize(count);
    sqlite3_finalize(ranked);
    free(l.v);
    free(blob);
    if (rc != 0)
        cs_err_wrap(err, "precomputing search answers");
    return rc;
}

int content_catalog_search(content_catalog *c, const content_query *q, content_hits *out,
                           cs_err *err)
{
    char match[MATCH_MAX];
    content_hits h = {NULL, 0, 0};
    sqlite3_stmt *st = NULL;
    match_info mi = {0, 0, 0, 0};
    uint32_t limit;
    int rc, text = 0, filters = 0, hot = 0;

    if (!c || !q || !out)
        return cs_err_set(err, CS_EINVAL, "search: bad arguments");
    limit = q->limit == 0 ? 20 : q->limit;
    if (limit > CONTENT_QUERY_MAX_LIMIT)
        limit = CONTENT_QUERY_MAX_LIMIT;
    if (q->q && q->q[0]) {
        if (strnlen(q->q, CONTENT_QUERY_MAX_TEXT + 1) > CONTENT_QUERY_MAX_TEXT)
            return cs_err_set(err, CS_ETOOBIG, "search: query longer than %d bytes",
                              CONTENT_QUERY_MAX_TEXT);
        rc = build_match(c, q->q, q->prefix, match, sizeof match, &mi);
        if (rc != 0)
            return cs_err_set(err, rc, "search: cannot build the query");
        if (mi.nterms == 0) {
            *out = h; /* only punctuation: nothing can match */
            return 0;
        }
        text = 1;
    }
    filters = (q->subject ? F_SUBJECT : 0) | (q->language ? F_LANGUAGE : 0) |
              (q->type ? F_TYPE : 0) | (q->grade >= 0 ? F_GRADE : 0);
    h.items = calloc(limit, sizeof *h.items);
    if (!h.items) {
        rc = cs_err_set(err, CS_ENOMEM, "search: out of memory");
        goto out;
    }
    /* One frequent token, no filters: its first pages are precomputed. */
    if (text && !filters && (rc = hot_search(c, q, &mi, limit, &h, &hot, err)) != 0)
        goto out;
    if (!hot) {
        if ((rc = search_stmt(c, text, filters, 0, &st, err)) != 0)
            goto out;
        bind_query(st, q, text ? match : NULL, limit);
        while ((rc = sqlite3_step(st)) == SQLITE_ROW && h.n < limit) {
            content_hit *hit = &h.items[h.n];
            hit->id = dup_column(st, 0);
            if (!hit->id) {
                rc = cs_err_set(err, CS_ENOMEM, "search: out of memory");
                goto out;
            }
            hit->score = text ? sqlite3_column_double(st, 1) : 0.0;
            h.n++;
        }
        if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
            rc = db_fail(c, rc, err, "search");
            goto out;
        }
        release(st);
        st = NULL;
        rc = 0;
        /* A short first page is the whole result; otherwise count (cheap: no
         * ranking, and no join without filters). */
        if (q->offset == 0 && h.n < limit)
            h.total = h.n;
        else
            rc = run_count(c, text, filters, q, text ? match : NULL, &h.total, err);
    }
    if (rc == 0 && text && q->entries && c->has_entries)
        rc = search_entries(c, q, match, filters, limit, &h, err);
out:
    release(st);
    if (rc != 0) {
        content_hits_clear(&h);
        return rc;
    }
    *out = h;
    return 0;
}

void content_hits_clear(content_hits *h)
{
    if (!h)
        return;
    for (size_t i = 0; h->items && i < h->n; i++) {
        free(h->items[i].id);
        free(h->items[i].path);
        free(h->items[i].title);
    }
    free(h->items);
    h->items = NULL;
    h->n = 0;
    h->total = 0;
}

int content_catalog_facets(content_catalog *c, const char *field, content_catalog_facet_cb cb,
                           void *ctx, cs_err *err)
{
    static const struct {
        const char *name, *sql;
    } facets[] = {
        {"subject", "SELECT subject, count(*) FROM resources WHERE subject IS NOT NULL "
                    "GROUP BY subject ORDER BY subject"},
        {"language",
         "SELECT language, count(*) FROM resources GROUP BY language ORDER BY language"},
        {"type", "SELECT type, count(*) FROM resources GROUP BY type ORDER BY type"},
        {"grade", "SELECT grade, count(*) FROM resource_grades GROUP BY grade ORDER BY grade"},
    };
    const char *sql = NULL;
    for (size_t i = 0; i < sizeof facets / sizeof facets[0]; i++)
        if (strcmp(facets[i].name, field) == 0)
            sql = facets[i].sql;
    if (!sql)
        return cs_err_set(err, CS_EINVAL, "unknown facet \"%s\"", field);
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(c->db, sql, -1, &st, NULL);
    if (rc != SQLITE_OK)
        return db_fail(c, rc, err, "facets");
    int ret = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *v = (const char *)sqlite3_column_text(st, 0);
        if (v && (ret = cb(ctx, v, (uint64_t)sqlite3_column_int64(st, 1))) != 0)
            break;
    }
    if (ret == 0 && rc != SQLITE_DONE)
        ret = db_fail(c, rc, err, "facets");
    sqlite3_finalize(st);
    return ret;
}

int content_catalog_snapshot(content_catalog *c, cs_err *err)
{
    if (!c->rdonly)
        return cs_err_set(err, CS_EINVAL, "catalogue snapshots are for read-only handles");
    content_catalog_snapshot_end(c);
    int rc = sqlite3_exec(c->db, "BEGIN; SELECT count(*) FROM meta", NULL, NULL, NULL);
    if (rc != SQLITE_OK) {
        content_catalog_snapshot_end(c);
        return db_fail(c, rc, err, "starting a read snapshot");
    }
    return 0;
}

void content_catalog_snapshot_end(content_catalog *c)
{
    if (c && !sqlite3_get_autocommit(c->db))
        sqlite3_exec(c->db, "COMMIT", NULL, NULL, NULL);
}

int content_catalog_entry(content_catalog *c, const char *id, char *buf, size_t cap, cs_err *err)
{
    sqlite3_stmt *st = NULL;
    int rc = prep(c, ST_ENTRY, &st, err);
    if (rc)
        return rc;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    int step = sqlite3_step(st);
    if (step == SQLITE_ROW) {
        const char *e = (const char *)sqlite3_column_text(st, 0);
        if (!e || strlen(e) >= cap)
            rc = cs_err_set(err, CS_ETOOBIG, "entry of %s too long", id);
        else
            memcpy(buf, e, strlen(e) + 1);
    } else if (step == SQLITE_DONE) {
        rc = cs_err_set(err, CS_ENOENT, "no resource \"%s\"", id);
    } else {
        rc = db_fail(c, step, err, "entry");
    }
    release(st);
    return rc;
}

int content_catalog_integrity(content_catalog *c, cs_err *err)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(c->db, "PRAGMA integrity_check(5)", -1, &st, NULL);
    if (rc != SQLITE_OK)
        return db_fail(c, rc, err, "integrity check");
    int ret = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *m = (const char *)sqlite3_column_text(st, 0);
        if (m && strcmp(m, "ok") != 0 && ret == 0)
            ret = cs_err_set(err, CS_ECORRUPT, "catalogue database damaged: %s", m);
    }
    if (ret == 0 && rc != SQLITE_DONE)
        ret = db_fail(c, rc, err, "integrity check");
    sqlite3_finalize(st);
    return ret;
}
