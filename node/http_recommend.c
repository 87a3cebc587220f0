/*
 * http_recommend.c - recommendations in the daemon (docs/recommend.md):
 * the model learns from each recorded event at once; a background thread
 * rebuilds the immutable index (neighbours, EASE, popularity lists) when
 * events or the catalogue changed, and swaps it in; requests read the
 * current index and never wait on a rebuild.
 *
 *   GET /api/v1/recommendations?learner=&limit=&subject=&grade=&language=&after=
 */
#include <math.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "node/node.h"
#include "node/people.h"
#include "node/recommend.h"
#include "platform/time.h"
#include "server_int.h"

#define REC_REBUILD_DEFAULT_S 60 /* recommend.rebuild_interval: at most one rebuild a minute for new events */
#define REC_EVENTS_MAX 2000000     /* events read into a fresh model */

struct srv_rec {
    pthread_mutex_t lock; /* the model */
    node_rec_model *model;
    pthread_rwlock_t ix_lock; /* the index pointer */
    node_rec_index *ix;
    int64_t model_version, model_gen; /* catalogue the model's items came from */
    _Atomic uint64_t events_since_build; /* set under lock; rec_main polls it without */
    int64_t last_build_ms;
    int64_t rebuild_ms;
    pthread_t thread;
    int started;
    atomic_int stop; /* set by the main thread at shutdown */
    node_people *people; /* its own connection: reading 1M events blocks nobody */
};

static int rec_kind(int kind)
{
    return kind == NODE_EV_COMPLETE ? NODE_REC_COMPLETE : kind == NODE_EV_SCORE ? NODE_REC_SCORE : NODE_REC_OPEN;
}

static int add_item(void *ctx, const content_resource *r)
{
    node_rec_model *m = ctx;
    json_t *meta = r->meta, *v;
    const char *pre[NODE_REC_PREREQ_MAX];
    size_t i, npre = 0;
    char vol[32], ed[32];
    node_rec_item it;
    memset(&it, 0, sizeof it);
    it.id = r->id;
    it.subject = json_string_value(json_object_get(meta, "subject"));
    it.language = json_string_value(json_object_get(meta, "language"));
    json_array_foreach(json_object_get(meta, "grades"), i, v) if (json_is_integer(v) && json_integer_value(v) >= 0 &&
                                                                 json_integer_value(v) <= NODE_REC_GRADE_MAX)
        it.grades |= 1u << json_integer_value(v);
    /* edition and volume may be strings or integers */
    v = json_object_get(meta, "edition");
    if (json_is_integer(v))
        snprintf(ed, sizeof ed, "%lld", (long long)json_integer_value(v));
    it.edition = json_is_integer(v) ? ed : json_string_value(v);
    v = json_object_get(meta, "volume");
    if (json_is_integer(v))
        snprintf(vol, sizeof vol, "%lld", (long long)json_integer_value(v));
    it.volume = json_is_integer(v) ? vol : json_string_value(v);
    v = json_object_get(meta, "unit");
    it.unit = json_is_integer(v) ? (int32_t)json_integer_value(v) : json_is_string(v) ? atoi(json_string_value(v)) : -1;
    if (it.unit == 0 && json_is_string(v) && json_string_value(v)[0] != '0')
        it.unit = -1;
    json_array_foreach(json_object_get(meta, "prerequisites"), i, v) if (npre < NODE_REC_PREREQ_MAX && json_is_string(v))
        pre[npre++] = json_string_value(v);
    it.prereqs = pre;
    it.nprereqs = npre;
    node_rec_model_item_add(m, &it, NULL); /* an item over the caps is left out, not fatal */
    return 0;
}

static int add_event(void *ctx, const char *learner, const char *resource, int kind, double value, int64_t ts)
{
    node_rec_event ev = {learner, resource, ts, rec_kind(kind), isnan(value) ? -1 : value};
    node_rec_model_event_add(ctx, &ev, NULL); /* an event for a removed resource is skipped */
    return 0;
}

/* A fresh model: every catalogued resource, then the recorded events. */
static int model_load(srv *s, node_rec_model **out, int64_t *version, cs_err *err)
{
    node_rec_model *m = NULL;
    int rc;
    if ((rc = node_rec_model_new(&m, NULL, err)) != 0)
        return rc;
    srv_handles *h = srv_handles_get_fresh(s);
    *version = h->snap_version;
    rc = content_catalog_foreach_resource(h->cat, add_item, m, err);
    srv_handles_put(s, h);
    if (rc == 0)
        rc = node_people_event_foreach(s->rec->people, REC_EVENTS_MAX, add_event, m, err);
    if (rc != 0) {
        node_rec_model_free(m);
        return rc;
    }
    *out = m;
    return 0;
}

