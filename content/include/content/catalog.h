/*
 * catalog.h - the catalogue: resources, their files and full-text search in
 * SQLite (WAL mode).
 *
 * Search uses FTS5 with the project's own tokenizer "cistern" (see
 * docs/catalogue.md): runs of Han/Kana/Hangul characters are indexed as
 * single characters plus overlapping bigrams at the same position, so 1- and
 * 2-character Chinese queries match and longer ones match as phrases of
 * bigrams; other scripts go through unicode61 (case and diacritic folding),
 * with prefix queries for typeahead.  Ranked by bm25 (title > keywords >
 * description).
 *
 * Entries (format 2): a resource may carry a titles file (content/zim.h,
 * ".cistern/titles.tsv": its pages' paths and titles, e.g. the articles of
 * a ZIM archive).  With a store attached, the titles of cached resources
 * are indexed in a second FTS5 table, and searches that ask for it
 * (content_query.entries) also return pages inside resources, after the
 * resources themselves.
 *
 * Writers wrap changes in begin/commit: a whole catalogue version becomes
 * visible at once.  Readers (other connections, other processes) see the
 * last committed version.
 */
#ifndef CONTENT_CATALOG_H
#define CONTENT_CATALOG_H

#include <stddef.h>
#include <stdint.h>

#include "content/resource.h"
#include "platform/error.h"

typedef struct content_catalog content_catalog;

enum { CONTENT_CATALOG_RDONLY = 1 };

int content_catalog_open(content_catalog **out, const char *path, int flags, cs_err *err);

/* The store that titles files are read from when a cached resource is put
 * or marked cached (not owned; NULL detaches).  Writable handles only do
 * work: once, after an upgrade from format 1, the titles of the resources
 * already cached are indexed here. */
struct content_store;
int content_catalog_attach_store(content_catalog *c, struct content_store *s, cs_err *err);
void content_catalog_free(content_catalog *c); /* NULL ok; rolls back an open transaction */

int content_catalog_begin(content_catalog *c, cs_err *err);

/* Read-only handles: hold one read transaction across many queries (no
 * per-query file locking), until _snapshot_end or the next _snapshot.
 * Commits made meanwhile become visible at the next snapshot; long-lived
 * snapshots hold back WAL checkpoints, so refresh them often (~1 s). */
int content_catalog_snapshot(content_catalog *c, cs_err *err);
void content_catalog_snapshot_end(content_catalog *c);
/* A commit that changed the full-text index recomputes the precomputed
 * answers of frequent terms (search_hot; ~25 s at 130,000 resources). */
int content_catalog_commit(content_catalog *c, cs_err *err);
void content_catalog_rollback(content_catalog *c);
/* on: this handle's commits only empty search_hot (searches run live until a
 * later commit recomputes it), for small changes a person waits on (a
 * teacher's upload).  Imports and syncs leave it off. */
void content_catalog_hot_defer(content_catalog *c, int on);

/* Insert or replace a resource with its files (r->meta must validate). */
int content_catalog_put(content_catalog *c, const content_resource *r, cs_err *err);
/* CS_ENOENT if absent. */
int content_catalog_delete(content_catalog *c, const char *id, cs_err *err);
/* Remove every resource (a full catalogue is about to be applied). */
int content_catalog_clear(content_catalog *c, cs_err *err);
int content_catalog_set_cached(content_catalog *c, const char *id, int cached, cs_err *err);

/* The catalogue version applied (0 when empty) and free-form state strings
 * (sync bookkeeping) stored in the same database, inside the same
 * transactions. */
int content_catalog_version(content_catalog *c, int64_t *out, cs_err *err);
int content_catalog_set_version(content_catalog *c, int64_t v, cs_err *err);
/* *out malloc'd (caller frees), NULL if absent. */
int content_catalog_state_get(content_catalog *c, const char *key, char **out, cs_err *err);
int content_catalog_state_set(content_catalog *c, const char *key, const char *value, cs_err *err);

