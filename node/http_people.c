/*
 * http_people.c - accounts, sessions and the teacher tools under /api/v1
 * (docs/accounts.md): who may do what, CSRF on every state change, sign-in
 * rate limits.
 */
#include <arpa/inet.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "content/resource.h"
#include "node/node.h"
#include "node/people.h"
#include "node/recommend.h"
#include "platform/time.h"
#include "server_int.h"

/* The caller: a role, and for a signed-in user the user and session. */
typedef struct who {
    int role;
    int session; /* a valid session cookie came with the request */
    node_user u;
    char csrf[NODE_TOKEN_HEX];
    char token[NODE_TOKEN_HEX];
    char actor[32]; /* for the audit log: "user:<id>" */
} who;

static void who_of(srv *s, struct MHD_Connection *c, who *w)
{
    memset(w, 0, sizeof *w);
    const char *tok = MHD_lookup_connection_value(c, MHD_COOKIE_KIND, "cs_session");
    if (!tok || strlen(tok) != 64)
        return;
    unsigned idle = atomic_load(&s->session_idle_s), max = atomic_load(&s->session_max_s);
    if (node_people_session(s->people, tok, idle, max, &w->u, w->csrf, NULL) != 0)
        return;
    w->role = w->u.role;
    w->session = 1;
    snprintf(w->token, sizeof w->token, "%s", tok);
    snprintf(w->actor, sizeof w->actor, "user:%lld", (long long)w->u.id);
}

static json_t *user_json(const node_user *u)
{
    json_t *o = json_pack("{s:I,s:s,s:s}", "id", (json_int_t)u->id, "name", u->name, "role", node_role_name(u->role));
    json_object_set_new(o, "class", u->class_id ? json_integer(u->class_id) : json_null());
    return o;
}

/* 401 for a guest, 403 for a signed-in user below min_role; 0 when allowed. */
static unsigned need_role(const who *w, int min_role)
{
    if (w->role == NODE_GUEST)
        return 401;
    return w->role >= min_role ? 0 : 403;
}

static MHD_RESULT deny(struct MHD_Connection *c, srv_req *rq, unsigned status)
{
    if (status == 401)
        return srv_error(c, rq, 401, "auth", "sign in first");
    if (status == 404)
        return srv_error(c, rq, 404, "not_found", "no such class");
    return srv_error(c, rq, 403, "forbidden", "your role may not do this");
}

/* May w act on class_id as its teacher (or an admin), or read it as one of
 * its students when students is set?  0, 401, 403 or 404. */
static unsigned class_access(srv *s, const who *w, int64_t class_id, int students)
{
    int64_t teacher = 0;
    if (w->role == NODE_GUEST)
        return 401;
    if (node_people_class_teacher(s->people, class_id, &teacher, NULL) != 0)
        return w->role >= NODE_TEACHER ? 404 : 403;
    if (w->role == NODE_ADMIN || (w->role == NODE_TEACHER && teacher == w->u.id))
        return 0;
    if (students && w->role == NODE_STUDENT && w->u.class_id == class_id)
        return 0;
    return 403;
}

/* "123" or "123/rest": the id and what follows. */
static int64_t path_id(const char *p, const char **rest)
{
    char *end = NULL;
    long long v = strtoll(p, &end, 10);
    if (end == p || v <= 0 || (*end && *end != '/'))
        return -1;
    *rest = *end == '/' ? end + 1 : end;
    return v;
}

static const char *title_of(srv *s, const char *id, int *cached, char *buf, size_t cap)
{
    srv_handles *h = srv_handles_get(s);
    content_resource *r = NULL;
    *cached = 0;
    snprintf(buf, cap, "%s", id);
    if (h && content_catalog_get(h->cat, id, &r, NULL) == 0) {
        const char *t = srv_title(r->meta, "zh");
        if (t)
            snprintf(buf, cap, "%s", t);
        *cached = r->cached;
        content_resource_free(r);
    } else {
        buf = NULL;
    }
    if (h)
        srv_handles_put(s, h);
    return buf;
}

/* Add "title" and "cached" beside each resource id of arr (objects with key). */
static void add_titles(srv *s, json_t *arr, const char *key)
{
    size_t i;
    json_t *o;
    char t[512];
    json_array_foreach(arr, i, o)
    {
        int cached = 0;
        const char *title = title_of(s, json_string_value(json_object_get(o, key)), &cached, t, sizeof t);
        json_object_set_new(o, "title", title ? json_string(title) : json_null());
        json_object_set_new(o, "cached", json_boolean(cached));
    }
}

