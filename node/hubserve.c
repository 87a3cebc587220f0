/*
 * hubserve.c - the hub's HTTP server (see hubserve.h).
 */
#include "node/hubserve.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "platform/buf.h"
#include "platform/crypto.h"
#include "platform/file.h"
#include "platform/log.h"
#include "platform/time.h"
#include "server_int.h"
#include "sync/outbox.h"

static volatile sig_atomic_t hub_term;

static void hub_on_signal(int sig)
{
    (void)sig;
    hub_term = 1;
}

typedef struct hubsrv {
    char repo[PATH_MAX];
    cs_logger log;
    sync_reports *reports; /* node uploads (thread-safe: its own lock) */
    cs_conns conns;        /* open connections, the header deadline (conns.h) */
} hubsrv;

typedef struct hubreq {
    cs_buf body;
    int too_big;
    cs_conn *conn; /* its connection's record, or NULL */
} hubreq;

static int all_hex(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return 0;
    return 1;
}

static int all_digits(const char *s, size_t n)
{
    if (n == 0 || n > 18)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return 0;
    return 1;
}

int node_hub_path_public(const char *p)
{
    size_t n = strlen(p);
    if (strcmp(p, "root.json") == 0 || strcmp(p, "timestamp.json") == 0)
        return 1;
    static const char *suffixes[] = {".root.json", ".snapshot.json", ".targets.json"};
    for (size_t i = 0; i < 3; i++) {
        size_t sl = strlen(suffixes[i]);
        if (n > sl && strcmp(p + n - sl, suffixes[i]) == 0 && all_digits(p, n - sl))
            return 1;
    }
    if (n == 8 + 64 + 4 && strncmp(p, "catalog/", 8) == 0 && all_hex(p + 8, 64) && strcmp(p + 72, ".cat") == 0)
        return 1;
    if (n == 8 + 2 + 1 + 64 && strncmp(p, "objects/", 8) == 0 && all_hex(p + 8, 2) && p[10] == '/' &&
        all_hex(p + 11, 64) && strncmp(p + 8, p + 11, 2) == 0)
        return 1;
    /* deltas/<t2>/<base>-<target>.zst */
    if (n == 7 + 2 + 1 + 64 + 1 + 64 + 4 && strncmp(p, "deltas/", 7) == 0 && all_hex(p + 7, 2) && p[9] == '/' &&
        all_hex(p + 10, 64) && p[74] == '-' && all_hex(p + 75, 64) && strcmp(p + 139, ".zst") == 0 &&
        strncmp(p + 7, p + 75, 2) == 0)
        return 1;
    return 0;
}

static MHD_RESULT plain(struct MHD_Connection *c, unsigned status, const char *msg)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(strlen(msg), (void *)msg, MHD_RESPMEM_MUST_COPY);
    MHD_add_response_header(r, "Content-Type", "text/plain; charset=utf-8");
    srv_common_headers(r);
    MHD_RESULT ret = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return ret;
}

/* Single-range parse: 0 none, 1 [a,b], -1 unsatisfiable. */
static int hub_range(const char *h, uint64_t size, uint64_t *a, uint64_t *b)
{
    if (!h || strncmp(h, "bytes=", 6) != 0)
        return 0;
    const char *p = h + 6;
    if (strchr(p, ','))
        return -1;
    char *end;
    if (*p == '-') {
        uint64_t n = strtoull(p + 1, &end, 10);
        if (*end || n == 0 || size == 0)
            return -1;
        *a = n >= size ? 0 : size - n;
        *b = size - 1;
        return 1;
    }
    if (*p < '0' || *p > '9')
        return -1;
    uint64_t x = strtoull(p, &end, 10), y = size ? size - 1 : 0;
    if (*end != '-')
        return -1;
    if (end[1]) {
        y = strtoull(end + 1, &end, 10);
        if (*end || y < x)
            return -1;
    }
    if (x >= size)
        return -1;
    if (y >= size)
        y = size - 1;
    *a = x;
    *b = y;
    return 1;
}

