/*
 * node.c - the node's data directory.
 */
#include "node/node.h"
#include "node/people.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "platform/crypto.h"
#include "platform/file.h"
#include "platform/time.h"
#include "sync/client.h"
#include "sync/meta.h"

#define DEFAULT_BUNDLE_GRACE (365LL * 86400)

int node_init(const char *dir, const char *trust_path, const char *hub_url, cs_err *err)
{
    char p[PATH_MAX];
    char *root = NULL;
    size_t len = 0;
    cs_conf *conf = NULL;
    content_catalog *cat = NULL;
    int rc = cs_file_read_all(trust_path, SYNC_ROOT_MAX, &root, &len, err);
    if (rc)
        return rc;
    sync_root *r = NULL;
    if ((rc = sync_root_load(&r, root, len, err)) != 0) {
        cs_err_wrap(err, "%s", trust_path);
        goto out;
    }
    sync_root_free(r);
    if ((rc = cs_mkdirs(dir, 0700, err)) != 0)
        goto out;
    if (cs_path_join(p, sizeof p, dir, "catalog.db") != 0) {
        rc = cs_err_set(err, CS_ETOOBIG, "path too long");
        goto out;
    }
    if (cs_path_exists(p)) {
        rc = cs_err_set(err, CS_EEXIST, "%s is already a node (catalog.db exists)", dir);
        goto out;
    }
    if ((rc = content_catalog_open(&cat, p, 0, err)) != 0 ||
        (rc = sync_trust_pin(cat, root, len, err)) != 0)
        goto out;
    if (cs_conf_new(&conf) != 0) {
        rc = cs_err_set(err, CS_ENOMEM, "out of memory");
        goto out;
    }
    if (hub_url && (rc = cs_conf_set(conf, "hub.url", hub_url, err)) != 0)
        goto out;
    cs_path_join(p, sizeof p, dir, "node.conf");
    if ((rc = cs_conf_save(conf, p, err)) != 0)
        goto out;
    cs_path_join(p, sizeof p, dir, "store");
    content_store *s = NULL;
    if ((rc = content_store_open(&s, p, 0, err)) != 0)
        goto out;
    content_store_free(s);
    /* The node's own key, which signs its outbox batches: its id is the node id. */
    node_data nd;
    memset(&nd, 0, sizeof nd);
    snprintf(nd.dir, sizeof nd.dir, "%s", dir);
    cs_key *nk = NULL;
    char nid[CS_KEYID_HEX];
    if ((rc = node_key_load(&nd, &nk, nid, err)) != 0)
        goto out;
    cs_key_free(nk);
out:
    content_catalog_free(cat);
    cs_conf_free(conf);
    free(root);
    return rc;
}

void node_close(node_data *n)
{
    if (!n)
        return;
    content_store_free(n->store);
    content_catalog_free(n->cat);
    cs_conf_free(n->conf);
    node_people_close(n->people);
    free(n);
}

int node_conf_load(const char *dir, cs_conf **out, cs_err *err)
{
    char p[PATH_MAX];
    cs_conf *c = NULL, *local = NULL;
    const char *sys = getenv("CISTERN_CONFIG");
    int rc;
    if (sys && *sys && cs_path_exists(sys)) {
        if ((rc = cs_conf_load(&c, sys, err)) != 0)
            return rc;
    } else if (cs_conf_new(&c) != 0) {
        return cs_err_set(err, CS_ENOMEM, "out of memory");
    }
    cs_path_join(p, sizeof p, dir, "node.conf");
    if (cs_path_exists(p)) {
        if ((rc = cs_conf_load(&local, p, err)) != 0) {
            cs_conf_free(c);
            return rc;
        }
        for (size_t i = 0; i < cs_conf_count(local); i++) {
            const char *k, *v;
            cs_conf_at(local, i, &k, &v);
            if ((rc = cs_conf_set(c, k, v, err)) != 0) {
                cs_conf_free(local);
                cs_conf_free(c);
                return rc;
            }
        }
        cs_conf_free(local);
    }
    *out = c;
    return 0;
}

