/*
 * client.h - network sync with a hub or a neighbour mirror over HTTP(S).
 *
 * One run: fetch timestamp -> snapshot -> targets (and any new root
 * versions), verify them exactly as a bundle is verified, fetch the
 * catalogue changes since this node's version, then every object the new
 * catalogue names that the store lacks: small ones many to a request
 * (POST {hub}/batch), falling back to one GET per object against a plain
 * static web server; large ones alone, resumed with Range requests from a
 * part file after a cut.  Verified objects are made durable at the end of
 * every request, before the next one is sent (and within a batch answer at
 * least every second and every MiB), so a kill never costs the objects of
 * a finished request.  Nothing becomes visible until the version commits in
 * one transaction.
 */
#ifndef SYNC_CLIENT_H
#define SYNC_CLIENT_H

#include <stdatomic.h>
#include <stdint.h>

#include "content/catalog.h"
#include "content/store.h"
#include "platform/error.h"
#include "sync/apply.h"

/* What this node keeps: a resource is fetched if keep() says so, highest
 * priority() first, while the store's encoded bytes stay within quota.
 * The rest is listed in the catalogue but not cached. */
typedef struct sync_select {
    int (*keep)(void *ctx, const content_resource *r);     /* 1 keep, 0 list only */
    int (*priority)(void *ctx, const content_resource *r); /* higher first; ties by id */
    void *ctx;
    uint64_t quota; /* bytes of stored (encoded) objects; 0 = no limit */
} sync_select;

typedef struct sync_client_options {
    const char *url;         /* repository base URL (no trailing slash needed) */
    const char *work_dir;    /* DATA: incoming/ part files, repo/ mirror copy, sync-state.json */
    uint64_t max_rate;       /* bytes/s, 0 = unlimited (sync.max_rate) */
    long stall_s;            /* abort a transfer that moves nothing for this long (60) */
    long connect_timeout_s;  /* (30) */
    int retries;             /* consecutive attempts that verified nothing new before giving up (6) */
    long backoff_base_ms;    /* full-jitter exponential backoff base (1000) and cap (60000) */
    long backoff_cap_ms;
    uint64_t batch_bytes;    /* objects up to this much per batch request (8 MiB) */
    uint64_t large_object;   /* objects larger than this travel alone, resumable (4 MiB) */
    int mirror;              /* keep a servable copy of the metadata and catalogues */
    const atomic_int *cancel; /* set and non-zero (by any thread): the run stops (CS_EINTERRUPTED) */
    const sync_select *select;  /* NULL: keep everything */
    sync_apply_options apply;
} sync_client_options;

void sync_client_options_default(sync_client_options *o);

typedef struct sync_client_stats {
    int64_t from_version, to_version;
    uint64_t objects_needed, objects_fetched, objects_present;
    uint64_t bytes_received, requests, retries;
    uint64_t resources_skipped; /* listed but not fetched: not kept, or over the quota */
    uint64_t resources_filled;  /* listed-only resources fetched by the fill pass */
    uint64_t deltas_applied;    /* objects rebuilt from a file delta */
    uint64_t delta_bytes;       /* bytes of those deltas (their signed lengths) */
    uint64_t whole_bytes;       /* bytes of objects fetched whole (encoded) */
    uint64_t bytes_saved;       /* encoded lengths of the delta-rebuilt objects minus their deltas */
    uint64_t catalog_bytes;     /* the catalogue file fetched (0 when already current) */
    int catalog_delta;          /* 1: the catalogue came as the changes since this node's version */
    int used_batch;
} sync_client_stats;

/* One sync now.  Returns 0 also when already current (stats->to_version ==
 * from_version). */
int sync_client_run(content_catalog *cat, content_store *store, const sync_client_options *opt,
                    sync_progress_cb progress, void *pctx, sync_client_stats *stats, cs_err *err);

#endif
