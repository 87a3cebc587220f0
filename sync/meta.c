/*
 * meta.c - parsing, signing and verifying repository metadata.
 */
#include "sync/meta.h"

#include <stdlib.h>
#include <string.h>

#include "platform/time.h"

typedef struct root_key {
    char id[CS_KEYID_HEX];
    cs_key *key;
} root_key;

typedef struct role_spec {
    char keyids[SYNC_MAX_KEYS][CS_KEYID_HEX];
    int nkeys;
    int threshold;
} role_spec;

struct sync_root {
    int64_t version;
    int64_t expires;
    root_key keys[SYNC_MAX_KEYS];
    int nkeys;
    role_spec roles[SYNC_NROLES];
};

static const char *role_names[SYNC_NROLES] = {"root", "targets", "snapshot", "timestamp"};

const char *sync_role_name(sync_role r)
{
    return r < SYNC_NROLES ? role_names[r] : "?";
}

/* Refuse reals anywhere in a value (they have no canonical form here). */
static int no_reals(const json_t *v, int depth)
{
    if (depth > 32)
        return 0;
    if (json_is_real(v))
        return 0;
    if (json_is_object(v)) {
        const char *k;
        json_t *x;
        json_object_foreach((json_t *)v, k, x) if (!no_reals(x, depth + 1)) return 0;
    } else if (json_is_array(v)) {
        size_t i;
        json_t *x;
        json_array_foreach(v, i, x) if (!no_reals(x, depth + 1)) return 0;
    }
    return 1;
}

int sync_canonical(const json_t *v, char **out, size_t *len, cs_err *err)
{
    if (!no_reals(v, 0))
        return cs_err_set(err, CS_EFORMAT, "metadata holds a floating point number or is nested too deep");
    char *s = json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENSURE_ASCII | JSON_ENCODE_ANY);
    if (!s)
        return cs_err_set(err, CS_ENOMEM, "cannot serialise metadata");
    *out = s;
    *len = strlen(s);
    return 0;
}

int sync_meta_version(const json_t *s, int64_t *version, int64_t *expires, cs_err *err)
{
    json_t *v = json_object_get(s, "version");
    json_t *e = json_object_get(s, "expires");
    if (!json_is_integer(v) || json_integer_value(v) < 0)
        return cs_err_set(err, CS_EFORMAT, "metadata has no valid \"version\"");
    if (!json_is_string(e) || cs_time_parse(json_string_value(e), expires) != 0)
        return cs_err_set(err, CS_EFORMAT, "metadata has no valid \"expires\" (YYYY-MM-DDTHH:MM:SSZ)");
    *version = json_integer_value(v);
    return 0;
}

/* Parse an envelope: returns the root JSON; *signed_out borrowed from it. */
static int envelope_parse(const char *text, size_t len, size_t max, json_t **out, cs_err *err)
{
    if (len > max)
        return cs_err_set(err, CS_ETOOBIG, "metadata is %zu bytes, over the limit of %zu", len, max);
    json_error_t je;
    json_t *j = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
    if (!j)
        return cs_err_set(err, CS_EFORMAT, "metadata is not valid JSON (line %d: %s)", je.line, je.text);
    json_t *s = json_object_get(j, "signed");
    json_t *sigs = json_object_get(j, "signatures");
    if (!json_is_object(j) || !json_is_object(s) || !json_is_array(sigs) ||
        json_object_size(j) != 2) {
        json_decref(j);
        return cs_err_set(err, CS_EFORMAT, "metadata must be {\"signed\": {...}, \"signatures\": [...]}");
    }
    if (json_array_size(sigs) > SYNC_MAX_SIGS) {
        json_decref(j);
        return cs_err_set(err, CS_ETOOBIG, "metadata carries more than %d signatures", SYNC_MAX_SIGS);
    }
    *out = j;
    return 0;
}

static int check_type(const json_t *s, sync_role role, cs_err *err)
{
    const char *t = json_string_value(json_object_get(s, "_type"));
    const char *spec = json_string_value(json_object_get(s, "spec"));
    if (!t || strcmp(t, role_names[role]) != 0)
        return cs_err_set(err, CS_EFORMAT, "expected %s metadata, got \"%s\"", role_names[role],
                          t ? t : "(none)");
    if (!spec || strcmp(spec, SYNC_SPEC) != 0)
        return cs_err_set(err, CS_EUNSUPPORTED, "%s metadata is for spec \"%s\", this node speaks \"%s\"",
                          role_names[role], spec ? spec : "(none)", SYNC_SPEC);
    return 0;
}

