/*
 * apply.h - bringing a verified version into a node, all or nothing.
 *
 * The node's trust state (pinned root, highest versions seen) lives in the
 * catalogue database, so a new version, its catalogue and the trust state
 * commit in one SQLite transaction.  Objects are stored (and made durable)
 * before that transaction; until it commits the node serves the old version.
 */
#ifndef SYNC_APPLY_H
#define SYNC_APPLY_H

#include <stdint.h>

#include "content/catalog.h"
#include "content/store.h"
#include "platform/error.h"
#include "sync/hub.h"

typedef struct sync_apply_options {
    int64_t now;            /* wall clock (cs_time_now()) */
    int64_t expiry_slack;   /* seconds of grace past "expires" */
    int ignore_timestamp_expiry; /* USB bundles: timestamp freshness is moot */
} sync_apply_options;

typedef struct sync_import_stats {
    int64_t from_version, to_version;
    uint64_t objects_total, objects_present, objects_stored, bytes_read;
    uint64_t resources_put, resources_deleted, resources_uncached;
} sync_import_stats;

/* Import a USB bundle into a node's catalogue and store. */
int sync_import_bundle(content_catalog *cat, content_store *store, const char *bundle_path,
                       const sync_apply_options *opt, sync_progress_cb progress, void *pctx,
                       sync_import_stats *stats, cs_err *err);

/* Pin a root at node init: stored in the catalogue's state. */
int sync_trust_pin(content_catalog *cat, const char *root_text, size_t len, cs_err *err);

#endif
