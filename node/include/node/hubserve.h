/*
 * hubserve.h - `cistern hub serve`: the repository over HTTP.
 *
 * Serves the repository's public files exactly as a static web server
 * would (GET/HEAD, single Range requests, keep-alive, immutable caching of
 * hash-named files), and one extra endpoint:
 *
 *   POST /batch   body: one request a line (at most 4096 lines, 1 MiB):
 *                 TARGET (64 hex digits) for a whole object, or
 *                 BASE:TARGET for the zstd delta rebuilding TARGET from BASE;
 *                 response: for each one the hub has, in request order,
 *                 [target id 32][base id 32, zero for a whole object]
 *                 [length u64 LE][encoded object or delta]
 *
 * so a node on a 600 ms link fetches a thousand small objects in one round
 * trip.  Only names of the repository layout are served (never keys/ or
 * hub.db).
 */
#ifndef NODE_HUBSERVE_H
#define NODE_HUBSERVE_H

#include "node/server.h"
#include "platform/error.h"

#define HUB_BATCH_MAX_IDS 4096
#define HUB_BATCH_MAX_BODY (1u << 20)
/* Bytes one batch answer may carry: items past it are left out, as absent
 * ones are (the node asks again), so a 1 MiB request naming one object
 * 4096 times cannot make a gigabyte answer. */
#define HUB_BATCH_MAX_ANSWER (64ull << 20)

/* 1 if path (relative, no leading '/') is a public repository file name. */
int node_hub_path_public(const char *path);

/* Serve repo until SIGTERM/SIGINT or, when opt->stop is set, until *opt->stop
 * (opt->stop and opt->ready as for node_server_run). */
int node_hub_serve(const char *repo, const node_server_options *opt, cs_err *err);

#endif