int node_people_of(node_data *n, node_people **out, cs_err *err)
{
    int rc;
    if (!n->people && (rc = node_people_open(&n->people, n->dir, err)) != 0)
        return rc;
    *out = n->people;
    return 0;
}

int node_open(node_data **out, const char *dir, int flags, cs_err *err)
{
    char p[PATH_MAX];
    int rc = 0;
    node_data *n = calloc(1, sizeof *n);
    if (!n)
        return cs_err_set(err, CS_ENOMEM, "out of memory");
    snprintf(n->dir, sizeof n->dir, "%s", dir);
    if (cs_path_join(p, sizeof p, dir, "catalog.db") != 0 || !cs_path_exists(p)) {
        rc = cs_err_set(err, CS_ENOENT, "%s is not a node data directory (run `cistern node init %s --trust ROOT.json`)",
                        dir, dir);
        goto fail;
    }
    if ((rc = content_catalog_open(&n->cat, p, flags & NODE_RDONLY ? CONTENT_CATALOG_RDONLY : 0, err)) != 0)
        goto fail;
    cs_path_join(p, sizeof p, dir, "store");
    if ((rc = content_store_open(&n->store, p, flags & NODE_RDONLY ? CONTENT_STORE_RDONLY : 0, err)) != 0)
        goto fail;
    /* Titles files of cached resources (ZIM archives' articles) are indexed from the store. */
    if ((rc = content_catalog_attach_store(n->cat, n->store, err)) != 0)
        goto fail;
    if ((rc = node_conf_load(dir, &n->conf, err)) != 0)
        goto fail;
    *out = n;
    return 0;
fail:
    node_close(n);
    return rc;
}

static void import_note(content_catalog *cat, const char *key, const char *value)
{
    if (content_catalog_begin(cat, NULL) != 0)
        return;
    if (content_catalog_state_set(cat, key, value, NULL) == 0)
        content_catalog_commit(cat, NULL);
    else
        content_catalog_rollback(cat);
}

static int64_t state_int(content_catalog *cat, const char *key)
{
    char *v = NULL;
    int64_t x = 0;
    if (content_catalog_state_get(cat, key, &v, NULL) == 0 && v)
        x = strtoll(v, NULL, 10);
    free(v);
    return x;
}

/* The time to judge expiry by: the system clock, unless it is behind the
 * newest time this node has seen in signed metadata (a box whose clock
 * reset to 1970 at a power cut); then that signed time, and *note says so. */
static int64_t judged_now(node_data *n, char *note, size_t cap)
{
    int64_t sys = cs_time_now(), signed_t = state_int(n->cat, "trust.time");
    note[0] = 0;
    if (signed_t > 0 && sys + 600 < signed_t) {
        char a[32], b[32];
        cs_time_format(sys, a, sizeof a);
        cs_time_format(signed_t, b, sizeof b);
        snprintf(note, cap, "this box's clock says %s, before the newest signed time it has seen (%s): "
                 "expiry was judged from the signed time; set the clock", a, b);
        return signed_t;
    }
    return sys;
}

/* An expiry failure on a box whose clock may be ahead: say how to tell. */
static void expiry_hint(node_data *n, int rc, cs_err *err)
{
    int64_t signed_t = state_int(n->cat, "trust.time");
    if (rc != CS_EEXPIRED || !err || signed_t <= 0)
        return;
    char b[32];
    cs_time_format(signed_t, b, sizeof b);
    cs_err_wrap(err, "if this box's clock is wrong (the newest signed time it has seen is %s), set it, or raise "
                     "trust.clock_slack_hours",
                b);
}

