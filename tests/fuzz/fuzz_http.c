/*
 * fuzz_http.c - HTTP requests as the servers see them: the node's LAN
 * server (node/server.c and its http_*.c: content with ranges, the JSON API
 * with sessions and CSRF, OPDS, the UI, metrics, the mirror's /repo/ and
 * POST /repo/batch) and the hub's server (node/hubserve.c: files with
 * ranges, POST /batch, POST /outbox), both running in this process.
 *
 * Once per process a fixture is made in a temporary folder with the
 * libraries, as the tools do: a hub repository with samples/v1 published,
 * a bundle of it, samples/v2 published on top (so the hub has deltas); a
 * node that imported the bundle, holds a local resource with a 300 KiB file
 * (streamed, not buffered, by the server), a copy of the hub's metadata in
 * DATA/repo (so it serves as a mirror), an admin, a teacher with a class
 * and a lesson, and a consenting student; each of the three signed in.
 * Then both servers start on 127.0.0.1 with port 0 and run until exit.
 *
 * Each input is one connection's bytes.  Input byte 0 picks a template
 * (low 4 bits), who asks (bits 4-5: a guest, the teacher, the admin or the
 * student, with their session cookie and CSRF token) and two flags (bit 6:
 * HEAD for GET, DELETE for PUT, the mirror's GET for its batch; bit 7: no
 * Content-Length, so the input's own headers say it).  The rest is up to
 * three fields separated by 0x01: the path or query after the template's
 * prefix, extra header lines, and the body.  In the fields, $X names a fact
 * of the fixture (see expand()).  Templates 0 and 15 send the rest as it is,
 * to the node or the hub.  The sender half-closes after the request and
 * reads until the response is whole or the server closes (2 s at most;
 * 50 ms for a request the server cannot answer yet).  FUZZ_HTTP_DEBUG=1
 * prints each exchange.
 *
 * Invariants: whatever came back starts with "HTTP/1."; its head is
 * consistent (Content-Length below 4 GiB; a 206's Content-Range within the
 * size and matching Content-Length); after every input
 * the server that got it still answers GET /healthz with 200 within 2 s (a
 * crash, a hang or a dead thread pool is a finding); never crash, leak or
 * touch memory it should not (ASan/UBSan, in the servers' threads too).
 * The fixture's own sessions are kept: credentials go with no request that
 * would sign them out or remove their users.  An input that changes
 * node.conf (PUT /api/v1/settings) has the file put back afterwards.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "content/catalog.h"
#include "node/hubserve.h"
#include "node/node.h"
#include "node/people.h"
#include "node/server.h"
#include "platform/crypto.h"
#include "platform/file.h"
#include "sync/hub.h"

#if defined(__SANITIZE_ADDRESS__)
#define CS_HAVE_SANITIZER 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define CS_HAVE_SANITIZER 1
#endif
#endif
#ifdef CS_HAVE_SANITIZER
#include <sanitizer/common_interface_defs.h>
#endif

#ifndef CS_SOURCE_DIR
#error "CS_SOURCE_DIR must name the source tree (for samples/)"
#endif

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define IO_TIMEOUT_MS 2000
#define INCOMPLETE_TIMEOUT_MS 50
#define MAX_REQUEST (4u << 20)
#define MAX_RESPONSE (64u << 10) /* bytes kept of a response: only its start is checked */
#define MAX_BODY (4ULL << 30)    /* no answer here is this big (a full mirror batch is ~1.2 GiB) */

enum { WHO_GUEST, WHO_TEACHER, WHO_ADMIN, WHO_STUDENT, WHO_COUNT };

/* A server running in a thread of this process. */
typedef struct server {
    int is_hub;
    char dir[PATH_MAX];
    node_server_options opt;
    pthread_t thread;
    int started;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    unsigned port; /* 0 until listening */
    int done;      /* the run returned */
    int rc;
    cs_err err;
} server;

/* The fixture: made once, lives for the process (a harness's one global). */
static struct fixture {
    int ready;
    char dir[PATH_MAX];
    volatile int stop;
    server node, hub;
    char cookie[WHO_COUNT][NODE_TOKEN_HEX];
    char csrf[WHO_COUNT][NODE_TOKEN_HEX];
    /* facts the inputs can name (expand()) */
    char res[128], res_path[256],
        obj[65]; /* a sample resource, its entry file and that file's object */
    char big[128], big_path[64], big_obj[65]; /* the local resource with the 300 KiB file */
    char delta[130];                          /* BASE:TARGET of a delta the hub holds */
    char learner[NODE_LEARNER_HEX], code[8];
    long long class_id, lesson_id, student_id, teacher_id;
    int64_t version;
    char obj_place[68], nums[5][24];
    const char *fact[128]; /* $X in inputs: fact['X'] (see expand()) */
    /* node.conf as made, to put back after an input changed it */
    char *conf;
    size_t conf_len;
    struct stat conf_st;
} fx;

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

