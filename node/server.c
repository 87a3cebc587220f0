/*
 * server.c - the LAN server: libmicrohttpd daemon, handle pool, routing,
 * metrics, signals (SIGTERM drains, SIGHUP reloads).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <pwd.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <sqlite3.h>

#include "node/hubserve.h"
#include "node/node.h"
#include "node/people.h"
#include "node/schedule.h"
#include "node/zeroconf.h"
#include "platform/crypto.h"
#include "platform/file.h"
#include "platform/priv.h"
#include "sync/client.h"
#include "platform/buf.h"
#include "platform/time.h"
#include "server_int.h"

/* The only process-wide mutable state: flags set by signal handlers. */
static volatile sig_atomic_t got_term, got_hup;

static void on_signal(int sig)
{
    if (sig == SIGHUP)
        got_hup = 1;
    else
        got_term = 1;
}

static int64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* ---- options ---- */

int node_server_parse_listen(node_server_options *o, const char *s, cs_err *err)
{
    const char *colon = strrchr(s, ':');
    const char *port_s = colon ? colon + 1 : s;
    char host[256] = "0.0.0.0";
    if (colon) {
        size_t hl = (size_t)(colon - s);
        if (hl >= sizeof host)
            return cs_err_set(err, CS_ECONFIG, "listen address \"%s\": host too long", s);
        if (hl > 0) {
            memcpy(host, s, hl);
            host[hl] = '\0';
            if (host[0] == '[' && host[hl - 1] == ']') {
                memmove(host, host + 1, hl - 2);
                host[hl - 2] = '\0';
            }
        }
    }
    char *end;
    long port = strtol(port_s, &end, 10);
    if (*port_s == '\0' || *end || port < 0 || port > 65535)
        return cs_err_set(err, CS_ECONFIG, "listen address \"%s\": expected HOST:PORT with a port 0..65535 (0 = any free port)", s);
    struct in6_addr a6;
    struct in_addr a4;
    if (inet_pton(AF_INET, host, &a4) != 1 && inet_pton(AF_INET6, host, &a6) != 1)
        return cs_err_set(err, CS_ECONFIG, "listen address \"%s\": \"%s\" is not an IP address", s, host);
    snprintf(o->host, sizeof o->host, "%s", host);
    o->port = (uint16_t)port;
    return 0;
}

static int conf_uint(const cs_conf *conf, const char *key, unsigned lo, unsigned hi, unsigned *v, cs_err *err)
{
    int64_t x;
    int rc = cs_conf_get_int(conf, key, *v, &x, err);
    if (rc)
        return rc;
    if (x < lo || x > hi)
        return cs_err_set(err, CS_ECONFIG, "%s = %lld: must be between %u and %u", key, (long long)x, lo, hi);
    *v = (unsigned)x;
    return 0;
}

int node_server_options_load(node_server_options *o, const cs_conf *conf, cs_err *err)
{
    memset(o, 0, sizeof *o);
    snprintf(o->host, sizeof o->host, "0.0.0.0");
    o->port = 8080;
    o->threads = 2;
    o->max_conns = 1000;
    o->max_conns_per_ip = 256;
    o->timeout_s = 30;
    o->header_timeout_s = 10;
    o->search_cache = 1;
    o->file_cache = 8u << 20;
    o->header_limit = 16384;
    o->drain_s = 10;
    o->log_level = CS_LOG_INFO;
    o->session_idle_s = 28800;
    o->session_max_s = 604800;
    int rc;
    const char *listen = cs_conf_get(conf, "serve.listen");
    if (listen && (rc = node_server_parse_listen(o, listen, err)) != 0)
        return rc;
    if ((rc = conf_uint(conf, "serve.threads", 1, 64, &o->threads, err)) ||
        (rc = conf_uint(conf, "serve.max_connections", 16, 100000, &o->max_conns, err)) ||
        (rc = conf_uint(conf, "serve.max_connections_per_ip", 1, 100000, &o->max_conns_per_ip,
                        err)) ||
        (rc = conf_uint(conf, "serve.timeout", 1, 3600, &o->timeout_s, err)) ||
        (rc = conf_uint(conf, "serve.header_timeout", 1, 3600, &o->header_timeout_s, err)) ||
        (rc = conf_uint(conf, "serve.max_header_bytes", 4096, 1 << 20, &o->header_limit, err)) ||
        (rc = conf_uint(conf, "serve.drain_timeout", 0, 600, &o->drain_s, err)) ||
        (rc = conf_uint(conf, "session.idle", 1, 30 * 86400, &o->session_idle_s, err)) ||
        (rc = conf_uint(conf, "session.max", 1, 365 * 86400, &o->session_max_s, err)))
        return rc;
    unsigned zc = 1, sc = 1;
    if ((rc = conf_uint(conf, "zeroconf", 0, 1, &zc, err)) != 0 ||
        (rc = conf_uint(conf, "serve.search_cache", 0, 1, &sc, err)) != 0)
        return rc;
    o->zeroconf = (int)zc;
    o->search_cache = (int)sc;
    if ((rc = cs_conf_get_size(conf, "serve.file_cache", o->file_cache, &o->file_cache, err)) != 0)
        return rc;
    if (o->file_cache > (1u << 30))
        return cs_err_set(err, CS_ECONFIG, "serve.file_cache = %llu: at most 1G (0 turns it off)",
                          (unsigned long long)o->file_cache);
    const char *school = cs_conf_get(conf, "school.name");
    if (school && (!*school || strlen(school) >= sizeof o->school - 16))
        return cs_err_set(err, CS_ECONFIG, "school.name: 1 to %zu bytes", sizeof o->school - 16);
    if (school)
        snprintf(o->school, sizeof o->school, "%s", school);
    else if (gethostname(o->school, sizeof o->school - 1) != 0 || !o->school[0])
        snprintf(o->school, sizeof o->school, "school");
    const char *user = cs_conf_get(conf, "serve.user");
    if (user && strlen(user) >= sizeof o->user)
        return cs_err_set(err, CS_ECONFIG, "serve.user: too long");
    if (user)
        snprintf(o->user, sizeof o->user, "%s", user);
    const char *lvl = cs_conf_get(conf, "log.level");
    if (lvl) {
        int l = cs_log_level_parse(lvl);
        if (l < 0)
            return cs_err_set(err, CS_ECONFIG, "log.level = %s: expected error, warn, info or debug", lvl);
        o->log_level = l;
    }
    return 0;
}

