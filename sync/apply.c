/*
 * apply.c - verify a version against the node's pinned trust and apply it,
 * all or nothing.  Used by bundle import (and by network sync, which reads
 * the same files over HTTP instead of from a bundle).
 */
#include "sync/apply.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "content/object.h"
#include "platform/crypto.h"
#include "platform/time.h"
#include "sync/bundle.h"
#include "sync/catfile.h"
#include "sync/meta.h"
#include "apply_int.h"

#define MAX_ROOT_STEPS 1024
#define FLUSH_EVERY (16ULL << 20) /* at most this much verified work is redone after a cut */
#define CATALOG_MAX (1ULL << 30)

int sync_trust_pin(content_catalog *cat, const char *root_text, size_t len, cs_err *err)
{
    sync_root *r = NULL;
    int rc = sync_root_load(&r, root_text, len, err);
    if (rc) {
        cs_err_wrap(err, "trust root");
        return rc;
    }
    sync_root_free(r);
    char *copy = strndup(root_text, len);
    if (!copy)
        return cs_err_set(err, CS_ENOMEM, "out of memory");
    if ((rc = content_catalog_begin(cat, err)) == 0) {
        rc = content_catalog_state_set(cat, "trust.root", copy, err);
        if (rc == 0)
            rc = content_catalog_commit(cat, err);
        else
            content_catalog_rollback(cat);
    }
    free(copy);
    return rc;
}

/* Test hook, compiled in always: CISTERN_TEST_KILL_AT=POINT makes the
 * process kill itself with SIGKILL (what kill -9 does) on reaching POINT,
 * so tests can hit instants a random kill almost never lands on.  Points:
 * commit-begin (the apply transaction just opened), commit-mid (catalogue
 * and version written, not committed), after-commit (committed, before
 * anything else), after-request (network sync: the objects of a request
 * just made durable).  Read from the environment only; unset, it costs a
 * getenv per point. */
void sync_test_kill_point(const char *point)
{
    const char *want = getenv("CISTERN_TEST_KILL_AT");
    if (want && strcmp(want, point) == 0)
        raise(SIGKILL);
}

/* ---- reading metadata from a source (a bundle here) ---- */

static int bundle_get(void *ctx, const char *name, uint64_t max, uint8_t **out, size_t *len, cs_err *err)
{
    sync_bundle *b = ctx;
    const sync_bundle_entry *e = sync_bundle_find(b, BUNDLE_META, name);
    if (!e)
        e = sync_bundle_find(b, BUNDLE_CATALOG, name);
    if (!e)
        return cs_err_set(err, CS_ENOENT, "bundle has no %s", name);
    int rc = sync_bundle_read(b, e, max, out, err);
    if (rc == 0)
        *len = (size_t)e->length;
    return rc;
}

int64_t sync_state_int(content_catalog *cat, const char *key)
{
    char *v = NULL;
    int64_t x = 0;
    if (content_catalog_state_get(cat, key, &v, NULL) == 0 && v)
        x = strtoll(v, NULL, 10);
    free(v);
    return x;
}

void sync_verified_clear(sync_verified *v)
{
    sync_root_free(v->root);
    free(v->root_text);
    json_decref(v->targets);
    memset(v, 0, sizeof *v);
}

static int check_expiry(const char *what, int64_t expires, const sync_apply_options *opt, cs_err *err)
{
    if (opt->now > expires + opt->expiry_slack) {
        char a[32], b[32];
        cs_time_format(expires, a, sizeof a);
        cs_time_format(opt->now, b, sizeof b);
        return cs_err_set(err, CS_EEXPIRED,
                          "%s metadata expired at %s (now %s, grace %lld s): refusing a possibly "
                          "frozen repository",
                          what, a, b, (long long)opt->expiry_slack);
    }
    return 0;
}

static void note_issued(const json_t *signed_part, sync_verified *out)
{
    int64_t t = 0;
    const char *s = json_string_value(json_object_get(signed_part, "issued"));
    if (s && cs_time_parse(s, &t) == 0 && t > out->issued)
        out->issued = t;
}

int sync_trust_time_note(content_catalog *cat, const sync_verified *v, cs_err *err)
{
    char num[32];
    if (v->issued <= sync_state_int(cat, "trust.time"))
        return 0;
    snprintf(num, sizeof num, "%lld", (long long)v->issued);
    return content_catalog_state_set(cat, "trust.time", num, err);
}

