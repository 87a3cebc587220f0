/*
 * outbox.c - the node's side of the outbox: its key, the weekly aggregates,
 * signed batches to the hub or to a USB file; and local resources.
 */
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node/node.h"
#include "node/people.h"
#include "platform/file.h"
#include "platform/time.h"
#include "sync/outbox.h"

#define SEND_RECORDS 1000
#define SEND_BYTES (4u << 20)

int node_key_load(node_data *n, cs_key **out, char id[CS_KEYID_HEX], cs_err *err)
{
    char path[PATH_MAX], pem[4096];
    cs_key *k = NULL;
    int rc;
    cs_path_join(path, sizeof path, n->dir, "node.key");
    if (cs_path_exists(path)) {
        rc = cs_key_load_private(&k, path, err);
    } else if ((rc = cs_key_generate(&k, err)) == 0 &&
               (rc = cs_key_write_private_pem(k, pem, sizeof pem, err)) == 0) {
        rc = cs_file_write_atomic(path, pem, strlen(pem), 0600, err);
        cs_wipe(pem, sizeof pem);
    }
    if (rc == 0)
        rc = cs_key_id(k, id, err);
    if (rc != 0) {
        cs_key_free(k);
        return rc;
    }
    *out = k;
    return 0;
}

static int privacy_of(const cs_conf *conf, node_privacy *pv, cs_err *err)
{
    int64_t maxr = 8, minc = 5;
    const char *eps = cs_conf_get(conf, "outbox.epsilon");
    node_privacy_defaults(pv);
    if (eps) {
        char *end = NULL;
        double e = strtod(eps, &end);
        if (!end || *end || !(e > 0.01 && e <= 100))
            return cs_err_set(err, CS_ECONFIG, "outbox.epsilon: a number between 0.01 and 100");
        pv->epsilon = e;
    }
    if (cs_conf_get_int(conf, "outbox.max_resources", 8, &maxr, err) != 0 ||
        cs_conf_get_int(conf, "outbox.min_count", 5, &minc, err) != 0)
        return CS_ECONFIG;
    if (maxr < 1 || maxr > 1000 || minc < 0 || minc > 1000)
        return cs_err_set(err, CS_ECONFIG, "outbox.max_resources (1..1000) or outbox.min_count (0..1000) out of range");
    pv->max_resources = (int)maxr;
    pv->min_count = (int)minc;
    return 0;
}

static int batch_records_of(const cs_conf *conf, int64_t *out, cs_err *err)
{
    int rc = cs_conf_get_int(conf, "outbox.batch_records", SEND_RECORDS, out, err);
    if (rc != 0)
        return rc;
    if (*out < 1 || *out > SYNC_OUTBOX_MAX_RECORDS)
        return cs_err_set(err, CS_ECONFIG, "outbox.batch_records: 1 to %d", SYNC_OUTBOX_MAX_RECORDS);
    return 0;
}

int node_outbox_conf_check(const cs_conf *conf, cs_err *err)
{
    node_privacy pv;
    int64_t b;
    int rc = privacy_of(conf, &pv, err);
    return rc ? rc : batch_records_of(conf, &b, err);
}

int node_outbox_prepare(node_data *n, cs_err *err)
{
    node_people *p;
    node_privacy pv;
    node_rng rng;
    uint64_t seed = 0;
    int64_t days = 365, removed = 0;
    int records = 0, rc;
    if ((rc = node_people_of(n, &p, err)) != 0 || (rc = privacy_of(n->conf, &pv, err)) != 0 ||
        (rc = cs_conf_get_int(n->conf, "privacy.retention_days", 365, &days, err)) != 0)
        return rc;
    if ((rc = cs_random(&seed, sizeof seed, err)) != 0)
        return rc;
    node_rng_seed(&rng, seed);
    int64_t now = cs_time_now();
    /* Aggregate first: a week is released before its events age out. */
    if ((rc = node_people_aggregate(p, now, &pv, &rng, &records, err)) != 0)
        return rc;
    return node_people_purge(p, now, days, &removed, err);
}

static json_t *health_of(node_data *n, node_people *p)
{
    json_t *st = NULL, *h = json_object();
    int64_t pending = 0, acked = 0;
    if (node_status(n, &st, NULL) == 0) {
        static const char *keys[] = {"version", "storage", "catalog", "trust_root_version", "last_error"};
        for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
            json_t *v = json_object_get(st, keys[i]);
            if (v)
                json_object_set(h, keys[i], v);
        }
        json_t *sy = json_object_get(st, "sync");
        static const char *skeys[] = {"last_success", "last_attempt", "last_error"};
        for (size_t i = 0; i < sizeof skeys / sizeof skeys[0]; i++) {
            json_t *v = json_object_get(sy, skeys[i]);
            if (v)
                json_object_set(h, skeys[i][5] == 's' ? "last_sync" : skeys[i], v);
        }
        json_decref(st);
    }
    node_people_outbox_state(p, &pending, &acked, NULL);
    json_object_set_new(h, "pending", json_integer(pending));
    json_object_set_new(h, "cistern", json_string(CISTERN_VERSION_STRING));
    return h;
}

