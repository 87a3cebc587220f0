/*
 * apply_int.h - the steps of bringing a version into a node, shared by bundle
 * import (apply.c) and network sync (client.c), so both make exactly the
 * same checks.
 */
#ifndef SYNC_APPLY_INT_H
#define SYNC_APPLY_INT_H

#include <jansson.h>
#include <stdint.h>

#include "content/catalog.h"
#include "content/store.h"
#include "sync/apply.h"
#include "sync/meta.h"

/* Fetch a repository file by name (root.json-style path), at most max bytes:
 * CS_ENOENT if the source does not have it. */
typedef int (*sync_meta_get_fn)(void *ctx, const char *name, uint64_t max, uint8_t **out, size_t *len,
                                cs_err *err);

typedef struct sync_verified {
    sync_root *root;
    char *root_text; /* set if the root rotated */
    json_t *targets; /* the verified targets "signed" object */
    int64_t ts_version, snap_version, targets_version;
    int reset_timestamp, reset_snapshot; /* the role's keys changed: old versions forgotten */
    int64_t issued; /* newest signed "issued" time of timestamp or snapshot; 0 = none */
} sync_verified;

/* Inside the caller's transaction: remember the newest signed time seen
 * (state "trust.time"), a lower bound on the real time for boxes whose
 * clock resets. */
int sync_trust_time_note(content_catalog *cat, const sync_verified *v, cs_err *err);

/* Root chain from the pinned root, then timestamp -> snapshot -> targets,
 * with every TUF check (docs/repository.md). */
int sync_verify_metadata(content_catalog *cat, sync_meta_get_fn get, void *ctx,
                         const sync_apply_options *opt, sync_verified *out, cs_err *err);
void sync_verified_clear(sync_verified *v);
int64_t sync_state_int(content_catalog *cat, const char *key);

/* The objects a catalogue file names (id -> raw and encoded lengths). */
#define SYNC_OBJ_DELTAS 8

typedef struct sync_objent {
    uint8_t id[32];
    uint64_t raw_len, enc_len;
    int used;
    int ndeltas;                          /* zstd deltas that rebuild it from an older object */
    uint8_t delta_base[SYNC_OBJ_DELTAS][32];
    uint64_t delta_len[SYNC_OBJ_DELTAS];
    uint64_t part_max; /* client: the furthest its part file has reached (progress counts past it) */
    int has_part;      /* client: a part file waits in incoming/ (a cut batch answer's, or an
                        * earlier run's): it travels alone, resumed with Range */
} sync_objent;

typedef struct sync_objset {
    sync_objent *slots;
    size_t cap, n;
} sync_objset;

/* Add an object (once); returns its entry through *out if out is non-NULL. */
int sync_objset_add(sync_objset *s, const uint8_t id[32], uint64_t raw, uint64_t enc);
sync_objent *sync_objset_find(sync_objset *s, const uint8_t id[32]);
const sync_objent *sync_objset_get(const sync_objset *s, const uint8_t id[32]);
int sync_collect_objects(const uint8_t *catdata, size_t catlen, sync_objset *set, cs_err *err);
/* Add the objects (and their deltas) of one "put" record to set (a sync_objset *). */
int sync_collect_record(void *set, json_t *rec, cs_err *err);

/* Test hook (apply.c): SIGKILL self if CISTERN_TEST_KILL_AT names point. */
void sync_test_kill_point(const char *point);

/* One transaction: catalogue changes, version, trust state. */
int sync_commit_version(content_catalog *cat, content_store *store, const uint8_t *catdata, size_t catlen,
                        const sync_verified *v, cs_err *err);

#endif
