/*
 * report.c - the hub's report store: nodes' outbox records, kept exactly
 * once.  The generic layer writes contributed resources out for review;
 * the SQLite implementation keeps everything in REPO/reports.db.
 */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "content/resource.h"
#include "platform/file.h"
#include "sync/outbox.h"

/* ---- contributions: REPO/contrib/<node 12>-<uuid>/<id>/ ---- */

static int contrib_write(const char *repo, const char *node, const json_t *rec, cs_err *err)
{
    const json_t *body = json_object_get(rec, "body");
    const json_t *meta = json_object_get(body, "resource"), *files = json_object_get(body, "files");
    const char *uuid = json_string_value(json_object_get(rec, "uuid"));
    const char *id = json_string_value(json_object_get(meta, "id"));
    char dir[4600], path[5000];
    size_t i;
    json_t *f;
    int rc = 0;
    if (!json_is_object(meta) || !id || !content_id_valid(id) || !json_is_array(files) ||
        json_array_size(files) > 1000)
        return cs_err_set(err, CS_EFORMAT, "contribution %s: needs resource metadata with an id, and files", uuid);
    for (const char *u = uuid; *u; u++)
        if (!((*u >= '0' && *u <= '9') || (*u >= 'a' && *u <= 'f') || *u == '-'))
            return cs_err_set(err, CS_EFORMAT, "contribution: malformed uuid");
    snprintf(dir, sizeof dir, "%s/contrib/%.12s-%s/%s", repo, node, uuid, id);
    if ((rc = cs_mkdirs(dir, 0755, err)) != 0)
        return rc;
    json_array_foreach(files, i, f)
    {
        const char *fp = json_string_value(json_object_get(f, "path"));
        const char *data = json_string_value(json_object_get(f, "data"));
        uint8_t *bytes = NULL;
        size_t n = 0;
        if (!fp || !data || !content_path_valid(fp) || strcmp(fp, "resource.json") == 0)
            return cs_err_set(err, CS_EFORMAT, "contribution %s: a file needs a safe relative path and data", uuid);
        if ((rc = cs_base64_decode(data, strlen(data), SYNC_OUTBOX_MAX_RECORD, &bytes, &n, err)) != 0)
            return rc;
        snprintf(path, sizeof path, "%s/%s", dir, fp);
        char *slash = strrchr(path, '/');
        *slash = 0;
        rc = cs_mkdirs(path, 0755, err);
        *slash = '/';
        if (rc == 0)
            rc = cs_file_write_atomic(path, bytes, n, 0644, err);
        free(bytes);
        if (rc != 0)
            return rc;
    }
    char *text = json_dumps(meta, JSON_INDENT(2) | JSON_SORT_KEYS);
    if (!text)
        return cs_err_set(err, CS_ENOMEM, "out of memory");
    snprintf(path, sizeof path, "%s/resource.json", dir);
    rc = cs_file_write_atomic(path, text, strlen(text), 0644, err);
    free(text);
    return rc;
}

int sync_reports_ingest(sync_reports *r, const sync_outbox_batch *b, int64_t now, int64_t *acked, int *added,
                        cs_err *err)
{
    size_t i;
    json_t *rec;
    int rc;
    json_array_foreach(b->records, i, rec)
    {
        if (strcmp(json_string_value(json_object_get(rec, "kind")), "contribution") == 0 &&
            (rc = contrib_write(r->repo, b->node, rec, err)) != 0)
            return rc;
    }
    pthread_mutex_lock(&r->lock);
    rc = r->ops->ingest(r->impl, b, now, acked, added, err);
    pthread_mutex_unlock(&r->lock);
    return rc;
}

int sync_reports_report(sync_reports *r, json_t **out, cs_err *err)
{
    pthread_mutex_lock(&r->lock);
    int rc = r->ops->report(r->impl, out, err);
    pthread_mutex_unlock(&r->lock);
    return rc;
}

