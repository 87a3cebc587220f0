/*
 * server.h - the node's LAN HTTP server (libmicrohttpd).
 *
 * Serves the web UI at /, content at /r/{id}/{path} streamed from the
 * compressed store (Range, ETag, conditional requests), the JSON API under
 * /api/v1, OPDS 1.2 at /opds, Prometheus text at /metrics and /healthz.
 * Publisher content of any type but passive media (images other than SVG,
 * audio, video, PDF, plain text) goes out under a CSP sandbox, so it runs
 * in an opaque origin without access to the UI's API; the session cookie is
 * scoped to /api/ and never sent with it.
 */
#ifndef NODE_SERVER_H
#define NODE_SERVER_H

#include <stdint.h>

#include "platform/conf.h"
#include "platform/error.h"
#include "platform/log.h"

typedef struct node_server_options {
    char host[256];           /* serve.listen host part ("0.0.0.0", "127.0.0.1", "::") */
    uint16_t port;            /* serve.listen port (8080) */
    unsigned threads;         /* serve.threads (2: one per core of a Pi 4-class box) */
    unsigned max_conns;       /* serve.max_connections (1000) */
    unsigned max_conns_per_ip;/* serve.max_connections_per_ip (256) */
    unsigned timeout_s;       /* serve.timeout (30 s without traffic and a connection is dropped) */
    unsigned header_timeout_s; /* serve.header_timeout (10 s) for a request's headers to arrive */
    int search_cache;          /* serve.search_cache (1): 0 = search answers are never cached */
    uint64_t file_cache;       /* serve.file_cache (8 MiB): bytes of small files kept as responses; 0 = off */
    unsigned header_limit;    /* serve.max_header_bytes (16384): larger requests get 431/413 */
    unsigned drain_s;         /* serve.drain_timeout (10 s to finish requests on SIGTERM) */
    int log_level;
    unsigned session_idle_s;  /* session.idle (28800): a session unused this long ends */
    unsigned session_max_s;   /* session.max (604800): and this long after sign-in in any case */
    int zeroconf;             /* zeroconf (1): announce the node on the LAN through Avahi */
    char school[128];         /* school.name (the host name): the announced "Cistern – <school>" */
    char user[64];            /* serve.user: started as root, become this user once listening
                                 ("" = "cistern" when that user exists, else stay root with a warning) */
    /* Embedding the server in another program (tests, fuzzers); left unset
     * by node_server_options_load.  With stop set, the server installs no
     * signal handlers (the program owns its signals) and stops, draining as
     * on SIGTERM, once *stop becomes non-zero.  ready, when set, is called
     * once listening, with the port bound (the kernel's choice for port 0). */
    const volatile int *stop;
    void (*ready)(void *ctx, unsigned port);
    void *ready_ctx;
} node_server_options;

/* Defaults, then node.conf's serve.* keys; CS_ECONFIG with the key on error. */
int node_server_options_load(node_server_options *o, const cs_conf *conf, cs_err *err);
/* Every setting the running daemon reads, checked as the daemon reads it:
 * serve.*, session.*, log.level, hub.url, sync.*, keep.grades, storage.quota,
 * privacy.retention_days, outbox.*, recommend.rebuild_interval (`node serve --check`).
 * CS_ECONFIG naming the key on the first bad one. */
int node_server_conf_check(const cs_conf *conf, cs_err *err);
/* Parse "HOST:PORT", ":PORT", "PORT" or "[v6]:PORT" into o. */
int node_server_parse_listen(node_server_options *o, const char *s, cs_err *err);

/* Run the server until SIGTERM/SIGINT, or *opt->stop (drains, then returns
 * 0).  SIGHUP reloads DATA/node.conf.  Prints "serving DATA on URL" to
 * stdout once listening, and calls opt->ready when set. */
int node_server_run(const char *data_dir, const node_server_options *opt, cs_err *err);

#endif
