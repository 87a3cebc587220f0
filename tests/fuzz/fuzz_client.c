/*
 * fuzz_client.c - the node's network sync (sync/client.c) against a hostile
 * hub or mirror: every byte a sync receives is the server's to choose.
 *
 * Once per process: a hub repository with samples/v1 and then samples/v2
 * published (so it holds deltas), and a node's catalogue and store with the
 * v1 bundle imported, kept as a template.  A small HTTP server in a thread
 * of this process serves the repository as `cistern hub serve` does (files,
 * POST /batch with objects and deltas, Range for resumes).  Each input
 * copies the template and runs one sync from v1 to v2, with the server
 * turned hostile for one kind of request:
 *
 *   byte 0, bits 0-2: which requests: timestamp.json, N.snapshot.json,
 *         N.targets.json, catalog/, POST /batch, objects/, deltas/,
 *         N.root.json;
 *   bits 3-4: how: 0 the body replaced by the rest of the input; 1 the
 *         real body damaged ([position byte][xor byte] pairs); 2 the rest
 *         sent as the whole response (status line, headers and body);
 *         3 the real response cut after (u16) bytes of its body (2 and 3
 *         once per path: see first_time());
 *   bit 5: keep a mirror copy; bit 6: no /batch (one GET per object, and
 *         deltas by GET); bit 7: objects over 1 KiB are "large" (fetched
 *         alone into part files).
 *
 * Invariants: no crash or leak; the sync ends within 5 s (stall limit
 * 1 s, one retry, no backoff: a sync still going is cancelled and reported);
 * a refusal says why; a sync that succeeds reaches the hub's version, and
 * every object in the store then re-hashes to its id (nothing hostile was
 * stored).  Temporary folders go at exit.  FUZZ_CLIENT_DEBUG=1 prints
 * each sync's outcome.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "content/catalog.h"
#include "content/store.h"
#include "node/hubserve.h"
#include "node/node.h"
#include "platform/buf.h"
#include "platform/crypto.h"
#include "platform/file.h"
#include "sync/client.h"
#include "sync/hub.h"

#ifndef CS_SOURCE_DIR
#error "CS_SOURCE_DIR must name the source tree (for samples/)"
#endif

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

enum { K_TIMESTAMP, K_SNAPSHOT, K_TARGETS, K_CATALOG, K_BATCH, K_OBJECT, K_DELTA, K_ROOT, K_NONE };
enum { H_REPLACE, H_DAMAGE, H_RAW, H_CUT };

#define MAX_BODY (4u << 20)
/* A sync here takes milliseconds; one still going after this never ends. */
#define SYNC_DEADLINE_MS 5000

