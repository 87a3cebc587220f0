/*
 * http_api.c - the JSON API under /api/v1.
 *
 *   GET /api/v1/catalog?q=&subject=&grade=&language=&type=&limit=&offset=&prefix=
 *   GET /api/v1/suggest?q=          typeahead (prefix match, 8 titles)
 *   GET /api/v1/facets              filter values with counts
 *   GET /api/v1/resources/{id}      everything about one resource
 *   GET /api/v1/status              version, storage, last and next sync
 * Errors: {"error": token, "message": text}.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node/node.h"
#include "platform/crypto.h"
#include "server_int.h"
#include "summary_int.h"

/* A hit on a page inside the resource: "entry": {path, title, url}. */
static json_t *entry_summary(json_t *o, const content_hit *hit)
{
    char url[CONTENT_ID_MAX + 3 * CONTENT_PATH_MAX + 8];
    size_t n;
    if (!o || !hit->path)
        return o;
    n = (size_t)snprintf(url, sizeof url, "/r/%s/", hit->id);
    for (const unsigned char *p = (const unsigned char *)hit->path; *p && n + 4 < sizeof url; p++) {
        if (*p == '/' || *p == '-' || *p == '.' || *p == '_' || *p == '~' || (*p >= '0' && *p <= '9') ||
            ((*p | 0x20) >= 'a' && (*p | 0x20) <= 'z'))
            url[n++] = (char)*p;
        else
            n += (size_t)snprintf(url + n, sizeof url - n, "%%%02X", *p);
    }
    url[n] = '\0';
    json_object_set_new(o, "entry", json_pack("{s:s,s:s,s:s}", "path", hit->path, "title", hit->title, "url", url));
    return o;
}

static MHD_RESULT bad_arg(struct MHD_Connection *c, srv_req *rq, const char *name)
{
    return srv_error(c, rq, 400, "bad_request", "query parameter \"%s\" is out of range or malformed", name);
}

/* ---- a small cache of answers, keyed by the catalogue version ---- */