/* Remove the fixture's folder (also on the way down after a finding). */
static void scrub(void)
{
    if (fx.dir[0])
        nftw(fx.dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
    fx.dir[0] = '\0';
}

static void fail_setup(const char *what, const cs_err *err)
{
    fprintf(stderr, "fuzz_http: fixture: %s: %s\n", what, err ? err->msg : strerror(errno));
    scrub();
    abort();
}

/* ---- the servers ---- */

static void on_ready(void *ctx, unsigned port)
{
    server *sv = ctx;
    pthread_mutex_lock(&sv->lock);
    sv->port = port;
    pthread_cond_broadcast(&sv->cond);
    pthread_mutex_unlock(&sv->lock);
}

static void *server_main(void *arg)
{
    server *sv = arg;
    int rc = sv->is_hub ? node_hub_serve(sv->dir, &sv->opt, &sv->err)
                        : node_server_run(sv->dir, &sv->opt, &sv->err);
    pthread_mutex_lock(&sv->lock);
    sv->rc = rc;
    sv->done = 1;
    pthread_cond_broadcast(&sv->cond);
    pthread_mutex_unlock(&sv->lock);
    return NULL;
}

static void server_start(server *sv, int is_hub, const char *dir)
{
    cs_err err = {0};
    sv->is_hub = is_hub;
    snprintf(sv->dir, sizeof sv->dir, "%s", dir);
    pthread_mutex_init(&sv->lock, NULL);
    pthread_cond_init(&sv->cond, NULL);
    if (node_server_options_load(&sv->opt, NULL, &err) != 0 ||
        node_server_parse_listen(&sv->opt, "127.0.0.1:0", &err) != 0)
        fail_setup("server options", &err);
    sv->opt.threads = is_hub ? 1 : 2;
    sv->opt.timeout_s = 5;
    sv->opt.drain_s = 0;
    sv->opt.log_level = CS_LOG_ERROR;
    sv->opt.stop = &fx.stop;
    sv->opt.ready = on_ready;
    sv->opt.ready_ctx = sv;
    if (pthread_create(&sv->thread, NULL, server_main, sv) != 0)
        fail_setup("starting a server thread", NULL);
    sv->started = 1;
    pthread_mutex_lock(&sv->lock);
    while (!sv->port && !sv->done)
        pthread_cond_wait(&sv->cond, &sv->lock);
    pthread_mutex_unlock(&sv->lock);
    if (!sv->port)
        fail_setup(is_hub ? "the hub server" : "the node server", &sv->err);
}

static void server_join(server *sv)
{
    if (!sv->started)
        return;
    pthread_join(sv->thread, NULL);
    sv->started = 0;
    pthread_mutex_destroy(&sv->lock);
    pthread_cond_destroy(&sv->cond);
}

/* ---- the fixture ---- */

static void teardown(void)
{
    fx.stop = 1;
    server_join(&fx.node);
    server_join(&fx.hub);
    scrub();
    free(fx.conf);
    fx.conf = NULL;
}

/* A finding: say what, leave no folder behind, and crash for the fuzzer. */
static void finding(void)
{
    scrub();
    abort();
}

static void sub(char *buf, size_t cap, const char *a, const char *b)
{
    if (snprintf(buf, cap, "%s/%s", a, b) >= (int)cap)
        fail_setup("path too long", NULL);
}

/* Copy the hub's public top-level metadata into DATA/repo: what a mirror
 * keeps after a sync (the mirror serves objects from its store). */
static void mirror_copy(const char *hub, const char *data)
{
    char from[PATH_MAX], to[PATH_MAX], repo[PATH_MAX];
    cs_err err = {0};
    sub(repo, sizeof repo, data, "repo");
    if (cs_mkdirs(repo, 0700, &err) != 0)
        fail_setup("DATA/repo", &err);
    DIR *d = opendir(hub);
    struct dirent *e;
    while (d && (e = readdir(d)) != NULL) {
        if (!node_hub_path_public(e->d_name))
            continue;
        char *text = NULL;
        size_t len = 0;
        sub(from, sizeof from, hub, e->d_name);
        sub(to, sizeof to, repo, e->d_name);
        if (cs_file_read_all(from, 1u << 24, &text, &len, &err) != 0 ||
            cs_file_write_atomic(to, text, len, 0600, &err) != 0)
            fail_setup("copying metadata", &err);
        free(text);
    }
    if (d)
        closedir(d);
}

/* A delta the hub made when v2 was published: "BASE:TARGET". */
static void find_delta(const char *hub)
{
    char p[PATH_MAX];
    sub(p, sizeof p, hub, "deltas");
    DIR *d = opendir(p);
    struct dirent *e;
    while (d && !fx.delta[0] && (e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        char q[PATH_MAX];
        sub(q, sizeof q, p, e->d_name);
        DIR *d2 = opendir(q);
        struct dirent *f;
        while (d2 && !fx.delta[0] && (f = readdir(d2)) != NULL)
            if (strlen(f->d_name) == 64 + 1 + 64 + 4 && f->d_name[64] == '-')
                snprintf(fx.delta, sizeof fx.delta, "%.64s:%.64s", f->d_name, f->d_name + 65);
        if (d2)
            closedir(d2);
    }
    if (d)
        closedir(d);
}

static void hub_make(const char *hub, const char *bundle)
{
    cs_err err = {0};
    sync_hub *h = NULL;
    sync_publish_stats st;
    if (sync_hub_init(hub, NULL, &err) != 0 || sync_hub_open(&h, hub, &err) != 0 ||
        sync_hub_publish(h, CS_SOURCE_DIR "/samples/v1", NULL, NULL, &st, &err) != 0 ||
        sync_hub_bundle(h, 0, bundle, NULL, NULL, &err) != 0 ||
        sync_hub_publish(h, CS_SOURCE_DIR "/samples/v2", NULL, NULL, &st, &err) != 0)
        fail_setup("the hub", &err);
    fx.version = sync_hub_version(h);
    sync_hub_free(h);
    find_delta(hub);
}

/* The node: the v1 bundle imported, a local resource, the facts. */
static void node_make(const char *data, const char *hub, const char *bundle)
{
    cs_err err = {0};
    char p[PATH_MAX];
    node_data *n = NULL;
    sync_import_stats ist;
    content_resource *r = NULL;
    sub(p, sizeof p, hub, "root.json");
    if (node_init(data, p, NULL, &err) != 0 || node_open(&n, data, 0, &err) != 0 ||
        node_import(n, bundle, NULL, NULL, &ist, &err) != 0)
        fail_setup("the node", &err);
    snprintf(fx.res, sizeof fx.res, "math-g3-fractions-intro");
    if (content_catalog_get(n->cat, fx.res, &r, &err) != 0 || r->nfiles == 0)
        fail_setup("the sample resource", &err);
    snprintf(fx.res_path, sizeof fx.res_path, "%s", r->files[0].path);
    cs_hex_encode(r->files[0].object, 32, fx.obj);
    content_resource_free(r);
    r = NULL;

    /* A local resource with a file over the server's 256 KiB buffered
     * size, so ranges of it go through the streaming reader. */
    size_t big_len = 300 * 1024;
    uint8_t *big = malloc(big_len);
    char *b64 = NULL;
    if (!big)
        fail_setup("out of memory", NULL);
    for (size_t i = 0; i < big_len; i++)
        big[i] = (uint8_t)(i * 2654435761u >> 13);
    if (cs_base64_encode(big, big_len, &b64, &err) != 0)
        fail_setup("base64", &err);
    free(big);
    snprintf(fx.big_path, sizeof fx.big_path, "data/blob.bin");
    json_t *meta =
        json_pack("{s:s,s:s,s:s}", "title", "fuzz fixture", "language", "en", "type", "document");
    json_t *files = json_pack("[{s:s,s:s}]", "path", fx.big_path, "data", b64);
    free(b64);
    if (!meta || !files || node_local_add(n, meta, files, 0, fx.big, &err) != 0)
        fail_setup("the local resource", &err);
    json_decref(meta);
    json_decref(files);
    if (content_catalog_get(n->cat, fx.big, &r, &err) != 0 || r->nfiles != 1)
        fail_setup("the local resource", &err);
    cs_hex_encode(r->files[0].object, 32, fx.big_obj);
    content_resource_free(r);
    node_close(n);
    mirror_copy(hub, data);
}

/* People: admin, teacher, class, lesson, student; each signed in. */
static void people_make(const char *data)
{
    cs_err err = {0};
    node_people *p = NULL;
    node_user u;
    int64_t admin = 0, teacher = 0, cls = 0, lesson = 0, student = 0;
    if (node_people_open(&p, data, &err) != 0 ||
        node_people_user_add(p, NODE_ADMIN, "Ada Admin", "admin-password-1", 0, &admin, &err) !=
            0 ||
        node_people_user_add(p, NODE_TEACHER, "Teo Teacher", "teacher-password-1", 0, &teacher,
                             &err) != 0 ||
        node_people_class_add(p, "Class 3A", teacher, &cls, fx.code, &err) != 0 ||
        node_people_user_add(p, NODE_STUDENT, "Sam", "1234", cls, &student, &err) != 0 ||
        node_people_consent_set(p, student, 1, &err) != 0)
        fail_setup("people", &err);
    json_t *ids = json_pack("[s,s]", fx.res, fx.big);
    if (!ids || node_people_lesson_add(p, cls, "Fractions", ids, &lesson, &err) != 0)
        fail_setup("a lesson", &err);
    json_decref(ids);
    if (node_people_login(p, NULL, "Teo Teacher", "teacher-password-1", &u, fx.cookie[WHO_TEACHER],
                          fx.csrf[WHO_TEACHER], &err) != 0 ||
        node_people_login(p, NULL, "Ada Admin", "admin-password-1", &u, fx.cookie[WHO_ADMIN],
                          fx.csrf[WHO_ADMIN], &err) != 0 ||
        node_people_login(p, fx.code, "Sam", "1234", &u, fx.cookie[WHO_STUDENT],
                          fx.csrf[WHO_STUDENT], &err) != 0)
        fail_setup("signing in", &err);
    snprintf(fx.learner, sizeof fx.learner, "%s", u.learner);
    node_people_close(p);
    fx.class_id = cls;
    fx.lesson_id = lesson;
    fx.student_id = student;
    fx.teacher_id = teacher;
}

static void conf_remember(void)
{
    char p[PATH_MAX];
    cs_err err = {0};
    sub(p, sizeof p, fx.dir, "node/node.conf");
    if (cs_file_read_all(p, 1u << 20, &fx.conf, &fx.conf_len, &err) != 0 ||
        stat(p, &fx.conf_st) != 0)
        fail_setup("node.conf", &err);
}

/* Put node.conf back when an input changed it. */
static void conf_restore(void)
{
    char p[PATH_MAX];
    struct stat st;
    sub(p, sizeof p, fx.dir, "node/node.conf");
    if (stat(p, &st) == 0 && st.st_ino == fx.conf_st.st_ino && st.st_size == fx.conf_st.st_size &&
        st.st_mtim.tv_sec == fx.conf_st.st_mtim.tv_sec &&
        st.st_mtim.tv_nsec == fx.conf_st.st_mtim.tv_nsec)
        return;
    cs_err err = {0};
    if (cs_file_write_atomic(p, fx.conf, fx.conf_len, 0600, &err) != 0 || stat(p, &fx.conf_st) != 0)
        fail_setup("putting node.conf back", &err);
}

static void facts(void)
{
    snprintf(fx.obj_place, sizeof fx.obj_place, "%.2s/%s", fx.obj, fx.obj);
    long long v[5] = {(long long)fx.version, fx.class_id, fx.lesson_id, fx.student_id,
                      fx.teacher_id};
    for (int i = 0; i < 5; i++)
        snprintf(fx.nums[i], sizeof fx.nums[i], "%lld", v[i]);
    const struct {
        char k;
        const char *v;
    } t[] = {{'R', fx.res},     {'P', fx.res_path}, {'O', fx.obj},     {'J', fx.obj_place},
             {'G', fx.big},     {'F', fx.big_path}, {'H', fx.big_obj}, {'D', fx.delta},
             {'V', fx.nums[0]}, {'C', fx.nums[1]},  {'N', fx.nums[2]}, {'S', fx.nums[3]},
             {'T', fx.nums[4]}, {'L', fx.learner},  {'K', fx.code},    {'$', "$"}};
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
        fx.fact[(int)t[i].k] = t[i].v;
}

static void fixture(void)
{
    if (fx.ready)
        return;
    const char *tmp = getenv("TMPDIR");
    char hub[PATH_MAX], data[PATH_MAX], bundle[PATH_MAX];
    snprintf(fx.dir, sizeof fx.dir, "%s/fuzz_http.XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(fx.dir))
        fail_setup("mkdtemp", NULL);
#ifdef CS_HAVE_SANITIZER
    __sanitizer_set_death_callback(scrub); /* a sanitizer's finding in a server thread */
#endif
    sub(hub, sizeof hub, fx.dir, "hub");
    sub(data, sizeof data, fx.dir, "node");
    sub(bundle, sizeof bundle, fx.dir, "v1.bundle");
    hub_make(hub, bundle);
    node_make(data, hub, bundle);
    people_make(data);
    conf_remember();
    facts();
    /* The node first: it sets SQLite up for its threads before anything
     * else in the process opens a database. */
    server_start(&fx.node, 0, data);
    server_start(&fx.hub, 1, hub);
    /* Registered after the libraries' own exit handlers (OpenSSL's cleanup
     * among them), so it runs before them: server threads must end while
     * OpenSSL can still free what it keeps for each thread. */
    atexit(teardown);
    fx.ready = 1;
}

/* ---- requests ---- */

typedef struct buf {
    char *p;
    size_t len, cap;
    int over;
} buf;

static void put(buf *b, const void *s, size_t n)
{
    if (n == 0)
        return;
    if (b->over || b->len + n > MAX_REQUEST) {
        b->over = 1;
        return;
    }
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 1024;
        while (cap < b->len + n)
            cap *= 2;
        char *np = realloc(b->p, cap);
        if (!np) {
            b->over = 1;
            return;
        }
        b->p = np;
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
}

static void puts_(buf *b, const char *s)
{
    put(b, s, strlen(s));
}

/* A field with the fixture's facts put in:
 *   $R a sample resource id     $P its entry file      $O that file's object
 *   $J the object's place under objects/ ("<first 2 hex>/<64 hex>")
 *   $G the local resource id    $F its 300 KiB file    $H that file's object
 *   $D BASE:TARGET of a delta the hub holds            $V the hub's version
 *   $C the class id   $N the lesson id   $S the student's user id
 *   $T the teacher's user id     $L the student's learner id
 *   $K the class join code       $$ a dollar sign */
static void expand(buf *b, const uint8_t *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const char *v = s[i] == '$' && i + 1 < n && s[i + 1] < 128 ? fx.fact[s[i + 1]] : NULL;
        if (v) {
            puts_(b, v);
            i++;
        } else {
            put(b, s + i, 1);
        }
    }
}

typedef struct tmpl {
    int hub;            /* sent to the hub's server, else the node's */
    const char *method; /* NULL: the raw bytes */
    const char *alt;    /* the method with flag bit 6 (NULL: the same) */
    const char *prefix; /* of the request target, before field 1 */
    const char *alt_prefix;
} tmpl;

static const tmpl tmpls[16] = {
    {0, NULL, NULL, NULL, NULL},                  /* 0: raw, to the node */
    {0, "GET", "HEAD", "/r/", NULL},              /* content, ranges */
    {0, "GET", "HEAD", "/api/v1/", NULL},         /* JSON API reads */
    {0, "GET", "HEAD", "/api/v1/catalog?", NULL}, /* search */
    {0, "POST", NULL, "/api/v1/login", NULL},     /* sign-in JSON */
    {0, "POST", NULL, "/api/v1/events", NULL},    /* learner events */
    {0, "POST", NULL, "/api/v1/", NULL},          /* other writes (classes, local, feedback...) */
    {0, "PUT", "DELETE", "/api/v1/settings", "/api/v1/"}, /* settings; deletions */
    {0, "GET", "HEAD", "/opds", NULL},                    /* OPDS */
    {0, "POST", "GET", "/repo/batch", "/repo/"},          /* the mirror */
    {0, "GET", "HEAD", "/", NULL},                        /* UI, metrics, health, others */
    {0, "POST", NULL, "/api/v1/local", NULL},             /* local resources: JSON + base64 */
    {1, "GET", "HEAD", "/", NULL},                        /* the hub's files, ranges */
    {1, "POST", NULL, "/batch", NULL},                    /* the hub's batch */
    {1, "POST", NULL, "/outbox", NULL},                   /* the hub's outbox */
    {1, NULL, NULL, NULL, NULL},                          /* 15: raw, to the hub */
};

/* Field i of the input (fields separated by 0x01). */
static void field(const uint8_t *d, size_t n, int i, const uint8_t **f, size_t *fl)
{
    size_t a = 0;
    for (; i > 0 && a <= n; i--) {
        const uint8_t *x = a < n ? memchr(d + a, 0x01, n - a) : NULL;
        a = x ? (size_t)(x - d) + 1 : n + 1;
    }
    if (a > n) {
        *f = d + n;
        *fl = 0;
        return;
    }
    const uint8_t *x = memchr(d + a, 0x01, n - a);
    *f = d + a;
    *fl = x ? (size_t)(x - (d + a)) : n - a;
}

static int hexval(int c)
{
    return c >= '0' && c <= '9'   ? c - '0'
           : c >= 'a' && c <= 'f' ? c - 'a' + 10
           : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                  : -1;
}

/* Would the request, as the server decodes it, end the fixture's sessions
 * (sign out, remove a user or a student)?  Checked on the whole request
 * percent-decoded, so that no smuggled second request does it either. */
static int ends_session(const char *p, size_t n)
{
    char *d = malloc(n + 1);
    size_t k = 0;
    if (!d)
        return 1;
    for (size_t i = 0; i < n; i++) {
        int hi, lo;
        if (p[i] == '%' && i + 2 < n && (hi = hexval(p[i + 1])) >= 0 &&
            (lo = hexval(p[i + 2])) >= 0) {
            d[k++] = (char)(hi << 4 | lo);
            i += 2;
        } else {
            d[k++] = p[i] ? p[i] : ' ';
        }
    }
    d[k] = '\0';
    int ends = strcasestr(d, "logout") ||
               (strcasestr(d, "DELETE") && (strcasestr(d, "users") || strcasestr(d, "students")));
    free(d);
    return ends;
}

static void build(buf *b, const uint8_t *data, size_t size, int *hub)
{
    uint8_t ctl = data[0];
    const tmpl *t = &tmpls[ctl & 15];
    int who = (ctl >> 4) & 3, flag = (ctl >> 6) & 1, no_length = (ctl >> 7) & 1;
    *hub = t->hub;
    if (!t->method) {
        put(b, data + 1, size - 1);
        return;
    }
    const uint8_t *f[3];
    size_t fl[3];
    for (int i = 0; i < 3; i++)
        field(data + 1, size - 1, i, &f[i], &fl[i]);
    buf body = {0};
    expand(&body, f[2], fl[2]);
    const char *method = flag && t->alt ? t->alt : t->method;
    const char *prefix = flag && t->alt_prefix ? t->alt_prefix : t->prefix;
    puts_(b, method);
    puts_(b, " ");
    puts_(b, prefix);
    expand(b, f[0], fl[0]);
    puts_(b, " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n");
    expand(b, f[1], fl[1]);
    if (fl[1] && f[1][fl[1] - 1] != '\n')
        puts_(b, "\r\n");
    if (!no_length && strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
        char cl[48];
        snprintf(cl, sizeof cl, "Content-Length: %zu\r\n", body.len);
        puts_(b, cl);
    }
    /* Credentials last, and only where they cannot end the fixture's sessions. */
    if (!*hub && who != WHO_GUEST && !b->over && !ends_session(b->p, b->len) &&
        !ends_session(body.p ? body.p : "", body.len)) {
        char h[256];
        snprintf(h, sizeof h, "Cookie: cs_session=%s\r\nX-CSRF-Token: %s\r\n", fx.cookie[who],
                 fx.csrf[who]);
        puts_(b, h);
    }
    puts_(b, "\r\n");
    put(b, body.p, body.len);
    free(body.p);
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The value of header name (given with its colon, any case) in the head h
 * of hl bytes, its length in *vl; NULL when absent. */
static const char *header(const char *h, size_t hl, const char *name, size_t *vl)
{
    size_t nl = strlen(name);
    for (size_t i = 0; i + 2 + nl <= hl; i++) {
        if (h[i] != '\r' || h[i + 1] != '\n' || strncasecmp(h + i + 2, name, nl) != 0)
            continue;
        const char *v = h + i + 2 + nl, *end = h + hl;
        while (v < end && *v == ' ')
            v++;
        const char *e = v;
        while (e < end && *e != '\r')
            e++;
        *vl = (size_t)(e - v);
        return v;
    }
    return NULL;
}

/* 1 when the first (final) response in out[0..kept) is whole, knowing that
 * total bytes came; the server may keep the connection open after it. */
static int response_whole(const char *out, size_t kept, size_t total, int head)
{
    size_t at = 0;
    for (;;) {
        const char *r = out + at;
        size_t left = kept - at;
        const char *e = left >= 4 ? memmem(r, left, "\r\n\r\n", 4) : NULL;
        if (!e || left < 12)
            return 0;
        size_t hl = (size_t)(e - r) + 4, vl;
        int status = atoi(r + 9);
        if (status >= 100 && status < 200) {
            at += hl; /* 100 Continue, then the answer */
            continue;
        }
        if (head || status == 204 || status == 304)
            return 1;
        const char *v = header(r, hl - 2, "content-length:", &vl);
        if (v)
            return total >= at + hl + strtoull(v, NULL, 10);
        v = header(r, hl - 2, "transfer-encoding:", &vl);
        if (!v || !memmem(v, vl, "chunked", 7))
            return 0; /* to the close */
        size_t p = at + hl;
        for (;;) {
            char *end;
            if (p >= kept)
                return 0;
            unsigned long long n = strtoull(out + p, &end, 16);
            const char *nl = memmem(out + p, kept - p, "\r\n", 2);
            if (!nl || (const char *)end > nl)
                return 0;
            p = (size_t)(nl - out) + 2;
            if (n == 0)
                return memmem(out + p - 2, kept - (p - 2), "\r\n\r\n", 4) != NULL;
            if (n > kept - p)
                return 0;
            p += (size_t)n + 2;
        }
    }
}

/* Could the server answer req as it is?  Its head ends, and the body a
 * Content-Length or chunked encoding announces has come.  Else the server
 * may well wait for the rest: libmicrohttpd 0.9.75 often misses the
 * client's half-close then, and holds the connection until its timeout. */
static int request_whole(const char *req, size_t len)
{
    const char *e = memmem(req, len, "\r\n\r\n", 4);
    size_t hl, vl;
    if (e)
        hl = (size_t)(e - req) + 4;
    else if ((e = memmem(req, len, "\n\n", 2)) != NULL)
        hl = (size_t)(e - req) + 2;
    else
        return 0;
    const char *v = header(req, hl - 2, "content-length:", &vl);
    if (v)
        return len - hl >= strtoull(v, NULL, 10);
    v = header(req, hl - 2, "transfer-encoding:", &vl);
    if (v) /* chunked: to the last chunk; another coding: the server cannot know */
        return memmem(v, vl, "chunked", 7) && memmem(req + hl, len - hl, "0\r\n\r\n", 5) != NULL;
    return 1;
}

/* Send req on a new connection, half-close, read what comes back until the
 * server closes, the first response is whole, or the deadline.  Returns
 * bytes read into out (at most cap), -1 when no connection could be made;
 * *timed_out when cut.  (The server may keep a connection open after its
 * answer, even half-closed: libmicrohttpd 0.9.75 does, at times.) */
static long exchange(unsigned port, const char *req, size_t len, int head, char *out, size_t cap,
                     int *timed_out)
{
    /* An incomplete request gets an answer (400) at once or none at all. */
    int64_t wait_ms = request_whole(req, len) ? IO_TIMEOUT_MS : INCOMPLETE_TIMEOUT_MS;
    *timed_out = 0;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0)
        return -1;
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int64_t deadline = now_ms() + wait_ms;
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0 && errno != EINPROGRESS) {
        close(fd);
        return -1;
    }
    size_t sent = 0, got = 0, total = 0;
    int wr_open = 1;
    for (;;) {
        int64_t left = deadline - now_ms();
        if (left <= 0) {
            *timed_out = 1;
            break;
        }
        struct pollfd p = {fd, POLLIN | (wr_open ? POLLOUT : 0), 0};
        if (poll(&p, 1, (int)left) <= 0)
            continue;
        if (wr_open && (p.revents & (POLLOUT | POLLERR | POLLHUP))) {
            ssize_t n = sent < len ? send(fd, req + sent, len - sent, MSG_NOSIGNAL) : 0;
            if (n > 0)
                sent += (size_t)n;
            if (sent == len || (n < 0 && errno != EAGAIN && errno != EINTR)) {
                shutdown(fd, SHUT_WR); /* the whole request: the server answers, then closes */
                wr_open = 0;
            }
        }
        if (p.revents & (POLLIN | POLLERR | POLLHUP)) {
            char tmp[16384];
            ssize_t n = recv(fd, tmp, sizeof tmp, 0);
            if (n > 0) {
                size_t keep = got < cap ? (cap - got < (size_t)n ? cap - got : (size_t)n) : 0;
                memcpy(out + got, tmp, keep);
                got += keep;
                total += (size_t)n;
                if (response_whole(out, got, total, head))
                    break;
                continue;
            }
            if (n == 0 || (errno != EAGAIN && errno != EINTR))
                break; /* closed (or reset) */
        }
    }
    /* Close with a reset: no TIME_WAIT, so ports last for long runs. */
    struct linger lg = {1, 0};
    setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    close(fd);
    return (long)got;
}

static void bad_response(const char *why, const char *out, size_t n)
{
    fprintf(stderr, "fuzz_http: %s in the response:\n%.*s\n", why, (int)(n < 1024 ? n : 1024), out);
    finding();
}

/* The head of the first final response must be consistent: a
 * Content-Length below MAX_BODY, and a 206's Content-Range naming first
 * and last bytes within the size, as many as Content-Length says. */
static void check_response(const char *out, size_t n)
{
    size_t at = 0;
    for (;;) {
        const char *e = memmem(out + at, n - at, "\r\n\r\n", 4);
        if (!e || n - at < 12)
            return; /* cut short: nothing to judge */
        size_t hl = (size_t)(e - (out + at)) + 2, vl;
        const char *h = out + at;
        int status = atoi(h + 9);
        if (status >= 100 && status < 200) {
            at += hl + 2;
            continue;
        }
        unsigned long long cl = 0, a, b, size;
        const char *v = header(h, hl, "content-length:", &vl);
        if (v && (cl = strtoull(v, NULL, 10)) > MAX_BODY)
            bad_response("a Content-Length larger than anything the servers hold", out, n);
        if (status == 206 &&
            (!(v = header(h, hl, "content-range:", &vl)) ||
             sscanf(v, "bytes %llu-%llu/%llu", &a, &b, &size) != 3 || a > b || b >= size ||
             (header(h, hl, "content-length:", &vl) && cl != b - a + 1)))
            bad_response("a 206 whose Content-Range and Content-Length disagree", out, n);
        return;
    }
}

static void check_health(const server *sv, const char *after)
{
    static const char req[] =
        "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
    char out[512];
    int to = 0;
    long n = exchange(sv->port, req, sizeof req - 1, 0, out, sizeof out - 1, &to);
    if (n < 17 || (memcmp(out, "HTTP/1.1 200", 12) != 0 && memcmp(out, "HTTP/1.0 200", 12) != 0)) {
        fprintf(stderr, "fuzz_http: the %s server does not answer /healthz after %s (%s)\n",
                sv->is_hub ? "hub" : "node", after,
                n < 0 ? "no connection"
                : to  ? "timed out"
                      : "bad answer");
        finding();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fixture();
    if (size < 1)
        return 0;
    buf req = {0};
    int hub = 0;
    build(&req, data, size, &hub);
    server *sv = hub ? &fx.hub : &fx.node;
    if (!req.over && req.len) {
        static char out[MAX_RESPONSE];
        int to = 0;
        int64_t t0 = now_ms();
        long n = exchange(sv->port, req.p, req.len, req.len >= 5 && memcmp(req.p, "HEAD ", 5) == 0,
                          out, sizeof out, &to);
        if (n > 0 && (n < 7 || memcmp(out, "HTTP/1.", 7) != 0)) {
            fprintf(stderr, "fuzz_http: a response that is not HTTP/1.x: \"%.*s\"\n",
                    (int)(n < 64 ? n : 64), out);
            finding();
        }
        if (n > 0)
            check_response(out, (size_t)n);
        if (getenv("FUZZ_HTTP_DEBUG"))
            fprintf(stderr, "fuzz_http: %lld ms, %ld bytes back%s:\n%.*s\n[request: %.*s]\n",
                    (long long)(now_ms() - t0), n, to ? " (cut at the deadline)" : "",
                    (int)(n > 0 ? (n < 600 ? n : 600) : 0), out,
                    (int)(req.len < 600 ? req.len : 600), req.p);
        check_health(sv, to ? "a request it did not finish in time" : "a request");
    }
    free(req.p);
    if (!hub)
        conf_restore();
    return 0;
}