static const root_key *root_find_key(const sync_root *r, const char *id)
{
    for (int i = 0; i < r->nkeys; i++)
        if (strcmp(r->keys[i].id, id) == 0)
            return &r->keys[i];
    return NULL;
}

/* Count distinct keys of `spec` (from `keys_of`) with a valid signature. */
static int count_valid(const sync_root *keys_of, const role_spec *spec, const json_t *sigs,
                       const char *msg, size_t msg_len)
{
    int seen[SYNC_MAX_KEYS] = {0};
    int valid = 0;
    size_t i;
    json_t *sig;
    json_array_foreach(sigs, i, sig)
    {
        const char *kid = json_string_value(json_object_get(sig, "keyid"));
        const char *hex = json_string_value(json_object_get(sig, "sig"));
        if (!kid || !hex)
            continue;
        int idx = -1;
        for (int k = 0; k < spec->nkeys; k++)
            if (strcmp(spec->keyids[k], kid) == 0)
                idx = k;
        if (idx < 0 || seen[idx])
            continue;
        const root_key *rk = root_find_key(keys_of, kid);
        size_t hl = strlen(hex);
        uint8_t der[CS_SIG_MAX];
        if (!rk || hl == 0 || hl % 2 || hl / 2 > sizeof der || cs_hex_decode(hex, der, hl / 2))
            continue;
        if (cs_key_verify(rk->key, msg, msg_len, der, hl / 2, NULL) == 0) {
            seen[idx] = 1;
            valid++;
        }
    }
    return valid;
}

static int parse_role_spec(const json_t *roles, sync_role role, role_spec *out, const sync_root *r,
                           cs_err *err)
{
    json_t *o = json_object_get(roles, role_names[role]);
    json_t *ids = json_object_get(o, "keyids");
    json_t *th = json_object_get(o, "threshold");
    if (!json_is_object(o) || !json_is_array(ids) || !json_is_integer(th))
        return cs_err_set(err, CS_EFORMAT, "root: role \"%s\" needs keyids and threshold", role_names[role]);
    if (json_array_size(ids) == 0 || json_array_size(ids) > SYNC_MAX_KEYS)
        return cs_err_set(err, CS_EFORMAT, "root: role \"%s\" has %zu keys (1..%d allowed)",
                          role_names[role], json_array_size(ids), SYNC_MAX_KEYS);
    out->nkeys = 0;
    size_t i;
    json_t *id;
    json_array_foreach(ids, i, id)
    {
        const char *s = json_string_value(id);
        if (!s || !root_find_key(r, s))
            return cs_err_set(err, CS_EFORMAT, "root: role \"%s\" names an unknown key", role_names[role]);
        for (int k = 0; k < out->nkeys; k++)
            if (strcmp(out->keyids[k], s) == 0)
                return cs_err_set(err, CS_EFORMAT, "root: role \"%s\" lists a key twice", role_names[role]);
        snprintf(out->keyids[out->nkeys++], CS_KEYID_HEX, "%s", s);
    }
    json_int_t t = json_integer_value(th);
    if (t < 1 || t > out->nkeys)
        return cs_err_set(err, CS_EFORMAT, "root: role \"%s\" threshold %lld is not in 1..%d",
                          role_names[role], (long long)t, out->nkeys);
    out->threshold = (int)t;
    return 0;
}

void sync_root_free(sync_root *r)
{
    if (!r)
        return;
    for (int i = 0; i < r->nkeys; i++)
        cs_key_free(r->keys[i].key);
    free(r);
}

