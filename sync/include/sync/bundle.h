/*
 * bundle.h - USB bundles: one file with signed metadata, catalogue changes
 * and the objects a node at a given version lacks.
 *
 *   offset  size  field
 *   0       4     magic "CSBN"
 *   4       4     format version (1), u32 LE
 *   8       8     since: the node version this bundle updates (0 = any)
 *   16      8     to_version: the catalogue version it brings
 *   24      4     number of table entries (u32 LE)
 *   28      4     reserved, 0
 *   32      8     table length in bytes (u64 LE)
 *   40      32    SHA-256 over bytes [0, 40) and the table
 *   72      ...   table, then the sections it points to
 *
 * Table entry:
 *   0   1   kind: 1 metadata file, 2 catalogue file, 3 object
 *   1   3   reserved, 0
 *   4   4   name length n (u32 LE, 1..255)
 *   8   8   offset of the section from the start of the file (u64 LE)
 *   16  8   length of the section (u64 LE)
 *   24  32  for objects: the object id (SHA-256 of raw bytes); otherwise
 *           the SHA-256 of the section bytes
 *   56  n   name: metadata "root.json"-style repository name
 *           ("2.root.json", "timestamp.json", "5.snapshot.json",
 *           "5.targets.json"), catalogue "catalog/<sha>.cat", object hex id
 *
 * Sections are trusted only through signed metadata: metadata by signatures
 * chained to the node's pinned root, catalogue files by their length and hash
 * in targets, objects by their id in the signed catalogue.
 */
#ifndef SYNC_BUNDLE_H
#define SYNC_BUNDLE_H

#include <stdint.h>

#include "platform/error.h"

#define BUNDLE_MAGIC "CSBN"
#define BUNDLE_HDR 72
#define BUNDLE_ENTRY_FIXED 56
#define BUNDLE_MAX_ENTRIES 20000000u
#define BUNDLE_MAX_TABLE (2ULL << 30)
#define BUNDLE_MAX_NAMED 4096u /* metadata and catalogue entries */

enum { BUNDLE_META = 1, BUNDLE_CATALOG = 2, BUNDLE_OBJECT = 3 };

/* One table entry.  Objects keep no name (it must equal their hex id, which
 * the parser checks), so a million-object bundle costs ~56 MB, not ~300. */
typedef struct sync_bundle_entry {
    uint8_t kind;
    const char *name; /* metadata and catalogue entries; NULL for objects */
    uint64_t offset;
    uint64_t length;
    uint8_t hash[32];
} sync_bundle_entry;

typedef struct sync_bundle {
    int fd;
    uint64_t file_size;
    uint64_t since;
    uint64_t to_version;
    sync_bundle_entry *entries;
    uint32_t n;
    char *names; /* storage of the non-object names */
} sync_bundle;

/* Open and check the header and table (checksum, bounds, no overlaps past
 * the end, names).  Does not trust anything yet. */
int sync_bundle_open(sync_bundle **out, const char *path, cs_err *err);
void sync_bundle_free(sync_bundle *b);
/* Read a whole non-object section (capped at max). */
int sync_bundle_read(sync_bundle *b, const sync_bundle_entry *e, uint64_t max, uint8_t **out,
                     cs_err *err);
const sync_bundle_entry *sync_bundle_find(const sync_bundle *b, uint8_t kind, const char *name);

#endif