int node_import(node_data *n, const char *bundle, sync_progress_cb progress, void *pctx,
                sync_import_stats *stats, cs_err *err)
{
    sync_apply_options opt;
    int64_t grace = 0;
    int rc = cs_conf_get_int(n->conf, "bundle.grace_days", DEFAULT_BUNDLE_GRACE / 86400, &grace, err);
    if (rc)
        return rc;
    char note[256];
    opt.now = judged_now(n, note, sizeof note);
    opt.expiry_slack = grace * 86400;
    opt.ignore_timestamp_expiry = 1;
    if (note[0])
        fprintf(stderr, "cistern: %s\n", note);
    rc = sync_import_bundle(n->cat, n->store, bundle, &opt, progress, pctx, stats, err);
    expiry_hint(n, rc, err);
    char when[32];
    cs_time_format(cs_time_now(), when, sizeof when);
    if (rc == 0) {
        import_note(n->cat, "last_import.time", when);
        import_note(n->cat, "last_import.error", "");
    } else if (rc != CS_EEXIST) {
        import_note(n->cat, "last_import.error", err ? err->msg : "error");
    }
    return rc;
}

/* ---- what this node keeps ---- */

typedef struct keep_ctx {
    const cs_conf *conf;
    content_catalog *cat;
} keep_ctx;

/* Is value in the comma-separated list? */
static int in_list(const char *list, const char *value)
{
    if (!value)
        return 0;
    size_t vl = strlen(value);
    for (const char *p = list; *p;) {
        while (*p == ' ' || *p == ',')
            p++;
        const char *e = p;
        while (*e && *e != ',')
            e++;
        const char *t = e;
        while (t > p && t[-1] == ' ')
            t--;
        if ((size_t)(t - p) == vl && strncmp(p, value, vl) == 0)
            return 1;
        p = e;
    }
    return 0;
}

/* keep.grades = 1-6 or 3,4,5: does any grade of the resource match? */
static int grade_match(const char *spec, const json_t *grades)
{
    size_t i;
    json_t *g;
    json_array_foreach(grades, i, g)
    {
        long v = (long)json_integer_value(g);
        for (const char *p = spec; *p;) {
            while (*p == ' ' || *p == ',')
                p++;
            char *e;
            long a = strtol(p, &e, 10), b = a;
            if (e == p)
                break;
            if (*e == '-')
                b = strtol(e + 1, &e, 10);
            if (v >= a && v <= b)
                return 1;
            p = e;
        }
    }
    return 0;
}

static int requested(keep_ctx *k, const char *id)
{
    char key[CONTENT_ID_MAX + 16], *v = NULL;
    snprintf(key, sizeof key, "request.%s", id);
    content_catalog_state_get(k->cat, key, &v, NULL);
    int r = v != NULL;
    free(v);
    return r;
}

static int keep_resource(void *ctx, const content_resource *r)
{
    keep_ctx *k = ctx;
    const char *subjects = cs_conf_get(k->conf, "keep.subjects");
    const char *grades = cs_conf_get(k->conf, "keep.grades");
    const char *langs = cs_conf_get(k->conf, "keep.languages");
    if (strncmp(r->id, "local-", 6) == 0)
        return 1; /* the school's own: nowhere else to fetch it from */
    if (subjects && *subjects && !in_list(subjects, json_string_value(json_object_get(r->meta, "subject"))))
        return requested(k, r->id);
    if (grades && *grades && !grade_match(grades, json_object_get(r->meta, "grades")))
        return requested(k, r->id);
    if (langs && *langs && !in_list(langs, json_string_value(json_object_get(r->meta, "language"))))
        return requested(k, r->id);
    return 1;
}

static int priority_of(void *ctx, const content_resource *r)
{
    if (strncmp(r->id, "local-", 6) == 0)
        return 2; /* the school's own resources are never evicted for the hub's */
    return requested(ctx, r->id) ? 1 : 0; /* a teacher's request goes first */
}

int node_request(node_data *n, const char *id, cs_err *err)
{
    content_resource *r = NULL;
    int rc = content_catalog_get(n->cat, id, &r, err);
    if (rc)
        return rc;
    int cached = r->cached;
    content_resource_free(r);
    if (cached)
        return cs_err_set(err, CS_EEXIST, "%s is already cached on this node", id);
    char key[CONTENT_ID_MAX + 16], when[32];
    snprintf(key, sizeof key, "request.%s", id);
    cs_time_format(cs_time_now(), when, sizeof when);
    if ((rc = content_catalog_begin(n->cat, err)) != 0)
        return rc;
    if ((rc = content_catalog_state_set(n->cat, key, when, err)) == 0)
        return content_catalog_commit(n->cat, err);
    content_catalog_rollback(n->cat);
    return rc;
}