/* hub.url: http:// or https:// and a host, as the sync client accepts. */
static int hub_url_ok(const char *u)
{
    const char *h = strncmp(u, "http://", 7) == 0    ? u + 7
                    : strncmp(u, "https://", 8) == 0 ? u + 8
                                                     : NULL;
    if (!h || !*h || *h == '/' || *h == ':')
        return 0;
    for (const char *p = u; *p; p++)
        if ((unsigned char)*p <= 0x20 || *p == 0x7f)
            return 0;
    return 1;
}

/* keep.grades: "1-6", "3, 4, 5", "1-3, 7": numbers and ascending ranges. */
static int grades_ok(const char *spec)
{
    int any = 0;
    for (const char *p = spec;;) {
        while (*p == ' ' || *p == ',')
            p++;
        if (!*p)
            return any;
        char *e;
        if (*p < '0' || *p > '9')
            return 0;
        long a = strtol(p, &e, 10), b = a;
        if (*e == '-') {
            if (e[1] < '0' || e[1] > '9')
                return 0;
            b = strtol(e + 1, &e, 10);
        }
        if (b < a || (*e && *e != ',' && *e != ' '))
            return 0;
        any = 1;
        p = e;
    }
}

int node_server_conf_check(const cs_conf *conf, cs_err *err)
{
    node_server_options o;
    int64_t iv;
    int ws, we, rc;
    if ((rc = node_server_options_load(&o, conf, err)) != 0 ||
        (rc = node_sync_conf_check(conf, err)) != 0 || (rc = node_outbox_conf_check(conf, err)) != 0)
        return rc;
    const char *url = cs_conf_get(conf, "hub.url");
    if (url && *url && !hub_url_ok(url))
        return cs_err_set(err, CS_ECONFIG,
                          "hub.url = %s: expected http://HOST[:PORT]/PATH or https://...", url);
    const char *win = cs_conf_get(conf, "sync.window");
    if (node_window_parse(win, &ws, &we) != 0)
        return cs_err_set(err, CS_ECONFIG,
                          "sync.window = %s: expected HH:MM-HH:MM (local time) or always", win);
    if ((rc = cs_conf_get_int(conf, "sync.interval", 3600, &iv, err)) != 0)
        return rc;
    if (iv < 1 || iv > 31 * 86400)
        return cs_err_set(err, CS_ECONFIG, "sync.interval = %lld: 1 to %d seconds", (long long)iv,
                          31 * 86400);
    const char *grades = cs_conf_get(conf, "keep.grades");
    if (grades && *grades && !grades_ok(grades))
        return cs_err_set(err, CS_ECONFIG,
                          "keep.grades = %s: expected grades and ranges such as 1-6 or 3, 4, 5",
                          grades);
    if ((rc = cs_conf_get_int(conf, "privacy.retention_days", 365, &iv, err)) != 0)
        return rc;
    /* The range srv_rec_start (http_recommend.c) enforces at start. */
    if ((rc = cs_conf_get_int(conf, "recommend.rebuild_interval", 60, &iv, err)) != 0)
        return rc;
    if (iv < 1 || iv > 86400)
        return cs_err_set(err, CS_ECONFIG, "recommend.rebuild_interval: 1 to 86400 seconds");
    return 0;
}

/* ---- handle pool ---- */

static void snapshot_refresh(srv *s, srv_handles *h, int64_t now)
{
    cs_err err = {0};
    h->snap_gen = atomic_load(&s->generation); /* before: a bump during the refresh refreshes again */
    if (content_catalog_snapshot(h->cat, &err) != 0 || content_store_snapshot(h->store, &err) != 0) {
        /* Without a snapshot every query takes its own: slower, still right. */
        cs_log_warn(&s->log, "read snapshot: %s", err.msg);
        content_catalog_snapshot_end(h->cat);
        content_store_snapshot_end(h->store);
        h->snap_ms = 0;
        return;
    }
    h->snap_ms = now;
    int64_t v = 0;
    content_catalog_version(h->cat, &v, NULL);
    h->snap_version = v;
    /* Reads are monotonic: once a request has seen version v, no later
     * request is answered from an older snapshot (see srv_handles_get). */
    int64_t seen = atomic_load(&s->seen_version);
    while (v > seen && !atomic_compare_exchange_weak(&s->seen_version, &seen, v))
        ;
}

srv_handles *srv_handles_get(srv *s)
{
    srv_handles *h = NULL;
    pthread_mutex_lock(&s->lock);
    while (!h) {
        for (size_t i = 0; i < s->npool && !h; i++) {
            if (!s->pool[i].busy) {
                s->pool[i].busy = 1;
                h = &s->pool[i];
            }
        }
        if (!h)
            pthread_cond_wait(&s->cond, &s->lock);
    }
    pthread_mutex_unlock(&s->lock);
    int64_t now = cs_time_mono_ms();
    if (now - h->snap_ms > SNAPSHOT_MS || h->snap_version < atomic_load(&s->seen_version) ||
        h->snap_gen < atomic_load(&s->generation))
        snapshot_refresh(s, h, now);
    return h;
}

srv_handles *srv_handles_get_fresh(srv *s)
{
    srv_handles *h = srv_handles_get(s);
    int64_t now = cs_time_mono_ms();
    if (h->snap_ms != now)
        snapshot_refresh(s, h, now);
    return h;
}

/* Main loop: end the snapshots of idle handles, so a quiet server holds no
 * old read transaction open while an import writes. */