int node_outbox_send(node_data *n, const char *url, int *sent, int64_t *acked, cs_err *err)
{
    node_people *p;
    cs_key *key = NULL;
    char id[CS_KEYID_HEX];
    int rc;
    *sent = 0;
    *acked = 0;
    if (!url || !*url)
        url = cs_conf_get(n->conf, "hub.url");
    if (!url || !*url)
        return cs_err_set(err, CS_ECONFIG, "no hub URL: export the outbox to a file instead");
    if ((rc = node_people_of(n, &p, err)) != 0 || (rc = node_outbox_prepare(n, err)) != 0 ||
        (rc = node_key_load(n, &key, id, err)) != 0)
        return rc;
    int64_t before = 0, batch_records = SEND_RECORDS;
    if ((rc = batch_records_of(n->conf, &batch_records, err)) != 0) {
        cs_key_free(key);
        return rc;
    }
    node_people_outbox_state(p, &(int64_t){0}, &before, NULL);
    *acked = before;
    /* At least one batch, even empty: it carries the node's health. */
    for (int round = 0; round < 1000; round++) {
        json_t *recs = NULL;
        int64_t count = 0, hub_acked = 0;
        if ((rc = node_people_outbox_pending(p, (size_t)batch_records, SEND_BYTES, &recs, &count, err)) != 0)
            break;
        size_t batch_n = json_array_size(recs);
        int64_t last_seq = batch_n ? json_integer_value(json_object_get(json_array_get(recs, batch_n - 1), "seq")) : 0;
        json_t *health = health_of(n, p);
        cs_buf b;
        cs_buf_init(&b, SYNC_OUTBOX_MAX_BYTES);
        rc = sync_outbox_encode(key, health, recs, cs_time_now(), &b, err);
        json_decref(health);
        json_decref(recs);
        if (rc == 0)
            rc = sync_outbox_post(url, b.data, b.len, 600, &hub_acked, err);
        cs_buf_free(&b);
        if (rc != 0)
            break;
        if (hub_acked > *acked) {
            if ((rc = node_people_outbox_ack(p, hub_acked, err)) != 0)
                break;
            *sent += (int)(hub_acked - *acked);
            *acked = hub_acked;
        }
        if (batch_n == 0 || (int64_t)batch_n >= count)
            break; /* all sent */
        if (hub_acked < last_seq && hub_acked <= before) {
            rc = cs_err_set(err, CS_EFORMAT, "the hub acknowledged nothing of a whole batch");
            break;
        }
        before = hub_acked;
    }
    cs_key_free(key);
    return rc;
}

int node_outbox_export(node_data *n, const char *path, int *records, int64_t *left, cs_err *err)
{
    node_people *p;
    cs_key *key = NULL;
    char id[CS_KEYID_HEX];
    json_t *recs = NULL;
    int64_t count = 0;
    int rc;
    cs_buf b;
    cs_buf_init(&b, SYNC_OUTBOX_MAX_BYTES);
    if ((rc = node_people_of(n, &p, err)) != 0 || (rc = node_outbox_prepare(n, err)) != 0 ||
        (rc = node_key_load(n, &key, id, err)) != 0)
        goto out;
    if ((rc = node_people_outbox_pending(p, SYNC_OUTBOX_MAX_RECORDS, SYNC_OUTBOX_MAX_BYTES - (1u << 20), &recs,
                                         &count, err)) != 0)
        goto out;
    json_t *health = health_of(n, p);
    rc = sync_outbox_encode(key, health, recs, cs_time_now(), &b, err);
    json_decref(health);
    if (rc == 0)
        rc = cs_file_write_atomic(path, b.data, b.len, 0600, err);
    if (rc == 0) {
        *records = (int)json_array_size(recs);
        *left = count - (int64_t)json_array_size(recs);
    }
out:
    json_decref(recs);
    cs_buf_free(&b);
    cs_key_free(key);
    return rc;
}

/* ---- local resources ---- */

#define LOCAL_MAX_FILES 200
#define LOCAL_MAX_BYTES (16u << 20)