static MHD_RESULT session_answer(struct MHD_Connection *c, srv_req *rq, unsigned status, const node_user *u,
                                 const char *csrf)
{
    return srv_json(c, rq, status, json_pack("{s:s,s:o,s:s}", "role", node_role_name(u->role), "user", user_json(u),
                                             "csrf", csrf));
}

/* ---- sign-in rate limits ---- */

static uint64_t rl_hash(const char *kind, const char *v)
{
    uint64_t h = 1469598103934665603ULL;
    for (const char *p = kind; *p; p++)
        h = (h ^ (unsigned char)*p) * 1099511628211ULL;
    for (const char *p = v; p && *p; p++)
        h = (h ^ (unsigned char)(*p >= 'A' && *p <= 'Z' ? *p + 32 : *p)) * 1099511628211ULL;
    return h ? h : 1;
}

static srv_rl_slot *rl_slot(srv *s, uint64_t key, int64_t now)
{
    srv_rl_slot *sl = &s->rl[key % SRV_RL_SLOTS];
    if (sl->key != key || now - sl->start > SRV_RL_WINDOW_S || now < sl->start) {
        sl->key = key;
        sl->start = now;
        sl->fails = 0;
    }
    return sl;
}

static void client_addr(struct MHD_Connection *c, char *buf, size_t cap)
{
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    buf[0] = 0;
    if (!ci || !ci->client_addr)
        return;
    if (ci->client_addr->sa_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)ci->client_addr)->sin_addr, buf, (socklen_t)cap);
    else if (ci->client_addr->sa_family == AF_INET6)
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)ci->client_addr)->sin6_addr, buf, (socklen_t)cap);
}

/* 1 when either the address or the name is over its failure budget. */
static int rl_blocked(srv *s, const char *addr, const char *name)
{
    int64_t now = cs_time_now();
    pthread_mutex_lock(&s->rl_lock);
    int blocked = rl_slot(s, rl_hash("a", addr), now)->fails >= SRV_RL_MAX_FAILS ||
                  rl_slot(s, rl_hash("n", name), now)->fails >= SRV_RL_MAX_FAILS;
    pthread_mutex_unlock(&s->rl_lock);
    return blocked;
}

static void rl_fail(srv *s, const char *addr, const char *name)
{
    int64_t now = cs_time_now();
    pthread_mutex_lock(&s->rl_lock);
    rl_slot(s, rl_hash("a", addr), now)->fails++;
    rl_slot(s, rl_hash("n", name), now)->fails++;
    pthread_mutex_unlock(&s->rl_lock);
}

/* ---- CSRF ---- */

/* State changes: with a session, X-CSRF-Token must match it; and a
 * browser's Origin, when sent, must be this host. */
static int csrf_ok(struct MHD_Connection *c, const who *w)
{
    const char *origin = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Origin");
    const char *host = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Host");
    if (origin) {
        const char *o = strstr(origin, "://");
        if (!o || !host || strcmp(o + 3, host) != 0)
            return 0; /* includes "null": sandboxed publisher content */
    }
    if (!w->session)
        return 1;
    const char *t = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-CSRF-Token");
    if (!t || strlen(t) != strlen(w->csrf))
        return 0;
    unsigned diff = 0;
    for (size_t i = 0; t[i]; i++)
        diff |= (unsigned)(t[i] ^ w->csrf[i]);
    return diff == 0;
}

/* ---- GET ---- */

static MHD_RESULT fail(struct MHD_Connection *c, srv_req *rq, int rc, const cs_err *err);
static MHD_RESULT get_class_recommendations(srv *s, struct MHD_Connection *c, srv_req *rq, const who *w, int64_t id);

static MHD_RESULT get_session(struct MHD_Connection *c, srv_req *rq, const who *w)
{
    if (!w->session)
        return srv_json(c, rq, 200, json_pack("{s:s}", "role", "guest"));
    return session_answer(c, rq, 200, &w->u, w->csrf);
}