static void pool_release_idle(srv *s)
{
    int64_t now = cs_time_mono_ms();
    for (size_t i = 0; i < s->npool; i++) {
        srv_handles *h = &s->pool[i];
        pthread_mutex_lock(&s->lock);
        int mine = !h->busy && h->snap_ms && now - h->snap_ms > SNAPSHOT_MS;
        if (mine)
            h->busy = 1;
        pthread_mutex_unlock(&s->lock);
        if (!mine)
            continue;
        content_catalog_snapshot_end(h->cat);
        content_store_snapshot_end(h->store);
        h->snap_ms = 0;
        srv_handles_put(s, h);
    }
}

void srv_handles_put(srv *s, srv_handles *h)
{
    pthread_mutex_lock(&s->lock);
    h->busy = 0;
    pthread_cond_signal(&s->cond);
    pthread_mutex_unlock(&s->lock);
}

static int pool_open(srv *s, cs_err *err)
{
    char p[PATH_MAX];
    s->npool = s->opt.threads + 2;
    s->pool = calloc(s->npool, sizeof *s->pool);
    if (!s->pool)
        return cs_err_set(err, CS_ENOMEM, "out of memory");
    for (size_t i = 0; i < s->npool; i++) {
        int rc;
        snprintf(p, sizeof p, "%s/catalog.db", s->data_dir);
        if ((rc = content_catalog_open(&s->pool[i].cat, p, CONTENT_CATALOG_RDONLY, err)) != 0)
            return rc;
        snprintf(p, sizeof p, "%s/store", s->data_dir);
        if ((rc = content_store_open(&s->pool[i].store, p, CONTENT_STORE_RDONLY, err)) != 0)
            return rc;
    }
    return 0;
}

static void pool_close(srv *s)
{
    for (size_t i = 0; s->pool && i < s->npool; i++) {
        content_catalog_free(s->pool[i].cat);
        content_store_free(s->pool[i].store);
    }
    free(s->pool);
    s->pool = NULL;
}

/* ---- responses ---- */

void srv_common_headers(struct MHD_Response *r)
{
    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(r, "Referrer-Policy", "no-referrer");
}

static int status_class(unsigned status)
{
    return status >= 100 && status < 600 ? (int)(status / 100) : 0;
}

static MHD_RESULT queue(struct MHD_Connection *c, srv_req *rq, unsigned status, struct MHD_Response *r)
{
    if (!r)
        return MHD_NO;
    rq->status = status;
    if (rq->set_cookie[0]) {
        MHD_add_response_header(r, "Set-Cookie", rq->set_cookie);
        /* Sessions from before the cookie was scoped to /api/ end too. */
        MHD_add_response_header(r, "Set-Cookie",
                                "cs_session=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0");
    }
    return MHD_queue_response(c, status, r);
}

MHD_RESULT srv_respond(struct MHD_Connection *c, srv_req *rq, unsigned status, struct MHD_Response *r)
{
    MHD_RESULT ret = queue(c, rq, status, r);
    if (r)
        MHD_destroy_response(r);
    return ret;
}

MHD_RESULT srv_queue_len(struct MHD_Connection *c, srv_req *rq, unsigned status,
                         struct MHD_Response *r, uint64_t body_len)
{
    if (r && !rq->head && status >= 200 && status != 204 && status != 304)
        atomic_fetch_add_explicit(&rq->s->bytes_sent[rq->route], body_len, memory_order_relaxed);
    return queue(c, rq, status, r);
}

MHD_RESULT srv_respond_len(struct MHD_Connection *c, srv_req *rq, unsigned status,
                           struct MHD_Response *r, uint64_t body_len)
{
    MHD_RESULT ret = srv_queue_len(c, rq, status, r, body_len);
    if (r)
        MHD_destroy_response(r);
    return ret;
}

MHD_RESULT srv_text(struct MHD_Connection *c, srv_req *rq, unsigned status, const char *type, const char *body)
{
    size_t len = strlen(body);
    struct MHD_Response *r =
        MHD_create_response_from_buffer(len, (void *)body, MHD_RESPMEM_MUST_COPY);
    if (!r)
        return MHD_NO;
    MHD_add_response_header(r, "Content-Type", type);
    MHD_add_response_header(r, "Cache-Control", "no-store");
    srv_common_headers(r);
    return srv_respond_len(c, rq, status, r, len);
}

MHD_RESULT srv_json(struct MHD_Connection *c, srv_req *rq, unsigned status, json_t *o)
{
    char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    if (!s)
        return srv_text(c, rq, 500, "application/json", "{\"error\":\"internal\",\"message\":\"out of memory\"}");
    size_t len = strlen(s);
    struct MHD_Response *r = MHD_create_response_from_buffer(len, s, MHD_RESPMEM_MUST_FREE);
    if (!r) {
        free(s);
        return MHD_NO;
    }
    MHD_add_response_header(r, "Content-Type", "application/json; charset=utf-8");
    MHD_add_response_header(r, "Cache-Control", "no-cache");
    srv_common_headers(r);
    return srv_respond_len(c, rq, status, r, len);
}

MHD_RESULT srv_error(struct MHD_Connection *c, srv_req *rq, unsigned status, const char *token, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return srv_json(c, rq, status, json_pack("{s:s,s:s}", "error", token, "message", msg));
}

const char *srv_arg(struct MHD_Connection *c, const char *name)
{
    return MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, name);
}

int srv_arg_int(struct MHD_Connection *c, const char *name, long lo, long hi, long def, long *out)
{
    const char *v = srv_arg(c, name);
    if (!v || !*v) {
        *out = def;
        return 0;
    }
    char *end;
    errno = 0;
    long x = strtol(v, &end, 10);
    if (errno || *end || x < lo || x > hi)
        return -1;
    *out = x;
    return 0;
}

const char *srv_title(const json_t *meta, const char *lang)
{
    json_t *t = json_object_get(meta, "title");
    const char *s = lang ? json_string_value(json_object_get(t, lang)) : NULL;
    if (s)
        return s;
    const char *k;
    json_t *v;
    json_object_foreach(t, k, v) return json_string_value(v);
    return "";
}

/* ---- metrics ---- */

static const double lat_bounds[LAT_BUCKETS] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 2.5};
static const char *route_names[ROUTE_COUNT] = {"ui", "content", "api", "opds", "metrics", "health", "other", "mirror"};