/* A build frees tens of megabytes of temporaries and the old index: give
 * them back to the system (glibc keeps freed heap otherwise). */
static void rec_release_memory(void)
{
#ifdef __GLIBC__
    malloc_trim(0);
#endif
}

static void index_swap(srv *s, node_rec_index *ix)
{
    pthread_rwlock_wrlock(&s->rec->ix_lock);
    node_rec_index *old = s->rec->ix;
    s->rec->ix = ix;
    pthread_rwlock_unlock(&s->rec->ix_lock);
    node_rec_index_free(old); /* no reader can hold it: they read under the lock */
}

static void *rec_main(void *arg)
{
    srv *s = arg;
    struct srv_rec *r = s->rec;
    while (!atomic_load(&r->stop)) {
        int64_t now = cs_time_mono_ms(), version = 0, gen = atomic_load(&s->generation);
        srv_handles *h = srv_handles_get(s);
        version = h->snap_version;
        srv_handles_put(s, h);
        cs_err err = {0};
        int reload = !r->model || version != r->model_version || gen != r->model_gen;
        if (reload) {
            /* The catalogue changed (or first start): items from scratch,
             * so removed resources leave the model too. */
            node_rec_model *m = NULL;
            int64_t v = 0;
            if (model_load(s, &m, &v, &err) == 0) {
                node_rec_index *ix = NULL;
                if (node_rec_model_build(m, &ix, &err) == 0) {
                    /* Counted before m is published: then requests add events to it. */
                    node_rec_stats st;
                    node_rec_model_stats(m, &st);
                    pthread_mutex_lock(&r->lock);
                    node_rec_model_free(r->model);
                    r->model = m;
                    r->model_version = v;
                    r->model_gen = gen;
                    atomic_store(&r->events_since_build, 0);
                    pthread_mutex_unlock(&r->lock);
                    index_swap(s, ix);
                    r->last_build_ms = cs_time_mono_ms();
                    cs_log_info(&s->log, "recommendations: model of %u items and %llu events built in %lld ms",
                                st.items, (unsigned long long)st.events, (long long)(r->last_build_ms - now));
                } else {
                    node_rec_model_free(m);
                }
                rec_release_memory();
            }
            if (err.code)
                cs_log_warn(&s->log, "recommendations: %s", err.msg);
        } else if (atomic_load(&r->events_since_build) && now - r->last_build_ms > r->rebuild_ms) {
            /* New events: neighbours from a snapshot, built off the lock. */
            node_rec_snapshot *snap = NULL;
            pthread_mutex_lock(&r->lock);
            int rc = node_rec_model_snapshot(r->model, &snap, &err);
            atomic_store(&r->events_since_build, 0);
            pthread_mutex_unlock(&r->lock);
            node_rec_index *ix = NULL;
            rc = rc == 0 ? node_rec_snapshot_build(snap, &ix, &err) : rc;
            node_rec_snapshot_free(snap); /* before the swap: the old index goes too */
            if (rc == 0)
                index_swap(s, ix);
            else
                cs_log_warn(&s->log, "recommendations: rebuild: %s", err.msg);
            rec_release_memory();
            r->last_build_ms = cs_time_mono_ms();
        }
        for (int i = 0; i < 20 && !atomic_load(&r->stop); i++)
            usleep(100000);
    }
    return NULL;
}

int srv_rec_start(srv *s, cs_err *err)
{
    struct srv_rec *r = calloc(1, sizeof *r);
    int rc;
    if (!r)
        return cs_err_set(err, CS_ENOMEM, "out of memory");
    cs_conf *conf = NULL;
    int64_t every = REC_REBUILD_DEFAULT_S;
    if (node_conf_load(s->data_dir, &conf, NULL) == 0)
        rc = cs_conf_get_int(conf, "recommend.rebuild_interval", REC_REBUILD_DEFAULT_S, &every, err);
    else
        rc = 0;
    cs_conf_free(conf);
    if (rc == 0 && (every < 1 || every > 86400))
        rc = cs_err_set(err, CS_ECONFIG, "recommend.rebuild_interval: 1 to 86400 seconds");
    if (rc != 0 || (rc = node_people_open(&r->people, s->data_dir, err)) != 0) {
        free(r);
        return rc;
    }
    r->rebuild_ms = every * 1000;
    pthread_mutex_init(&r->lock, NULL);
    pthread_rwlock_init(&r->ix_lock, NULL);
    s->rec = r;
    if (pthread_create(&r->thread, NULL, rec_main, s) == 0)
        r->started = 1;
    return 0;
}