static MHD_RESULT serve_file(hubsrv *h, struct MHD_Connection *c, const char *rel)
{
    char path[PATH_MAX];
    if (!node_hub_path_public(rel))
        return plain(c, 404, "not found\n");
    snprintf(path, sizeof path, "%s/%s", h->repo, rel);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        if (fd >= 0)
            close(fd);
        return plain(c, 404, "not found\n");
    }
    uint64_t size = (uint64_t)st.st_size, a = 0, b = size ? size - 1 : 0;
    int pr = hub_range(MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Range"), size, &a, &b);
    if (pr < 0) {
        close(fd);
        char cr[64];
        snprintf(cr, sizeof cr, "bytes */%" PRIu64, size);
        struct MHD_Response *r = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
        MHD_add_response_header(r, "Content-Range", cr);
        MHD_RESULT ret = MHD_queue_response(c, 416, r);
        MHD_destroy_response(r);
        return ret;
    }
    uint64_t len = size ? b - a + 1 : 0;
    struct MHD_Response *r = MHD_create_response_from_fd_at_offset64(len, fd, a);
    if (!r) {
        close(fd);
        return MHD_NO;
    }
    int mutable_name = strcmp(rel, "timestamp.json") == 0 || strcmp(rel, "root.json") == 0;
    size_t n = strlen(rel);
    MHD_add_response_header(r, "Content-Type", n > 5 && strcmp(rel + n - 5, ".json") == 0 ? "application/json" : "application/octet-stream");
    MHD_add_response_header(r, "Accept-Ranges", "bytes");
    MHD_add_response_header(r, "Cache-Control", mutable_name ? "no-cache" : "public, max-age=31536000, immutable");
    if (pr == 1) {
        char cr[96];
        snprintf(cr, sizeof cr, "bytes %" PRIu64 "-%" PRIu64 "/%" PRIu64, a, b, size);
        MHD_add_response_header(r, "Content-Range", cr);
    }
    srv_common_headers(r);
    MHD_RESULT ret = MHD_queue_response(c, pr == 1 ? 206 : 200, r);
    MHD_destroy_response(r);
    return ret;
}

/* ---- POST /batch ---- */

typedef struct batch_item {
    uint8_t id[32];
    uint8_t base[32]; /* all zero: the whole object */
    uint64_t len;
} batch_item;

typedef struct batch_out {
    hubsrv *h;
    batch_item *items;
    size_t n, cur;
    uint64_t in_item; /* bytes of the current record already sent */
    int fd;
} batch_out;

static const uint8_t no_base[32];

static void batch_path(const hubsrv *h, const batch_item *it, char *path, size_t cap)
{
    char hex[CS_SHA256_HEX], base[CS_SHA256_HEX];
    cs_hex_encode(it->id, 32, hex);
    if (memcmp(it->base, no_base, 32) == 0) {
        snprintf(path, cap, "%s/objects/%.2s/%s", h->repo, hex, hex);
    } else {
        cs_hex_encode(it->base, 32, base);
        snprintf(path, cap, "%s/deltas/%.2s/%s-%s.zst", h->repo, hex, base, hex);
    }
}