static MHD_RESULT get_classes(srv *s, struct MHD_Connection *c, srv_req *rq, const who *w)
{
    json_t *out = NULL;
    cs_err err = {0};
    int rc;
    if (w->role == NODE_GUEST)
        return deny(c, rq, 401);
    if (w->role == NODE_STUDENT)
        rc = node_people_class_list(s->people, 0, w->u.class_id, 0, &out, &err);
    else
        rc = node_people_class_list(s->people, w->role == NODE_ADMIN ? 0 : w->u.id, 0, 1, &out, &err);
    if (rc != 0)
        return srv_error(c, rq, 500, "internal", "%s", err.msg);
    return srv_json(c, rq, 200, out);
}

static MHD_RESULT get_class_part(srv *s, struct MHD_Connection *c, srv_req *rq, const who *w, int64_t id,
                                 const char *part)
{
    json_t *out = NULL;
    cs_err err = {0};
    char subject[48];
    int rc;
    int lessons = strcmp(part, "lessons") == 0;
    if (!lessons && strcmp(part, "students") != 0 && strcmp(part, "report") != 0 &&
        strcmp(part, "recommendations") != 0)
        return srv_error(c, rq, 404, "not_found", "no such endpoint");
    unsigned st = class_access(s, w, id, lessons);
    if (st)
        return deny(c, rq, st);
    if (strcmp(part, "recommendations") == 0)
        return get_class_recommendations(s, c, rq, w, id);
    snprintf(subject, sizeof subject, "class:%lld", (long long)id);
    if (lessons) {
        if ((rc = node_people_lesson_list(s->people, id, &out, &err)) == 0) {
            size_t i;
            json_t *l;
            json_array_foreach(json_object_get(out, "lessons"), i, l)
            {
                json_t *ids = json_object_get(l, "resources"), *objs = json_array();
                size_t j;
                json_t *v;
                json_array_foreach(ids, j, v) json_array_append_new(objs, json_pack("{s:O}", "id", v));
                add_titles(s, objs, "id");
                json_object_set_new(l, "resources", objs);
            }
        }
    } else if (strcmp(part, "students") == 0) {
        rc = node_people_class_students(s->people, id, &out, &err);
        if (rc == 0)
            rc = node_people_audit(s->people, w->actor, "read names", subject, cs_time_now(), &err);
    } else {
        rc = node_people_class_report(s->people, id, &out, &err);
        if (rc == 0) {
            add_titles(s, json_object_get(out, "resources"), "id");
            rc = node_people_audit(s->people, w->actor, "read report", subject, cs_time_now(), &err);
        }
    }
    if (rc != 0) {
        json_decref(out);
        return srv_error(c, rq, 500, "internal", "%s", err.msg);
    }
    return srv_json(c, rq, 200, out);
}

static const char *const settings_keys[] = {"keep.subjects",  "keep.grades",   "keep.languages",
                                            "storage.quota",  "sync.window",   "sync.interval",
                                            "sync.max_rate",  "privacy.retention_days", "outbox.epsilon",
                                            "hub.url"};
#define NSETTINGS (sizeof settings_keys / sizeof settings_keys[0])

static MHD_RESULT get_settings(srv *s, struct MHD_Connection *c, srv_req *rq)
{
    cs_conf *conf = NULL;
    cs_err err = {0};
    if (node_conf_load(s->data_dir, &conf, &err) != 0) /* the effective values */
        return srv_error(c, rq, 500, "internal", "%s", err.msg);
    json_t *o = json_object();
    for (size_t i = 0; i < NSETTINGS; i++) {
        const char *v = cs_conf_get(conf, settings_keys[i]);
        json_object_set_new(o, settings_keys[i], v ? json_string(v) : json_null());
    }
    cs_conf_free(conf);
    return srv_json(c, rq, 200, json_pack("{s:o}", "settings", o));
}

/* Filters of a recommendation request; 0, or a 400 queued (*ret). */
static int rec_request(struct MHD_Connection *c, srv_req *rq, node_rec_request *req, long *limit, MHD_RESULT *ret)
{
    long grade;
    node_rec_request_init(req);
    if (srv_arg_int(c, "limit", 1, 50, 10, limit) < 0 || srv_arg_int(c, "grade", -1, NODE_REC_GRADE_MAX, -1, &grade) < 0) {
        *ret = srv_error(c, rq, 400, "bad_request", "limit is 1..50 and grade 0..%d", NODE_REC_GRADE_MAX);
        return -1;
    }
    req->grade = (int)grade;
    req->subject = srv_arg(c, "subject");
    req->language = srv_arg(c, "language");
    if (req->subject && !*req->subject)
        req->subject = NULL;
    if (req->language && !*req->language)
        req->language = NULL;
    return 0;
}