static void gauge(cs_buf *b, const char *name, const char *help, int64_t v)
{
    cs_buf_printf(b, "# HELP %s %s\n# TYPE %s gauge\n%s %lld\n", name, help, name, name,
                  (long long)v);
}

MHD_RESULT srv_metrics(srv *s, struct MHD_Connection *c, srv_req *rq)
{
    cs_buf b;
    cs_buf_init(&b, 1 << 20);
    cs_buf_printf(&b, "# HELP cistern_http_requests_total HTTP requests by route and status class.\n"
                      "# TYPE cistern_http_requests_total counter\n");
    for (int r = 0; r < ROUTE_COUNT; r++)
        for (int k = 1; k < 6; k++)
            cs_buf_printf(&b, "cistern_http_requests_total{route=\"%s\",code=\"%dxx\"} %llu\n", route_names[r], k,
                          (unsigned long long)atomic_load(&s->requests[r][k]));
    cs_buf_printf(
        &b,
        "# HELP cistern_http_response_bytes_total Body bytes of the responses queued, by route.\n"
        "# TYPE cistern_http_response_bytes_total counter\n");
    for (int r = 0; r < ROUTE_COUNT; r++)
        cs_buf_printf(&b, "cistern_http_response_bytes_total{route=\"%s\"} %llu\n", route_names[r],
                      (unsigned long long)atomic_load(&s->bytes_sent[r]));
    cs_buf_printf(&b, "# HELP cistern_http_request_duration_seconds Time to complete a request.\n"
                      "# TYPE cistern_http_request_duration_seconds histogram\n");
    for (int r = 0; r < ROUTE_COUNT; r++) {
        uint64_t cum = 0;
        for (int i = 0; i <= LAT_BUCKETS; i++) {
            cum += atomic_load(&s->lat_bucket[r][i]);
            if (i < LAT_BUCKETS)
                cs_buf_printf(&b, "cistern_http_request_duration_seconds_bucket{route=\"%s\",le=\"%g\"} %llu\n",
                              route_names[r], lat_bounds[i], (unsigned long long)cum);
            else
                cs_buf_printf(&b, "cistern_http_request_duration_seconds_bucket{route=\"%s\",le=\"+Inf\"} %llu\n",
                              route_names[r], (unsigned long long)cum);
        }
        cs_buf_printf(&b, "cistern_http_request_duration_seconds_sum{route=\"%s\"} %.6f\n", route_names[r],
                      (double)atomic_load(&s->lat_sum_us[r]) / 1e6);
        cs_buf_printf(&b, "cistern_http_request_duration_seconds_count{route=\"%s\"} %llu\n", route_names[r],
                      (unsigned long long)cum);
    }
    cs_buf_printf(
        &b,
        "# HELP cistern_http_connections Open connections.\n# TYPE cistern_http_connections gauge\n"
        "cistern_http_connections %llu\n"
        "# HELP cistern_http_header_timeouts_total Connections closed because request "
        "headers did not arrive within serve.header_timeout.\n"
        "# TYPE cistern_http_header_timeouts_total counter\n"
        "cistern_http_header_timeouts_total %llu\n",
        (unsigned long long)atomic_load(&s->conns.active),
        (unsigned long long)atomic_load(&s->conns.timeouts));
    uint64_t fc_hits, fc_misses;
    size_t fc_bytes;
    srv_fcache_stats(s->fcache, &fc_hits, &fc_misses, &fc_bytes);
    cs_buf_printf(&b,
                  "# HELP cistern_file_cache_requests_total Content GETs the file cache was asked, by outcome.\n"
                  "# TYPE cistern_file_cache_requests_total counter\n"
                  "cistern_file_cache_requests_total{result=\"hit\"} %llu\n"
                  "cistern_file_cache_requests_total{result=\"miss\"} %llu\n"
                  "# HELP cistern_file_cache_bytes Bytes the file cache holds (serve.file_cache at most).\n"
                  "# TYPE cistern_file_cache_bytes gauge\n"
                  "cistern_file_cache_bytes %llu\n",
                  (unsigned long long)fc_hits, (unsigned long long)fc_misses, (unsigned long long)fc_bytes);
    srv_handles *h = srv_handles_get(s);
    int64_t version = 0;
    uint64_t res = 0, files = 0, bytes = 0;
    content_catalog_version(h->cat, &version, NULL);
    content_catalog_counts(h->cat, &res, &files, &bytes, NULL);
    char *last = NULL, *lerr = NULL;
    content_catalog_state_get(h->cat, "last_import.time", &last, NULL);
    content_catalog_state_get(h->cat, "last_import.error", &lerr, NULL);
    srv_handles_put(s, h);
    /* Network syncs, the daemon's or `node sync`'s: sync-state.json, as
     * /api/v1/status reads it. */
    char p[PATH_MAX];
    snprintf(p, sizeof p, "%s/sync-state.json", s->data_dir);
    json_t *sy = json_load_file(p, 0, NULL);
    int64_t import_t = 0, sync_t = 0, attempt_t = 0, next_t = 0;
    if (last)
        cs_time_parse(last, &import_t);
    const char *v;
    if ((v = json_string_value(json_object_get(sy, "last_success"))) != NULL)
        cs_time_parse(v, &sync_t);
    if ((v = json_string_value(json_object_get(sy, "last_attempt"))) != NULL)
        cs_time_parse(v, &attempt_t);
    if ((v = json_string_value(json_object_get(sy, "next"))) != NULL)
        cs_time_parse(v, &next_t);
    int sync_failed = json_is_string(json_object_get(sy, "last_error"));
    int import_failed = lerr && *lerr;
    gauge(&b, "cistern_catalog_version", "Catalogue version applied.", version);
    gauge(&b, "cistern_catalog_resources", "Resources in the catalogue.", (int64_t)res);
    gauge(&b, "cistern_sync_last_success_timestamp_seconds",
          "Last successful USB import or network sync.", sync_t > import_t ? sync_t : import_t);
    gauge(&b, "cistern_sync_last_attempt_timestamp_seconds",
          "Last network sync attempt (0: never).", attempt_t);
    gauge(&b, "cistern_sync_error", "Whether the last network sync or the last USB import failed.",
          sync_failed || import_failed);
    gauge(&b, "cistern_sync_running", "Whether the daemon is syncing now.",
          atomic_load(&s->sync_running) ? 1 : 0);
    gauge(&b, "cistern_sync_next_timestamp_seconds",
          "When the daemon syncs next (0: not scheduled).", next_t);
    gauge(&b, "cistern_uptime_seconds", "Seconds since the server started.",
          cs_time_now() - s->started);
    json_decref(sy);
    free(last);
    free(lerr);
    if (!b.data)
        return srv_text(c, rq, 500, "text/plain", "out of memory\n");
    size_t len = b.len;
    struct MHD_Response *r = MHD_create_response_from_buffer(b.len, b.data, MHD_RESPMEM_MUST_FREE);
    b.data = NULL;
    MHD_add_response_header(r, "Content-Type", "text/plain; version=0.0.4; charset=utf-8");
    MHD_add_response_header(r, "Cache-Control", "no-store");
    srv_common_headers(r);
    return srv_respond_len(c, rq, 200, r, len);
}

