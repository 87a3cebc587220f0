/*
 * store.h - the node's content-addressed object store.
 *
 * DATA/store/ holds append-only pack files (pack-000001.pack, ...) of encoded
 * objects (see object.h) and index.db, a SQLite table from object id to
 * (pack, offset, lengths).  Identical content is stored once.  Many small
 * files share one pack, so 100,000 files do not become 100,000 inodes.
 *
 * Durability: puts go to the pack's tail; content_store_flush fsyncs the
 * pack(s) and then commits the index rows in one transaction, durably
 * (index.db runs synchronous=FULL): once the flush returns, a power cut cannot
 * take the objects back, so a catalogue may then name them.  An object is
 * present (content_store_has) only once its index row is committed; bytes
 * past the last committed end of a pack are discarded at the next open.
 * One writer at a time (a lock file); any number of readers, including in
 * other processes.
 */
#ifndef CONTENT_STORE_H
#define CONTENT_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "platform/error.h"

typedef struct content_store content_store;

enum { CONTENT_STORE_RDONLY = 1 };

typedef struct content_obj_info {
    uint64_t raw_len;
    uint64_t enc_len;
} content_obj_info;

typedef struct content_store_stats {
    uint64_t objects;
    uint64_t raw_bytes;  /* sum of raw lengths */
    uint64_t enc_bytes;  /* sum of encoded lengths of live objects */
    uint64_t disk_bytes; /* pack files + index on disk */
    uint32_t packs;
} content_store_stats;

/* Open (creating if absent unless RDONLY) the store in dir. */
int content_store_open(content_store **out, const char *dir, int flags, cs_err *err);
void content_store_free(content_store *s); /* NULL ok; does not flush */

/* 1 if the object is present (committed), 0 if not. */
int content_store_has(content_store *s, const uint8_t id[32]);
int content_store_stat(content_store *s, const uint8_t id[32], content_obj_info *out, cs_err *err);

/* Store raw bytes; id receives their SHA-256.  Duplicates are not stored twice. */
int content_store_put_buf(content_store *s, const void *raw, size_t len, uint8_t id[32],
                          cs_err *err);
/* Store a file's contents by streaming (large files never held in memory). */
int content_store_put_file(content_store *s, const char *path, uint8_t id[32], uint64_t *raw_len,
                           cs_err *err);
/* Store an already-encoded object after verifying it decodes to expect_id
 * (every block and the hash).  Used by import: no recompression. */
int content_store_put_encoded(content_store *s, const uint8_t expect_id[32], const uint8_t *enc,
                              size_t enc_len, cs_err *err);
/* Streaming variant for large encoded objects read from a file descriptor at
 * offset off (a bundle); verifies as it copies. */
int content_store_put_encoded_fd(content_store *s, const uint8_t expect_id[32], int fd,
                                 uint64_t off, uint64_t enc_len, cs_err *err);
/* Make all puts so far durable and visible: fsync packs, commit index (the
 * commit fsyncs index.db's WAL before it returns). */
int content_store_flush(content_store *s, cs_err *err);
/* Bytes put since the last flush (callers flush every N MiB). */
uint64_t content_store_pending(const content_store *s);

/* Read raw bytes [off, off+len) of an object into dst, decoding only the
 * blocks touched.  *out_n < len only at the end of the object. */
int content_store_read(content_store *s, const uint8_t id[32], uint64_t off, void *dst, size_t len,
                       size_t *out_n, cs_err *err);
/* Read the encoded form [off, off+len) (for bundles and mirrors). */
int content_store_read_encoded(content_store *s, const uint8_t id[32], uint64_t off, void *dst,
                               size_t len, size_t *out_n, cs_err *err);

/* Read-only handles: one read transaction across many lookups (see
 * content_catalog_snapshot); refresh about every second. */
int content_store_snapshot(content_store *s, cs_err *err);
void content_store_snapshot_end(content_store *s);

/* A reader streams one object without holding the store handle: it keeps its
 * own descriptor of the pack (so it survives gc moving the object) and its
 * own block buffers.  One reader per stream; not shared between threads. */
typedef struct content_reader content_reader;
int content_store_reader_open(content_store *s, const uint8_t id[32], content_reader **out,
                              cs_err *err);
uint64_t content_reader_size(const content_reader *r);
/* Raw bytes [off, off+len), decoding only the blocks touched. */
int content_reader_read(content_reader *r, uint64_t off, void *dst, size_t len, size_t *out_n,
                        cs_err *err);
void content_reader_free(content_reader *r); /* NULL ok */

/* Re-hash every object.  cb is called for each damaged one (id, reason);
 * *damaged receives the count.  Returns 0 even when damage was found. */
typedef void (*content_store_damage_cb)(void *ctx, const uint8_t id[32], const char *reason);
typedef void (*content_store_progress_cb)(void *ctx, uint64_t done, uint64_t total);
int content_store_verify(content_store *s, content_store_damage_cb cb, void *ctx,
                         content_store_progress_cb progress, void *pctx, uint64_t *damaged,
                         cs_err *err);
/* PRAGMA integrity_check of index.db: CS_ECORRUPT if damaged. */
int content_store_integrity(content_store *s, cs_err *err);

/* Drop a damaged object's index row so it can be fetched again. */
int content_store_forget(content_store *s, const uint8_t id[32], cs_err *err);

/* Garbage collection: every object for which is_live returns 0 is dropped;
 * packs whose live bytes fall under half are rewritten.  Crash-safe. */
typedef int (*content_store_live_cb)(void *ctx, const uint8_t id[32]);
int content_store_gc(content_store *s, content_store_live_cb is_live, void *ctx,
                     uint64_t *freed_objects, uint64_t *freed_bytes, cs_err *err);
/* Progress of content_store_gc on this handle (NULL: none): phase
 * "checking references" counts objects, "compacting" counts live bytes
 * copied.  Each phase reports done == total when it ends. */
typedef void (*content_store_phase_cb)(void *ctx, const char *phase, uint64_t done, uint64_t total);
void content_store_gc_progress_set(content_store *s, content_store_phase_cb cb, void *ctx);

int content_store_stats_get(content_store *s, content_store_stats *out, cs_err *err);

#endif
