/*
 * hub_version.c - catalogue files and signed metadata for a version, and
 * USB bundles.
 */
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hub_int.h"
#include "platform/buf.h"
#include "platform/file.h"
#include "platform/time.h"
#include "sync/bundle.h"
#include "sync/catfile.h"

#define CATFILE_ZSTD_LEVEL 12

static const char *valid_at = "first <= ?1 AND (last IS NULL OR last >= ?1)";

/* Build the catalogue file from `from` (0 = full) to v. */
static int build_catfile(sync_hub *h, int64_t from, int64_t v, uint8_t **out, size_t *out_len,
                         cs_err *err)
{
    char sql[1024];
    sqlite3_stmt *st = NULL;
    sync_catfile_writer *w = NULL;
    int rc = 0;
    if (from == 0)
        snprintf(sql, sizeof sql, "SELECT id, record FROM records WHERE %s ORDER BY id", valid_at);
    else
        snprintf(sql, sizeof sql,
                 "SELECT id, record FROM records WHERE first > ?2 AND %s "
                 "UNION ALL SELECT a.id, NULL FROM records a WHERE a.first <= ?2 AND (a.last IS NULL OR a.last >= ?2) "
                 "AND NOT EXISTS (SELECT 1 FROM records b WHERE b.id = a.id AND b.first <= ?1 AND (b.last IS NULL OR b.last >= ?1)) "
                 "ORDER BY 1",
                 valid_at);
    if (sqlite3_prepare_v2(h->db, sql, -1, &st, NULL) != SQLITE_OK)
        return cs_err_set(err, CS_EDB, "hub database: %s", sqlite3_errmsg(h->db));
    sqlite3_bind_int64(st, 1, v);
    if (from)
        sqlite3_bind_int64(st, 2, from);
    if (sync_catfile_writer_new(&w, (uint64_t)from, (uint64_t)v, from ? 0 : CATFILE_FULL) != 0) {
        rc = cs_err_set(err, CS_ENOMEM, "out of memory");
        goto out;
    }
    int step;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        const char *rec = (const char *)sqlite3_column_text(st, 1);
        if (rec) {
            rc = sync_catfile_writer_add(w, rec, (size_t)sqlite3_column_bytes(st, 1), err);
        } else {
            json_t *del = json_pack("{s:s,s:s}", "op", "del", "id", (const char *)sqlite3_column_text(st, 0));
            char *line = NULL;
            size_t len = 0;
            rc = sync_canonical(del, &line, &len, err);
            json_decref(del);
            if (rc == 0)
                rc = sync_catfile_writer_add(w, line, len, err);
            free(line);
        }
        if (rc)
            goto out;
    }
    if (step != SQLITE_DONE) {
        rc = cs_err_set(err, CS_EDB, "hub database: %s", sqlite3_errmsg(h->db));
        goto out;
    }
    rc = sync_catfile_writer_finish(w, CATFILE_ZSTD_LEVEL, out, out_len, err);
out:
    sqlite3_finalize(st);
    sync_catfile_writer_free(w);
    return rc;
}

/* Write bytes under a name derived from their hash; fill the reference. */
static int write_hashed(sync_hub *h, const char *prefix, const char *suffix, const uint8_t *data,
                        size_t len, sync_fileref *ref, cs_err *err)
{
    char hex[CS_SHA256_HEX], path[PATH_MAX];
    memset(ref, 0, sizeof *ref);
    cs_sha256_buf(data, len, ref->sha256);
    cs_hex_encode(ref->sha256, 32, hex);
    snprintf(ref->path, sizeof ref->path, "%s%s%s", prefix, hex, suffix);
    ref->length = len;
    if (cs_path_join(path, sizeof path, h->dir, ref->path) != 0)
        return cs_err_set(err, CS_ETOOBIG, "path too long");
    if (cs_path_exists(path))
        return 0;
    return cs_file_write_atomic(path, data, len, 0644, err);
}

static int write_signed(sync_hub *h, json_t *signed_obj, sync_role role, const char *name,
                        sync_fileref *ref, cs_err *err)
{
    char *text = NULL, path[PATH_MAX];
    size_t len = 0;
    int rc = sync_meta_sign(signed_obj, &h->keys[role], 1, &text, &len, err);
    if (rc)
        return rc;
    if (ref) {
        memset(ref, 0, sizeof *ref);
        snprintf(ref->path, sizeof ref->path, "%s", name);
        ref->length = len;
        cs_sha256_buf(text, len, ref->sha256);
    }
    cs_path_join(path, sizeof path, h->dir, name);
    rc = cs_file_write_atomic(path, text, len, 0644, err);
    free(text);
    return rc;
}