/* Follow the root chain, then timestamp -> snapshot -> targets. */
int sync_verify_metadata(content_catalog *cat, sync_meta_get_fn get, void *ctx,
                         const sync_apply_options *opt, sync_verified *out, cs_err *err)
{
    char *trusted = NULL;
    uint8_t *data = NULL;
    size_t len = 0;
    json_t *ts = NULL, *snap = NULL;
    int rc = content_catalog_state_get(cat, "trust.root", &trusted, err);
    if (rc)
        return rc;
    if (!trusted)
        return cs_err_set(err, CS_ENOTREADY, "this node has no pinned trust root (run `cistern node init --trust`)");
    char *trusted_copy = trusted;
    rc = sync_root_load(&out->root, trusted, strlen(trusted), err);
    if (rc) {
        free(trusted);
        cs_err_wrap(err, "pinned trust root");
        return rc;
    }
    sync_root *pinned = NULL;
    if ((rc = sync_root_load(&pinned, trusted_copy, strlen(trusted_copy), err)) != 0)
        goto out;
    for (int step = 0; step < MAX_ROOT_STEPS; step++) {
        char name[64];
        snprintf(name, sizeof name, "%lld.root.json", (long long)(sync_root_version(out->root) + 1));
        rc = get(ctx, name, SYNC_ROOT_MAX, &data, &len, err);
        if (rc == CS_ENOENT) {
            cs_err_clear(err);
            rc = 0;
            break;
        }
        if (rc)
            goto out;
        sync_root *next = NULL;
        if ((rc = sync_root_rotate(out->root, (const char *)data, len, &next, err)) != 0)
            goto out;
        sync_root_free(out->root);
        out->root = next;
        free(out->root_text);
        out->root_text = strndup((const char *)data, len);
        free(data);
        data = NULL;
    }
    if ((rc = check_expiry("root", sync_root_expires(out->root), opt, err)) != 0)
        goto out;
    /* New timestamp or snapshot keys: forget the versions seen under the
     * old ones (TUF's recovery from a fast-forward attack). */
    out->reset_timestamp = !sync_root_role_same(pinned, out->root, SYNC_TIMESTAMP);
    out->reset_snapshot = !sync_root_role_same(pinned, out->root, SYNC_SNAPSHOT);
    int64_t seen_ts = out->reset_timestamp ? 0 : sync_state_int(cat, "trust.timestamp_version");
    int64_t seen_snap = out->reset_snapshot ? 0 : sync_state_int(cat, "trust.snapshot_version");

    int64_t version, expires;
    sync_fileref ref;
    if ((rc = get(ctx, "timestamp.json", SYNC_META_MAX, &data, &len, err)) != 0 ||
        (rc = sync_meta_verify(out->root, SYNC_TIMESTAMP, (const char *)data, len, &ts, err)) != 0 ||
        (rc = sync_meta_version(ts, &version, &expires, err)) != 0)
        goto out;
    free(data);
    data = NULL;
    /* A bundle's timestamp may be weeks old (no expiry check), but never
     * older than one this node has seen: a bundle made later than what a
     * node fetched has a higher timestamp version (every signing counts). */
    if (!opt->ignore_timestamp_expiry && (rc = check_expiry("timestamp", expires, opt, err)) != 0)
        goto out;
    if (version < seen_ts) {
        rc = cs_err_set(
            err, CS_EROLLBACK,
            "timestamp version %lld is older than the %lld this node has seen (rollback or a "
            "fast-forwarded timestamp; rotating the timestamp key in a new root resets it)",
            (long long)version, (long long)seen_ts);
        goto out;
    }
    out->ts_version = version;
    note_issued(ts, out);
    if ((rc = sync_fileref_parse(json_object_get(json_object_get(ts, "meta"), "snapshot.json"), &ref, err)) != 0)
        goto out;
    if ((rc = get(ctx, ref.path, SYNC_META_MAX, &data, &len, err)) != 0 ||
        (rc = sync_fileref_check(&ref, data, len, err)) != 0 ||
        (rc = sync_meta_verify(out->root, SYNC_SNAPSHOT, (const char *)data, len, &snap, err)) != 0 ||
        (rc = sync_meta_version(snap, &version, &expires, err)) != 0)
        goto out;
    free(data);
    data = NULL;
    if (version != ref.version) {
        rc = cs_err_set(err, CS_EHASH, "snapshot is version %lld but timestamp names %lld (mix-and-match)",
                        (long long)version, (long long)ref.version);
        goto out;
    }
    if (version < seen_snap) {
        rc = cs_err_set(err, CS_EROLLBACK, "snapshot version %lld is older than the %lld this node has applied",
                        (long long)version, (long long)seen_snap);
        goto out;
    }
    if ((rc = check_expiry("snapshot", expires, opt, err)) != 0)
        goto out;
    out->snap_version = version;
    note_issued(snap, out);
    if ((rc = sync_fileref_parse(json_object_get(json_object_get(snap, "meta"), "targets.json"), &ref, err)) != 0)
        goto out;
    if ((rc = get(ctx, ref.path, SYNC_META_MAX, &data, &len, err)) != 0 ||
        (rc = sync_fileref_check(&ref, data, len, err)) != 0 ||
        (rc = sync_meta_verify(out->root, SYNC_TARGETS, (const char *)data, len, &out->targets, err)) != 0 ||
        (rc = sync_meta_version(out->targets, &version, &expires, err)) != 0)
        goto out;
    if (version != ref.version) {
        rc = cs_err_set(err, CS_EHASH, "targets is version %lld but snapshot names %lld (mix-and-match)",
                        (long long)version, (long long)ref.version);
        goto out;
    }
    if ((rc = check_expiry("targets", expires, opt, err)) != 0)
        goto out;
    out->targets_version = version;
out:
    sync_root_free(pinned);
    free(trusted_copy);
    free(data);
    json_decref(ts);
    json_decref(snap);
    return rc;
}