static MHD_RESULT rec_fail(struct MHD_Connection *c, srv_req *rq, int rc, const cs_err *err)
{
    if (rc == CS_ENOTREADY)
        return srv_error(c, rq, 503, "not_ready", "%s", err->msg);
    return fail(c, rq, rc, err);
}

/* GET /api/v1/recommendations: for the signed-in student, for a learner a
 * teacher may see, or (no learner) from the resource open now only. */
static MHD_RESULT get_recommendations(srv *s, struct MHD_Connection *c, srv_req *rq, const who *w)
{
    node_rec_request req;
    long limit;
    MHD_RESULT ret;
    cs_err err = {0};
    json_t *items = NULL;
    const char *learner = srv_arg(c, "learner"), *after = srv_arg(c, "after");
    if (rec_request(c, rq, &req, &limit, &ret) != 0)
        return ret;
    if (after && !content_id_valid(after))
        return srv_error(c, rq, 400, "bad_request", "after is a resource id");
    if (learner && *learner) {
        node_user u;
        char subject[64];
        if (w->role == NODE_GUEST)
            return deny(c, rq, 401);
        if (node_people_user_by_learner(s->people, learner, &u, NULL) != 0)
            return w->role >= NODE_TEACHER ? srv_error(c, rq, 404, "not_found", "no such learner") : deny(c, rq, 403);
        if (w->role == NODE_STUDENT && w->u.id != u.id)
            return deny(c, rq, 403);
        if (w->role >= NODE_TEACHER) {
            unsigned st = class_access(s, w, u.class_id, 0);
            if (st)
                return deny(c, rq, st);
            snprintf(subject, sizeof subject, "learner:%s", learner);
            node_people_audit(s->people, w->actor, "read recommendations", subject, cs_time_now(), NULL);
        }
    } else {
        learner = w->role == NODE_STUDENT ? w->u.learner : NULL;
    }
    int rc = srv_rec_json(s, learner, after, &req, (size_t)limit, &items, &err);
    if (rc != 0)
        return rec_fail(c, rq, rc, &err);
    json_t *o = json_pack("{s:o}", "items", items);
    json_object_set_new(o, "learner", learner && *learner ? json_string(learner) : json_null());
    return srv_json(c, rq, 200, o);
}

/* GET /api/v1/classes/{id}/recommendations: each student's next three. */
static MHD_RESULT get_class_recommendations(srv *s, struct MHD_Connection *c, srv_req *rq, const who *w, int64_t id)
{
    node_rec_request req;
    long limit;
    MHD_RESULT ret;
    cs_err err = {0};
    json_t *students = NULL;
    char subject[48];
    if (rec_request(c, rq, &req, &limit, &ret) != 0)
        return ret;
    if (node_people_class_students(s->people, id, &students, &err) != 0)
        return fail(c, rq, CS_EIO, &err);
    size_t i;
    json_t *st;
    json_array_foreach(json_object_get(students, "students"), i, st)
    {
        json_t *items = NULL;
        int rc = srv_rec_json(s, json_string_value(json_object_get(st, "learner")), NULL, &req,
                              limit > 5 ? 5 : (size_t)limit, &items, &err);
        if (rc != 0) {
            json_decref(students);
            return rec_fail(c, rq, rc, &err);
        }
        json_object_set_new(st, "items", items);
    }
    snprintf(subject, sizeof subject, "class:%lld", (long long)id);
    node_people_audit(s->people, w->actor, "read recommendations", subject, cs_time_now(), NULL);
    return srv_json(c, rq, 200, students);
}