static int64_t meta_counter_next(sync_hub *h, const char *key)
{
    sqlite3_stmt *st = NULL;
    int64_t v = 0;
    if (sqlite3_prepare_v2(h->db, "SELECT value FROM meta WHERE key=?", -1, &st, NULL) == SQLITE_OK) {
        sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
        if (sqlite3_step(st) == SQLITE_ROW)
            v = sqlite3_column_int64(st, 0);
        sqlite3_finalize(st);
    }
    v++;
    if (sqlite3_prepare_v2(h->db, "INSERT OR REPLACE INTO meta VALUES(?, ?)", -1, &st, NULL) == SQLITE_OK) {
        sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, v);
        sqlite3_step(st);
        sqlite3_finalize(st);
    }
    return v;
}

int hub_finish_version(sync_hub *h, int64_t v, cs_err *err)
{
    uint8_t *data = NULL;
    size_t len = 0;
    int rc = 0;
    json_t *deltas = json_object(), *targets = NULL, *snap = NULL, *ts = NULL;
    sync_fileref full, ref;
    int64_t now = cs_time_now();
    char exp[32];

    if ((rc = build_catfile(h, 0, v, &data, &len, err)) != 0 ||
        (rc = write_hashed(h, "catalog/", ".cat", data, len, &full, err)) != 0)
        goto out;
    free(data);
    data = NULL;
    for (int64_t from = v - h->opt.delta_depth; from < v; from++) {
        if (from < 1)
            continue;
        if ((rc = build_catfile(h, from, v, &data, &len, err)) != 0 ||
            (rc = write_hashed(h, "catalog/", ".cat", data, len, &ref, err)) != 0)
            goto out;
        free(data);
        data = NULL;
        char key[32];
        snprintf(key, sizeof key, "%lld", (long long)from);
        json_object_set_new(deltas, key, sync_fileref_json(&ref));
    }
    cs_time_format(now + h->opt.expire_targets, exp, sizeof exp);
    targets = json_pack("{s:s,s:s,s:I,s:s,s:{s:o,s:O}}", "_type", "targets", "spec", SYNC_SPEC,
                        "version", (json_int_t)v, "expires", exp, "catalog", "full",
                        sync_fileref_json(&full), "deltas", deltas);
    char name[64];
    snprintf(name, sizeof name, "%lld.targets.json", (long long)v);
    if (!targets) {
        rc = cs_err_set(err, CS_ENOMEM, "out of memory");
        goto out;
    }
    if ((rc = write_signed(h, targets, SYNC_TARGETS, name, &ref, err)) != 0)
        goto out;
    ref.version = v;
    cs_time_format(now + h->opt.expire_snapshot, exp, sizeof exp);
    snap = json_pack("{s:s,s:s,s:I,s:s,s:{s:o}}", "_type", "snapshot", "spec", SYNC_SPEC, "version",
                     (json_int_t)v, "expires", exp, "meta", "targets.json", sync_fileref_json(&ref));
    snprintf(name, sizeof name, "%lld.snapshot.json", (long long)v);
    char issued[32];
    cs_time_format(now, issued, sizeof issued);
    if (snap) /* the hub's clock, signed: nodes learn a lower bound on the time from it */
        json_object_set_new(snap, "issued", json_string(issued));
    if (!snap) {
        rc = cs_err_set(err, CS_ENOMEM, "out of memory");
        goto out;
    }
    if ((rc = write_signed(h, snap, SYNC_SNAPSHOT, name, &ref, err)) != 0)
        goto out;
    ref.version = v;
    int64_t tsv = meta_counter_next(h, "timestamp_version");
    cs_time_format(now + h->opt.expire_timestamp, exp, sizeof exp);
    ts = json_pack("{s:s,s:s,s:I,s:s,s:{s:o}}", "_type", "timestamp", "spec", SYNC_SPEC, "version",
                   (json_int_t)tsv, "expires", exp, "meta", "snapshot.json", sync_fileref_json(&ref));
    if (!ts) {
        rc = cs_err_set(err, CS_ENOMEM, "out of memory");
        goto out;
    }
    json_object_set_new(ts, "issued", json_string(issued));
    rc = write_signed(h, ts, SYNC_TIMESTAMP, "timestamp.json", NULL, err);
out:
    free(data);
    json_decref(deltas);
    json_decref(targets);
    json_decref(snap);
    json_decref(ts);
    return rc;
}