/* ---- the set of objects the new catalogue names ---- */

static size_t objset_slot(const sync_objset *s, const uint8_t id[32])
{
    uint64_t h;
    memcpy(&h, id, 8);
    size_t i = (size_t)(h & (s->cap - 1));
    while (s->slots[i].used && memcmp(s->slots[i].id, id, 32) != 0)
        i = (i + 1) & (s->cap - 1);
    return i;
}

int sync_objset_add(sync_objset *s, const uint8_t id[32], uint64_t raw, uint64_t enc)
{
    if ((s->n + 1) * 2 > s->cap) {
        sync_objset bigger = {calloc(s->cap ? s->cap * 2 : 1024, sizeof(sync_objent)), s->cap ? s->cap * 2 : 1024, 0};
        if (!bigger.slots)
            return CS_ENOMEM;
        for (size_t i = 0; i < s->cap; i++)
            if (s->slots[i].used) {
                bigger.slots[objset_slot(&bigger, s->slots[i].id)] = s->slots[i];
                bigger.n++;
            }
        free(s->slots);
        *s = bigger;
    }
    size_t i = objset_slot(s, id);
    if (s->slots[i].used)
        return 0;
    memcpy(s->slots[i].id, id, 32);
    s->slots[i].raw_len = raw;
    s->slots[i].enc_len = enc;
    s->slots[i].used = 1;
    s->n++;
    return 0;
}

sync_objent *sync_objset_find(sync_objset *s, const uint8_t id[32])
{
    if (!s->cap)
        return NULL;
    size_t i = objset_slot(s, id);
    return s->slots[i].used ? &s->slots[i] : NULL;
}

const sync_objent *sync_objset_get(const sync_objset *s, const uint8_t id[32])
{
    if (!s->cap)
        return NULL;
    size_t i = objset_slot(s, id);
    return s->slots[i].used ? &s->slots[i] : NULL;
}