int node_local_add(node_data *n, const json_t *meta_in, const json_t *files, int forward, char id[64], cs_err *err)
{
    content_resource r;
    uint8_t rnd[8];
    size_t i, total = 0;
    json_t *f;
    int rc;
    memset(&r, 0, sizeof r);
    if (!json_is_object(meta_in) || !json_is_array(files) || json_array_size(files) == 0 ||
        json_array_size(files) > LOCAL_MAX_FILES)
        return cs_err_set(err, CS_EINVAL, "a local resource needs metadata and 1 to %d files", LOCAL_MAX_FILES);
    if ((rc = cs_random(rnd, sizeof rnd, err)) != 0)
        return rc;
    char hex[17];
    cs_hex_encode(rnd, sizeof rnd, hex);
    snprintf(id, 64, "local-%s", hex);
    json_t *meta = json_deep_copy(meta_in);
    const char *lang = json_string_value(json_object_get(meta, "language"));
    if (!lang) {
        json_object_set_new(meta, "language", json_string("zh"));
        lang = "zh";
    }
    /* A plain title or description is in the resource's language. */
    static const char *ml[] = {"title", "description"};
    for (size_t k = 0; k < 2; k++) {
        json_t *v = json_object_get(meta, ml[k]);
        if (json_is_string(v))
            json_object_set_new(meta, ml[k], json_pack("{s:O}", lang, v));
    }
    if (!json_object_get(meta, "type"))
        json_object_set_new(meta, "type", json_string("document"));
    if (!json_object_get(meta, "entry"))
        json_object_set(meta, "entry", json_object_get(json_array_get(files, 0), "path"));
    json_object_set_new(meta, "id", json_string(id));
    json_object_set_new(meta, "local", json_true());
    if ((rc = content_resource_validate(meta, err)) != 0)
        goto out;
    r.id = id;
    r.meta = meta;
    r.files = calloc(json_array_size(files), sizeof *r.files);
    if (!r.files) {
        rc = cs_err_set(err, CS_ENOMEM, "out of memory");
        goto out;
    }
    int entry_found = 0;
    json_array_foreach(files, i, f)
    {
        const char *path = json_string_value(json_object_get(f, "path"));
        const char *data = json_string_value(json_object_get(f, "data"));
        uint8_t *bytes = NULL;
        size_t len = 0;
        if (!path || !data || !content_path_valid(path)) {
            rc = cs_err_set(err, CS_EINVAL, "file %zu: needs a safe relative \"path\" and base64 \"data\"", i + 1);
            goto out;
        }
        for (size_t j = 0; j < i; j++)
            if (strcmp(r.files[j].path, path) == 0) {
                rc = cs_err_set(err, CS_EINVAL, "file %s: listed twice", path);
                goto out;
            }
        if ((rc = cs_base64_decode(data, strlen(data), LOCAL_MAX_BYTES, &bytes, &len, err)) != 0) {
            cs_err_wrap(err, "file %s", path);
            goto out;
        }
        total += len;
        if (total > LOCAL_MAX_BYTES) {
            free(bytes);
            rc = cs_err_set(err, CS_ETOOBIG, "a local resource is at most %u MiB", LOCAL_MAX_BYTES >> 20);
            goto out;
        }
        rc = content_store_put_buf(n->store, bytes, len, r.files[i].object, err);
        free(bytes);
        if (rc != 0)
            goto out;
        r.files[i].path = strdup(path);
        r.files[i].mime = strdup(content_mime_guess(path));
        r.files[i].size = len;
        r.nfiles = i + 1;
        if (!r.files[i].path || !r.files[i].mime) {
            rc = cs_err_set(err, CS_ENOMEM, "out of memory");
            goto out;
        }
        entry_found |= strcmp(path, json_string_value(json_object_get(meta, "entry"))) == 0;
    }
    if (!entry_found) {
        rc = cs_err_set(err, CS_EINVAL, "the entry file is not among the files");
        goto out;
    }
    r.cached = 1;
    /* The teacher waits on this: search_hot is emptied, not recomputed
     * (the next import or sync does that). */
    content_catalog_hot_defer(n->cat, 1);
    if ((rc = content_store_flush(n->store, err)) != 0 || (rc = content_catalog_begin(n->cat, err)) != 0)
        goto out;
    if ((rc = content_catalog_put(n->cat, &r, err)) != 0 || (rc = content_catalog_commit(n->cat, err)) != 0) {
        content_catalog_rollback(n->cat);
        goto out;
    }
    if (forward) {
        node_people *p;
        json_t *body = json_pack("{s:O,s:O}", "resource", meta, "files", files);
        json_t *fl = json_object_get(body, "files");
        /* the record keeps paths and data only */
        json_t *clean = json_array();
        json_array_foreach(fl, i, f) json_array_append_new(
            clean, json_pack("{s:O,s:O}", "path", json_object_get(f, "path"), "data", json_object_get(f, "data")));
        json_object_set_new(body, "files", clean);
        /* Under a name a hub may publish, should its reviewers accept it. */
        json_t *rm = json_deep_copy(meta);
        json_object_del(rm, "local");
        json_object_set_new(rm, "id", json_pack("s+", "contrib-", hex));
        json_object_set_new(body, "resource", rm);
        if ((rc = node_people_of(n, &p, err)) == 0)
            rc = node_people_outbox_add(p, "contribution", body, cs_time_now(), err);
        json_decref(body);
    }
out:
    for (size_t k = 0; k < r.nfiles; k++)
        content_file_clear(&r.files[k]);
    free(r.files);
    json_decref(meta);
    return rc;
}