int srv_people_get(srv *s, struct MHD_Connection *c, srv_req *rq, const char *p, MHD_RESULT *ret)
{
    who w;
    const char *rest = NULL;
    if (strcmp(p, "session") != 0 && strcmp(p, "classes") != 0 && strncmp(p, "classes/", 8) != 0 &&
        strcmp(p, "users") != 0 && strcmp(p, "settings") != 0 && strcmp(p, "recommendations") != 0)
        return 0;
    who_of(s, c, &w);
    if (strcmp(p, "recommendations") == 0) {
        *ret = get_recommendations(s, c, rq, &w);
    } else if (strcmp(p, "session") == 0) {
        *ret = get_session(c, rq, &w);
    } else if (strcmp(p, "classes") == 0) {
        *ret = get_classes(s, c, rq, &w);
    } else if (strncmp(p, "classes/", 8) == 0) {
        int64_t id = path_id(p + 8, &rest);
        *ret = id < 0 ? srv_error(c, rq, 404, "not_found", "no such class") : get_class_part(s, c, rq, &w, id, rest);
    } else if (need_role(&w, NODE_ADMIN)) {
        *ret = deny(c, rq, need_role(&w, NODE_ADMIN));
    } else if (strcmp(p, "users") == 0) {
        json_t *out = NULL;
        cs_err err = {0};
        if (node_people_user_list(s->people, -1, -1, &out, &err) != 0 ||
            node_people_audit(s->people, w.actor, "read names", "users", cs_time_now(), &err) != 0) {
            json_decref(out);
            *ret = srv_error(c, rq, 500, "internal", "%s", err.msg);
        } else {
            *ret = srv_json(c, rq, 200, out);
        }
    } else {
        *ret = get_settings(s, c, rq);
    }
    return 1;
}

/* ---- writes ---- */

static const char *jstr(const json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}

static MHD_RESULT fail(struct MHD_Connection *c, srv_req *rq, int rc, const cs_err *err)
{
    switch (rc) {
    case CS_EINVAL:
    case CS_EFORMAT:
        return srv_error(c, rq, 400, "bad_request", "%s", err->msg);
    case CS_ENOENT:
        return srv_error(c, rq, 404, "not_found", "%s", err->msg);
    case CS_EEXIST:
        return srv_error(c, rq, 409, "exists", "%s", err->msg);
    case CS_ETOOBIG:
        return srv_error(c, rq, 413, "too_large", "%s", err->msg);
    case CS_ENOSPC:
        return srv_error(c, rq, 507, "disk_full", "%s", err->msg);
    default:
        return srv_error(c, rq, 500, "internal", "%s", err->msg);
    }
}

static MHD_RESULT post_login(srv *s, struct MHD_Connection *c, srv_req *rq, const json_t *b, int join)
{
    const char *name = jstr(b, "name"), *pw = jstr(b, "password"), *code = jstr(b, "class");
    char addr[64], tok[NODE_TOKEN_HEX], csrf[NODE_TOKEN_HEX];
    node_user u;
    cs_err err = {0};
    int rc;
    if (!name || !pw || (join && !code))
        return srv_error(c, rq, 400, "bad_request", join ? "needs class, name and password" : "needs name and password");
    client_addr(c, addr, sizeof addr);
    if (rl_blocked(s, addr, name))
        return srv_error(c, rq, 429, "rate_limited", "too many failed sign-ins: wait a few minutes");
    if (join) {
        int64_t class_id = 0;
        if (node_people_class_by_code(s->people, code, &class_id, NULL) != 0) {
            rl_fail(s, addr, name); /* guessing class codes costs like guessing passwords */
            return srv_error(c, rq, 404, "not_found", "no class with that code");
        }
        if ((rc = node_people_user_add(s->people, NODE_STUDENT, name, pw, class_id, NULL, &err)) != 0)
            return fail(c, rq, rc, &err);
    }
    rc = node_people_login(s->people, code, name, pw, &u, tok, csrf, &err);
    if (rc == CS_EAUTH) {
        rl_fail(s, addr, name);
        return srv_error(c, rq, 401, "auth", "wrong name or password");
    }
    if (rc != 0)
        return fail(c, rq, rc, &err);
    snprintf(rq->set_cookie, sizeof rq->set_cookie,
             "cs_session=%s; Path=/api/; HttpOnly; SameSite=Strict; Max-Age=%u", tok,
             atomic_load(&s->session_max_s));
    return session_answer(c, rq, join ? 201 : 200, &u, csrf);
}