/* ---- network sync ---- */

typedef struct sync_progress_ctx {
    node_data *n;
    sync_progress_cb user;
    void *uctx;
    int64_t start_ms, last_write_ms;
    uint64_t start_done;
    char phase[32];
} sync_progress_ctx;

static void sync_state_write(node_data *n, json_t *o)
{
    char p[PATH_MAX], *s = json_dumps(o, JSON_COMPACT);
    snprintf(p, sizeof p, "%s/sync-state.json", n->dir);
    if (s)
        cs_file_write_atomic(p, s, strlen(s), 0600, NULL);
    free(s);
}

static json_t *sync_state_read(node_data *n)
{
    char p[PATH_MAX];
    snprintf(p, sizeof p, "%s/sync-state.json", n->dir);
    json_t *o = json_load_file(p, 0, NULL);
    return json_is_object(o) ? o : (json_decref(o), json_object());
}

static void node_sync_progress(void *ctx, const char *phase, uint64_t done, uint64_t total)
{
    sync_progress_ctx *c = ctx;
    if (c->user)
        c->user(c->uctx, phase, done, total);
    int64_t now = cs_time_mono_ms();
    if (strcmp(phase, c->phase) != 0) {
        /* Cuts and retries are part of one transfer: its rate (and ETA) is
         * measured from the first byte, not from the last retry. */
        int same = (strcmp(phase, "retrying") == 0 || strcmp(phase, "downloading") == 0) &&
                   (strcmp(c->phase, "retrying") == 0 || strcmp(c->phase, "downloading") == 0);
        snprintf(c->phase, sizeof c->phase, "%s", phase);
        if (!same) {
            c->start_ms = now;
            c->start_done = done;
        }
    } else if (now - c->last_write_ms < 1000) {
        return;
    }
    c->last_write_ms = now;
    double secs = (double)(now - c->start_ms) / 1000.0;
    double rate = secs > 0.5 ? (double)(done - c->start_done) / secs : 0;
    json_t *o = sync_state_read(c->n);
    json_object_set_new(o, "state", json_string(phase));
    json_object_set_new(o, "done_bytes", json_integer((json_int_t)done));
    json_object_set_new(o, "total_bytes", json_integer((json_int_t)total));
    json_object_set_new(o, "rate_bytes_per_s", json_integer((json_int_t)rate));
    json_object_set_new(o, "eta_s", rate > 0 && total > done ? json_integer((json_int_t)((double)(total - done) / rate)) : json_null());
    char when[32];
    cs_time_format(cs_time_now(), when, sizeof when);
    json_object_set_new(o, "updated", json_string(when));
    sync_state_write(c->n, o);
    json_decref(o);
}

int node_sync(node_data *n, const char *url, sync_progress_cb progress, void *pctx, sync_client_stats *stats,
              cs_err *err)
{
    return node_sync_cancellable(n, url, NULL, progress, pctx, stats, err);
}

