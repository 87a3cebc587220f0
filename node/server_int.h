/*
 * server_int.h - private to the LAN server's files.
 */
#ifndef NODE_SERVER_INT_H
#define NODE_SERVER_INT_H

#include <microhttpd.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include <jansson.h>

#include "content/catalog.h"
#include "content/store.h"
#include "node/server.h"
#include "platform/buf.h"
#include "platform/log.h"

#include "conns.h"

#if MHD_VERSION < 0x00097002
typedef int MHD_RESULT;
#else
typedef enum MHD_Result MHD_RESULT;
#endif

/* Read-only catalogue and store handles, one set per concurrent request. */
typedef struct srv_handles {
    content_catalog *cat;
    content_store *store;
    int busy;
    int64_t snap_ms;     /* when the handles' read snapshot began; 0 = none */
    int64_t snap_version; /* catalogue version that snapshot sees */
    int64_t snap_gen;     /* srv.generation when it was taken */
} srv_handles;

/* Snapshots are refreshed when older than this, so an import's commit shows
 * within a second and WAL checkpoints are never held back for long. */
#define SNAPSHOT_MS 1000

enum { ROUTE_UI, ROUTE_CONTENT, ROUTE_API, ROUTE_OPDS, ROUTE_METRICS, ROUTE_HEALTH, ROUTE_OTHER, ROUTE_MIRROR, ROUTE_COUNT };

#define LAT_BUCKETS 10

typedef struct srv_asset {
    const char *name;
    const unsigned char *data;
    size_t len;
    const char *mime;
    char etag[24];
} srv_asset;

/* Search answers (JSON bodies) by catalogue version and parameters:
 * a classroom asks the same words again and again. */
#define SRV_CACHE_SLOTS 8192
#define SRV_CACHE_MAX_BODY (64 * 1024)
#define SRV_CACHE_BUDGET (16u << 20) /* bytes of cached bodies in all; over it, the cache starts afresh */
typedef struct srv_cache_entry {
    char *key;
    char *body;
} srv_cache_entry;

/* Small files served whole, kept as finished responses (http_filecache.c). */
#define SRV_FCACHE_SLOTS 4096
#define SRV_FCACHE_MAX_FILE (256 * 1024)
typedef struct srv_fcache srv_fcache;

/* Sign-in failures by address and by name: 5 in 5 minutes, then 429. */
#define SRV_RL_SLOTS 1024
#define SRV_RL_MAX_FAILS 5
#define SRV_RL_WINDOW_S 300
typedef struct srv_rl_slot {
    uint64_t key;
    int64_t start;
    int fails;
} srv_rl_slot;

#define SRV_JSON_MAX_BODY (64u * 1024)
#define SRV_LOCAL_MAX_BODY (24u << 20) /* 16 MiB of files as base64, plus metadata */

struct node_people;
struct srv_rec; /* http_recommend.c */


typedef struct srv srv;
struct srv {
    char data_dir[4096];
    node_server_options opt; /* main thread only (SIGHUP rewrites it); requests read the copies below */
    atomic_uint session_idle_s, session_max_s; /* session.idle, session.max: reloadable on SIGHUP */
    cs_logger log;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    srv_handles *pool;
    size_t npool;
    _Atomic int64_t seen_version; /* highest catalogue version any request has seen */
    _Atomic int64_t generation;   /* bumped by this server's own catalogue writes (local resources) */
    struct MHD_Daemon *mhd;
    int64_t started;
    /* metrics (counters only grow) */
    _Atomic uint64_t requests[ROUTE_COUNT][6]; /* by route and status class 1xx..5xx (0 = other) */
    _Atomic uint64_t bytes_sent[ROUTE_COUNT];
    _Atomic uint64_t lat_bucket[ROUTE_COUNT][LAT_BUCKETS + 1];
    _Atomic uint64_t lat_sum_us[ROUTE_COUNT];
    cs_conns conns; /* open connections, the header deadline (conns.h) */
    atomic_int search_cache; /* serve.search_cache: reloadable on SIGHUP */
    pthread_mutex_t cache_lock;
    srv_cache_entry cache[SRV_CACHE_SLOTS];
    size_t cache_bytes;
    srv_fcache *fcache; /* serve.file_cache; NULL = off */
    /* background sync */
    pthread_t sync_thread;
    int sync_started;
    _Atomic int sync_running;
    atomic_int sync_stop; /* set by the main thread at shutdown: the sync thread and its transfer stop */
    /* people: accounts, sessions, events (thread-safe handle) */
    struct node_people *people;
    pthread_mutex_t rl_lock;
    srv_rl_slot rl[SRV_RL_SLOTS];
    int64_t last_purge;
    struct srv_rec *rec; /* recommendations: model, index, rebuild thread */
    struct node_zeroconf *zc; /* the LAN announcement, or NULL */
    /* the UI: index.html with versioned asset URLs */
    char *index_html;
    size_t index_len;
    char index_etag[24];
};

/* Per-request state (con_cls). */
typedef struct srv_req {
    int64_t start_us;
    int route;
    int head;    /* a HEAD request: no body bytes go out */
    int started; /* the first call (headers in) is over */
    unsigned status;
    cs_conn *conn; /* its connection's record, or NULL */
    struct srv *s;
    cs_buf body;          /* POST /repo/batch and API writes only, capped */
    char set_cookie[200]; /* added to the response when set */
} srv_req;