static MHD_RESULT post_event(srv *s, struct MHD_Connection *c, srv_req *rq, const who *w, const json_t *b)
{
    const char *res = jstr(b, "resource");
    int kind = node_event_kind_parse(jstr(b, "kind"));
    json_t *v = json_object_get(b, "value");
    double value = NAN;
    int recorded = 0, cached = 0;
    char t[8];
    cs_err err = {0};
    if (!res || !content_id_valid(res) || kind < 0 || (v && !json_is_number(v)))
        return srv_error(c, rq, 400, "bad_request", "needs resource and kind (open, progress, complete, score)");
    if (v)
        value = json_number_value(v);
    if (!title_of(s, res, &cached, t, sizeof t))
        return srv_error(c, rq, 404, "not_found", "no such resource");
    int64_t now = cs_time_now();
    int rc = node_people_event_add(s->people, w->session ? &w->u : NULL, res, kind, value, now, &recorded, &err);
    if (rc != 0)
        return fail(c, rq, rc, &err);
    if (recorded)
        srv_rec_event(s, w->u.learner, res, kind, value, now); /* the model learns at once */
    return srv_json(c, rq, 202, json_pack("{s:b}", "recorded", recorded));
}

static MHD_RESULT post_request(srv *s, struct MHD_Connection *c, srv_req *rq, const json_t *b)
{
    const char *res = jstr(b, "resource");
    node_data *n = NULL;
    cs_err err = {0};
    if (!res || !content_id_valid(res))
        return srv_error(c, rq, 400, "bad_request", "needs resource");
    int rc = node_open(&n, s->data_dir, 0, &err);
    if (rc == 0)
        rc = node_request(n, res, &err);
    node_close(n);
    if (rc == CS_EEXIST)
        return srv_json(c, rq, 200, json_pack("{s:s,s:b}", "resource", res, "cached", 1));
    if (rc != 0)
        return fail(c, rq, rc, &err);
    return srv_json(c, rq, 202, json_pack("{s:s,s:b}", "resource", res, "cached", 0));
}

static MHD_RESULT post_local(srv *s, struct MHD_Connection *c, srv_req *rq, const json_t *b)
{
    node_data *n = NULL;
    cs_err err = {0};
    char id[64];
    json_t *meta = json_deep_copy(b);
    json_t *files = json_incref(json_object_get(b, "files"));
    int forward = json_is_true(json_object_get(b, "forward"));
    json_object_del(meta, "files");
    json_object_del(meta, "forward");
    json_object_del(meta, "id");
    int rc = node_open(&n, s->data_dir, 0, &err);
    if (rc == 0)
        rc = node_local_add(n, meta, files, forward, id, &err);
    node_close(n);
    if (rc == 0)
        atomic_fetch_add(&s->generation, 1); /* searches see it at once, not from a cached answer */
    json_decref(meta);
    json_decref(files);
    if (rc != 0)
        return fail(c, rq, rc, &err);
    char url[96];
    snprintf(url, sizeof url, "/r/%s/", id);
    return srv_json(c, rq, 201, json_pack("{s:s,s:s,s:b}", "id", id, "url", url, "forwarded", forward));
}

static MHD_RESULT put_settings(srv *s, struct MHD_Connection *c, srv_req *rq, const json_t *b)
{
    char p[4200];
    cs_conf *conf = NULL;
    cs_err err = {0};
    const char *k;
    json_t *v;
    int rc;
    if (!json_is_object(b) || json_object_size(b) == 0)
        return srv_error(c, rq, 400, "bad_request", "send an object of settings");
    snprintf(p, sizeof p, "%s/node.conf", s->data_dir);
    if ((rc = cs_conf_load(&conf, p, &err)) != 0)
        return fail(c, rq, rc, &err);
    json_object_foreach((json_t *)b, k, v)
    {
        size_t i;
        for (i = 0; i < NSETTINGS && strcmp(k, settings_keys[i]) != 0; i++)
            ;
        if (i == NSETTINGS || !(json_is_string(v) || json_is_null(v)) || json_string_length(v) > 1000) {
            cs_conf_free(conf);
            return srv_error(c, rq, 400, "bad_request", "%s: not an editable setting (or not a string)", k);
        }
        if (json_is_null(v) || json_string_length(v) == 0)
            cs_conf_unset(conf, k); /* back to the default */
        else if ((rc = cs_conf_set(conf, k, json_string_value(v), &err)) != 0) {
            cs_conf_free(conf);
            return fail(c, rq, CS_EINVAL, &err);
        }
    }
    /* The whole file must still load as the daemon reads it: what
     * `node serve --check` accepts. */
    if ((rc = node_server_conf_check(conf, &err)) != 0 || (rc = cs_conf_save(conf, p, &err)) != 0) {
        cs_conf_free(conf);
        return fail(c, rq, rc == CS_ECONFIG ? CS_EINVAL : rc, &err);
    }
    cs_conf_free(conf);
    return get_settings(s, c, rq);
}