/* node.conf's sync settings into o (and the quota); CS_ECONFIG naming the key. */
static int sync_conf(const cs_conf *conf, sync_client_options *o, int64_t *slack_h, uint64_t *quota,
                     cs_err *err)
{
    uint64_t rate = 0, big = 0;
    int64_t stall = 60, retries = 6, slack = 0, mirror = 0, backoff = 1000;
    int rc;
    if ((rc = cs_conf_get_size(conf, "sync.max_rate", 0, &rate, err)) != 0 ||
        (rc = cs_conf_get_int(conf, "sync.stall_timeout", 60, &stall, err)) != 0 ||
        (rc = cs_conf_get_int(conf, "sync.retries", 6, &retries, err)) != 0 ||
        (rc = cs_conf_get_int(conf, "trust.clock_slack_hours", 24, &slack, err)) != 0 ||
        (rc = cs_conf_get_int(conf, "mirror.enable", 0, &mirror, err)) != 0 ||
        (rc = cs_conf_get_size(conf, "sync.large_object", 4u << 20, &big, err)) != 0 ||
        (rc = cs_conf_get_int(conf, "sync.backoff_ms", 1000, &backoff, err)) != 0 ||
        (rc = cs_conf_get_size(conf, "storage.quota", 0, quota, err)) != 0)
        return rc;
    if (stall < 1 || retries < 0 || retries > 100 || slack < 0 || backoff < 1 || backoff > 3600000)
        return cs_err_set(err, CS_ECONFIG,
                          "sync.stall_timeout, sync.retries, sync.backoff_ms or trust.clock_slack_hours out of range");
    o->max_rate = rate;
    o->stall_s = (long)stall;
    o->retries = (int)retries;
    o->large_object = big;
    o->backoff_base_ms = (long)backoff;
    if (o->backoff_cap_ms < o->backoff_base_ms)
        o->backoff_cap_ms = o->backoff_base_ms;
    o->mirror = mirror != 0;
    *slack_h = slack;
    return 0;
}

int node_sync_conf_check(const cs_conf *conf, cs_err *err)
{
    sync_client_options o;
    int64_t slack;
    uint64_t quota;
    sync_client_options_default(&o);
    return sync_conf(conf, &o, &slack, &quota, err);
}

int node_sync_cancellable(node_data *n, const char *url, const atomic_int *cancel, sync_progress_cb progress,
                          void *pctx, sync_client_stats *stats, cs_err *err)
{
    sync_client_options o;
    sync_client_options_default(&o);
    int64_t slack = 0;
    uint64_t quota = 0;
    int rc;
    if ((rc = sync_conf(n->conf, &o, &slack, &quota, err)) != 0)
        return rc;
    o.url = url ? url : cs_conf_get(n->conf, "hub.url");
    o.work_dir = n->dir;
    o.cancel = cancel;
    keep_ctx kc = {n->conf, n->cat};
    sync_select sel = {keep_resource, priority_of, &kc, quota};
    o.select = &sel;
    char clock_note[256];
    o.apply.now = judged_now(n, clock_note, sizeof clock_note);
    o.apply.expiry_slack = slack * 3600;
    o.apply.ignore_timestamp_expiry = 0;
    sync_progress_ctx pc;
    memset(&pc, 0, sizeof pc);
    pc.n = n;
    pc.user = progress;
    pc.uctx = pctx;
    sync_client_stats st;
    rc = sync_client_run(n->cat, n->store, &o, node_sync_progress, &pc, &st, err);
    expiry_hint(n, rc, err);
    if (rc == 0 && quota) {
        /* Under a quota, what the new version no longer needs goes now. */
        uint64_t fo = 0, fb = 0;
        cs_err gerr;
        node_gc(n, &fo, &fb, &gerr);
    }
    /* The school's voice back: whatever the catalogue sync did, the outbox
     * goes up when the hub can be reached; its failure fails nothing else. */
    json_t *ob = NULL;
    if (!(cancel && atomic_load(cancel)) && o.url && *o.url) {
        int sent = 0;
        int64_t acked = 0;
        cs_err oerr = {0};
        int orc = node_outbox_send(n, o.url, &sent, &acked, &oerr);
        ob = json_pack("{s:I,s:i}", "acked", (json_int_t)acked, "sent", sent);
        json_object_set_new(ob, "last_error",
                            orc == 0 ? json_null()
                            : orc == CS_EUNSUPPORTED
                                ? json_string("the hub takes no uploads (a static server): use node export-outbox")
                                : json_string(oerr.msg));
    }
    json_t *s = sync_state_read(n);
    char when[32];
    cs_time_format(cs_time_now(), when, sizeof when);
    if (ob)
        json_object_set_new(s, "outbox", ob);
    json_object_set_new(s, "clock", clock_note[0] ? json_string(clock_note) : json_null());
    json_object_set_new(s, "state", json_string(rc ? "failed" : "idle"));
    json_object_set_new(s, "last_attempt", json_string(when));
    if (rc == 0) {
        json_object_set_new(s, "last_success", json_string(when));
        json_object_set_new(s, "last_error", json_null());
    } else {
        json_object_set_new(s, "last_error", json_string(err ? err->msg : "error"));
    }
    json_object_set_new(s, "version", json_integer(st.to_version));
    sync_state_write(n, s);
    json_decref(s);
    if (stats)
        *stats = st;
    return rc;
}