/* ---- bundles ---- */

typedef struct bsec {
    uint8_t kind;
    char name[256];
    uint64_t length;
    uint8_t hash[32];
    uint8_t *data; /* metadata and catalogue sections are held in memory */
} bsec;

typedef struct bsecs {
    bsec *v;
    size_t n, cap;
} bsecs;

static bsec *bsecs_add(bsecs *s)
{
    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 64;
        bsec *nv = realloc(s->v, s->cap * sizeof *nv);
        if (!nv)
            return NULL;
        s->v = nv;
    }
    bsec *b = &s->v[s->n++];
    memset(b, 0, sizeof *b);
    return b;
}

static int add_file_section(sync_hub *h, bsecs *s, uint8_t kind, const char *name, cs_err *err)
{
    char path[PATH_MAX];
    char *data = NULL;
    size_t len = 0;
    cs_path_join(path, sizeof path, h->dir, name);
    int rc = cs_file_read_all(path, kind == BUNDLE_META ? SYNC_META_MAX : (1ULL << 31), &data, &len, err);
    if (rc)
        return rc;
    bsec *b = bsecs_add(s);
    if (!b) {
        free(data);
        return cs_err_set(err, CS_ENOMEM, "out of memory");
    }
    b->kind = kind;
    snprintf(b->name, sizeof b->name, "%s", name);
    b->length = len;
    b->data = (uint8_t *)data;
    cs_sha256_buf(data, len, b->hash);
    return 0;
}

/* Objects referenced by the records valid at version x go into (or out of)
 * the temp table need. */