/* Parse the signed part of a root without checking signatures. */
static int root_parse_signed(const json_t *s, sync_root **out, cs_err *err)
{
    int rc = check_type(s, SYNC_ROOT, err);
    if (rc)
        return rc;
    sync_root *r = calloc(1, sizeof *r);
    if (!r)
        return cs_err_set(err, CS_ENOMEM, "out of memory");
    if ((rc = sync_meta_version(s, &r->version, &r->expires, err)) != 0)
        goto fail;
    json_t *keys = json_object_get(s, "keys");
    json_t *roles = json_object_get(s, "roles");
    if (!json_is_object(keys) || !json_is_object(roles)) {
        rc = cs_err_set(err, CS_EFORMAT, "root: \"keys\" and \"roles\" must be objects");
        goto fail;
    }
    if (json_object_size(keys) == 0 || json_object_size(keys) > SYNC_MAX_KEYS) {
        rc = cs_err_set(err, CS_EFORMAT, "root: %zu keys (1..%d allowed)", json_object_size(keys),
                        SYNC_MAX_KEYS);
        goto fail;
    }
    const char *kid;
    json_t *kv;
    json_object_foreach(keys, kid, kv)
    {
        const char *type = json_string_value(json_object_get(kv, "keytype"));
        const char *pem = json_string_value(json_object_get(kv, "public"));
        if (!type || strcmp(type, "ecdsa-p256") != 0 || !pem) {
            rc = cs_err_set(err, CS_EFORMAT, "root: key %.16s is not an ecdsa-p256 public key", kid);
            goto fail;
        }
        cs_key *k = NULL;
        if ((rc = cs_key_parse_public(&k, pem, strlen(pem), err)) != 0)
            goto fail;
        char real[CS_KEYID_HEX];
        if ((rc = cs_key_id(k, real, err)) != 0 || strcmp(real, kid) != 0) {
            cs_key_free(k);
            rc = rc ? rc : cs_err_set(err, CS_EFORMAT, "root: key id %.16s does not match its key", kid);
            goto fail;
        }
        snprintf(r->keys[r->nkeys].id, CS_KEYID_HEX, "%s", kid);
        r->keys[r->nkeys++].key = k;
    }
    for (int role = 0; role < SYNC_NROLES; role++)
        if ((rc = parse_role_spec(roles, (sync_role)role, &r->roles[role], r, err)) != 0)
            goto fail;
    *out = r;
    return 0;
fail:
    sync_root_free(r);
    return rc;
}

/* Parse a root envelope; verify it against `signer` (may be NULL) and itself. */
static int root_load(const sync_root *signer, const char *text, size_t len, sync_root **out, cs_err *err)
{
    json_t *env = NULL;
    char *canon = NULL;
    size_t clen = 0;
    sync_root *r = NULL;
    int rc = envelope_parse(text, len, SYNC_ROOT_MAX, &env, err);
    if (rc)
        return rc;
    json_t *s = json_object_get(env, "signed");
    json_t *sigs = json_object_get(env, "signatures");
    if ((rc = root_parse_signed(s, &r, err)) != 0)
        goto out;
    if ((rc = sync_canonical(s, &canon, &clen, err)) != 0)
        goto out;
    if (signer) {
        const role_spec *old = &signer->roles[SYNC_ROOT];
        int n = count_valid(signer, old, sigs, canon, clen);
        if (n < old->threshold) {
            rc = cs_err_set(err, CS_ESIG, "root version %lld is signed by %d of the %d keys the trusted root (version %lld) requires",
                            (long long)r->version, n, old->threshold, (long long)signer->version);
            goto out;
        }
    }
    int n = count_valid(r, &r->roles[SYNC_ROOT], sigs, canon, clen);
    if (n < r->roles[SYNC_ROOT].threshold) {
        rc = cs_err_set(err, CS_ESIG, "root version %lld is signed by %d of its own %d required root keys",
                        (long long)r->version, n, r->roles[SYNC_ROOT].threshold);
        goto out;
    }
    *out = r;
    r = NULL;
out:
    free(canon);
    json_decref(env);
    sync_root_free(r);
    return rc;
}

int sync_root_load(sync_root **out, const char *text, size_t len, cs_err *err)
{
    return root_load(NULL, text, len, out, err);
}

int sync_root_rotate(const sync_root *cur, const char *text, size_t len, sync_root **out, cs_err *err)
{
    sync_root *r = NULL;
    int rc = root_load(cur, text, len, &r, err);
    if (rc)
        return rc;
    if (r->version != cur->version + 1) {
        rc = cs_err_set(err, CS_EROLLBACK, "root version %lld cannot follow trusted root version %lld",
                        (long long)r->version, (long long)cur->version);
        sync_root_free(r);
        return rc;
    }
    *out = r;
    return 0;
}

int64_t sync_root_version(const sync_root *r)
{
    return r->version;
}

int64_t sync_root_expires(const sync_root *r)
{
    return r->expires;
}

int sync_meta_verify(const sync_root *root, sync_role role, const char *text, size_t len,
                     json_t **signed_out, cs_err *err)
{
    json_t *env = NULL;
    char *canon = NULL;
    size_t clen = 0;
    int rc = envelope_parse(text, len, SYNC_META_MAX, &env, err);
    if (rc)
        return rc;
    json_t *s = json_object_get(env, "signed");
    if ((rc = check_type(s, role, err)) != 0)
        goto out;
    if ((rc = sync_canonical(s, &canon, &clen, err)) != 0)
        goto out;
    const role_spec *spec = &root->roles[role];
    int n = count_valid(root, spec, json_object_get(env, "signatures"), canon, clen);
    if (n < spec->threshold) {
        rc = cs_err_set(err, CS_ESIG, "%s metadata has %d valid signatures from %s keys, %d required",
                        role_names[role], n, role_names[role], spec->threshold);
        goto out;
    }
    *signed_out = json_incref(s);
out:
    free(canon);
    json_decref(env);
    return rc;
}