/* ---- dispatch ---- */

static int route_of(const char *url)
{
    if (strncmp(url, "/r/", 3) == 0)
        return ROUTE_CONTENT;
    if (strncmp(url, "/api/", 5) == 0)
        return ROUTE_API;
    if (strcmp(url, "/opds") == 0 || strncmp(url, "/opds/", 6) == 0)
        return ROUTE_OPDS;
    if (strcmp(url, "/metrics") == 0)
        return ROUTE_METRICS;
    if (strcmp(url, "/healthz") == 0)
        return ROUTE_HEALTH;
    if (strncmp(url, "/repo/", 6) == 0)
        return ROUTE_MIRROR;
    if (strcmp(url, "/") == 0 || strncmp(url, "/ui/", 4) == 0 || strcmp(url, "/favicon.ico") == 0)
        return ROUTE_UI;
    return ROUTE_OTHER;
}

/* Body caps by endpoint: a mirror's batch, a local resource's files, JSON. */
static size_t body_cap(const char *url)
{
    if (strcmp(url, "/repo/batch") == 0)
        return HUB_BATCH_MAX_BODY;
    if (strcmp(url, "/api/v1/local") == 0)
        return SRV_LOCAL_MAX_BODY;
    return SRV_JSON_MAX_BODY;
}

static MHD_RESULT method_not_allowed(struct MHD_Connection *c, srv_req *rq)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
    MHD_add_response_header(r, "Allow",
                            rq->route == ROUTE_API ? "GET, HEAD, POST, PUT, DELETE" : "GET, HEAD");
    srv_common_headers(r);
    return srv_respond(c, rq, 405, r);
}

/* The first call, once the headers are in: the header deadline stops, and a
 * body that will not be read is refused at once (MHD then closes the
 * connection instead of reading it).  MHD_YES with nothing queued: the
 * answer comes on a later call. */
static MHD_RESULT request_begin(struct MHD_Connection *c, srv_req *rq, int get, int takes_body)
{
    rq->conn = cs_conns_begin(c);
    if (!get && !rq->head && !takes_body)
        return method_not_allowed(c, rq);
    const char *cl =
        MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
    const char *te =
        MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_TRANSFER_ENCODING);
    uint64_t len = cl ? strtoull(cl, NULL, 10) : 0;
    if ((get || rq->head) && (len > 0 || te))
        return srv_text(c, rq, 413, "text/plain; charset=utf-8",
                        "GET and HEAD take no request body\n");
    if (takes_body && len > rq->body.cap) {
        if (rq->route == ROUTE_MIRROR)
            return srv_text(c, rq, 413, "text/plain; charset=utf-8", "batch body over 1 MiB\n");
        return srv_error(c, rq, 413, "too_large", "request body over %zu bytes", rq->body.cap);
    }
    return MHD_YES;
}