static ssize_t batch_read(void *cls, uint64_t pos, char *buf, size_t max)
{
    batch_out *o = cls;
    size_t done = 0;
    while (done < max && o->cur < o->n) {
        batch_item *it = &o->items[o->cur];
        if (o->in_item < 72) {
            uint8_t hdr[72];
            memcpy(hdr, it->id, 32);
            memcpy(hdr + 32, it->base, 32);
            cs_put_u64(hdr + 64, it->len);
            size_t take = 72 - o->in_item < max - done ? (size_t)(72 - o->in_item) : max - done;
            memcpy(buf + done, hdr + o->in_item, take);
            o->in_item += take;
            done += take;
            continue;
        }
        if (o->fd < 0) {
            char path[PATH_MAX];
            batch_path(o->h, it, path, sizeof path);
            o->fd = open(path, O_RDONLY | O_CLOEXEC);
            if (o->fd < 0)
                return MHD_CONTENT_READER_END_WITH_ERROR;
        }
        uint64_t off = o->in_item - 72;
        size_t want = it->len - off < max - done ? (size_t)(it->len - off) : max - done;
        ssize_t got = want ? pread(o->fd, buf + done, want, (off_t)off) : 0;
        if (got < 0 || (want && got == 0))
            return MHD_CONTENT_READER_END_WITH_ERROR;
        o->in_item += (uint64_t)got;
        done += (size_t)got;
        if (o->in_item == 72 + it->len) {
            close(o->fd);
            o->fd = -1;
            o->cur++;
            o->in_item = 0;
        }
    }
    return done ? (ssize_t)done : MHD_CONTENT_READER_END_OF_STREAM;
}

static void batch_free(void *cls)
{
    batch_out *o = cls;
    if (o->fd >= 0)
        close(o->fd);
    free(o->items);
    free(o);
}

static MHD_RESULT serve_batch(hubsrv *h, struct MHD_Connection *c, const cs_buf *body)
{
    batch_out *o = calloc(1, sizeof *o);
    if (!o)
        return MHD_NO;
    o->h = h;
    o->fd = -1;
    o->items = calloc(HUB_BATCH_MAX_IDS, sizeof *o->items);
    if (!o->items) {
        free(o);
        return MHD_NO;
    }
    uint64_t total = 0;
    const char *p = body->data ? (const char *)body->data : "";
    size_t len = body->len, i = 0;
    while (i < len) {
        size_t e = i;
        while (e < len && p[e] != '\n')
            e++;
        size_t ll = e - i;
        if (ll && p[e - 1] == '\r')
            ll--;
        if (ll) {
            /* "TARGET" for a whole object, "BASE:TARGET" for a delta. */
            int delta = ll == 129 && p[i + 64] == ':';
            const char *t = p + i + (delta ? 65 : 0);
            if ((ll != 64 && !delta) || !all_hex(t, 64) || (delta && !all_hex(p + i, 64)) || o->n >= HUB_BATCH_MAX_IDS) {
                int too_many = o->n >= HUB_BATCH_MAX_IDS;
                batch_free(o);
                return plain(c, too_many ? 413 : 400,
                             too_many ? "too many ids in one batch\n"
                                      : "batch body: one id (or BASE:TARGET) of 64 hex digits a line\n");
            }
            char hex[65];
            memcpy(hex, t, 64);
            hex[64] = '\0';
            batch_item *it = &o->items[o->n];
            memset(it, 0, sizeof *it);
            cs_hex_decode(hex, it->id, 32);
            if (delta) {
                memcpy(hex, p + i, 64);
                cs_hex_decode(hex, it->base, 32);
            }
            char path[PATH_MAX];
            struct stat st;
            batch_path(h, it, path, sizeof path);
            if (stat(path, &st) == 0 && S_ISREG(st.st_mode) &&
                total + 72 + (uint64_t)st.st_size <= HUB_BATCH_MAX_ANSWER) {
                it->len = (uint64_t)st.st_size;
                total += 72 + (uint64_t)st.st_size;
                o->n++;
            }
        }
        i = e + 1;
    }
    struct MHD_Response *r = MHD_create_response_from_callback(total, 64 * 1024, batch_read, o, batch_free);
    if (!r) {
        batch_free(o);
        return MHD_NO;
    }
    MHD_add_response_header(r, "Content-Type", "application/octet-stream");
    MHD_add_response_header(r, "Cache-Control", "no-store");
    srv_common_headers(r);
    MHD_RESULT ret = MHD_queue_response(c, 200, r);
    MHD_destroy_response(r);
    return ret;
}