MHD_RESULT srv_api_write(srv *s, struct MHD_Connection *c, srv_req *rq, const char *url, const char *method)
{
    const char *p = url + 4;
    who w;
    cs_err err = {0};
    int rc;
    int post = strcmp(method, "POST") == 0, put = strcmp(method, "PUT") == 0, del = strcmp(method, "DELETE") == 0;
    if (strncmp(p, "/v1/", 4) != 0)
        return srv_error(c, rq, 404, "not_found", "unknown API version (this node speaks /api/v1)");
    p += 4;
    if (strcmp(p, "catalog") == 0 || strcmp(p, "suggest") == 0 || strcmp(p, "facets") == 0 ||
        strcmp(p, "status") == 0 || strcmp(p, "session") == 0 || strcmp(p, "recommendations") == 0 ||
        strncmp(p, "resources/", 10) == 0)
        return srv_error(c, rq, 405, "method_not_allowed", "%s takes GET and HEAD only", p);
    who_of(s, c, &w);
    if (!csrf_ok(c, &w))
        return srv_error(c, rq, 403, "csrf", "missing or wrong X-CSRF-Token, or a foreign Origin");
    json_t *b = NULL;
    if (rq->body.len) {
        json_error_t je;
        b = json_loadb((const char *)rq->body.data, rq->body.len, JSON_REJECT_DUPLICATES, &je);
        if (!b || !json_is_object(b)) {
            json_decref(b);
            return srv_error(c, rq, 400, "bad_request", "the body must be a JSON object");
        }
    } else {
        b = json_object();
    }
    MHD_RESULT ret;
    const char *rest = NULL;
    unsigned st;
    int64_t id;
    if (post && (strcmp(p, "login") == 0 || strcmp(p, "join") == 0)) {
        ret = post_login(s, c, rq, b, p[0] == 'j');
    } else if (post && strcmp(p, "logout") == 0) {
        if (w.session)
            node_people_logout(s->people, w.token, NULL);
        snprintf(rq->set_cookie, sizeof rq->set_cookie,
                 "cs_session=; Path=/api/; HttpOnly; SameSite=Strict; Max-Age=0");
        ret = srv_text(c, rq, 204, "application/json", "");
    } else if (post && strcmp(p, "events") == 0) {
        ret = post_event(s, c, rq, &w, b);
    } else if (post && strcmp(p, "classes") == 0) {
        int64_t cid = 0;
        char code[8];
        if ((st = need_role(&w, NODE_TEACHER)))
            ret = deny(c, rq, st);
        else if ((rc = node_people_class_add(s->people, jstr(b, "name"), w.u.id, &cid, code, &err)) != 0)
            ret = fail(c, rq, rc, &err);
        else
            ret = srv_json(c, rq, 201,
                           json_pack("{s:I,s:s,s:s}", "id", (json_int_t)cid, "name", jstr(b, "name"), "code", code));
    } else if (post && strncmp(p, "classes/", 8) == 0 && (id = path_id(p + 8, &rest)) > 0 &&
               strcmp(rest, "lessons") == 0) {
        int64_t lid = 0;
        if ((st = class_access(s, &w, id, 0)))
            ret = deny(c, rq, st);
        else if ((rc = node_people_lesson_add(s->people, id, jstr(b, "title"), json_object_get(b, "resources"), &lid,
                                              &err)) != 0)
            ret = fail(c, rq, rc, &err);
        else
            ret = srv_json(c, rq, 201, json_pack("{s:I}", "id", (json_int_t)lid));
    } else if (post && strcmp(p, "requests") == 0) {
        ret = (st = need_role(&w, NODE_TEACHER)) ? deny(c, rq, st) : post_request(s, c, rq, b);
    } else if (post && strcmp(p, "feedback") == 0) {
        const char *res = jstr(b, "resource");
        json_t *rt = json_object_get(b, "rating");
        int cached;
        char t[8];
        if ((st = need_role(&w, NODE_TEACHER)))
            ret = deny(c, rq, st);
        else if (!res || !title_of(s, res, &cached, t, sizeof t) || (rt && !json_is_integer(rt)))
            ret = srv_error(c, rq, 400, "bad_request", "needs a catalogued resource, and a rating from 1 to 5 or a report");
        else if ((rc = node_people_feedback_add(s->people, w.role, res, rt ? (int)json_integer_value(rt) : 0,
                                                jstr(b, "report"), jstr(b, "comment"), cs_time_now(), &err)) != 0)
            ret = fail(c, rq, rc, &err);
        else
            ret = srv_json(c, rq, 201, json_pack("{s:s}", "resource", res));
    } else if (post && strcmp(p, "local") == 0) {
        ret = (st = need_role(&w, NODE_TEACHER)) ? deny(c, rq, st) : post_local(s, c, rq, b);
    } else if (post && strcmp(p, "users") == 0) {
        int role = node_role_parse(jstr(b, "role"));
        int64_t uid = 0;
        if ((st = need_role(&w, NODE_ADMIN)))
            ret = deny(c, rq, st);
        else if (role != NODE_TEACHER && role != NODE_ADMIN)
            ret = srv_error(c, rq, 400, "bad_request", "role is teacher or admin (students join their class)");
        else if ((rc = node_people_user_add(s->people, role, jstr(b, "name"), jstr(b, "password"), 0, &uid, &err)) != 0)
            ret = fail(c, rq, rc, &err);
        else
            ret = srv_json(c, rq, 201, json_pack("{s:I}", "id", (json_int_t)uid));
    } else if ((put || del) && strncmp(p, "students/", 9) == 0 && (id = path_id(p + 9, &rest)) > 0 &&
               (del ? *rest == 0 : strcmp(rest, "consent") == 0)) {
        node_user u;
        if (w.role == NODE_GUEST)
            ret = deny(c, rq, 401);
        else if (node_people_user_get(s->people, id, &u, NULL) != 0 || u.role != NODE_STUDENT)
            ret = w.role >= NODE_TEACHER ? srv_error(c, rq, 404, "not_found", "no such student") : deny(c, rq, 403);
        else if ((st = class_access(s, &w, u.class_id, 0)))
            ret = deny(c, rq, st);
        else if (put && !json_is_boolean(json_object_get(b, "consent")))
            ret = srv_error(c, rq, 400, "bad_request", "needs \"consent\": true or false");
        else if (put && (rc = node_people_consent_set(s->people, id, json_is_true(json_object_get(b, "consent")),
                                                      &err)) != 0)
            ret = fail(c, rq, rc, &err);
        else if (del && (rc = node_people_learner_delete(s->people, u.learner, w.actor, cs_time_now(), &err)) != 0)
            ret = fail(c, rq, rc, &err);
        else if (del)
            ret = srv_text(c, rq, 204, "application/json", "");
        else
            ret = srv_json(c, rq, 200, json_pack("{s:I,s:b}", "id", (json_int_t)id, "consent",
                                                 json_is_true(json_object_get(b, "consent"))));
    } else if (del && strncmp(p, "lessons/", 8) == 0 && (id = path_id(p + 8, &rest)) > 0 && *rest == 0) {
        int64_t cid = 0;
        if (w.role == NODE_GUEST)
            ret = deny(c, rq, 401);
        else if (w.role < NODE_TEACHER)
            ret = deny(c, rq, 403);
        else if (node_people_lesson_class(s->people, id, &cid, NULL) != 0)
            ret = srv_error(c, rq, 404, "not_found", "no such lesson");
        else if ((st = class_access(s, &w, cid, 0)))
            ret = deny(c, rq, st);
        else if ((rc = node_people_lesson_remove(s->people, id, &err)) != 0)
            ret = fail(c, rq, rc, &err);
        else
            ret = srv_text(c, rq, 204, "application/json", "");
    } else if (del && strncmp(p, "users/", 6) == 0 && (id = path_id(p + 6, &rest)) > 0 && *rest == 0) {
        if ((st = need_role(&w, NODE_ADMIN)))
            ret = deny(c, rq, st);
        else if (id == w.u.id)
            ret = srv_error(c, rq, 409, "exists", "you cannot remove yourself");
        else if ((rc = node_people_user_remove(s->people, id, &err)) != 0)
            ret = fail(c, rq, rc, &err);
        else
            ret = srv_text(c, rq, 204, "application/json", "");
    } else if (put && strcmp(p, "settings") == 0) {
        ret = (st = need_role(&w, NODE_ADMIN)) ? deny(c, rq, st) : put_settings(s, c, rq, b);
    } else {
        ret = srv_error(c, rq, 404, "not_found", "no such endpoint for %s", method);
    }
    json_decref(b);
    return ret;
}
