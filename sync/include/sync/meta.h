/*
 * meta.h - signed repository metadata, modelled on The Update Framework.
 *
 * Four roles, each a JSON file {"signed": {...}, "signatures": [...]}:
 *   root       keys and thresholds of every role; rotated by successive
 *              versions, each signed by the previous root's threshold and
 *              its own (N.root.json)
 *   targets    the catalogue files (full, and changes since recent versions)
 *              with lengths and SHA-256; the catalogue in turn lists every
 *              file's object id and encoded length (N.targets.json)
 *   snapshot   the one targets version that belongs to it (N.snapshot.json)
 *   timestamp  the current snapshot; short expiry, online key (timestamp.json)
 *
 * A signature is ECDSA P-256 (DER, hex) over the canonical form of the
 * "signed" value: jansson's compact dump with sorted keys and ASCII escapes.
 * Signed values may hold only objects, arrays, strings, integers, booleans
 * and null (no floating point), so the canonical form is unambiguous.
 * See docs/repository.md.
 */
#ifndef SYNC_META_H
#define SYNC_META_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "platform/crypto.h"
#include "platform/error.h"

#define SYNC_SPEC "cistern-1"
#define SYNC_META_MAX (1024 * 1024) /* any one metadata file */
#define SYNC_ROOT_MAX (64 * 1024)
#define SYNC_MAX_KEYS 32
#define SYNC_MAX_SIGS 32
#define SYNC_MAX_DELTAS 64

typedef enum sync_role { SYNC_ROOT, SYNC_TARGETS, SYNC_SNAPSHOT, SYNC_TIMESTAMP, SYNC_NROLES } sync_role;

const char *sync_role_name(sync_role r);

typedef struct sync_root sync_root; /* parsed root metadata (opaque) */

/* Parse root metadata and check it is signed by a threshold of its own root
 * keys (a root always vouches for itself).  Does not check expiry. */
int sync_root_load(sync_root **out, const char *text, size_t len, cs_err *err);
void sync_root_free(sync_root *r);
int64_t sync_root_version(const sync_root *r);
int64_t sync_root_expires(const sync_root *r);
/* The next root in a rotation chain: must be version cur+1 and signed by a
 * threshold of cur's root keys as well as its own. */
int sync_root_rotate(const sync_root *cur, const char *text, size_t len, sync_root **out,
                     cs_err *err);

/* 1 if both roots give role the same keys and threshold. */
int sync_root_role_same(const sync_root *a, const sync_root *b, sync_role role);

/* Verify a role's metadata against root: envelope, _type, spec, threshold
 * of distinct valid signatures from the role's keys.  *signed_out is the
 * "signed" object (a new reference; caller json_decref's). */
int sync_meta_verify(const sync_root *root, sync_role role, const char *text, size_t len,
                     json_t **signed_out, cs_err *err);

/* version and expires of a verified signed object (expires as epoch s). */
int sync_meta_version(const json_t *signed_obj, int64_t *version, int64_t *expires, cs_err *err);

/* Canonical bytes of a JSON value (malloc'd NUL-terminated; caller frees).
 * Refuses floating point values. */
int sync_canonical(const json_t *v, char **out, size_t *len, cs_err *err);

/* Sign: produce the envelope text for `signed_obj` with the given private
 * keys (malloc'd, caller frees). */
int sync_meta_sign(const json_t *signed_obj, cs_key *const *keys, size_t nkeys, char **out,
                   size_t *len, cs_err *err);

/* A file reference as targets/snapshot/timestamp carry it. */
typedef struct sync_fileref {
    char path[256];
    uint64_t length;
    uint8_t sha256[32];
    int64_t version; /* for snapshot/timestamp meta entries; 0 otherwise */
} sync_fileref;

/* Parse {"path":..,"length":..,"sha256":..[,"version":..]} with limits. */
int sync_fileref_parse(const json_t *o, sync_fileref *out, cs_err *err);
json_t *sync_fileref_json(const sync_fileref *f);

/* Check a length and SHA-256 of bytes against a reference. */
int sync_fileref_check(const sync_fileref *f, const void *data, size_t len, cs_err *err);

#endif