/* ---- POST /outbox: a node's signed batch, kept exactly once ---- */

static MHD_RESULT serve_outbox(hubsrv *h, struct MHD_Connection *c, const cs_buf *body)
{
    sync_outbox_batch b;
    cs_err err = {0};
    int64_t acked = 0;
    int added = 0;
    char msg[CS_ERR_MSG_MAX + 2];
    int rc = sync_outbox_parse(&b, body->data ? body->data : (const uint8_t *)"", body->len, &err);
    if (rc == 0) {
        rc = sync_reports_ingest(h->reports, &b, cs_time_now(), &acked, &added, &err);
        if (rc == 0)
            cs_log_info(&h->log, "outbox: node %.12s: %zu records, %d new, acknowledged up to %lld", b.node,
                        json_array_size(b.records), added, (long long)acked);
        sync_outbox_batch_clear(&b);
    }
    if (rc != 0) {
        cs_log_warn(&h->log, "outbox: refused: %s", err.msg);
        snprintf(msg, sizeof msg, "%s\n", err.msg);
        return plain(c, rc == CS_ESIG ? 401 : rc == CS_ETOOBIG ? 413 : rc == CS_EFORMAT ? 400 : 500, msg);
    }
    char out[96];
    snprintf(out, sizeof out, "{\"acked\":%lld,\"added\":%d}", (long long)acked, added);
    struct MHD_Response *r = MHD_create_response_from_buffer(strlen(out), out, MHD_RESPMEM_MUST_COPY);
    MHD_add_response_header(r, "Content-Type", "application/json");
    MHD_RESULT ret = MHD_queue_response(c, 200, r);
    MHD_destroy_response(r);
    return ret;
}