srv_handles *srv_handles_get(srv *s);
/* The same with a snapshot taken now (mirror requests must not lag the
 * metadata files they are served beside). */
srv_handles *srv_handles_get_fresh(srv *s);
void srv_handles_put(srv *s, srv_handles *h);

/* Queue a response and record its status and body bytes (none for HEAD);
 * the caller keeps its reference to r. */
MHD_RESULT srv_queue_len(struct MHD_Connection *c, srv_req *rq, unsigned status,
                         struct MHD_Response *r, uint64_t body_len);
/* Queue a response and record its status; takes ownership of r. */
MHD_RESULT srv_respond(struct MHD_Connection *c, srv_req *rq, unsigned status,
                       struct MHD_Response *r);
/* The same, counting body_len bytes of body for /metrics (none for HEAD). */
MHD_RESULT srv_respond_len(struct MHD_Connection *c, srv_req *rq, unsigned status,
                           struct MHD_Response *r, uint64_t body_len);
MHD_RESULT srv_json(struct MHD_Connection *c, srv_req *rq, unsigned status, json_t *o);
MHD_RESULT srv_error(struct MHD_Connection *c, srv_req *rq, unsigned status, const char *token,
                     const char *fmt, ...) __attribute__((format(printf, 5, 6)));
MHD_RESULT srv_text(struct MHD_Connection *c, srv_req *rq, unsigned status, const char *type,
                    const char *body);
/* Common security headers on every response. */
void srv_common_headers(struct MHD_Response *r);

MHD_RESULT srv_content(srv *s, struct MHD_Connection *c, srv_req *rq, const char *url, int head);
MHD_RESULT srv_api(srv *s, struct MHD_Connection *c, srv_req *rq, const char *url);
/* POST/PUT/DELETE under /api/v1 (http_people.c). */
MHD_RESULT srv_api_write(srv *s, struct MHD_Connection *c, srv_req *rq, const char *url, const char *method);
/* GET endpoints of accounts and teacher tools; NULL-returning ... see http_people.c:
 * returns 1 and queues a response when p is one of them, 0 otherwise. */
int srv_people_get(srv *s, struct MHD_Connection *c, srv_req *rq, const char *p, MHD_RESULT *ret);
MHD_RESULT srv_lrmi(srv *s, struct MHD_Connection *c, srv_req *rq);
MHD_RESULT srv_opds(srv *s, struct MHD_Connection *c, srv_req *rq, const char *url);
MHD_RESULT srv_ui(srv *s, struct MHD_Connection *c, srv_req *rq, const char *url);
int srv_ui_init(srv *s, cs_err *err);
MHD_RESULT srv_metrics(srv *s, struct MHD_Connection *c, srv_req *rq);
MHD_RESULT srv_mirror(srv *s, struct MHD_Connection *c, srv_req *rq, const char *url);
MHD_RESULT srv_mirror_batch(srv *s, struct MHD_Connection *c, srv_req *rq, const cs_buf *body);

/* The file cache (http_filecache.c).  budget 0: *out = NULL (off). */
int srv_fcache_new(srv_fcache **out, size_t budget);
void srv_fcache_free(srv_fcache *fc);
void srv_fcache_stats(srv_fcache *fc, uint64_t *hits, uint64_t *misses, size_t *bytes);
/* A plain GET of a whole file: no HEAD, Range, If-None-Match, If-Range or cookie. */
int srv_fcache_eligible(struct MHD_Connection *c, const srv_req *rq);
/* ?v= (at least 16 hex digits) is a prefix of the object id hex. */
int srv_content_versioned(const char *v, const char *hex);
/* 1 with *ret set: answered from a fresh entry.  0: take the long way. */
int srv_fcache_serve(srv *s, struct MHD_Connection *c, srv_req *rq, const char *id, const char *path,
                     MHD_RESULT *ret);
/* Keep r, the 200 answer to a plain GET of id/path (len body bytes, made
 * from catalogue version/gen), already queued; takes the caller's reference. */
void srv_fcache_put(srv *s, const char *id, const char *path, int64_t version, int64_t gen, const char *hex,
                    int versioned, size_t len, struct MHD_Response *r);

/* Recommendations (http_recommend.c). */
struct node_rec_request;
int srv_rec_start(srv *s, cs_err *err);
void srv_rec_stop(srv *s);
/* A recorded event, into the model at once. */
void srv_rec_event(srv *s, const char *learner, const char *resource, int kind, double value, int64_t ts);
/* Up to k items for learner (NULL: none) plus the resource open now
 * (after, NULL: none): [{"id","title","reason","score","url","cached"}].
 * CS_ENOTREADY until the first index is built. */
int srv_rec_json(srv *s, const char *learner, const char *after, const struct node_rec_request *req, size_t k,
                 json_t **out, cs_err *err);

/* Query-string helpers. */
const char *srv_arg(struct MHD_Connection *c, const char *name);
/* Integer argument in [lo, hi]; def when absent; -1 and a 400 queued when bad. */
int srv_arg_int(struct MHD_Connection *c, const char *name, long lo, long hi, long def, long *out);

/* Title of a resource in lang, else any. */
const char *srv_title(const json_t *meta, const char *lang);

/* The asset table (generated from node/ui/ at build time). */
extern const srv_asset srv_assets[];
extern const size_t srv_nassets;

#endif