static int need_objects(sync_hub *h, int64_t x, int add, cs_err *err)
{
    char sql[256];
    sqlite3_stmt *st = NULL, *mod = NULL;
    int rc = 0;
    snprintf(sql, sizeof sql, "SELECT record FROM records WHERE %s", valid_at);
    if (sqlite3_prepare_v2(h->db, sql, -1, &st, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(h->db, add ? "INSERT OR IGNORE INTO need VALUES(?)" : "DELETE FROM need WHERE id=?", -1, &mod, NULL) != SQLITE_OK) {
        rc = cs_err_set(err, CS_EDB, "hub database: %s", sqlite3_errmsg(h->db));
        goto out;
    }
    sqlite3_bind_int64(st, 1, x);
    while (sqlite3_step(st) == SQLITE_ROW) {
        json_t *rec = json_loadb((const char *)sqlite3_column_text(st, 0), (size_t)sqlite3_column_bytes(st, 0), 0, NULL);
        size_t i;
        json_t *f;
        json_array_foreach(json_object_get(rec, "files"), i, f)
        {
            uint8_t id[32];
            if (cs_hex_decode(json_string_value(json_array_get(f, 3)), id, 32) != 0)
                continue;
            sqlite3_bind_blob(mod, 1, id, 32, SQLITE_TRANSIENT);
            sqlite3_step(mod);
            sqlite3_reset(mod);
        }
        json_decref(rec);
    }
out:
    sqlite3_finalize(st);
    sqlite3_finalize(mod);
    return rc;
}

static int copy_object(sync_hub *h, int out_fd, const uint8_t id[32], uint64_t len, uint8_t *buf,
                       size_t cap, cs_err *err)
{
    char hex[CS_SHA256_HEX], path[PATH_MAX];
    cs_hex_encode(id, 32, hex);
    snprintf(path, sizeof path, "%s/objects/%.2s/%s", h->dir, hex, hex);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return cs_err_errno(err, path);
    int rc = 0;
    uint64_t off = 0;
    off_t end = lseek(fd, 0, SEEK_END);
    if (end < 0 || (uint64_t)end != len) {
        rc = cs_err_set(err, CS_ECORRUPT, "%s: %lld bytes, the repository expects %llu", path,
                        (long long)end, (unsigned long long)len);
        goto out;
    }
    while (off < len && rc == 0) {
        size_t n = len - off > cap ? cap : (size_t)(len - off);
        if ((rc = cs_pread_full(fd, buf, n, off, err)) == 0)
            rc = cs_write_full(out_fd, buf, n, err);
        off += n;
    }
out:
    close(fd);
    return rc;
}

int sync_hub_bundle(sync_hub *h, int64_t since, const char *out_path, sync_progress_cb progress,
                    void *pctx, cs_err *err)
{
    bsecs s = {0};
    char path[PATH_MAX], tmp[PATH_MAX], name[64];
    char *text = NULL;
    size_t len = 0;
    json_t *root = NULL, *targets = NULL;
    sqlite3_stmt *st = NULL;
    cs_buf table;
    cs_buf_init(&table, BUNDLE_MAX_TABLE);
    uint8_t *copybuf = NULL;
    int fd = -1, rc = 0;
    int64_t v = h->version;
    tmp[0] = '\0';
    if (v == 0)
        return cs_err_set(err, CS_ENOENT, "nothing has been published yet");
    if (since < 0 || since > v)
        return cs_err_set(err, CS_EINVAL, "--since %lld: the repository is at version %lld",
                          (long long)since, (long long)v);
    if (since == v)
        return cs_err_set(err, CS_EINVAL, "nodes at version %lld are already current; nothing to bundle",
                          (long long)v);
    /* Root chain 2..R, timestamp, snapshot, targets. */
    cs_path_join(path, sizeof path, h->dir, "root.json");
    if ((rc = cs_file_read_all(path, SYNC_ROOT_MAX, &text, &len, err)) != 0)
        goto out;
    root = json_loadb(text, len, 0, NULL);
    free(text);
    text = NULL;
    json_int_t rv = json_integer_value(json_object_get(json_object_get(root, "signed"), "version"));
    for (json_int_t k = 2; k <= rv; k++) {
        snprintf(name, sizeof name, "%lld.root.json", (long long)k);
        if ((rc = add_file_section(h, &s, BUNDLE_META, name, err)) != 0)
            goto out;
    }
    if ((rc = add_file_section(h, &s, BUNDLE_META, "timestamp.json", err)) != 0)
        goto out;
    snprintf(name, sizeof name, "%lld.snapshot.json", (long long)v);
    if ((rc = add_file_section(h, &s, BUNDLE_META, name, err)) != 0)
        goto out;
    snprintf(name, sizeof name, "%lld.targets.json", (long long)v);
    if ((rc = add_file_section(h, &s, BUNDLE_META, name, err)) != 0)
        goto out;
    targets = json_loadb((const char *)s.v[s.n - 1].data, s.v[s.n - 1].length, 0, NULL);
    json_t *cat = json_object_get(json_object_get(targets, "signed"), "catalog");
    json_t *ref = NULL;
    if (since > 0) {
        snprintf(name, sizeof name, "%lld", (long long)since);
        ref = json_object_get(json_object_get(cat, "deltas"), name);
    }
    if (!ref)
        ref = json_object_get(cat, "full");
    const char *cpath = json_string_value(json_object_get(ref, "path"));
    if (!cpath) {
        rc = cs_err_set(err, CS_ECORRUPT, "%lld.targets.json names no catalogue", (long long)v);
        goto out;
    }
    if ((rc = add_file_section(h, &s, BUNDLE_CATALOG, cpath, err)) != 0)
        goto out;
    /* Objects: referenced at v, not referenced at since. */
    if ((rc = hub_sql(h->db, "CREATE TEMP TABLE IF NOT EXISTS need(id BLOB PRIMARY KEY); DELETE FROM need", err)) != 0 ||
        (rc = hub_sql(h->db, "BEGIN", err)) != 0)
        goto out;
    rc = need_objects(h, v, 1, err);
    if (rc == 0 && since > 0)
        rc = need_objects(h, since, 0, err);
    hub_sql(h->db, "COMMIT", NULL);
    if (rc)
        goto out;
    size_t nmeta = s.n;
    if (sqlite3_prepare_v2(h->db, "SELECT need.id, objects.enc_len FROM need JOIN objects ON objects.id = need.id ORDER BY need.id", -1, &st, NULL) != SQLITE_OK) {
        rc = cs_err_set(err, CS_EDB, "hub database: %s", sqlite3_errmsg(h->db));
        goto out;
    }
    while (sqlite3_step(st) == SQLITE_ROW) {
        bsec *b = bsecs_add(&s);
        if (!b) {
            rc = cs_err_set(err, CS_ENOMEM, "out of memory");
            goto out;
        }
        b->kind = BUNDLE_OBJECT;
        memcpy(b->hash, sqlite3_column_blob(st, 0), 32);
        cs_hex_encode(b->hash, 32, b->name);
        b->length = (uint64_t)sqlite3_column_int64(st, 1);
    }
    sqlite3_finalize(st);
    st = NULL;
    /* Table. */
    uint64_t table_len = 0;
    for (size_t i = 0; i < s.n; i++)
        table_len += BUNDLE_ENTRY_FIXED + strlen(s.v[i].name);
    uint64_t off = BUNDLE_HDR + table_len, total = 0;
    for (size_t i = 0; i < s.n; i++) {
        uint8_t e[BUNDLE_ENTRY_FIXED];
        memset(e, 0, sizeof e);
        e[0] = s.v[i].kind;
        uint32_t nl = (uint32_t)strlen(s.v[i].name);
        cs_put_u32(e + 4, nl);
        cs_put_u64(e + 8, off);
        cs_put_u64(e + 16, s.v[i].length);
        memcpy(e + 24, s.v[i].hash, 32);
        if (cs_buf_append(&table, e, sizeof e) || cs_buf_append(&table, s.v[i].name, nl)) {
            rc = cs_err_set(err, CS_ETOOBIG, "bundle table too large");
            goto out;
        }
        off += s.v[i].length;
        total += s.v[i].length;
    }
    uint8_t hdr[BUNDLE_HDR];
    memset(hdr, 0, sizeof hdr);
    memcpy(hdr, BUNDLE_MAGIC, 4);
    cs_put_u32(hdr + 4, 1);
    cs_put_u64(hdr + 8, (uint64_t)since);
    cs_put_u64(hdr + 16, (uint64_t)v);
    cs_put_u32(hdr + 24, (uint32_t)s.n);
    cs_put_u64(hdr + 32, table.len);
    {
        cs_sha256 *hh = NULL;
        if (cs_sha256_new(&hh) != 0) {
            rc = cs_err_set(err, CS_ENOMEM, "out of memory");
            goto out;
        }
        cs_sha256_update(hh, hdr, 40);
        cs_sha256_update(hh, table.data, table.len);
        cs_sha256_final(hh, hdr + 40);
        cs_sha256_free(hh);
    }
    snprintf(tmp, sizeof tmp, "%s.tmp-%d", out_path, (int)getpid());
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        rc = cs_err_errno(err, tmp);
        goto out;
    }
    if ((rc = cs_write_full(fd, hdr, sizeof hdr, err)) != 0 ||
        (rc = cs_write_full(fd, table.data, table.len, err)) != 0)
        goto out;
    size_t cap = 1 << 20;
    copybuf = malloc(cap);
    if (!copybuf) {
        rc = cs_err_set(err, CS_ENOMEM, "out of memory");
        goto out;
    }
    uint64_t done = 0;
    for (size_t i = 0; i < s.n; i++) {
        if (i < nmeta)
            rc = cs_write_full(fd, s.v[i].data, s.v[i].length, err);
        else
            rc = copy_object(h, fd, s.v[i].hash, s.v[i].length, copybuf, cap, err);
        if (rc)
            goto out;
        done += s.v[i].length;
        if (progress)
            progress(pctx, "writing", done, total);
    }
    if ((rc = cs_fsync(fd, err)) != 0)
        goto out;
    close(fd);
    fd = -1;
    if (rename(tmp, out_path) != 0) {
        rc = cs_err_errno(err, out_path);
        goto out;
    }
    tmp[0] = '\0';
    rc = cs_fsync_parent(out_path, err);
out:
    if (fd >= 0)
        close(fd);
    if (tmp[0])
        unlink(tmp);
    free(copybuf);
    sqlite3_finalize(st);
    cs_buf_free(&table);
    for (size_t i = 0; i < s.n; i++)
        free(s.v[i].data);
    free(s.v);
    json_decref(root);
    json_decref(targets);
    return rc;
}