static MHD_RESULT hub_handler(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                              const char *version, const char *upload_data, size_t *upload_data_size, void **con_cls)
{
    hubsrv *h = cls;
    hubreq *rq = *con_cls;
    if (!rq) {
        rq = calloc(1, sizeof *rq);
        if (!rq)
            return MHD_NO;
        cs_buf_init(&rq->body, strcmp(url, "/outbox") == 0 ? SYNC_OUTBOX_MAX_BYTES : HUB_BATCH_MAX_BODY);
        rq->conn = cs_conns_begin(c); /* the headers are in: the deadline stops */
        *con_cls = rq;
        return MHD_YES;
    }
    if (*upload_data_size) {
        if (!rq->too_big && cs_buf_append(&rq->body, upload_data, *upload_data_size) != 0)
            rq->too_big = 1;
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (strcmp(url, "/outbox") == 0) {
        if (strcmp(method, MHD_HTTP_METHOD_POST) != 0)
            return plain(c, 405, "POST a signed outbox batch\n");
        if (rq->too_big)
            return plain(c, 413, "outbox batch over 8 MiB\n");
        return serve_outbox(h, c, &rq->body);
    }
    if (strcmp(url, "/batch") == 0) {
        if (strcmp(method, MHD_HTTP_METHOD_POST) != 0) {
            return plain(c, 405, "POST a list of object ids\n");
        }
        if (rq->too_big)
            return plain(c, 413, "batch body over 1 MiB\n");
        return serve_batch(h, c, &rq->body);
    }
    if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 && strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
        return plain(c, 405, "method not allowed\n");
    if (strcmp(url, "/healthz") == 0)
        return plain(c, 200, "ok\n");
    if (url[0] != '/' || strlen(url) > 512)
        return plain(c, 404, "not found\n");
    return serve_file(h, c, url + 1);
}

static void hub_completed(void *cls, struct MHD_Connection *c, void **con_cls, enum MHD_RequestTerminationCode toe)
{
    hubreq *rq = *con_cls;
    if (rq) {
        cs_conns_end(rq->conn); /* the next request's headers are due from now */
        cs_buf_free(&rq->body);
        free(rq);
        *con_cls = NULL;
    }
}

static void hub_conn(void *cls, struct MHD_Connection *c, void **sc, enum MHD_ConnectionNotificationCode toe)
{
    hubsrv *h = cls;
    cs_conns_notify(&h->conns, c, sc, toe);
}

int node_hub_serve(const char *repo, const node_server_options *opt, cs_err *err)
{
    hubsrv h;
    memset(&h, 0, sizeof h);
    snprintf(h.repo, sizeof h.repo, "%s", repo);
    cs_logger_init(&h.log, opt->log_level);
    h.log.stamp = 1;
    char p[PATH_MAX];
    snprintf(p, sizeof p, "%s/root.json", repo);
    if (!cs_path_exists(p))
        return cs_err_set(err, CS_ENOENT, "%s is not a repository (no root.json)", repo);
    int rc;
    if ((rc = sync_reports_open_sqlite(&h.reports, repo, err)) != 0)
        return rc;
    cs_conns_init(&h.conns);
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof ss);
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME;
    if (strchr(opt->host, ':')) {
        struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
        a->sin6_family = AF_INET6;
        a->sin6_port = htons(opt->port);
        inet_pton(AF_INET6, opt->host, &a->sin6_addr);
        flags |= MHD_USE_IPv6;
    } else {
        struct sockaddr_in *a = (struct sockaddr_in *)&ss;
        a->sin_family = AF_INET;
        a->sin_port = htons(opt->port);
        inet_pton(AF_INET, opt->host, &a->sin_addr);
    }
    signal(SIGPIPE, SIG_IGN);
    if (!opt->stop) {
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = hub_on_signal;
        sigaction(SIGTERM, &sa, NULL);
        sigaction(SIGINT, &sa, NULL);
    }
    struct MHD_Daemon *d = MHD_start_daemon(
        flags, opt->port, NULL, NULL, hub_handler, &h, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
        MHD_OPTION_THREAD_POOL_SIZE, (unsigned int)opt->threads, MHD_OPTION_CONNECTION_LIMIT,
        (unsigned int)opt->max_conns, MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned int)opt->max_conns_per_ip,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)opt->timeout_s, MHD_OPTION_CONNECTION_MEMORY_LIMIT,
        (size_t)opt->header_limit + 4096, MHD_OPTION_NOTIFY_COMPLETED, hub_completed, &h,
        MHD_OPTION_NOTIFY_CONNECTION, hub_conn, &h, MHD_OPTION_LISTENING_ADDRESS_REUSE, 1, MHD_OPTION_END);
    if (!d) {
        sync_reports_close(h.reports);
        cs_conns_destroy(&h.conns);
        return cs_err_set(err, CS_ENET, "cannot listen on %s:%u", opt->host, opt->port);
    }
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
    unsigned port = di && di->port ? di->port : opt->port;
    printf("serving repository %s on http://%s:%u/\n", repo, opt->host, port);
    fflush(stdout);
    cs_log_info(&h.log, "hub listening on %s port %u", opt->host, port);
    if (opt->ready)
        opt->ready(opt->ready_ctx, port);
    while (!hub_term && !(opt->stop && *opt->stop)) {
        usleep(100000);
        uint64_t cut = cs_conns_sweep(&h.conns, opt->header_timeout_s);
        if (cut)
            cs_log_debug(&h.log, "http: closed %llu connection(s) whose request headers took over %u s",
                         (unsigned long long)cut, opt->header_timeout_s);
    }
    MHD_socket ls = MHD_quiesce_daemon(d);
    if (ls != MHD_INVALID_SOCKET)
        close(ls);
    for (unsigned i = 0; i < opt->drain_s * 10 && atomic_load(&h.conns.active) > 0; i++)
        usleep(100000);
    MHD_stop_daemon(d);
    sync_reports_close(h.reports);
    cs_conns_destroy(&h.conns);
    cs_log_info(&h.log, "hub stopped");
    return 0;
}