int node_status(node_data *n, json_t **out, cs_err *err)
{
    int64_t version = 0;
    uint64_t resources = 0, files = 0, bytes = 0;
    content_store_stats ss;
    int rc;
    if ((rc = content_catalog_version(n->cat, &version, err)) != 0 ||
        (rc = content_catalog_counts(n->cat, &resources, &files, &bytes, err)) != 0 ||
        (rc = content_store_stats_get(n->store, &ss, err)) != 0)
        return rc;
    char *last = NULL, *lerr = NULL, *rootv = NULL;
    content_catalog_state_get(n->cat, "last_import.time", &last, NULL);
    content_catalog_state_get(n->cat, "last_import.error", &lerr, NULL);
    char *root_text = NULL;
    int64_t root_version = 0;
    if (content_catalog_state_get(n->cat, "trust.root", &root_text, NULL) == 0 && root_text) {
        sync_root *r = NULL;
        if (sync_root_load(&r, root_text, strlen(root_text), NULL) == 0)
            root_version = sync_root_version(r);
        sync_root_free(r);
    }
    uint64_t quota = 0;
    cs_conf_get_size(n->conf, "storage.quota", 0, &quota, NULL);
    json_t *o = json_pack("{s:I,s:{s:I,s:I,s:I},s:{s:I,s:I,s:I,s:I,s:I},s:I,s:s?,s:s?,s:s?}",
                          "version", (json_int_t)version,
                          "catalog", "resources", (json_int_t)resources, "files", (json_int_t)files,
                          "bytes", (json_int_t)bytes,
                          "storage", "objects", (json_int_t)ss.objects, "raw_bytes", (json_int_t)ss.raw_bytes,
                          "stored_bytes", (json_int_t)ss.enc_bytes, "disk_bytes", (json_int_t)ss.disk_bytes,
                          "quota_bytes", (json_int_t)quota,
                          "trust_root_version", (json_int_t)root_version,
                          "last_import", last && *last ? last : NULL,
                          "last_error", lerr && *lerr ? lerr : NULL,
                          "hub", cs_conf_get(n->conf, "hub.url"));
    free(last);
    free(lerr);
    free(rootv);
    free(root_text);
    if (!o)
        return cs_err_set(err, CS_ENOMEM, "out of memory");
    json_object_set_new(o, "sync", sync_state_read(n));
    int64_t signed_t = state_int(n->cat, "trust.time");
    if (signed_t > 0) {
        char b[32];
        cs_time_format(signed_t, b, sizeof b);
        json_object_set_new(o, "signed_time", json_string(b)); /* the newest time seen in signed metadata */
    }
    /* The outbox, when people.db exists (status never creates it). */
    char pp[PATH_MAX];
    cs_path_join(pp, sizeof pp, n->dir, "people.db");
    node_people *people = NULL;
    if (cs_path_exists(pp) && node_people_of(n, &people, NULL) == 0) {
        int64_t pending = 0, acked = 0;
        node_people_outbox_state(people, &pending, &acked, NULL);
        json_object_set_new(o, "outbox", json_pack("{s:I,s:I}", "pending", (json_int_t)pending, "acked",
                                                   (json_int_t)acked));
    }
    cs_path_join(pp, sizeof pp, n->dir, "node.key");
    cs_key *nk = NULL;
    char nid[CS_KEYID_HEX];
    if (cs_path_exists(pp) && cs_key_load_private(&nk, pp, NULL) == 0 && cs_key_id(nk, nid, NULL) == 0)
        json_object_set_new(o, "node_id", json_string(nid));
    cs_key_free(nk);
    *out = o;
    return 0;
}