/* *out owned by the caller (content_resource_free); CS_ENOENT if absent. */
int content_catalog_get(content_catalog *c, const char *id, content_resource **out, cs_err *err);
/* The stored resource.json of id as text (compact, as json_dumps wrote it)
 * and its cached flag, without parsing it: *json malloc'd, caller frees;
 * CS_ENOENT if absent. */
int content_catalog_get_json(content_catalog *c, const char *id, char **json, int *cached,
                             cs_err *err);
/* The entry file's path of a resource into buf (CS_ENOENT if no resource). */
int content_catalog_entry(content_catalog *c, const char *id, char *buf, size_t cap, cs_err *err);
/* One file of a resource; out's strings owned by caller (content_file_clear). */
int content_catalog_file(content_catalog *c, const char *id, const char *path, content_file *out,
                         cs_err *err);

typedef int (*content_catalog_object_cb)(void *ctx, const uint8_t id[32], uint64_t raw_len,
                                         uint64_t enc_len);
/* Every distinct object referenced by any resource; cb returning non-zero stops
 * the walk and that value is returned. */
int content_catalog_foreach_object(content_catalog *c, content_catalog_object_cb cb, void *ctx,
                                   cs_err *err);
typedef int (*content_catalog_resource_cb)(void *ctx, const content_resource *r);
/* Every resource in id order, with files. */
int content_catalog_foreach_resource(content_catalog *c, content_catalog_resource_cb cb, void *ctx,
                                     cs_err *err);
/* 1 if some resource references object id. */
int content_catalog_references(content_catalog *c, const uint8_t id[32]);

/* PRAGMA integrity_check: CS_ECORRUPT with the first problems if damaged. */
int content_catalog_integrity(content_catalog *c, cs_err *err);

int content_catalog_counts(content_catalog *c, uint64_t *resources, uint64_t *files,
                           uint64_t *bytes, cs_err *err);

/* Distinct values of a field ("subject", "language", "type", "grade") with
 * the number of resources having each, in value order. */
typedef int (*content_catalog_facet_cb)(void *ctx, const char *value, uint64_t count);
int content_catalog_facets(content_catalog *c, const char *field, content_catalog_facet_cb cb,
                           void *ctx, cs_err *err);

typedef struct content_query {
    const char *q;        /* free text; NULL or "" = browse everything */
    const char *subject;  /* filters; NULL = any */
    const char *language;
    const char *type;
    int grade;            /* -1 = any */
    int prefix;           /* last word is a prefix (typeahead) */
    int entries;          /* with q: also pages inside resources (titles files), after the
                             resources; hits then carry path and title */
    uint32_t limit;       /* 1..CONTENT_QUERY_MAX_LIMIT; 0 means 20 */
    uint32_t offset;
} content_query;

#define CONTENT_QUERY_MAX_LIMIT 200
#define CONTENT_QUERY_MAX_TEXT 256 /* bytes of q; longer is CS_ETOOBIG */

typedef struct content_hit {
    char *id;
    double score; /* bm25: lower is better; 0 when browsing */
    char *path;   /* a page inside resource id (query.entries), else NULL */
    char *title;  /* that page's title, else NULL */
} content_hit;

typedef struct content_hits {
    content_hit *items;
    size_t n;
    uint64_t total; /* matches before paging */
} content_hits;

int content_catalog_search(content_catalog *c, const content_query *q, content_hits *out,
                           cs_err *err);
void content_hits_clear(content_hits *h);

/* Register the "cistern" FTS5 tokenizer on a connection (done by open; public
 * so tests and tools can tokenize). */
struct sqlite3;
int content_fts_register(struct sqlite3 *db, cs_err *err);
/* Tokenize text the way the index does (for tests and debugging): cb gets
 * each token and whether it is colocated with the previous one. */
typedef void (*content_token_cb)(void *ctx, const char *tok, int len, int colocated);
int content_fts_tokenize(const char *text, int len, int query, content_token_cb cb, void *ctx);

#endif