/* ---- key rotation ---- */

int sync_hub_rotate_key(sync_hub *h, const char *role_name, int64_t *new_root_version, cs_err *err)
{
    int role = -1;
    for (int r = 0; r < SYNC_NROLES; r++)
        if (strcmp(role_name, sync_role_name((sync_role)r)) == 0)
            role = r;
    if (role < 0)
        return cs_err_set(err, CS_EINVAL, "unknown role \"%s\" (root, targets, snapshot or timestamp)", role_name);
    if (!h->keys[SYNC_ROOT])
        return cs_err_set(err, CS_ECRYPTO, "%s/keys/root.key is not here: bring the offline root key to rotate keys",
                          h->dir);
    char path[PATH_MAX], *text = NULL, *out = NULL, pem[2048], kid[CS_KEYID_HEX];
    size_t len = 0, outlen = 0;
    cs_key *nk = NULL;
    json_t *env = NULL;
    cs_path_join(path, sizeof path, h->dir, "root.json");
    int rc = cs_file_read_all(path, SYNC_ROOT_MAX, &text, &len, err);
    if (rc)
        return rc;
    env = json_loadb(text, len, 0, NULL);
    json_t *s = json_deep_copy(json_object_get(env, "signed"));
    json_int_t v = json_integer_value(json_object_get(s, "version"));
    if (!s || v < 1) {
        rc = cs_err_set(err, CS_ECORRUPT, "%s is not valid root metadata", path);
        goto out;
    }
    if ((rc = cs_key_generate(&nk, err)) != 0 || (rc = cs_key_id(nk, kid, err)) != 0 ||
        (rc = cs_key_write_private_pem(nk, pem, sizeof pem, err)) != 0)
        goto out;
    /* The role gets the new key; keys no role uses any more are dropped. */
    json_t *roles = json_object_get(s, "roles"), *keys = json_object_get(s, "keys");
    json_object_set_new(roles, role_name, json_pack("{s:[s],s:i}", "keyids", kid, "threshold", 1));
    json_t *kj = key_json(nk, err);
    if (!kj) {
        rc = err ? err->code : CS_ECRYPTO;
        goto out;
    }
    json_object_set_new(keys, kid, kj);
    const char *k;
    json_t *kv, *tmp;
    json_object_foreach_safe(keys, tmp, k, kv)
    {
        int used = 0;
        const char *rn;
        json_t *rv;
        json_object_foreach(roles, rn, rv)
        {
            size_t i;
            json_t *id;
            json_array_foreach(json_object_get(rv, "keyids"), i, id) used |= strcmp(json_string_value(id), k) == 0;
        }
        if (!used)
            json_object_del(keys, k);
    }
    char exp[32];
    cs_time_format(cs_time_now() + h->opt.expire_root, exp, sizeof exp);
    json_object_set_new(s, "version", json_integer(v + 1));
    json_object_set_new(s, "expires", json_string(exp));
    /* Signed by the old root key, and by the new one when it is the root's. */
    cs_key *signers[2] = {h->keys[SYNC_ROOT], nk};
    if ((rc = sync_meta_sign(s, signers, role == SYNC_ROOT ? 2 : 1, &out, &outlen, err)) != 0)
        goto out;
    char keypath[PATH_MAX], newpath[PATH_MAX], oldpath[PATH_MAX], name[64];
    snprintf(keypath, sizeof keypath, "%s/keys/%s.key", h->dir, role_name);
    snprintf(newpath, sizeof newpath, "%s/keys/%s.key.new", h->dir, role_name);
    snprintf(oldpath, sizeof oldpath, "%s/keys/%s.key.retired-%lld", h->dir, role_name, (long long)v);
    if ((rc = cs_file_write_atomic(newpath, pem, strlen(pem), 0600, err)) != 0)
        goto out;
    snprintf(name, sizeof name, "%lld.root.json", (long long)(v + 1));
    cs_path_join(path, sizeof path, h->dir, name);
    if ((rc = cs_file_write_atomic(path, out, outlen, 0644, err)) != 0)
        goto out;
    cs_path_join(path, sizeof path, h->dir, "root.json");
    if ((rc = cs_file_write_atomic(path, out, outlen, 0644, err)) != 0)
        goto out;
    if ((cs_path_exists(keypath) && rename(keypath, oldpath) != 0) || rename(newpath, keypath) != 0) {
        rc = cs_err_errno(err, keypath);
        goto out;
    }
    cs_key_free(h->keys[role]);
    h->keys[role] = nk;
    nk = NULL;
    if (new_root_version)
        *new_root_version = v + 1;
    /* Re-sign the current version with the new keys. */
    if (h->version > 0)
        rc = hub_finish_version(h, h->version, err);
out:
    cs_wipe(pem, sizeof pem);
    cs_key_free(nk);
    json_decref(s);
    json_decref(env);
    free(text);
    free(out);
    return rc;
}
