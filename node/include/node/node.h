/*
 * node.h - a node's data directory and the operations on it.
 *
 *   DATA/node.conf      configuration (platform/conf.h)
 *   DATA/catalog.db     catalogue, version and trust state (content/catalog.h)
 *   DATA/store/         object store (content/store.h)
 */
#ifndef NODE_NODE_H
#define NODE_NODE_H

#include <jansson.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>

#include "content/catalog.h"
#include "content/store.h"
#include "platform/conf.h"
#include "platform/crypto.h"
#include "platform/error.h"
#include "sync/apply.h"

struct node_people;

typedef struct node_data {
    char dir[4096];
    cs_conf *conf;
    content_catalog *cat;
    content_store *store;
    struct node_people *people; /* opened on first use: node_people_of() */
} node_data;

enum { NODE_RDONLY = 1 };

/* Create DATA, pin the trust root (a root.json file), write node.conf. */
int node_init(const char *dir, const char *trust_path, const char *hub_url, cs_err *err);
int node_open(node_data **out, const char *dir, int flags, cs_err *err);
void node_close(node_data *n); /* NULL ok */

/* Import a USB bundle. */
int node_import(node_data *n, const char *bundle, sync_progress_cb progress, void *pctx,
                sync_import_stats *stats, cs_err *err);

/* One network sync now with the hub (url, or hub.url from node.conf), with
 * node.conf's sync.* settings.  Writes DATA/sync-state.json as it goes
 * (state, bytes done and total, rate, ETA; last success and error), which
 * `status` and /api/v1/status report. */
struct sync_client_stats;
int node_sync(node_data *n, const char *url, sync_progress_cb progress, void *pctx,
              struct sync_client_stats *stats, cs_err *err);
/* The same, stopping early (CS_EINTERRUPTED) once *cancel becomes non-zero
 * (set from another thread: hence atomic). */
int node_sync_cancellable(node_data *n, const char *url, const atomic_int *cancel, sync_progress_cb progress,
                          void *pctx, struct sync_client_stats *stats, cs_err *err);

/* Check the settings a network sync reads (sync.max_rate, sync.stall_timeout,
 * sync.retries, sync.backoff_ms, sync.large_object, trust.clock_slack_hours,
 * mirror.enable, storage.quota) exactly as node_sync reads them. */
int node_sync_conf_check(const cs_conf *conf, cs_err *err);

/* A teacher asks for a listed resource: it is kept whatever the keep.*
 * filters say and goes first at the next sync (CS_EEXIST if cached). */
int node_request(node_data *n, const char *id, cs_err *err);

/* Status as one JSON object (caller json_decref's). */
int node_status(node_data *n, json_t **out, cs_err *err);

/* Write a cached file's bytes to fd. */
int node_cat(node_data *n, const char *id, const char *path, int fd, cs_err *err);

/* Check both databases (PRAGMA integrity_check), then re-hash the store;
 * damaged objects are reported through cb and forgotten
 * (so the next sync or import fetches them again) when repair is set. */
int node_verify(node_data *n, int repair, void (*cb)(void *, const char *), void *ctx,
                content_store_progress_cb progress, void *pctx, uint64_t *damaged, cs_err *err);

/* Drop objects no resource references. */
int node_gc(node_data *n, uint64_t *objects, uint64_t *bytes, cs_err *err);

/* The node's settings: the system-wide file named by $CISTERN_CONFIG (the
 * Debian package sets /etc/cistern/node.conf), then DATA/node.conf on top
 * (what `node init` and the admin API write).  Either may be absent. */
int node_conf_load(const char *dir, cs_conf **out, cs_err *err);

/* DATA/people.db, opened on first use (accounts, events, outbox). */
int node_people_of(node_data *n, struct node_people **out, cs_err *err);

/* ---- the outbox (node/outbox.c, docs/outbox.md) ---- */

/* The node's outbox key, DATA/node.key (0600), made when absent; its key
 * id is the node id. */
int node_key_load(node_data *n, cs_key **out, char id[CS_KEYID_HEX], cs_err *err);
/* Make the weekly usage aggregates that are due (outbox.* privacy settings)
 * and purge learner data past privacy.retention_days. */
int node_outbox_prepare(node_data *n, cs_err *err);
/* The outbox.* settings (epsilon, max_resources, min_count, batch_records)
 * as node_outbox_prepare and node_outbox_send read them; CS_ECONFIG naming
 * the key. */
int node_outbox_conf_check(const cs_conf *conf, cs_err *err);
/* Send every pending record to the hub in signed batches; *sent counts
 * records the hub newly acknowledged, *acked is its acknowledgement. */
int node_outbox_send(node_data *n, const char *url, int *sent, int64_t *acked, cs_err *err);
/* Write the pending records as one signed batch file for USB; *left counts
 * records that did not fit (export again after the hub's acknowledgement). */
int node_outbox_export(node_data *n, const char *path, int *records, int64_t *left, cs_err *err);

/* A local resource made on this node (docs/accounts.md): meta holds the
 * resource.json fields, files [{"path","data"}] with data base64.  Stored,
 * catalogued with "local": true, and with forward set put in the outbox.
 * *id receives "local-<16 hex>". */
int node_local_add(node_data *n, const json_t *meta, const json_t *files, int forward, char id[64], cs_err *err);

#endif