void srv_rec_stop(srv *s)
{
    struct srv_rec *r = s->rec;
    if (!r)
        return;
    atomic_store(&r->stop, 1);
    if (r->started)
        pthread_join(r->thread, NULL);
    node_rec_index_free(r->ix);
    node_rec_model_free(r->model);
    node_people_close(r->people);
    pthread_rwlock_destroy(&r->ix_lock);
    pthread_mutex_destroy(&r->lock);
    free(r);
    s->rec = NULL;
}

void srv_rec_event(srv *s, const char *learner, const char *resource, int kind, double value, int64_t ts)
{
    struct srv_rec *r = s->rec;
    if (!r)
        return;
    node_rec_event ev = {learner, resource, ts, rec_kind(kind), isnan(value) ? -1 : value};
    pthread_mutex_lock(&r->lock);
    if (r->model && node_rec_model_event_add(r->model, &ev, NULL) == 0)
        atomic_fetch_add(&r->events_since_build, 1);
    pthread_mutex_unlock(&r->lock);
}

int srv_rec_json(srv *s, const char *learner, const char *after, const node_rec_request *req, size_t k,
                 json_t **out, cs_err *err)
{
    struct srv_rec *r = s->rec;
    node_rec_hist hist[NODE_REC_HISTORY_MAX];
    node_rec_result res[NODE_REC_K_MAX];
    size_t n = 0, nout = 0;
    int rc;
    if (!r)
        return cs_err_set(err, CS_ENOTREADY, "recommendations are off");
    if (k > NODE_REC_K_MAX)
        k = NODE_REC_K_MAX;
    /* The learner's kept history (ids point into the model: copy them). */
    char ids[NODE_REC_HISTORY_MAX][NODE_REC_ID_MAX];
    if (learner && *learner) {
        pthread_mutex_lock(&r->lock);
        if (r->model)
            node_rec_model_history(r->model, learner, hist, NODE_REC_HISTORY_MAX - 1, &n);
        for (size_t i = 0; i < n; i++) {
            snprintf(ids[i], sizeof ids[i], "%s", hist[i].item);
            hist[i].item = ids[i];
        }
        pthread_mutex_unlock(&r->lock);
    }
    /* What the learner has open now: a session-only history, kept nowhere. */
    if (after && *after && n < NODE_REC_HISTORY_MAX) {
        hist[n].item = after;
        hist[n].kind = NODE_REC_OPEN;
        hist[n].score = -1;
        n++;
    }
    pthread_rwlock_rdlock(&r->ix_lock);
    if (!r->ix) {
        pthread_rwlock_unlock(&r->ix_lock);
        return cs_err_set(err, CS_ENOTREADY, "recommendations are still being prepared");
    }
    rc = node_rec_index_recommend(r->ix, hist, n, req, res, k, &nout, err);
    json_t *items = json_array();
    for (size_t i = 0; rc == 0 && i < nout; i++)
        json_array_append_new(items, json_pack("{s:s,s:s,s:f}", "id", res[i].id, "reason", res[i].reason, "score",
                                               res[i].score));
    pthread_rwlock_unlock(&r->ix_lock);
    if (rc != 0) {
        json_decref(items);
        return rc;
    }
    /* Titles and cache state from the catalogue. */
    srv_handles *h = srv_handles_get(s);
    size_t i;
    json_t *o;
    json_array_foreach(items, i, o)
    {
        content_resource *cr = NULL;
        const char *id = json_string_value(json_object_get(o, "id"));
        char url[CONTENT_ID_MAX + 8];
        snprintf(url, sizeof url, "/r/%s/", id);
        json_object_set_new(o, "url", json_string(url));
        if (content_catalog_get(h->cat, id, &cr, NULL) == 0) {
            json_object_set(o, "title", json_object_get(cr->meta, "title"));
            json_object_set_new(o, "cached", json_boolean(cr->cached));
            content_resource_free(cr);
        }
    }
    srv_handles_put(s, h);
    *out = items;
    return 0;
}