int sync_meta_sign(const json_t *signed_obj, cs_key *const *keys, size_t nkeys, char **out,
                   size_t *len, cs_err *err)
{
    char *canon = NULL;
    size_t clen = 0;
    int rc = sync_canonical(signed_obj, &canon, &clen, err);
    if (rc)
        return rc;
    json_t *sigs = json_array();
    for (size_t i = 0; i < nkeys && rc == 0; i++) {
        uint8_t der[CS_SIG_MAX];
        size_t dlen = 0;
        char kid[CS_KEYID_HEX], hex[2 * CS_SIG_MAX + 1];
        if ((rc = cs_key_id(keys[i], kid, err)) != 0 ||
            (rc = cs_key_sign(keys[i], canon, clen, der, &dlen, err)) != 0)
            break;
        cs_hex_encode(der, dlen, hex);
        json_array_append_new(sigs, json_pack("{s:s,s:s}", "keyid", kid, "sig", hex));
    }
    free(canon);
    if (rc) {
        json_decref(sigs);
        return rc;
    }
    json_t *env = json_pack("{s:O,s:o}", "signed", signed_obj, "signatures", sigs);
    char *s = env ? json_dumps(env, JSON_INDENT(1) | JSON_SORT_KEYS | JSON_ENSURE_ASCII) : NULL;
    json_decref(env);
    if (!s)
        return cs_err_set(err, CS_ENOMEM, "cannot serialise metadata");
    *out = s;
    *len = strlen(s);
    return 0;
}

int sync_fileref_parse(const json_t *o, sync_fileref *out, cs_err *err)
{
    const char *path = json_string_value(json_object_get(o, "path"));
    const char *hex = json_string_value(json_object_get(o, "sha256"));
    json_t *len = json_object_get(o, "length");
    json_t *ver = json_object_get(o, "version");
    if (!json_is_object(o) || !path || !hex || !json_is_integer(len) || json_integer_value(len) < 0)
        return cs_err_set(err, CS_EFORMAT, "file reference needs path, length and sha256");
    if (strlen(path) >= sizeof out->path || strstr(path, "..") || path[0] == '/')
        return cs_err_set(err, CS_EFORMAT, "file reference has a bad path");
    sync_fileref f;
    memset(&f, 0, sizeof f);
    snprintf(f.path, sizeof f.path, "%s", path);
    if (cs_hex_decode(hex, f.sha256, 32) != 0)
        return cs_err_set(err, CS_EFORMAT, "file reference has a bad sha256");
    f.length = (uint64_t)json_integer_value(len);
    if (ver) {
        if (!json_is_integer(ver) || json_integer_value(ver) < 0)
            return cs_err_set(err, CS_EFORMAT, "file reference has a bad version");
        f.version = json_integer_value(ver);
    }
    *out = f;
    return 0;
}

json_t *sync_fileref_json(const sync_fileref *f)
{
    char hex[CS_SHA256_HEX];
    cs_hex_encode(f->sha256, 32, hex);
    json_t *o = json_pack("{s:s,s:I,s:s}", "path", f->path, "length", (json_int_t)f->length,
                          "sha256", hex);
    if (o && f->version)
        json_object_set_new(o, "version", json_integer(f->version));
    return o;
}

int sync_fileref_check(const sync_fileref *f, const void *data, size_t len, cs_err *err)
{
    if (len != f->length)
        return cs_err_set(err, CS_EHASH, "%s is %zu bytes, signed metadata says %llu", f->path, len,
                          (unsigned long long)f->length);
    uint8_t h[32];
    cs_sha256_buf(data, len, h);
    if (memcmp(h, f->sha256, 32) != 0)
        return cs_err_set(err, CS_EHASH, "%s does not match the hash in signed metadata", f->path);
    return 0;
}

int sync_root_role_same(const sync_root *a, const sync_root *b, sync_role role)
{
    const role_spec *x = &a->roles[role], *y = &b->roles[role];
    if (x->nkeys != y->nkeys || x->threshold != y->threshold)
        return 0;
    for (int i = 0; i < x->nkeys; i++) {
        int found = 0;
        for (int j = 0; j < y->nkeys && !found; j++)
            found = strcmp(x->keyids[i], y->keyids[j]) == 0;
        if (!found)
            return 0;
    }
    return 1;
}