static uint64_t fnv1a(const char *s, uint64_t h)
{
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

/* The cache key of a search: version and every parameter, canonically. */
static void cache_key(char *buf, size_t cap, int64_t version, int64_t gen, int suggest, const content_query *q)
{
    snprintf(buf, cap, "%lld.%lld|%d|%s|%s|%s|%s|%d|%d|%u|%u", (long long)version, (long long)gen, suggest, q->q ? q->q : "",
             q->subject ? q->subject : "", q->language ? q->language : "", q->type ? q->type : "", q->grade,
             q->prefix, q->limit, q->offset);
}

static char *cache_get(srv *s, const char *key)
{
    uint64_t h = fnv1a(key, 1469598103934665603ULL);
    srv_cache_entry *e = &s->cache[h % SRV_CACHE_SLOTS];
    char *out = NULL;
    pthread_mutex_lock(&s->cache_lock);
    if (e->key && strcmp(e->key, key) == 0)
        out = strdup(e->body);
    pthread_mutex_unlock(&s->cache_lock);
    return out;
}

static void cache_put(srv *s, const char *key, const char *body)
{
    if (strlen(body) > SRV_CACHE_MAX_BODY)
        return;
    uint64_t h = fnv1a(key, 1469598103934665603ULL);
    srv_cache_entry *e = &s->cache[h % SRV_CACHE_SLOTS];
    char *k = strdup(key), *b = strdup(body);
    if (!k || !b) {
        free(k);
        free(b);
        return;
    }
    size_t add = strlen(k) + strlen(b);
    pthread_mutex_lock(&s->cache_lock);
    if (s->cache_bytes + add > SRV_CACHE_BUDGET) {
        for (size_t i = 0; i < SRV_CACHE_SLOTS; i++) {
            free(s->cache[i].key);
            free(s->cache[i].body);
            s->cache[i].key = s->cache[i].body = NULL;
        }
        s->cache_bytes = 0;
    }
    if (e->key)
        s->cache_bytes -= strlen(e->key) + strlen(e->body);
    free(e->key);
    free(e->body);
    e->key = k;
    e->body = b;
    s->cache_bytes += add;
    pthread_mutex_unlock(&s->cache_lock);
}

static MHD_RESULT json_text(struct MHD_Connection *c, srv_req *rq, char *body)
{
    size_t len = strlen(body);
    struct MHD_Response *r = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
    if (!r) {
        free(body);
        return MHD_NO;
    }
    MHD_add_response_header(r, "Content-Type", "application/json; charset=utf-8");
    MHD_add_response_header(r, "Cache-Control", "no-cache");
    srv_common_headers(r);
    return srv_respond_len(c, rq, 200, r, len);
}

/* The catalog answer {"total","offset","limit","results"} as text, the
 * bytes json_dumps(JSON_COMPACT) of the summaries would be; releases h and
 * clears hits. */
static MHD_RESULT catalog_answer(srv *s, struct MHD_Connection *c, srv_req *rq, srv_handles *h,
                                 content_hits *hits, long offset, long limit, const char *cache_key)
{
    cs_buf b;
    int rc;
    cs_buf_init(&b, (size_t)CONTENT_QUERY_MAX_LIMIT * (CONTENT_RESOURCE_JSON_MAX + 4096) + 4096);
    rc = cs_buf_printf(&b, "{\"total\":%llu,\"offset\":%ld,\"limit\":%ld,\"results\":[",
                       (unsigned long long)hits->total, offset, limit);
    for (size_t i = 0, n = 0; i < hits->n && rc == 0; i++) {
        size_t mark = b.len;
        char *json = NULL;
        int cached = 0, done = 0;
        if (n && (rc = cs_buf_append(&b, ",", 1)) != 0)
            break;
        if (!hits->items[i].path && content_catalog_get_json(h->cat, hits->items[i].id, &json, &cached, NULL) == 0) {
            done = node_summary_splice(&b, json, cached);
            free(json);
            if (done < 0) {
                rc = CS_ETOOBIG;
                break;
            }
        }
        if (!done) { /* pages inside resources, and anything unusual */
            content_resource *r = NULL;
            json_t *o = NULL;
            char *text = NULL;
            if (content_catalog_get(h->cat, hits->items[i].id, &r, NULL) == 0)
                o = entry_summary(node_summary_json(r), &hits->items[i]);
            text = o ? json_dumps(o, JSON_COMPACT) : NULL;
            if (text)
                rc = cs_buf_append(&b, text, strlen(text)), done = 1;
            free(text);
            json_decref(o);
            content_resource_free(r);
        }
        if (done)
            n++;
        else
            b.len = mark; /* skipped, as json_array_append_new(NULL) does */
    }
    srv_handles_put(s, h);
    content_hits_clear(hits);
    rc = rc ? rc : cs_buf_append(&b, "]}", 2);
    if (rc) {
        cs_buf_free(&b);
        return srv_error(c, rq, 500, "internal", "out of memory");
    }
    char *body = (char *)cs_buf_steal(&b, NULL);
    if (cache_key)
        cache_put(s, cache_key, body);
    return json_text(c, rq, body);
}

static MHD_RESULT api_catalog(srv *s, struct MHD_Connection *c, srv_req *rq, int suggest)
{
    content_query q;
    memset(&q, 0, sizeof q);
    long limit, offset, grade, prefix;
    if (srv_arg_int(c, "limit", 1, CONTENT_QUERY_MAX_LIMIT, suggest ? 8 : 20, &limit) < 0)
        return bad_arg(c, rq, "limit");
    if (srv_arg_int(c, "offset", 0, 1000000, 0, &offset) < 0)
        return bad_arg(c, rq, "offset");
    if (srv_arg_int(c, "grade", 0, 13, -1, &grade) < 0)
        return bad_arg(c, rq, "grade");
    if (srv_arg_int(c, "prefix", 0, 1, suggest ? 1 : 0, &prefix) < 0)
        return bad_arg(c, rq, "prefix");
    q.q = srv_arg(c, "q");
    q.subject = srv_arg(c, "subject");
    q.language = srv_arg(c, "language");
    q.type = srv_arg(c, "type");
    if (q.subject && !*q.subject)
        q.subject = NULL;
    if (q.language && !*q.language)
        q.language = NULL;
    if (q.type && !*q.type)
        q.type = NULL;
    q.grade = (int)grade;
    q.limit = (uint32_t)limit;
    q.offset = (uint32_t)offset;
    q.prefix = (int)prefix;
    q.entries = !suggest; /* pages inside resources (ZIM articles) too, after the resources */
    if (q.q && strlen(q.q) > CONTENT_QUERY_MAX_TEXT)
        return srv_error(c, rq, 400, "query_too_long", "the search text is longer than %d bytes", CONTENT_QUERY_MAX_TEXT);
    if (suggest && (!q.q || !*q.q))
        return srv_json(c, rq, 200, json_pack("{s:[]}", "suggestions"));
    content_hits hits = {0};
    cs_err err = {0};
    srv_handles *h = srv_handles_get(s);
    /* The same question about the same catalogue version: the same answer
     * (unless serve.search_cache = 0, for measuring the search itself). */
    char key[1024];
    int use_cache = atomic_load_explicit(&s->search_cache, memory_order_relaxed);
    cache_key(key, sizeof key, h->snap_version, h->snap_gen, suggest, &q);
    char *cached = use_cache ? cache_get(s, key) : NULL;
    if (cached) {
        srv_handles_put(s, h);
        return json_text(c, rq, cached);
    }
    int rc = content_catalog_search(h->cat, &q, &hits, &err);
    if (rc) {
        srv_handles_put(s, h);
        if (rc == CS_ETOOBIG || rc == CS_EINVAL)
            return srv_error(c, rq, 400, "bad_request", "%s", err.msg);
        cs_log_error(&s->log, "search: %s", err.msg);
        return srv_error(c, rq, 500, "internal", "search failed");
    }
    if (!suggest)
        return catalog_answer(s, c, rq, h, &hits, offset, limit, use_cache ? key : NULL);
    json_t *arr = json_array();
    for (size_t i = 0; i < hits.n; i++) {
        content_resource *r = NULL;
        if (content_catalog_get(h->cat, hits.items[i].id, &r, NULL) != 0)
            continue;
        if (suggest)
            json_array_append_new(arr, json_pack("{s:s,s:O}", "id", r->id, "title", json_object_get(r->meta, "title")));
        else
            json_array_append_new(arr, entry_summary(node_summary_json(r), &hits.items[i]));
        content_resource_free(r);
    }
    srv_handles_put(s, h);
    uint64_t total = hits.total;
    content_hits_clear(&hits);
    json_t *o = suggest ? json_pack("{s:o}", "suggestions", arr)
                        : json_pack("{s:I,s:i,s:i,s:o}", "total", (json_int_t)total, "offset", (int)offset, "limit",
                                    (int)limit, "results", arr);
    char *body = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    if (!body)
        return srv_error(c, rq, 500, "internal", "out of memory");
    if (use_cache)
        cache_put(s, key, body);
    return json_text(c, rq, body);
}

static int facet_add(void *ctx, const char *value, uint64_t count)
{
    json_t *arr = ctx;
    json_t *v;
    char *end;
    long g = strtol(value, &end, 10);
    v = *end == '\0' && *value ? json_integer(g) : json_string(value);
    json_array_append_new(arr, json_pack("{s:o,s:I}", "value", v, "count", (json_int_t)count));
    return 0;
}

static MHD_RESULT api_facets(srv *s, struct MHD_Connection *c, srv_req *rq)
{
    static const char *fields[] = {"subject", "grade", "language", "type"};
    static const char *keys[] = {"subjects", "grades", "languages", "types"};
    json_t *o = json_object();
    srv_handles *h = srv_handles_get(s);
    cs_err err = {0};
    int rc = 0;
    for (int i = 0; i < 4 && rc == 0; i++) {
        json_t *arr = json_array();
        rc = content_catalog_facets(h->cat, fields[i], facet_add, arr, &err);
        json_object_set_new(o, keys[i], arr);
    }
    srv_handles_put(s, h);
    if (rc) {
        json_decref(o);
        cs_log_error(&s->log, "facets: %s", err.msg);
        return srv_error(c, rq, 500, "internal", "facets failed");
    }
    return srv_json(c, rq, 200, o);
}

static MHD_RESULT api_resource(srv *s, struct MHD_Connection *c, srv_req *rq, const char *id)
{
    if (!content_id_valid(id))
        return srv_error(c, rq, 400, "bad_request", "malformed resource id");
    srv_handles *h = srv_handles_get(s);
    content_resource *r = NULL;
    cs_err err = {0};
    int rc = content_catalog_get(h->cat, id, &r, &err);
    if (rc) {
        srv_handles_put(s, h);
        if (rc == CS_ENOENT)
            return srv_error(c, rq, 404, "not_found", "no resource \"%s\" in the catalogue", id);
        return srv_error(c, rq, 500, "internal", "catalogue error");
    }
    json_t *files = json_array();
    for (size_t i = 0; i < r->nfiles; i++) {
        const content_file *f = &r->files[i];
        char hex[CS_SHA256_HEX], url[CONTENT_ID_MAX + CONTENT_PATH_MAX + 32];
        cs_hex_encode(f->object, 32, hex);
        snprintf(url, sizeof url, "/r/%s/%s?v=%.16s", r->id, f->path, hex);
        json_array_append_new(files, json_pack("{s:s,s:I,s:s,s:s,s:b}", "path", f->path, "size",
                                               (json_int_t)f->size, "mime", f->mime ? f->mime : "",
                                               "url", url, "cached", content_store_has(h->store, f->object)));
    }
    json_t *prereq = json_array();
    size_t i;
    json_t *pid;
    json_array_foreach(json_object_get(r->meta, "prerequisites"), i, pid)
    {
        const char *ps = json_string_value(pid);
        content_resource *p = NULL;
        if (!ps)
            continue;
        if (content_catalog_get(h->cat, ps, &p, NULL) == 0) {
            json_array_append_new(prereq, json_pack("{s:s,s:O,s:b}", "id", ps, "title",
                                                    json_object_get(p->meta, "title"), "cached", p->cached));
            content_resource_free(p);
        } else {
            json_array_append_new(prereq, json_pack("{s:s,s:n,s:b}", "id", ps, "title", "cached", 0));
        }
    }
    srv_handles_put(s, h);
    char url[CONTENT_ID_MAX + 8];
    snprintf(url, sizeof url, "/r/%s/", r->id);
    json_t *o = json_pack("{s:O,s:b,s:s,s:o,s:o}", "resource", r->meta, "cached", r->cached, "url", url,
                          "files", files, "prerequisites", prereq);
    content_resource_free(r);
    return srv_json(c, rq, 200, o);
}

static MHD_RESULT api_status(srv *s, struct MHD_Connection *c, srv_req *rq)
{
    node_data *n = NULL;
    cs_err err = {0};
    json_t *st = NULL;
    srv_handles *h = srv_handles_get(s);
    /* node_status wants a node_data: borrow the pooled handles. */
    node_data tmp;
    memset(&tmp, 0, sizeof tmp);
    snprintf(tmp.dir, sizeof tmp.dir, "%s", s->data_dir);
    tmp.cat = h->cat;
    tmp.store = h->store;
    tmp.people = s->people; /* the server's own handle: no database opened per request */
    if (node_conf_load(s->data_dir, &tmp.conf, NULL) != 0)
        cs_conf_new(&tmp.conf);
    n = &tmp;
    int rc = node_status(n, &st, &err);
    srv_handles_put(s, h);
    cs_conf_free(tmp.conf);
    if (rc) {
        cs_log_error(&s->log, "status: %s", err.msg);
        return srv_error(c, rq, 500, "internal", "status failed");
    }
    json_t *storage = json_object_get(st, "storage");
    json_object_set_new(storage, "used_bytes", json_integer(json_integer_value(json_object_get(storage, "disk_bytes"))));
    /* sync: the daemon's or `node sync`'s state, plus the last USB import. */
    json_t *sy = json_object_get(st, "sync");
    if (!json_is_object(sy)) {
        sy = json_object();
        json_object_set_new(st, "sync", sy);
    }
    json_t *last = json_object_get(sy, "last_success");
    json_t *imp = json_object_get(st, "last_import");
    if (json_is_string(imp) && (!json_is_string(last) || strcmp(json_string_value(imp), json_string_value(last)) > 0))
        last = imp;
    json_object_set(sy, "last", last ? last : json_null());
    if (!json_object_get(sy, "next"))
        json_object_set_new(sy, "next", json_null());
    if (!json_object_get(sy, "state"))
        json_object_set_new(sy, "state", json_string("idle"));
    json_object_set_new(sy, "running", json_boolean(atomic_load(&s->sync_running)));
    return srv_json(c, rq, 200, st);
}

MHD_RESULT srv_api(srv *s, struct MHD_Connection *c, srv_req *rq, const char *url)
{
    const char *p = url + 4; /* after "/api" */
    if (strncmp(p, "/v1/", 4) != 0)
        return srv_error(c, rq, 404, "not_found", "unknown API version (this node speaks /api/v1)");
    p += 4;
    MHD_RESULT ret;
    if (srv_people_get(s, c, rq, p, &ret))
        return ret;
    if (strcmp(p, "catalog") == 0)
        return api_catalog(s, c, rq, 0);
    if (strcmp(p, "catalog.jsonld") == 0)
        return srv_lrmi(s, c, rq);
    if (strcmp(p, "suggest") == 0)
        return api_catalog(s, c, rq, 1);
    if (strcmp(p, "facets") == 0)
        return api_facets(s, c, rq);
    if (strcmp(p, "status") == 0)
        return api_status(s, c, rq);
    if (strncmp(p, "resources/", 10) == 0)
        return api_resource(s, c, rq, p + 10);
    return srv_error(c, rq, 404, "not_found", "no such endpoint");
}