/* The fixture and the hostile script: one harness's globals. */
static struct {
    int ready;
    char dir[PATH_MAX], hub[PATH_MAX], tmpl[PATH_MAX], work[PATH_MAX];
    int64_t version;
    int lfd;
    unsigned port;
    pthread_t thread;
    volatile int stop;
    /* a watchdog (the server thread): the sync is cancelled past the deadline */
    atomic_int cancel;
    volatile int64_t deadline_ms;
    /* the script, set before each sync (the server reads it while the sync runs) */
    pthread_mutex_t lock; /* held by the server for each connection, and to change the script */
    int kind, how, no_batch;
    uint8_t *payload; /* a copy: the server may still be answering when the input is gone */
    size_t payload_len;
    uint64_t once[256]; /* paths already answered raw or cut (hashes) */
    size_t nonce;
} fx;

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static void rm_tree(const char *p)
{
    nftw(p, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static void teardown(void)
{
    fx.stop = 1;
    if (fx.ready)
        pthread_join(fx.thread, NULL);
    if (fx.lfd > 0)
        close(fx.lfd);
    if (fx.dir[0])
        rm_tree(fx.dir);
    fx.dir[0] = '\0';
    free(fx.payload);
    fx.payload = NULL;
}

static void fail_setup(const char *what, const cs_err *err)
{
    fprintf(stderr, "fuzz_client: fixture: %s: %s\n", what, err ? err->msg : strerror(errno));
    if (fx.dir[0])
        rm_tree(fx.dir);
    abort();
}

/* Copy a folder tree (files and folders only). */
static void copy_tree(const char *from, const char *to)
{
    DIR *d = opendir(from);
    struct dirent *e;
    cs_err err = {0};
    if (!d || mkdir(to, 0700) != 0)
        fail_setup(to, NULL);
    while ((e = readdir(d)) != NULL) {
        char a[PATH_MAX], b[PATH_MAX];
        struct stat st;
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        snprintf(a, sizeof a, "%s/%s", from, e->d_name);
        snprintf(b, sizeof b, "%s/%s", to, e->d_name);
        if (lstat(a, &st) != 0)
            fail_setup(a, NULL);
        if (S_ISDIR(st.st_mode)) {
            copy_tree(a, b);
            continue;
        }
        char *text = NULL;
        size_t len = 0;
        if (cs_file_read_all(a, 1u << 30, &text, &len, &err) != 0 ||
            cs_file_write_atomic(b, text, len, 0600, &err) != 0)
            fail_setup(a, &err);
        free(text);
    }
    closedir(d);
}

/* ---- the server ---- */

static int kind_of(const char *method, const char *path)
{
    size_t n = strlen(path);
    if (strcmp(method, "POST") == 0)
        return strcmp(path, "batch") == 0 ? K_BATCH : K_NONE;
    if (strcmp(path, "timestamp.json") == 0)
        return K_TIMESTAMP;
    if (n > 14 && strcmp(path + n - 14, ".snapshot.json") == 0)
        return K_SNAPSHOT;
    if (n > 13 && strcmp(path + n - 13, ".targets.json") == 0)
        return K_TARGETS;
    if (n > 10 && strcmp(path + n - 10, ".root.json") == 0)
        return K_ROOT;
    if (strncmp(path, "catalog/", 8) == 0)
        return K_CATALOG;
    if (strncmp(path, "objects/", 8) == 0)
        return K_OBJECT;
    if (strncmp(path, "deltas/", 7) == 0)
        return K_DELTA;
    return K_NONE;
}

static int read_file(const char *rel, cs_buf *out)
{
    char p[PATH_MAX];
    char *text = NULL;
    size_t len = 0;
    if (!node_hub_path_public(rel))
        return -1;
    snprintf(p, sizeof p, "%s/%s", fx.hub, rel);
    if (cs_file_read_all(p, MAX_BODY, &text, &len, NULL) != 0)
        return -1;
    cs_buf_append(out, text, len);
    free(text);
    return 0;
}

/* The real POST /batch answer, as hubserve.c frames it. */
static void batch_answer(const char *body, size_t len, cs_buf *out)
{
    static const uint8_t zero[32];
    for (size_t i = 0; i < len;) {
        size_t e = i;
        while (e < len && body[e] != '\n')
            e++;
        size_t ll = e - i;
        char t[65], b[65] = "", rel[200];
        uint8_t hdr[72];
        if (ll == 64 || (ll == 129 && body[i + 64] == ':')) {
            memcpy(t, body + i + (ll == 129 ? 65 : 0), 64);
            t[64] = '\0';
            if (ll == 129) {
                memcpy(b, body + i, 64);
                b[64] = '\0';
                snprintf(rel, sizeof rel, "deltas/%.2s/%s-%s.zst", t, b, t);
            } else {
                snprintf(rel, sizeof rel, "objects/%.2s/%s", t, t);
            }
            cs_buf f;
            cs_buf_init(&f, MAX_BODY);
            if (read_file(rel, &f) == 0 && cs_hex_decode(t, hdr, 32) == 0 &&
                (ll == 64 ? (memcpy(hdr + 32, zero, 32), 0) : cs_hex_decode(b, hdr + 32, 32)) ==
                    0) {
                cs_put_u64(hdr + 64, f.len);
                cs_buf_append(out, hdr, 72);
                if (f.len)
                    cs_buf_append(out, f.data, f.len);
            }
            cs_buf_free(&f);
        }
        i = e + 1;
    }
}

static void send_all(int fd, const void *p, size_t n)
{
    const char *c = p;
    while (n > 0) {
        ssize_t w = send(fd, c, n, MSG_NOSIGNAL);
        if (w <= 0)
            return;
        c += w;
        n -= (size_t)w;
    }
}

/* Raw and cut answers go once per path: repeated, a server trickling a
 * few bytes a request makes progress each time, and a sync that makes
 * progress goes on (by design: a bad link is still a link). */
static int first_time(const char *path)
{
    uint64_t h = 1469598103934665603ULL;
    for (const char *c = path; *c; c++)
        h = (h ^ (unsigned char)*c) * 1099511628211ULL;
    for (size_t i = 0; i < fx.nonce; i++)
        if (fx.once[i] == h)
            return 0;
    if (fx.nonce < sizeof fx.once / sizeof fx.once[0])
        fx.once[fx.nonce++] = h;
    return 1;
}

/* One connection: one request, one answer, closed. */
static void serve_one(int fd)
{
    char req[65536];
    size_t have = 0;
    char *end = NULL;
    struct timeval tv = {2, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    while (have < sizeof req - 1 && !(end = memmem(req, have, "\r\n\r\n", 4))) {
        ssize_t n = recv(fd, req + have, sizeof req - 1 - have, 0);
        if (n <= 0)
            return;
        have += (size_t)n;
    }
    if (!end)
        return;
    req[have] = '\0';
    char method[8] = "", path[1024] = "";
    if (sscanf(req, "%7s /%1023s", method, path) != 2)
        return;
    size_t hl = (size_t)(end - req) + 4, clen = 0;
    const char *cl = strcasestr(req, "\r\ncontent-length:");
    if (cl && cl < end)
        clen = strtoul(cl + 17, NULL, 10);
    const char *ex = strcasestr(req, "\r\nexpect: 100-continue");
    if (ex && ex < end)
        send_all(fd, "HTTP/1.1 100 Continue\r\n\r\n", 25); /* else curl waits a second for it */
    cs_buf body;
    cs_buf_init(&body, 2u << 20);
    cs_buf_append(&body, req + hl, have - hl);
    while (body.len < clen) {
        char tmp[16384];
        ssize_t n = recv(fd, tmp, sizeof tmp, 0);
        if (n <= 0 || cs_buf_append(&body, tmp, (size_t)n) != 0)
            break;
    }
    int kind = kind_of(method, path), status = 200;
    cs_buf out;
    cs_buf_init(&out, MAX_BODY);
    if (kind == K_BATCH && !fx.no_batch)
        batch_answer(body.data ? (const char *)body.data : "", body.len, &out);
    else if (kind == K_BATCH || strcmp(method, "GET") != 0 || read_file(path, &out) != 0)
        status = 404;
    /* Range for resumed large objects: bytes=N- */
    uint64_t from = 0;
    const char *rg = strcasestr(req, "\r\nrange: bytes=");
    if (status == 200 && rg && rg < end && (from = strtoull(rg + 15, NULL, 10)) < out.len)
        status = 206;
    else
        from = 0;
    const uint8_t *b = out.data ? out.data + from : (const uint8_t *)"";
    size_t blen = out.len - (size_t)from, sent_len = blen;
    if (kind == fx.kind && (fx.how == H_REPLACE || fx.how == H_DAMAGE || first_time(path))) {
        const uint8_t *p = fx.payload;
        size_t pn = fx.payload_len;
        switch (fx.how) {
        case H_REPLACE:
            status = 200;
            b = p;
            blen = sent_len = pn;
            break;
        case H_DAMAGE:
            for (size_t i = 0; blen && i + 1 < pn; i += 2)
                ((uint8_t *)b)[((size_t)p[i] * blen) / 256] ^= p[i + 1] ? p[i + 1] : 0x80;
            break;
        case H_RAW:
            send_all(fd, p, pn);
            goto out;
        case H_CUT:
            sent_len = pn >= 2 ? ((size_t)p[0] | (size_t)p[1] << 8) % (blen + 1) : 0;
            break;
        }
    }
    char head[256];
    int n = snprintf(head, sizeof head,
                     "HTTP/1.1 %d %s\r\nContent-Length: %zu\r\nConnection: close\r\n"
                     "Content-Type: application/octet-stream\r\n",
                     status,
                     status == 404   ? "Not Found"
                     : status == 206 ? "Partial Content"
                                     : "OK",
                     blen);
    if (status == 206)
        n += snprintf(head + n, sizeof head - (size_t)n, "Content-Range: bytes %llu-%zu/%zu\r\n",
                      (unsigned long long)from, out.len ? out.len - 1 : 0, out.len);
    send_all(fd, head, (size_t)n);
    send_all(fd, "\r\n", 2);
    send_all(fd, b, sent_len);
out:
    cs_buf_free(&out);
    cs_buf_free(&body);
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void *server_main(void *arg)
{
    (void)arg;
    while (!fx.stop) {
        if (fx.deadline_ms && now_ms() > fx.deadline_ms)
            fx.cancel = 1;
        struct pollfd p = {fx.lfd, POLLIN, 0};
        if (poll(&p, 1, 100) <= 0)
            continue;
        int fd = accept(fx.lfd, NULL, NULL);
        if (fd < 0)
            continue;
        pthread_mutex_lock(&fx.lock);
        serve_one(fd);
        pthread_mutex_unlock(&fx.lock);
        shutdown(fd, SHUT_WR);
        close(fd);
    }
    return NULL;
}

/* ---- the fixture ---- */

static void fixture(void)
{
    if (fx.ready)
        return;
    const char *tmp = getenv("TMPDIR");
    char bundle[PATH_MAX], data[PATH_MAX], p[PATH_MAX];
    cs_err err = {0};
    snprintf(fx.dir, sizeof fx.dir, "%s/fuzz_client.XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(fx.dir))
        fail_setup("mkdtemp", NULL);
    snprintf(fx.hub, sizeof fx.hub, "%s/hub", fx.dir);
    snprintf(bundle, sizeof bundle, "%s/v1.bundle", fx.dir);
    snprintf(data, sizeof data, "%s/node", fx.dir);
    snprintf(fx.tmpl, sizeof fx.tmpl, "%s/node/", fx.dir);
    snprintf(fx.work, sizeof fx.work, "%s/work", fx.dir);
    sync_hub *h = NULL;
    sync_publish_stats st;
    if (sync_hub_init(fx.hub, NULL, &err) != 0 || sync_hub_open(&h, fx.hub, &err) != 0 ||
        sync_hub_publish(h, CS_SOURCE_DIR "/samples/v1", NULL, NULL, &st, &err) != 0 ||
        sync_hub_bundle(h, 0, bundle, NULL, NULL, &err) != 0 ||
        sync_hub_publish(h, CS_SOURCE_DIR "/samples/v2", NULL, NULL, &st, &err) != 0)
        fail_setup("the hub", &err);
    fx.version = sync_hub_version(h);
    sync_hub_free(h);
    node_data *n = NULL;
    sync_import_stats ist;
    snprintf(p, sizeof p, "%s/root.json", fx.hub);
    if (node_init(data, p, NULL, &err) != 0 || node_open(&n, data, 0, &err) != 0 ||
        node_import(n, bundle, NULL, NULL, &ist, &err) != 0)
        fail_setup("the node", &err);
    node_close(n);

    fx.lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a;
    socklen_t al = sizeof a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fx.lfd < 0 || bind(fx.lfd, (struct sockaddr *)&a, sizeof a) != 0 ||
        listen(fx.lfd, 16) != 0 || getsockname(fx.lfd, (struct sockaddr *)&a, &al) != 0)
        fail_setup("listening", NULL);
    fx.port = ntohs(a.sin_port);
    fx.kind = K_NONE;
    pthread_mutex_init(&fx.lock, NULL);
    if (pthread_create(&fx.thread, NULL, server_main, NULL) != 0)
        fail_setup("the server thread", NULL);
    fx.ready = 1;
    /* After the libraries' exit handlers (OpenSSL's), so it runs first. */
    atexit(teardown);
}

/* A finding: leave no folder behind, and crash for the fuzzer. */
static void finding(void)
{
    if (fx.dir[0])
        rm_tree(fx.dir);
    fx.dir[0] = '\0';
    abort();
}

static void damage_report(void *ctx, const uint8_t id[32], const char *reason)
{
    (void)ctx;
    char hex[CS_SHA256_HEX];
    cs_hex_encode(id, 32, hex);
    fprintf(stderr, "fuzz_client: stored object %s is damaged: %s\n", hex, reason);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fixture();
    if (size < 1)
        return 0;
    pthread_mutex_lock(&fx.lock);
    uint8_t *copy = realloc(fx.payload, size);
    if (!copy)
        fail_setup("out of memory", NULL);
    memcpy(copy, data + 1, size - 1);
    fx.payload = copy;
    fx.payload_len = size - 1;
    fx.kind = data[0] & 7;
    fx.how = (data[0] >> 3) & 3;
    fx.no_batch = (data[0] >> 6) & 1;
    fx.nonce = 0;
    pthread_mutex_unlock(&fx.lock);

    char p[PATH_MAX + 16], url[64];
    cs_err err = {0};
    content_catalog *cat = NULL;
    content_store *store = NULL;
    rm_tree(fx.work);
    copy_tree(fx.tmpl, fx.work);
    snprintf(p, sizeof p, "%s/catalog.db", fx.work);
    if (content_catalog_open(&cat, p, 0, &err) != 0)
        fail_setup("the catalogue", &err);
    snprintf(p, sizeof p, "%s/store", fx.work);
    if (content_store_open(&store, p, 0, &err) != 0)
        fail_setup("the store", &err);
    sync_client_options o;
    sync_client_options_default(&o);
    snprintf(url, sizeof url, "http://127.0.0.1:%u/", fx.port);
    o.url = url;
    o.work_dir = fx.work;
    o.stall_s = 1;
    o.connect_timeout_s = 2;
    o.retries = 1;
    o.backoff_base_ms = 0;
    o.backoff_cap_ms = 0;
    o.batch_bytes = 16 << 10;
    o.mirror = (data[0] >> 5) & 1;
    if (data[0] & 0x80)
        o.large_object = 1024;
    o.cancel = &fx.cancel;
    sync_client_stats st;
    fx.cancel = 0;
    fx.deadline_ms = now_ms() + SYNC_DEADLINE_MS;
    int rc = sync_client_run(cat, store, &o, NULL, NULL, &st, &err);
    fx.deadline_ms = 0;
    if (getenv("FUZZ_CLIENT_DEBUG"))
        fprintf(stderr,
                "fuzz_client: kind %d how %d: %d %s (version %lld, %llu fetched, %llu requests)\n",
                fx.kind, fx.how, rc, rc ? err.msg : "ok", (long long)st.to_version,
                (unsigned long long)st.objects_fetched, (unsigned long long)st.requests);
    if (rc != 0 && !err.msg[0])
        finding(); /* every refusal says why */
    if (rc == CS_EINTERRUPTED) {
        fprintf(stderr, "fuzz_client: the sync was still going after %d s: %s\n",
                SYNC_DEADLINE_MS / 1000, err.msg);
        finding(); /* it must end: give up, or finish */
    }
    if (rc == 0) {
        uint64_t damaged = 0;
        if (st.to_version != fx.version)
            finding(); /* success is the hub's version */
        if (content_store_verify(store, damage_report, NULL, NULL, NULL, &damaged, &err) != 0 ||
            damaged)
            finding(); /* only verified bytes are stored */
    }
    content_store_free(store);
    content_catalog_free(cat);
    pthread_mutex_lock(&fx.lock);
    fx.kind = K_NONE;
    pthread_mutex_unlock(&fx.lock);
    return 0;
}