int sync_collect_record(void *vctx, json_t *rec, cs_err *err)
{
    sync_objset *set = vctx;
    const char *op = json_string_value(json_object_get(rec, "op"));
    if (!op || strcmp(op, "put") != 0)
        return 0;
    content_resource *r = NULL;
    int rc = sync_record_to_resource(rec, &r, err);
    if (rc)
        return rc;
    json_t *files = json_object_get(rec, "files");
    for (size_t i = 0; i < r->nfiles && rc == 0; i++) {
        if (sync_objset_add(set, r->files[i].object, r->files[i].size, r->files[i].enc_len) != 0) {
            rc = cs_err_set(err, CS_ENOMEM, "out of memory");
            break;
        }
        /* Deltas named for this file (validated by sync_record_to_resource). */
        json_t *d = json_array_get(json_array_get(files, i), 5);
        sync_objent *e = sync_objset_find(set, r->files[i].object);
        size_t k;
        json_t *de;
        json_array_foreach(d, k, de)
        {
            if (!e || e->ndeltas >= SYNC_OBJ_DELTAS)
                break;
            uint8_t b[32];
            int dup = 0;
            if (cs_hex_decode(json_string_value(json_array_get(de, 0)), b, 32) != 0)
                continue;
            for (int q = 0; q < e->ndeltas && !dup; q++)
                dup = memcmp(e->delta_base[q], b, 32) == 0;
            if (!dup) {
                memcpy(e->delta_base[e->ndeltas], b, 32);
                e->delta_len[e->ndeltas] = (uint64_t)json_integer_value(json_array_get(de, 1));
                e->ndeltas++;
            }
        }
    }
    content_resource_free(r);
    return rc;
}

static int file_present(void *ctx, const content_resource *r, const content_file *f)
{
    return content_store_has((content_store *)ctx, f->object) ? 1 : 0;
}

int sync_collect_objects(const uint8_t *catdata, size_t catlen, sync_objset *set, cs_err *err)
{
    return sync_catfile_read(catdata, catlen, NULL, sync_collect_record, set, err);
}

int sync_commit_version(content_catalog *cat, content_store *store, const uint8_t *catdata, size_t catlen,
                        const sync_verified *v, cs_err *err)
{
    char num[32];
    int rc = content_catalog_begin(cat, err);
    if (rc)
        return rc;
    sync_test_kill_point("commit-begin");
    if ((rc = sync_catfile_apply(cat, catdata, catlen, file_present, store, err)) != 0)
        goto fail;
    if ((rc = content_catalog_set_version(cat, v->targets_version, err)) != 0)
        goto fail;
    sync_test_kill_point("commit-mid");
    if (v->root_text && (rc = content_catalog_state_set(cat, "trust.root", v->root_text, err)) != 0)
        goto fail;
    snprintf(num, sizeof num, "%lld", (long long)v->snap_version);
    if ((rc = content_catalog_state_set(cat, "trust.snapshot_version", num, err)) != 0)
        goto fail;
    snprintf(num, sizeof num, "%lld", (long long)v->targets_version);
    if ((rc = content_catalog_state_set(cat, "trust.targets_version", num, err)) != 0)
        goto fail;
    if (v->reset_timestamp || v->ts_version > sync_state_int(cat, "trust.timestamp_version")) {
        snprintf(num, sizeof num, "%lld", (long long)v->ts_version);
        if ((rc = content_catalog_state_set(cat, "trust.timestamp_version", num, err)) != 0)
            goto fail;
    }
    if ((rc = sync_trust_time_note(cat, v, err)) != 0)
        goto fail;
    rc = content_catalog_commit(cat, err);
    if (rc == 0)
        return 0;
fail:
    content_catalog_rollback(cat);
    return rc;
}

