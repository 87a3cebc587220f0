/*
 * catfile.h - catalogue files: a whole catalogue version, or the records that
 * changed between two versions, as they travel from hub to node.
 *
 *   offset size  field
 *   0      4     magic "CSCT"
 *   4      4     format version (1), u32 LE
 *   8      8     from_version (u64 LE; 0 in a full catalogue)
 *   16     8     to_version (u64 LE)
 *   24     4     record count (u32 LE)
 *   28     4     flags (u32 LE): bit 0 = full catalogue (replaces everything)
 *   32     8     payload length after decompression (u64 LE)
 *   40     ...   one zstd frame: the payload
 *
 * The payload is UTF-8 JSON Lines, one record a line, sorted by id:
 *   {"op":"put","resource":{...resource.json...},
 *    "files":[["path",size,"mime","object-hex",encoded_len(,deltas)],...]}
 * where the optional deltas are [["base-object-hex",delta_len],...] (at
 * most CATFILE_MAX_DELTAS): zstd patch-from deltas that rebuild this object
 * from an older one, at deltas/<first 2 hex of object>/<base>-<object>.zst.
 *   {"op":"del","id":"..."}
 * A catalogue file is trusted through its length and SHA-256 in signed
 * targets metadata.  Limits: CATFILE_MAX_PAYLOAD decompressed bytes,
 * CATFILE_MAX_LINE bytes a record, CATFILE_MAX_RECORDS records.
 */
#ifndef SYNC_CATFILE_H
#define SYNC_CATFILE_H

#include <stdint.h>
#include <stdio.h>

#include "content/catalog.h"
#include "content/resource.h"
#include "platform/buf.h"
#include "platform/error.h"

#define CATFILE_MAGIC "CSCT"
#define CATFILE_HDR 40
#define CATFILE_FULL 1u
#define CATFILE_MAX_PAYLOAD (4ULL << 30)
#define CATFILE_MAX_LINE (64u << 20)
#define CATFILE_MAX_RECORDS 10000000u
#define CATFILE_MAX_DELTAS 8

typedef struct sync_catfile_header {
    uint32_t format;
    uint64_t from_version;
    uint64_t to_version;
    uint32_t records;
    uint32_t flags;
    uint64_t payload_len;
} sync_catfile_header;

/* Writer: records are appended as JSON lines and compressed at the end. */
typedef struct sync_catfile_writer sync_catfile_writer;
int sync_catfile_writer_new(sync_catfile_writer **out, uint64_t from, uint64_t to, uint32_t flags);
/* Append one record line (without newline); the writer adds it. */
int sync_catfile_writer_add(sync_catfile_writer *w, const char *line, size_t len, cs_err *err);
/* Produce the whole file in memory (caller frees *out). */
int sync_catfile_writer_finish(sync_catfile_writer *w, int level, uint8_t **out, size_t *out_len,
                               cs_err *err);
void sync_catfile_writer_free(sync_catfile_writer *w);

int sync_catfile_header_parse(sync_catfile_header *h, const uint8_t *p, size_t len, cs_err *err);

/* Read a catalogue file held in memory: cb gets each record (a parsed JSON
 * object, borrowed) in order; it returns 0 to go on. */
typedef int (*sync_catfile_record_cb)(void *ctx, json_t *rec, cs_err *err);
int sync_catfile_read(const uint8_t *data, size_t len, sync_catfile_header *hdr,
                      sync_catfile_record_cb cb, void *ctx, cs_err *err);

/* Turn a "put" record into a resource (validates everything; caller frees),
 * and a resource into a "put" record line (canonical JSON, caller frees). */
int sync_record_to_resource(json_t *rec, content_resource **out, cs_err *err);
int sync_resource_to_record(const content_resource *r, char **out, size_t *len, cs_err *err);
/* The same with deltas: an object mapping a file path to its deltas array. */
int sync_resource_to_record_ex(const content_resource *r, const json_t *deltas, char **out, size_t *len,
                               cs_err *err);
/* 0 if d is a well-formed deltas array. */
int sync_deltas_valid(const json_t *d);

/* Apply a catalogue file to a catalogue inside the caller's transaction.
 * A full file clears the catalogue first.  file_cb, if set, is called for
 * every file of every put resource and returns 1 if the file's object is
 * present, 0 if not (the resource is then put as not cached), or a negative
 * CS_E code to stop. */
typedef int (*sync_catfile_file_cb)(void *ctx, const content_resource *r, const content_file *f);
int sync_catfile_apply(content_catalog *cat, const uint8_t *data, size_t len,
                       sync_catfile_file_cb file_cb, void *ctx, cs_err *err);

#endif