int node_cat(node_data *n, const char *id, const char *path, int fd, cs_err *err)
{
    content_file f;
    memset(&f, 0, sizeof f);
    int rc = content_catalog_file(n->cat, id, path, &f, err);
    if (rc)
        return rc;
    if (!content_store_has(n->store, f.object)) {
        content_file_clear(&f);
        return cs_err_set(err, CS_ENOENT, "%s/%s is listed but not cached on this node", id, path);
    }
    size_t cap = 1 << 20;
    uint8_t *buf = malloc(cap);
    uint64_t off = 0;
    while (rc == 0 && buf && off < f.size) {
        size_t got = 0;
        size_t want = f.size - off > cap ? cap : (size_t)(f.size - off);
        if ((rc = content_store_read(n->store, f.object, off, buf, want, &got, err)) != 0)
            break;
        if (got == 0) {
            rc = cs_err_set(err, CS_ECORRUPT, "%s/%s: object shorter than its catalogue size", id, path);
            break;
        }
        rc = cs_write_full(fd, buf, got, err);
        off += got;
    }
    if (!buf)
        rc = cs_err_set(err, CS_ENOMEM, "out of memory");
    free(buf);
    content_file_clear(&f);
    return rc;
}

typedef struct verify_ctx {
    node_data *n;
    void (*cb)(void *, const char *);
    void *ctx;
    uint8_t (*bad)[32];
    size_t nbad, cap;
} verify_ctx;

static void on_damage(void *vctx, const uint8_t id[32], const char *reason)
{
    verify_ctx *v = vctx;
    char hex[CS_SHA256_HEX], line[512];
    cs_hex_encode(id, 32, hex);
    snprintf(line, sizeof line, "object %s: %s", hex, reason);
    if (v->cb)
        v->cb(v->ctx, line);
    if (v->nbad == v->cap) {
        size_t nc = v->cap ? v->cap * 2 : 16;
        uint8_t(*nb)[32] = realloc(v->bad, nc * sizeof *nb);
        if (!nb)
            return;
        v->bad = nb;
        v->cap = nc;
    }
    memcpy(v->bad[v->nbad++], id, 32);
}

static int mark_uncached(void *ctx, const content_resource *r)
{
    node_data *n = ctx;
    int cached = 1;
    for (size_t i = 0; i < r->nfiles && cached; i++)
        cached = content_store_has(n->store, r->files[i].object);
    if (cached != r->cached)
        content_catalog_set_cached(n->cat, r->id, cached, NULL);
    return 0;
}

int node_verify(node_data *n, int repair, void (*cb)(void *, const char *), void *ctx,
                content_store_progress_cb progress, void *pctx, uint64_t *damaged, cs_err *err)
{
    verify_ctx v = {n, cb, ctx, NULL, 0, 0};
    uint64_t d = 0;
    int rc = content_catalog_integrity(n->cat, err);
    if (rc == 0)
        rc = content_store_integrity(n->store, err);
    if (rc)
        return rc;
    rc = content_store_verify(n->store, on_damage, &v, progress, pctx, &d, err);
    if (rc == 0 && repair && v.nbad) {
        for (size_t i = 0; i < v.nbad && rc == 0; i++)
            rc = content_store_forget(n->store, v.bad[i], err);
        if (rc == 0 && (rc = content_catalog_begin(n->cat, err)) == 0) {
            rc = content_catalog_foreach_resource(n->cat, mark_uncached, n, err);
            if (rc == 0)
                rc = content_catalog_commit(n->cat, err);
            else
                content_catalog_rollback(n->cat);
        }
    }
    free(v.bad);
    if (rc == 0 && damaged)
        *damaged = d;
    return rc;
}

static int is_live(void *ctx, const uint8_t id[32])
{
    return content_catalog_references((content_catalog *)ctx, id);
}

int node_gc(node_data *n, uint64_t *objects, uint64_t *bytes, cs_err *err)
{
    return content_store_gc(n->store, is_live, n->cat, objects, bytes, err);
}