void sync_reports_close(sync_reports *r)
{
    if (!r)
        return;
    if (r->ops)
        r->ops->close(r->impl);
    pthread_mutex_destroy(&r->lock);
    free(r);
}

/* ---- SQLite ---- */

static int sq_err(sqlite3 *db, cs_err *err, const char *what)
{
    int code = sqlite3_errcode(db);
    return cs_err_set(err, code == SQLITE_FULL ? CS_ENOSPC : code == SQLITE_BUSY ? CS_EBUSY : CS_EDB,
                      "reports.db: %s: %s", what, sqlite3_errmsg(db));
}

static int sq_exec(sqlite3 *db, const char *sql, cs_err *err)
{
    return sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK ? 0 : sq_err(db, err, "exec");
}

/* The record body as stored: a contribution without its files' bytes. */
static char *stored_body(const json_t *rec)
{
    json_t *body = json_deep_copy(json_object_get(rec, "body"));
    json_t *files = json_object_get(body, "files");
    size_t i;
    json_t *f;
    json_array_foreach(files, i, f) json_object_del(f, "data");
    char *s = json_dumps(body, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(body);
    return s;
}

static int sq_ingest(void *impl, const sync_outbox_batch *b, int64_t now, int64_t *acked, int *added, cs_err *err)
{
    sqlite3 *db = impl;
    sqlite3_stmt *st = NULL, *get = NULL;
    int rc;
    size_t i;
    json_t *rec;
    int64_t have = 0;
    *added = 0;
    if ((rc = sq_exec(db, "BEGIN IMMEDIATE", err)) != 0)
        return rc;
    char *health = json_dumps(b->health ? b->health : json_object(), JSON_COMPACT | JSON_SORT_KEYS);
    const char *pem = json_string_value(json_object_get(b->doc, "key"));
    if (sqlite3_prepare_v2(db,
                           "INSERT INTO nodes(node, key, first_seen, last_contact, health, acked) VALUES(?1,?2,?3,?3,?4,0)"
                           " ON CONFLICT(node) DO UPDATE SET last_contact = ?3, health = ?4",
                           -1, &st, NULL) != SQLITE_OK) {
        rc = sq_err(db, err, "nodes");
        goto out;
    }
    sqlite3_bind_text(st, 1, b->node, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, pem, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, now);
    sqlite3_bind_text(st, 4, health ? health : "{}", -1, SQLITE_STATIC);
    rc = sqlite3_step(st) == SQLITE_DONE ? 0 : sq_err(db, err, "nodes");
    sqlite3_finalize(st);
    st = NULL;
    if (rc != 0)
        goto out;
    if (sqlite3_prepare_v2(db, "SELECT uuid FROM records WHERE node = ? AND seq = ?", -1, &get, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(db,
                           "INSERT INTO records(node, seq, uuid, kind, created, received, body) VALUES(?,?,?,?,?,?,?)",
                           -1, &st, NULL) != SQLITE_OK) {
        rc = sq_err(db, err, "records");
        goto out;
    }
    json_array_foreach(b->records, i, rec)
    {
        int64_t seq = json_integer_value(json_object_get(rec, "seq"));
        const char *uuid = json_string_value(json_object_get(rec, "uuid"));
        sqlite3_reset(get);
        sqlite3_bind_text(get, 1, b->node, -1, SQLITE_STATIC);
        sqlite3_bind_int64(get, 2, seq);
        int s = sqlite3_step(get);
        if (s == SQLITE_ROW) {
            if (strcmp((const char *)sqlite3_column_text(get, 0), uuid) != 0) {
                rc = cs_err_set(err, CS_EFORMAT, "node %.12s record %lld: another record already has this sequence",
                                b->node, (long long)seq);
                goto out;
            }
            continue; /* seen before: adds nothing */
        }
        if (s != SQLITE_DONE) {
            rc = sq_err(db, err, "records");
            goto out;
        }
        char *body = stored_body(rec);
        sqlite3_reset(st);
        sqlite3_bind_text(st, 1, b->node, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, seq);
        sqlite3_bind_text(st, 3, uuid, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 4, json_string_value(json_object_get(rec, "kind")), -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 5, json_integer_value(json_object_get(rec, "created")));
        sqlite3_bind_int64(st, 6, now);
        sqlite3_bind_text(st, 7, body ? body : "{}", -1, SQLITE_TRANSIENT);
        free(body);
        if (sqlite3_step(st) != SQLITE_DONE) {
            rc = sq_err(db, err, "records");
            goto out;
        }
        (*added)++;
    }
    sqlite3_finalize(st);
    st = NULL;
    /* Advance the acknowledgement over every contiguous sequence held. */
    if (sqlite3_prepare_v2(db, "SELECT acked FROM nodes WHERE node = ?", -1, &st, NULL) != SQLITE_OK) {
        rc = sq_err(db, err, "nodes");
        goto out;
    }
    sqlite3_bind_text(st, 1, b->node, -1, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_ROW)
        have = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    st = NULL;
    if (sqlite3_prepare_v2(db, "SELECT seq FROM records WHERE node = ? AND seq > ? ORDER BY seq", -1, &st, NULL) !=
        SQLITE_OK) {
        rc = sq_err(db, err, "records");
        goto out;
    }
    sqlite3_bind_text(st, 1, b->node, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, have);
    while (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int64(st, 0) == have + 1)
        have++;
    sqlite3_finalize(st);
    st = NULL;
    if (sqlite3_prepare_v2(db, "UPDATE nodes SET acked = ? WHERE node = ?", -1, &st, NULL) != SQLITE_OK) {
        rc = sq_err(db, err, "nodes");
        goto out;
    }
    sqlite3_bind_int64(st, 1, have);
    sqlite3_bind_text(st, 2, b->node, -1, SQLITE_STATIC);
    rc = sqlite3_step(st) == SQLITE_DONE ? 0 : sq_err(db, err, "nodes");
out:
    sqlite3_finalize(st);
    sqlite3_finalize(get);
    free(health);
    if (rc == 0 && (rc = sq_exec(db, "COMMIT", err)) == 0) {
        *acked = have;
        return 0;
    }
    sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
    return rc;
}

static int sq_rows(sqlite3 *db, const char *sql, json_t *arr, cs_err *err)
{
    sqlite3_stmt *st = NULL;
    int rc;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        return sq_err(db, err, "report");
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        json_t *o = json_object();
        for (int c = 0; c < sqlite3_column_count(st); c++) {
            const char *name = sqlite3_column_name(st, c);
            switch (sqlite3_column_type(st, c)) {
            case SQLITE_INTEGER:
                json_object_set_new(o, name, json_integer(sqlite3_column_int64(st, c)));
                break;
            case SQLITE_FLOAT:
                json_object_set_new(o, name, json_real(sqlite3_column_double(st, c)));
                break;
            case SQLITE_NULL:
                json_object_set_new(o, name, json_null());
                break;
            default: {
                const char *t = (const char *)sqlite3_column_text(st, c);
                json_t *j = NULL;
                if (strcmp(name, "health") == 0 || strcmp(name, "resource_meta") == 0)
                    j = json_loads(t, 0, NULL);
                json_object_set_new(o, name, j ? j : json_string(t));
            }
            }
        }
        json_array_append_new(arr, o);
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : sq_err(db, err, "report");
}

static int sq_report(void *impl, json_t **out, cs_err *err)
{
    sqlite3 *db = impl;
    json_t *nodes = json_array(), *usage = json_array(), *fb = json_array(), *contrib = json_array();
    int rc;
    if ((rc = sq_rows(db,
                      "SELECT node, first_seen, last_contact, acked, health,"
                      " (SELECT count(*) FROM records r WHERE r.node = n.node) AS records FROM nodes n"
                      " ORDER BY last_contact DESC",
                      nodes, err)) != 0 ||
        (rc = sq_rows(db,
                      "SELECT json_extract(body, '$.resource') AS resource, count(DISTINCT node) AS schools,"
                      " sum(json_extract(body, '$.learners')) AS learners,"
                      " sum(json_extract(body, '$.completions')) AS completions,"
                      " min(json_extract(body, '$.week')) AS first_week, max(json_extract(body, '$.week')) AS last_week"
                      " FROM records WHERE kind = 'usage' GROUP BY 1 ORDER BY learners DESC, resource",
                      usage, err)) != 0 ||
        (rc = sq_rows(db,
                      "SELECT node, seq, created, json_extract(body, '$.resource') AS resource,"
                      " json_extract(body, '$.rating') AS rating, json_extract(body, '$.report') AS report,"
                      " json_extract(body, '$.comment') AS comment FROM records WHERE kind = 'feedback'"
                      " ORDER BY created DESC, node, seq LIMIT 1000",
                      fb, err)) != 0 ||
        (rc = sq_rows(db,
                      "SELECT node, uuid, created, json_extract(body, '$.resource.id') AS id,"
                      " json_extract(body, '$.resource') AS resource_meta,"
                      " 'contrib/' || substr(node, 1, 12) || '-' || uuid || '/' || json_extract(body, '$.resource.id')"
                      " AS path FROM records WHERE kind = 'contribution' ORDER BY created DESC LIMIT 1000",
                      contrib, err)) != 0) {
        json_decref(nodes);
        json_decref(usage);
        json_decref(fb);
        json_decref(contrib);
        return rc;
    }
    *out = json_pack("{s:o,s:o,s:o,s:o}", "nodes", nodes, "usage", usage, "feedback", fb, "contributions", contrib);
    return 0;
}

static void sq_close(void *impl)
{
    sqlite3_close_v2(impl);
}

static const sync_reports_ops sqlite_ops = {sq_ingest, sq_report, sq_close};

int sync_reports_open_sqlite(sync_reports **out, const char *repo, cs_err *err)
{
    char path[4200];
    sqlite3 *db = NULL;
    int rc;
    snprintf(path, sizeof path, "%s/root.json", repo);
    if (!cs_path_exists(path))
        return cs_err_set(err, CS_ENOENT, "%s is not a repository (no root.json)", repo);
    snprintf(path, sizeof path, "%s/reports.db", repo);
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX, NULL) !=
        SQLITE_OK) {
        rc = cs_err_set(err, CS_EDB, "%s: %s", path, db ? sqlite3_errmsg(db) : "cannot open");
        sqlite3_close_v2(db);
        return rc;
    }
    sqlite3_busy_timeout(db, 10000);
    if ((rc = sq_exec(db,
                      "PRAGMA journal_mode = WAL;"
                      "CREATE TABLE IF NOT EXISTS nodes(node TEXT PRIMARY KEY, key TEXT NOT NULL,"
                      "  first_seen INTEGER NOT NULL, last_contact INTEGER NOT NULL, health TEXT NOT NULL,"
                      "  acked INTEGER NOT NULL);"
                      "CREATE TABLE IF NOT EXISTS records(node TEXT NOT NULL, seq INTEGER NOT NULL,"
                      "  uuid TEXT NOT NULL, kind TEXT NOT NULL, created INTEGER NOT NULL, received INTEGER NOT NULL,"
                      "  body TEXT NOT NULL, PRIMARY KEY(node, seq));",
                      err)) != 0) {
        sqlite3_close_v2(db);
        return rc;
    }
    sync_reports *r = calloc(1, sizeof *r);
    if (!r) {
        sqlite3_close_v2(db);
        return cs_err_set(err, CS_ENOMEM, "out of memory");
    }
    r->ops = &sqlite_ops;
    r->impl = db;
    pthread_mutex_init(&r->lock, NULL);
    snprintf(r->repo, sizeof r->repo, "%s", repo);
    *out = r;
    return 0;
}
