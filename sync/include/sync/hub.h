/*
 * hub.h - the hub's repository: init, publish, bundles.
 *
 * REPO/ layout (docs/repository.md):
 *   root.json, N.root.json        root metadata (current, and every version)
 *   timestamp.json                current timestamp
 *   N.snapshot.json, N.targets.json
 *   catalog/<sha256>.cat          catalogue files, named by their hash
 *   objects/<aa>/<id>             encoded objects (content/object.h), by id
 *   keys/                         private keys (0700; never served)
 *   hub.db                        the hub's own bookkeeping (never served)
 * Everything but keys/ and hub.db can be served by any static web server.
 */
#ifndef SYNC_HUB_H
#define SYNC_HUB_H

#include <stdint.h>

#include "platform/error.h"
#include "platform/log.h"

typedef struct sync_hub sync_hub;

typedef struct sync_hub_options {
    int delta_depth;          /* catalogue and file deltas from the last K versions (4) */
    int64_t expire_root;      /* seconds (365 days) */
    int64_t expire_targets;   /* (180 days) */
    int64_t expire_snapshot;  /* (30 days) */
    int64_t expire_timestamp; /* (1 day) */
} sync_hub_options;

void sync_hub_options_default(sync_hub_options *o);

/* Progress of long work: phase name, units done and total (0 = unknown). */
typedef void (*sync_progress_cb)(void *ctx, const char *phase, uint64_t done, uint64_t total);

/* Create a repository in dir (must not hold one yet): keys, 1.root.json,
 * root.json, and an empty version 0 (no targets yet). */
int sync_hub_init(const char *dir, const sync_hub_options *opt, cs_err *err);

int sync_hub_open(sync_hub **out, const char *dir, cs_err *err);
void sync_hub_free(sync_hub *h);
int64_t sync_hub_version(const sync_hub *h);

typedef struct sync_publish_stats {
    int64_t version;
    uint64_t resources, added, changed, removed;
    uint64_t files, bytes_raw, objects_new, bytes_new_encoded;
    uint64_t deltas; /* resources whose changed files got deltas */
} sync_publish_stats;

/* Deltas (catalogue and files) made by later publishes: from each of the
 * last k versions, 0 = none, at most SYNC_HUB_DELTA_DEPTH_MAX (default 4). */
#define SYNC_HUB_DELTA_DEPTH_MAX 64
int sync_hub_set_delta_depth(sync_hub *h, int k, cs_err *err);

/* Validate every resource in src (nothing is published if any is invalid),
 * store new objects, write catalogue files and signed metadata for the next
 * version. */
int sync_hub_publish(sync_hub *h, const char *src, sync_progress_cb progress, void *pctx,
                     sync_publish_stats *stats, cs_err *err);

/* Give role ("root", "targets", "snapshot", "timestamp") a new key: root
 * version N+1 signed by the current root key (and the new one, for the root
 * role), the old key kept as keys/ROLE.key.retired-N, and the current
 * version re-signed.  Nodes follow the chain at their next sync or import. */
/* Every resource of the current version, in id order. */
struct content_resource;
int sync_hub_foreach_current(sync_hub *h, int (*cb)(void *ctx, const struct content_resource *r), void *ctx,
                             cs_err *err);

int sync_hub_rotate_key(sync_hub *h, const char *role, int64_t *new_root_version, cs_err *err);

/* Write a USB bundle for nodes at version `since` (0 = everything). */
int sync_hub_bundle(sync_hub *h, int64_t since, const char *out_path, sync_progress_cb progress,
                    void *pctx, cs_err *err);

#endif