static MHD_RESULT handler(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                          const char *version, const char *upload_data, size_t *upload_data_size,
                          void **con_cls)
{
    srv *s = cls;
    srv_req *rq = *con_cls;
    int get = strcmp(method, MHD_HTTP_METHOD_GET) == 0;
    if (!rq) {
        rq = calloc(1, sizeof *rq);
        if (!rq)
            return MHD_NO;
        rq->start_us = now_us();
        rq->route = route_of(url);
        rq->head = strcmp(method, MHD_HTTP_METHOD_HEAD) == 0;
        rq->s = s;
        cs_buf_init(&rq->body, body_cap(url));
        *con_cls = rq;
    }
    int head = rq->head;
    int batch = rq->route == ROUTE_MIRROR && strcmp(url, "/repo/batch") == 0 &&
                strcmp(method, MHD_HTTP_METHOD_POST) == 0;
    int api_write = rq->route == ROUTE_API && (strcmp(method, MHD_HTTP_METHOD_POST) == 0 ||
                                               strcmp(method, MHD_HTTP_METHOD_PUT) == 0 ||
                                               strcmp(method, MHD_HTTP_METHOD_DELETE) == 0);
    if (!rq->started) {
        /* A GET is answered on the next call, once MHD has the whole
         * request: a response queued from the first call closes the
         * connection, which is what a refused body wants and nothing else. */
        rq->started = 1;
        return request_begin(c, rq, get, batch || api_write);
    }
    if (*upload_data_size) {
        /* Only a mirror's batch and the API's writes get here with a body
         * (request_begin refused the others).  A chunked body over the cap
         * closes the connection: MHD can only answer once it is all read. */
        if (cs_buf_append(&rq->body, upload_data, *upload_data_size) != 0)
            return MHD_NO;
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (batch)
        return srv_mirror_batch(s, c, rq, &rq->body);
    if (api_write)
        return srv_api_write(s, c, rq, url, method);
    if (!head && !get)
        return method_not_allowed(c, rq);
    if (strlen(url) > 4096)
        return srv_error(c, rq, 414, "uri_too_long", "request path longer than 4096 bytes");
    switch (rq->route) {
    case ROUTE_CONTENT:
        return srv_content(s, c, rq, url, head);
    case ROUTE_API:
        return srv_api(s, c, rq, url);
    case ROUTE_OPDS:
        return srv_opds(s, c, rq, url);
    case ROUTE_METRICS:
        return srv_metrics(s, c, rq);
    case ROUTE_HEALTH:
        return srv_text(c, rq, 200, "text/plain; charset=utf-8", "ok\n");
    case ROUTE_UI:
        return srv_ui(s, c, rq, url);
    case ROUTE_MIRROR:
        return srv_mirror(s, c, rq, url);
    default:
        return srv_text(c, rq, 404, "text/plain; charset=utf-8", "not found\n");
    }
}

static void completed(void *cls, struct MHD_Connection *c, void **con_cls, enum MHD_RequestTerminationCode toe)
{
    srv *s = cls;
    srv_req *rq = *con_cls;
    if (!rq)
        return;
    int64_t end = now_us(), us = end - rq->start_us;
    int r = rq->route;
    atomic_fetch_add(&s->requests[r][status_class(rq->status)], 1);
    atomic_fetch_add(&s->lat_sum_us[r], (uint64_t)us);
    int b = 0;
    while (b < LAT_BUCKETS && (double)us / 1e6 > lat_bounds[b])
        b++;
    atomic_fetch_add(&s->lat_bucket[r][b], 1);
    /* The next request's headers are due from now (the record lives until
     * MHD's CLOSED notice, which comes after this one). */
    cs_conns_end(rq->conn);
    cs_buf_free(&rq->body);
    free(rq);
    *con_cls = NULL;
}

/* Connections open and close here, on MHD's threads: the record for the
 * header deadline joins and leaves srv.conns. */
static void conn_notify(void *cls, struct MHD_Connection *c, void **socket_context,
                        enum MHD_ConnectionNotificationCode toe)
{
    srv *s = cls;
    cs_conns_notify(&s->conns, c, socket_context, toe);
}

/* Main loop: cut connections whose request headers are overdue. */
static void conns_sweep(srv *s)
{
    uint64_t cut = cs_conns_sweep(&s->conns, s->opt.header_timeout_s);
    if (cut)
        cs_log_debug(&s->log, "http: closed %llu connection(s) whose request headers took over %u s",
                     (unsigned long long)cut, s->opt.header_timeout_s);
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
    srv *s = cls;
    char msg[512];
    vsnprintf(msg, sizeof msg, fmt, ap);
    size_t n = strlen(msg);
    while (n && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
        msg[--n] = '\0';
    cs_log_debug(&s->log, "http: %s", msg);
}

/* Percent-decoding of paths and query values, like MHD's own except that
 * %00 stays undecoded: a NUL would silently cut the path short. */
static int hexval(char ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F')
        return ch - 'A' + 10;
    return -1;
}

static size_t unescape(void *cls, struct MHD_Connection *c, char *uri)
{
    char *w = uri;
    for (const char *r = uri; *r; r++) {
        int hi, lo;
        if (*r == '%' && (hi = hexval(r[1])) >= 0 && (lo = hexval(r[2])) >= 0 && (hi | lo) != 0) {
            *w++ = (char)(hi << 4 | lo);
            r += 2;
        } else {
            *w++ = *r;
        }
    }
    *w = '\0';
    return (size_t)(w - uri);
}

/* ---- background sync ---- */

static void sync_note_next(srv *s, int64_t next, const char *why)
{
    char p[PATH_MAX], when[32];
    snprintf(p, sizeof p, "%s/sync-state.json", s->data_dir);
    json_t *o = json_load_file(p, 0, NULL);
    if (!json_is_object(o)) {
        json_decref(o);
        o = json_object();
    }
    cs_time_format(next, when, sizeof when);
    json_object_set_new(o, "next", next ? json_string(when) : json_null());
    json_object_set_new(o, "schedule", json_string(why));
    char *txt = json_dumps(o, JSON_COMPACT);
    if (txt)
        cs_file_write_atomic(p, txt, strlen(txt), 0600, NULL);
    free(txt);
    json_decref(o);
}

/* Sync when the hub is configured, every sync.interval seconds inside
 * sync.window, backing off (full jitter) after failures.  The writable
 * handles are opened only for the sync itself, so `cistern node import`
 * and `node sync` can run between. */
static void *sync_main(void *arg)
{
    srv *s = arg;
    int64_t next = cs_time_now() + 5, failures = 0;
    int64_t last_note = 0;
    while (!atomic_load(&s->sync_stop)) {
        sleep(1);
        if (atomic_load(&s->sync_stop))
            break;
        cs_conf *conf = NULL;
        if (node_conf_load(s->data_dir, &conf, NULL) != 0)
            continue;
        const char *url = cs_conf_get(conf, "hub.url");
        int have_url = url && *url; /* url points into conf, freed below */
        int64_t interval = 3600;
        int ws = -1, we = -1;
        cs_conf_get_int(conf, "sync.interval", 3600, &interval, NULL);
        int bad_window = node_window_parse(cs_conf_get(conf, "sync.window"), &ws, &we) != 0;
        int64_t now = cs_time_now();
        int open_now = !bad_window && node_window_open(ws, we, node_local_minute(now));
        cs_conf_free(conf);
        if (!have_url || bad_window) {
            if (now - last_note > 60) {
                sync_note_next(s, 0, bad_window ? "sync.window is malformed (HH:MM-HH:MM)" : "no hub.url: sync by USB bundle only");
                last_note = now;
            }
            continue;
        }
        if (now < next || !open_now) {
            if (now - last_note > 60) {
                sync_note_next(s, now < next ? next : 0, open_now ? "waiting" : "outside sync.window");
                last_note = now;
            }
            continue;
        }
        node_data *n = NULL;
        cs_err err = {0};
        sync_client_stats st;
        int rc = node_open(&n, s->data_dir, 0, &err);
        if (rc == 0) {
            atomic_store(&s->sync_running, 1);
            rc = node_sync_cancellable(n, NULL, &s->sync_stop, NULL, NULL, &st, &err);
            atomic_store(&s->sync_running, 0);
            node_close(n);
        }
        if (atomic_load(&s->sync_stop))
            break;
        if (rc == 0) {
            failures = 0;
            next = cs_time_now() + (interval > 5 ? interval : 5);
            if (st.to_version != st.from_version)
                cs_log_info(&s->log, "sync: now at version %lld (was %lld)", (long long)st.to_version,
                            (long long)st.from_version);
        } else {
            uint32_t r = 0;
            cs_random(&r, sizeof r, NULL);
            next = cs_time_now() + node_backoff_s((int)failures++, 60, 6 * 3600, r);
            cs_log_warn(&s->log, "sync: %s (next try in %lld s)", err.msg, (long long)(next - cs_time_now()));
        }
        sync_note_next(s, next, rc == 0 ? "waiting" : "backing off after a failure");
        last_note = cs_time_now();
    }
    return NULL;
}

/* Learner data past privacy.retention_days goes at start and hourly. */
static void people_housekeeping(srv *s)
{
    int64_t now = cs_time_now(), days = 365, removed = 0;
    if (now - s->last_purge < 3600 && s->last_purge <= now)
        return;
    s->last_purge = now;
    cs_conf *conf = NULL;
    cs_err err = {0};
    if (node_conf_load(s->data_dir, &conf, NULL) == 0)
        cs_conf_get_int(conf, "privacy.retention_days", 365, &days, NULL);
    cs_conf_free(conf);
    if (node_people_purge(s->people, now, days, &removed, &err) != 0)
        cs_log_warn(&s->log, "retention purge: %s", err.msg);
    else if (removed)
        cs_log_info(&s->log, "retention purge: %lld learner events older than %lld days removed", (long long)removed,
                    (long long)days);
}

static void reload_config(srv *s)
{
    cs_err err = {0};
    cs_conf *conf = NULL;
    node_server_options o;
    if (node_conf_load(s->data_dir, &conf, &err) != 0 || node_server_options_load(&o, conf, &err) != 0) {
        cs_log_error(&s->log, "SIGHUP: %s; keeping the running configuration", err.msg);
        cs_conf_free(conf);
        return;
    }
    cs_conf_free(conf);
    cs_logger_set_level(&s->log, o.log_level); /* request threads log meanwhile */
    if (strcmp(o.host, s->opt.host) || o.port != s->opt.port || o.threads != s->opt.threads ||
        o.max_conns != s->opt.max_conns || o.max_conns_per_ip != s->opt.max_conns_per_ip ||
        o.timeout_s != s->opt.timeout_s || o.header_limit != s->opt.header_limit ||
        o.file_cache != s->opt.file_cache)
        cs_log_warn(&s->log, "SIGHUP: serve.* listening and connection settings take effect at the next restart");
    s->opt.drain_s = o.drain_s;
    s->opt.session_idle_s = o.session_idle_s;
    s->opt.session_max_s = o.session_max_s;
    atomic_store(&s->session_idle_s, o.session_idle_s); /* what request threads read */
    atomic_store(&s->session_max_s, o.session_max_s);
    s->opt.log_level = o.log_level;
    s->opt.header_timeout_s = o.header_timeout_s; /* the main loop's sweep reads it */
    s->opt.search_cache = o.search_cache;
    atomic_store(&s->search_cache, o.search_cache);
    cs_log_info(&s->log, "SIGHUP: configuration reloaded");
}

int node_server_run(const char *data_dir, const node_server_options *opt, cs_err *err)
{
    /* Each pooled connection is used by one thread at a time: SQLite's
     * per-connection and memory-statistics mutexes only cost contention.
     * (Before any other SQLite call; harmless if SQLite is already up.) */
    sqlite3_shutdown(); /* no connection is open yet: settings can still change */
    sqlite3_config(SQLITE_CONFIG_MULTITHREAD);
    sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
    sqlite3_initialize();
    srv *s = calloc(1, sizeof *s);
    int rc = 0, lfd = -1;
    if (!s)
        return cs_err_set(err, CS_ENOMEM, "out of memory");
    snprintf(s->data_dir, sizeof s->data_dir, "%s", data_dir);
    s->opt = *opt;
    atomic_init(&s->session_idle_s, opt->session_idle_s);
    atomic_init(&s->session_max_s, opt->session_max_s);
    cs_logger_init(&s->log, opt->log_level);
    s->log.stamp = 1;
    s->started = cs_time_now();
    pthread_mutex_init(&s->lock, NULL);
    pthread_cond_init(&s->cond, NULL);
    pthread_mutex_init(&s->cache_lock, NULL);
    pthread_mutex_init(&s->rl_lock, NULL);
    cs_conns_init(&s->conns);
    atomic_init(&s->search_cache, opt->search_cache);

    /* Listen first (port 80 needs root), then give root up before anything
     * from outside is read: databases, config, requests. */
    struct sockaddr_storage ss;
    socklen_t sslen;
    memset(&ss, 0, sizeof ss);
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ERROR_LOG |
                     MHD_ALLOW_SUSPEND_RESUME;
    if (strchr(s->opt.host, ':')) {
        struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
        a->sin6_family = AF_INET6;
        a->sin6_port = htons(s->opt.port);
        inet_pton(AF_INET6, s->opt.host, &a->sin6_addr);
        flags |= MHD_USE_IPv6;
        sslen = sizeof *a;
    } else {
        struct sockaddr_in *a = (struct sockaddr_in *)&ss;
        a->sin_family = AF_INET;
        a->sin_port = htons(s->opt.port);
        inet_pton(AF_INET, s->opt.host, &a->sin_addr);
        sslen = sizeof *a;
    }
    int one = 1;
    lfd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (lfd < 0 || setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
        bind(lfd, (struct sockaddr *)&ss, sslen) != 0 || listen(lfd, 128) != 0) {
        rc = cs_err_set(err, CS_ENET, "cannot listen on %s:%u: %s", s->opt.host, s->opt.port, strerror(errno));
        goto out;
    }
    struct sockaddr_storage bound;
    socklen_t blen = sizeof bound;
    unsigned port = s->opt.port;
    if (getsockname(lfd, (struct sockaddr *)&bound, &blen) == 0)
        port = ntohs(bound.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&bound)->sin6_port
                                                 : ((struct sockaddr_in *)&bound)->sin_port);
    if (cs_priv_is_root()) {
        const char *user = s->opt.user;
        uid_t u;
        gid_t g;
        struct stat dst;
        struct passwd pwb, *owner = NULL;
        char pwbuf[4096];
        if (!*user && stat(data_dir, &dst) == 0 && dst.st_uid != 0 &&
            getpwuid_r(dst.st_uid, &pwb, pwbuf, sizeof pwbuf, &owner) == 0 && owner)
            user = owner->pw_name; /* the data's owner, e.g. after an earlier drop */
        else if (!*user && cs_priv_lookup("cistern", &u, &g, NULL) == 0)
            user = "cistern";
        if (!*user) {
            cs_log_warn(&s->log, "running as root: set serve.user (e.g. a \"cistern\" system user) to drop privileges");
        } else if ((rc = cs_priv_drop(user, data_dir, err)) != 0) {
            cs_err_wrap(err, "serve.user = %s", user);
            goto out;
        } else {
            cs_log_info(&s->log, "listening; now running as user %s", user);
        }
    }
    if (srv_fcache_new(&s->fcache, (size_t)s->opt.file_cache) != 0) {
        rc = cs_err_set(err, CS_ENOMEM, "out of memory");
        goto out;
    }
    if ((rc = pool_open(s, err)) != 0 || (rc = srv_ui_init(s, err)) != 0 ||
        (rc = node_people_open(&s->people, data_dir, err)) != 0 || (rc = srv_rec_start(s, err)) != 0)
        goto out;

    signal(SIGPIPE, SIG_IGN);
    if (!s->opt.stop) {
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = on_signal;
        sigaction(SIGTERM, &sa, NULL);
        sigaction(SIGINT, &sa, NULL);
        sigaction(SIGHUP, &sa, NULL);
    }
    s->mhd = MHD_start_daemon(flags, s->opt.port, NULL, NULL, handler, s,
                              MHD_OPTION_LISTEN_SOCKET, (MHD_socket)lfd,
                              MHD_OPTION_THREAD_POOL_SIZE, (unsigned int)s->opt.threads,
                              MHD_OPTION_CONNECTION_LIMIT, (unsigned int)s->opt.max_conns,
                              MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned int)s->opt.max_conns_per_ip,
                              MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)s->opt.timeout_s,
                              MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)s->opt.header_limit + 4096,
                              MHD_OPTION_NOTIFY_COMPLETED, completed, s,
                              MHD_OPTION_NOTIFY_CONNECTION, conn_notify, s,
                              MHD_OPTION_EXTERNAL_LOGGER, mhd_log, s,
                              MHD_OPTION_UNESCAPE_CALLBACK, unescape, s,
                              MHD_OPTION_END);
    if (!s->mhd) {
        rc = cs_err_set(err, CS_ENET, "cannot serve on %s:%u", s->opt.host, s->opt.port);
        goto out;
    }
    lfd = -1; /* MHD's now */
    printf("serving %s on http://%s%s%s:%u/\n", data_dir, strchr(s->opt.host, ':') ? "[" : "",
           strcmp(s->opt.host, "0.0.0.0") == 0 ? "0.0.0.0" : s->opt.host, strchr(s->opt.host, ':') ? "]" : "",
           port);
    fflush(stdout);
    cs_log_info(&s->log, "listening on %s port %u with %u threads", s->opt.host, port, s->opt.threads);
    if (s->opt.zeroconf)
        node_zeroconf_start(&s->zc, s->opt.school, (uint16_t)port, &s->log);
    if (pthread_create(&s->sync_thread, NULL, sync_main, s) == 0)
        s->sync_started = 1;
    if (s->opt.ready)
        s->opt.ready(s->opt.ready_ctx, port);
    while (!got_term && !(s->opt.stop && *s->opt.stop)) {
        usleep(100000);
        conns_sweep(s);
        pool_release_idle(s);
        people_housekeeping(s);
        if (got_hup) {
            got_hup = 0;
            reload_config(s);
        }
    }
    cs_log_info(&s->log, "stopping: no new connections; draining for up to %u s", s->opt.drain_s);
    node_zeroconf_stop(s->zc); /* no longer offered to new devices */
    s->zc = NULL;
    MHD_socket ls = MHD_quiesce_daemon(s->mhd);
    if (ls != MHD_INVALID_SOCKET)
        close(ls);
    for (unsigned i = 0; i < s->opt.drain_s * 10 && atomic_load(&s->conns.active) > 0; i++)
        usleep(100000);
    MHD_stop_daemon(s->mhd);
    s->mhd = NULL;
    /* A sync in progress stops at once; what it verified stays for next time. */
    atomic_store(&s->sync_stop, 1);
    if (s->sync_started)
        pthread_join(s->sync_thread, NULL);
    s->sync_started = 0;
    cs_log_info(&s->log, "stopped");
out:
    node_zeroconf_stop(s->zc);
    if (s->mhd)
        MHD_stop_daemon(s->mhd);
    if (lfd >= 0)
        close(lfd);
    if (s->sync_started) {
        atomic_store(&s->sync_stop, 1);
        pthread_join(s->sync_thread, NULL);
    }
    srv_rec_stop(s); /* before the pool: its thread reads through pool handles */
    pool_close(s);
    node_people_close(s->people);
    pthread_mutex_destroy(&s->rl_lock);
    cs_conns_destroy(&s->conns);
    free(s->index_html);
    for (size_t i = 0; i < SRV_CACHE_SLOTS; i++) {
        free(s->cache[i].key);
        free(s->cache[i].body);
    }
    pthread_mutex_destroy(&s->cache_lock);
    srv_fcache_free(s->fcache);
    pthread_mutex_destroy(&s->lock);
    pthread_cond_destroy(&s->cond);
    free(s);
    return rc;
}