int sync_import_bundle(content_catalog *cat, content_store *store, const char *bundle_path,
                       const sync_apply_options *opt, sync_progress_cb progress, void *pctx,
                       sync_import_stats *stats, cs_err *err)
{
    sync_bundle *b = NULL;
    sync_verified v;
    memset(&v, 0, sizeof v);
    uint8_t *catdata = NULL;
    size_t catlen = 0;
    sync_objset need = {0};
    sync_import_stats st;
    memset(&st, 0, sizeof st);
    int rc = sync_bundle_open(&b, bundle_path, err);
    if (rc)
        return rc;
    if ((rc = sync_verify_metadata(cat, bundle_get, b, opt, &v, err)) != 0)
        goto out;
    int64_t cur = 0;
    if ((rc = content_catalog_version(cat, &cur, err)) != 0)
        goto out;
    st.from_version = cur;
    st.to_version = v.targets_version;
    if ((uint64_t)v.targets_version != b->to_version) {
        rc = cs_err_set(err, CS_EFORMAT, "bundle header says version %llu but its signed metadata is version %lld",
                        (unsigned long long)b->to_version, (long long)v.targets_version);
        goto out;
    }
    if (v.targets_version < cur) {
        rc = cs_err_set(err, CS_EROLLBACK, "bundle brings version %lld, older than this node's version %lld: refused",
                        (long long)v.targets_version, (long long)cur);
        goto out;
    }
    if (v.targets_version == cur) {
        rc = cs_err_set(err, CS_EEXIST, "this node is already at version %lld", (long long)cur);
        goto out;
    }
    /* Pick the catalogue: the delta from our version, else the full one. */
    json_t *catj = json_object_get(v.targets, "catalog");
    sync_fileref ref;
    const sync_bundle_entry *ce = NULL;
    if (cur > 0) {
        char key[32];
        snprintf(key, sizeof key, "%lld", (long long)cur);
        json_t *d = json_object_get(json_object_get(catj, "deltas"), key);
        if (d && sync_fileref_parse(d, &ref, NULL) == 0)
            ce = sync_bundle_find(b, BUNDLE_CATALOG, ref.path);
    }
    if (!ce) {
        if ((rc = sync_fileref_parse(json_object_get(catj, "full"), &ref, err)) != 0)
            goto out;
        ce = sync_bundle_find(b, BUNDLE_CATALOG, ref.path);
    }
    if (!ce) {
        rc = cs_err_set(err, CS_EINVAL,
                        "this bundle updates nodes at version %llu, but this node is at version %lld: "
                        "make one with `cistern hub bundle REPO --since %lld`",
                        (unsigned long long)b->since, (long long)cur, (long long)cur);
        goto out;
    }
    if (ce->length != ref.length || ce->length > CATALOG_MAX) {
        rc = cs_err_set(err, CS_EHASH, "bundle catalogue is %llu bytes, signed metadata says %llu",
                        (unsigned long long)ce->length, (unsigned long long)ref.length);
        goto out;
    }
    if ((rc = sync_bundle_read(b, ce, CATALOG_MAX, &catdata, err)) != 0)
        goto out;
    catlen = (size_t)ce->length;
    if ((rc = sync_fileref_check(&ref, catdata, catlen, err)) != 0)
        goto out;
    if ((rc = sync_collect_objects(catdata, catlen, &need, err)) != 0) {
        cs_err_wrap(err, "bundle catalogue");
        goto out;
    }
    /* Objects: each must be named by the signed catalogue with this length. */
    uint64_t total = 0, done = 0;
    for (uint32_t i = 0; i < b->n; i++)
        if (b->entries[i].kind == BUNDLE_OBJECT)
            total += b->entries[i].length;
    st.objects_total = need.n;
    for (uint32_t i = 0; i < b->n; i++) {
        const sync_bundle_entry *e = &b->entries[i];
        if (e->kind != BUNDLE_OBJECT)
            continue;
        char hex[CS_SHA256_HEX];
        cs_hex_encode(e->hash, 32, hex);
        const sync_objent *o = sync_objset_get(&need, e->hash);
        if (!o) {
            rc = cs_err_set(err, CS_EHASH, "bundle carries object %.16s… that the signed catalogue does not name", hex);
            goto out;
        }
        if (o->enc_len != e->length) {
            rc = cs_err_set(err, CS_EHASH, "bundle object %.16s… is %llu bytes, the signed catalogue says %llu",
                            hex, (unsigned long long)e->length, (unsigned long long)o->enc_len);
            goto out;
        }
        done += e->length;
        if (content_store_has(store, e->hash)) {
            st.objects_present++;
            continue; /* verified by an earlier, interrupted import */
        }
        if ((rc = content_store_put_encoded_fd(store, e->hash, b->fd, e->offset, e->length, err)) != 0) {
            cs_err_wrap(err, "bundle object %.16s…", hex);
            cs_err tmp;
            content_store_flush(store, &tmp); /* keep what verified, for the retry */
            goto out;
        }
        st.objects_stored++;
        st.bytes_read += e->length;
        if (content_store_pending(store) >= FLUSH_EVERY && (rc = content_store_flush(store, err)) != 0)
            goto out;
        if (progress)
            progress(pctx, "verifying", done, total);
    }
    if ((rc = content_store_flush(store, err)) != 0)
        goto out;
    if (progress)
        progress(pctx, "applying", 0, 0);
    if ((rc = sync_commit_version(cat, store, catdata, catlen, &v, err)) != 0)
        goto out;
    if (stats)
        *stats = st;
out:
    free(need.slots);
    free(catdata);
    sync_verified_clear(&v);
    sync_bundle_free(b);
    return rc;
}
