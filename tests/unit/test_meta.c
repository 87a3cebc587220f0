/*
 * test_meta.c - signed repository metadata (sync/meta.h): roots that vouch
 * for themselves, thresholds of distinct keys, role separation, canonical
 * form, tampering, envelope limits, root rotation and file references.
 *
 * All metadata is built here with jansson and sync_meta_sign, in the shapes
 * sync/hub.c and sync/hub_version.c produce.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "platform/crypto.h"
#include "platform/time.h"
#include "sync/meta.h"
#include "test.h"

enum { R1, R2, R3, TGT, SNAP, TS, OUT, NKEYS };
static cs_key *keys[NKEYS];
static char kid[NKEYS][CS_KEYID_HEX];

#define EXPIRES "2030-01-01T00:00:00Z"

static int keys_init(void)
{
    cs_err err = {0};
    for (int i = 0; i < NKEYS; i++)
        if (cs_key_generate(&keys[i], &err) != 0 || cs_key_id(keys[i], kid[i], &err) != 0) {
            fprintf(stderr, "key generation: %s\n", err.msg);
            return -1;
        }
    return 0;
}

static void keys_free(void)
{
    for (int i = 0; i < NKEYS; i++)
        cs_key_free(keys[i]);
}

static json_t *key_json(int k)
{
    char pem[1024];
    if (cs_key_write_public_pem(keys[k], pem, sizeof pem, NULL) != 0)
        return NULL;
    return json_pack("{s:s,s:s}", "keytype", "ecdsa-p256", "public", pem);
}

static json_t *role_json(const int *ks, int n, int threshold)
{
    json_t *ids = json_array();
    for (int i = 0; i < n; i++)
        json_array_append_new(ids, json_string(kid[ks[i]]));
    return json_pack("{s:o,s:i}", "keyids", ids, "threshold", threshold);
}

/* The signed part of a root: root role keys rk[0..nr) with threshold th;
 * targets, snapshot and timestamp have one key each. */
static json_t *root_signed(int64_t version, const int *rk, int nr, int th)
{
    json_t *jkeys = json_object();
    for (int i = 0; i < nr; i++)
        json_object_set_new(jkeys, kid[rk[i]], key_json(rk[i]));
    static const int tgt[] = {TGT}, snap[] = {SNAP}, ts[] = {TS};
    json_object_set_new(jkeys, kid[TGT], key_json(TGT));
    json_object_set_new(jkeys, kid[SNAP], key_json(SNAP));
    json_object_set_new(jkeys, kid[TS], key_json(TS));
    json_t *roles = json_pack("{s:o,s:o,s:o,s:o}", "root", role_json(rk, nr, th), "targets",
                              role_json(tgt, 1, 1), "snapshot", role_json(snap, 1, 1), "timestamp",
                              role_json(ts, 1, 1));
    return json_pack("{s:s,s:s,s:I,s:s,s:o,s:o}", "_type", "root", "spec", SYNC_SPEC, "version",
                     (json_int_t)version, "expires", EXPIRES, "keys", jkeys, "roles", roles);
}

static json_t *fileref_json(const char *path, uint64_t len, int64_t version)
{
    sync_fileref f;
    memset(&f, 0, sizeof f);
    snprintf(f.path, sizeof f.path, "%s", path);
    f.length = len;
    cs_sha256_buf(path, strlen(path), f.sha256);
    f.version = version;
    return sync_fileref_json(&f);
}

static json_t *targets_signed(int64_t version)
{
    return json_pack("{s:s,s:s,s:I,s:s,s:{s:o,s:{}}}", "_type", "targets", "spec", SYNC_SPEC,
                     "version", (json_int_t)version, "expires", EXPIRES, "catalog", "full",
                     fileref_json("catalog/full.cat", 4333, 0), "deltas");
}

static json_t *snapshot_signed(int64_t version)
{
    return json_pack("{s:s,s:s,s:I,s:s,s:{s:o}}", "_type", "snapshot", "spec", SYNC_SPEC, "version",
                     (json_int_t)version, "expires", EXPIRES, "meta", "targets.json",
                     fileref_json("1.targets.json", 626, version));
}

static json_t *timestamp_signed(int64_t version)
{
    return json_pack("{s:s,s:s,s:I,s:s,s:{s:o}}", "_type", "timestamp", "spec", SYNC_SPEC,
                     "version", (json_int_t)version, "expires", EXPIRES, "meta", "snapshot.json",
                     fileref_json("1.snapshot.json", 570, version));
}

/* Envelope text of s signed by keys signers[0..n); steals s. */
static char *sign_with(json_t *s, const int *signers, int n, size_t *len)
{
    cs_key *ks[NKEYS * 2];
    for (int i = 0; i < n; i++)
        ks[i] = keys[signers[i]];
    char *text = NULL;
    size_t l = 0;
    cs_err err = {0};
    int rc = s ? sync_meta_sign(s, ks, (size_t)n, &text, &l, &err) : CS_EINVAL;
    json_decref(s);
    if (rc) {
        fprintf(stderr, "sign: %s\n", err.msg);
        return NULL;
    }
    if (len)
        *len = l;
    return text;
}

static int root_load_text(const char *text, sync_root **out, cs_err *err)
{
    if (!text)
        return -999;
    return sync_root_load(out, text, strlen(text), err);
}

/* Load a root signed by signers; returns the code, frees everything. */
static int root_try(json_t *s, const int *signers, int n)
{
    char *text = sign_with(s, signers, n, NULL);
    sync_root *r = NULL;
    cs_err err = {0};
    int rc = root_load_text(text, &r, &err);
    CHECK(rc == 0 ? r != NULL : r == NULL);
    sync_root_free(r);
    free(text);
    return rc;
}

/* Root metadata sg signed with signers[0..n), loaded; NULL (said) if refused. */
static sync_root *root_signed_load(json_t *sg, const int *signers, int n, const char *what)
{
    char *text = sign_with(sg, signers, n, NULL);
    sync_root *r = NULL;
    cs_err err = {0};
    if (root_load_text(text, &r, &err) != 0)
        fprintf(stderr, "%s: %s\n", what, err.msg);
    free(text);
    return r;
}

static sync_root *root_v1(void)
{
    static const int rk[] = {R1};
    return root_signed_load(root_signed(1, rk, 1, 1), rk, 1, "root v1");
}

static int verify_text(const sync_root *root, sync_role role, const char *text, size_t len)
{
    json_t *s = NULL;
    cs_err err = {0};
    if (!text)
        return -999;
    int rc = sync_meta_verify(root, role, text, len, &s, &err);
    CHECK(rc == 0 ? s != NULL : s == NULL);
    if (rc == 0)
        CHECK(json_is_object(s));
    json_decref(s);
    return rc;
}

/* Sign s with signers and verify it as role against root. */
static int verify_try(const sync_root *root, sync_role role, json_t *s, const int *signers, int n)
{
    size_t len = 0;
    char *text = sign_with(s, signers, n, &len);
    int rc = verify_text(root, role, text, len);
    free(text);
    return rc;
}

/* Parse an envelope, let edit() change it, dump it back. */
static char *envelope_edit(const char *text, void (*edit)(json_t *env, void *ctx), void *ctx)
{
    json_t *env = json_loads(text, 0, NULL);
    if (!env)
        return NULL;
    edit(env, ctx);
    char *out = json_dumps(env, JSON_INDENT(1) | JSON_SORT_KEYS | JSON_ENSURE_ASCII);
    json_decref(env);
    return out;
}

/* ---- roots ---- */

static void test_root_self_signed(void)
{
    static const int rk[] = {R1};
    size_t len = 0;
    char *text = sign_with(root_signed(1, rk, 1, 1), rk, 1, &len);
    REQUIRE(text != NULL);
    sync_root *r = NULL;
    cs_err err = {0};
    int rc = sync_root_load(&r, text, len, &err);
    if (rc)
        fprintf(stderr, "root: %s\n", err.msg);
    REQUIRE(rc == 0);
    CHECK_EQ_INT(sync_root_version(r), 1);
    int64_t exp = 0;
    CHECK_EQ_INT(cs_time_parse(EXPIRES, &exp), 0);
    CHECK_EQ_INT(sync_root_expires(r), exp);
    /* A root is also valid root-role metadata for itself. */
    json_t *s = NULL;
    CHECK_EQ_INT(sync_meta_verify(r, SYNC_ROOT, text, len, &s, &err), 0);
    CHECK_STR(json_string_value(json_object_get(s, "_type")), "root");
    json_decref(s);
    sync_root_free(r);
    sync_root_free(NULL);
    free(text);

    CHECK_STR(sync_role_name(SYNC_ROOT), "root");
    CHECK_STR(sync_role_name(SYNC_TARGETS), "targets");
    CHECK_STR(sync_role_name(SYNC_SNAPSHOT), "snapshot");
    CHECK_STR(sync_role_name(SYNC_TIMESTAMP), "timestamp");
    CHECK_STR(sync_role_name(SYNC_NROLES), "?");
}

static void test_root_wrong_signer(void)
{
    static const int rk[] = {R1};
    static const int out[] = {OUT}, tgt[] = {TGT}, both[] = {TGT, TS, SNAP, OUT};
    CHECK_EQ_INT(root_try(root_signed(1, rk, 1, 1), out, 1), CS_ESIG);
    /* A key the root lists, but for another role. */
    CHECK_EQ_INT(root_try(root_signed(1, rk, 1, 1), tgt, 1), CS_ESIG);
    CHECK_EQ_INT(root_try(root_signed(1, rk, 1, 1), both, 4), CS_ESIG);
    /* No signatures at all. */
    CHECK_EQ_INT(root_try(root_signed(1, rk, 1, 1), NULL, 0), CS_ESIG);
    /* A signature by the right key over different bytes: moved between roots. */
    size_t l1 = 0, l2 = 0;
    char *a = sign_with(root_signed(1, rk, 1, 1), rk, 1, &l1);
    json_t *s2 = root_signed(1, rk, 1, 1);
    json_object_set_new(s2, "expires", json_string("2031-01-01T00:00:00Z"));
    char *b = sign_with(s2, NULL, 0, &l2);
    REQUIRE(a && b);
    json_t *ea = json_loads(a, 0, NULL), *eb = json_loads(b, 0, NULL);
    REQUIRE(ea && eb);
    json_object_set(eb, "signatures", json_object_get(ea, "signatures"));
    char *c = json_dumps(eb, JSON_SORT_KEYS);
    sync_root *r = NULL;
    cs_err err = {0};
    CHECK_EQ_INT(root_load_text(c, &r, &err), CS_ESIG);
    CHECK(r == NULL);
    json_decref(ea);
    json_decref(eb);
    free(a);
    free(b);
    free(c);
}

static void dup_first_sig(json_t *env, void *ctx)
{
    int times = *(int *)ctx;
    json_t *sigs = json_object_get(env, "signatures");
    json_t *first = json_array_get(sigs, 0);
    for (int i = 0; i < times; i++)
        json_array_append_new(sigs, json_deep_copy(first));
}

static void test_threshold(void)
{
    static const int rk[] = {R1, R2, R3};
    static const int s1[] = {R1}, s12[] = {R1, R2}, s23[] = {R3, R2}, s123[] = {R1, R2, R3};
    static const int s11[] = {R1, R1}, s1o[] = {R1, OUT}, s1t[] = {R1, TGT};
    CHECK_EQ_INT(root_try(root_signed(1, rk, 3, 2), s1, 1), CS_ESIG);
    CHECK_EQ_INT(root_try(root_signed(1, rk, 3, 2), s12, 2), 0);
    CHECK_EQ_INT(root_try(root_signed(1, rk, 3, 2), s23, 2), 0);
    CHECK_EQ_INT(root_try(root_signed(1, rk, 3, 2), s123, 3), 0);
    CHECK_EQ_INT(root_try(root_signed(1, rk, 3, 3), s12, 2), CS_ESIG);
    CHECK_EQ_INT(root_try(root_signed(1, rk, 3, 3), s123, 3), 0);
    /* The same key twice is one key. */
    CHECK_EQ_INT(root_try(root_signed(1, rk, 3, 2), s11, 2), CS_ESIG);
    CHECK_EQ_INT(root_try(root_signed(1, rk, 3, 2), s1o, 2), CS_ESIG);
    CHECK_EQ_INT(root_try(root_signed(1, rk, 3, 2), s1t, 2), CS_ESIG);

    /* The very same signature entry duplicated. */
    char *text = sign_with(root_signed(1, rk, 3, 2), s1, 1, NULL);
    REQUIRE(text != NULL);
    for (int times = 1; times <= 3; times++) {
        char *dup = envelope_edit(text, dup_first_sig, &times);
        sync_root *r = NULL;
        cs_err err = {0};
        CHECK_EQ_INT(root_load_text(dup, &r, &err), CS_ESIG);
        CHECK(r == NULL);
        free(dup);
    }
    free(text);
}

static void test_role_keys(void)
{
    sync_root *root = root_v1();
    REQUIRE(root != NULL);
    static const int tgt[] = {TGT}, snap[] = {SNAP}, ts[] = {TS}, r1[] = {R1}, out[] = {OUT};
    static const int others[] = {TS, SNAP, R1, OUT};
    CHECK_EQ_INT(verify_try(root, SYNC_TARGETS, targets_signed(1), tgt, 1), 0);
    CHECK_EQ_INT(verify_try(root, SYNC_SNAPSHOT, snapshot_signed(1), snap, 1), 0);
    CHECK_EQ_INT(verify_try(root, SYNC_TIMESTAMP, timestamp_signed(1), ts, 1), 0);

    CHECK_EQ_INT(verify_try(root, SYNC_TARGETS, targets_signed(1), ts, 1), CS_ESIG);
    CHECK_EQ_INT(verify_try(root, SYNC_TARGETS, targets_signed(1), r1, 1), CS_ESIG);
    CHECK_EQ_INT(verify_try(root, SYNC_TARGETS, targets_signed(1), out, 1), CS_ESIG);
    CHECK_EQ_INT(verify_try(root, SYNC_TARGETS, targets_signed(1), others, 4), CS_ESIG);
    CHECK_EQ_INT(verify_try(root, SYNC_TARGETS, targets_signed(1), NULL, 0), CS_ESIG);
    CHECK_EQ_INT(verify_try(root, SYNC_SNAPSHOT, snapshot_signed(1), tgt, 1), CS_ESIG);
    CHECK_EQ_INT(verify_try(root, SYNC_TIMESTAMP, timestamp_signed(1), snap, 1), CS_ESIG);
    CHECK_EQ_INT(verify_try(root, SYNC_TIMESTAMP, timestamp_signed(1), r1, 1), CS_ESIG);

    /* The verified object is the signed part, version and expiry readable. */
    size_t len = 0;
    char *text = sign_with(targets_signed(7), tgt, 1, &len);
    json_t *s = NULL;
    cs_err err = {0};
    REQUIRE(text != NULL);
    CHECK_EQ_INT(sync_meta_verify(root, SYNC_TARGETS, text, len, &s, &err), 0);
    int64_t v = 0, e = 0, want = 0;
    CHECK_EQ_INT(sync_meta_version(s, &v, &e, &err), 0);
    cs_time_parse(EXPIRES, &want);
    CHECK_EQ_INT(v, 7);
    CHECK_EQ_INT(e, want);
    json_decref(s);
    free(text);
    sync_root_free(root);
}

/* A root (v1, signed by R1) whose targets role is 2-of-{TGT, OUT, R3},
 * snapshot 2-of-{SNAP, OUT} and timestamp 2-of-{TS, R2}. */
static sync_root *root_thresholds(void)
{
    static const int rk[] = {R1}, tk[] = {TGT, OUT, R3}, sk[] = {SNAP, OUT}, tsk[] = {TS, R2};
    json_t *jkeys = json_object();
    for (int k = 0; k < NKEYS; k++)
        json_object_set_new(jkeys, kid[k], key_json(k));
    json_t *roles = json_pack("{s:o,s:o,s:o,s:o}", "root", role_json(rk, 1, 1), "targets",
                              role_json(tk, 3, 2), "snapshot", role_json(sk, 2, 2), "timestamp",
                              role_json(tsk, 2, 2));
    json_t *sg = json_pack("{s:s,s:s,s:I,s:s,s:o,s:o}", "_type", "root", "spec", SYNC_SPEC,
                           "version", (json_int_t)1, "expires", EXPIRES, "keys", jkeys, "roles",
                           roles);
    return root_signed_load(sg, rk, 1, "threshold root");
}

/* Thresholds above 1 for the online roles: one valid signature is too few,
 * two distinct listed keys suffice, the same key twice counts once, and a
 * key of another role (or none) adds nothing. */
static void test_role_thresholds(void)
{
    sync_root *root = root_thresholds();
    REQUIRE(root != NULL);
    static const int t1[] = {TGT}, t2[] = {TGT, OUT}, t3[] = {R3, TGT}, tall[] = {TGT, OUT, R3};
    static const int tt[] = {TGT, TGT}, tsnap[] = {TGT, SNAP}, tr1[] = {TGT, R1};
    CHECK_EQ_INT(verify_try(root, SYNC_TARGETS, targets_signed(1), t1, 1), CS_ESIG);
    CHECK_EQ_INT(verify_try(root, SYNC_TARGETS, targets_signed(1), t2, 2), 0);
    CHECK_EQ_INT(verify_try(root, SYNC_TARGETS, targets_signed(1), t3, 2), 0);
    CHECK_EQ_INT(verify_try(root, SYNC_TARGETS, targets_signed(1), tall, 3), 0);
    CHECK_EQ_INT(verify_try(root, SYNC_TARGETS, targets_signed(1), tt, 2), CS_ESIG);
    CHECK_EQ_INT(verify_try(root, SYNC_TARGETS, targets_signed(1), tsnap, 2), CS_ESIG);
    CHECK_EQ_INT(verify_try(root, SYNC_TARGETS, targets_signed(1), tr1, 2), CS_ESIG);

    static const int s1[] = {SNAP}, s2[] = {OUT, SNAP}, ss[] = {SNAP, SNAP}, so[] = {OUT, OUT};
    static const int sts[] = {SNAP, TS};
    CHECK_EQ_INT(verify_try(root, SYNC_SNAPSHOT, snapshot_signed(1), s1, 1), CS_ESIG);
    CHECK_EQ_INT(verify_try(root, SYNC_SNAPSHOT, snapshot_signed(1), s2, 2), 0);
    CHECK_EQ_INT(verify_try(root, SYNC_SNAPSHOT, snapshot_signed(1), ss, 2), CS_ESIG);
    CHECK_EQ_INT(verify_try(root, SYNC_SNAPSHOT, snapshot_signed(1), so, 2), CS_ESIG);
    CHECK_EQ_INT(verify_try(root, SYNC_SNAPSHOT, snapshot_signed(1), sts, 2), CS_ESIG);

    static const int ts1[] = {TS}, ts2[] = {TS, R2}, ts21[] = {R2, TS}, tsts[] = {TS, TS, TS};
    static const int r2[] = {R2}, tsr2r2[] = {R2, R2, OUT};
    CHECK_EQ_INT(verify_try(root, SYNC_TIMESTAMP, timestamp_signed(1), ts1, 1), CS_ESIG);
    CHECK_EQ_INT(verify_try(root, SYNC_TIMESTAMP, timestamp_signed(1), r2, 1), CS_ESIG);
    CHECK_EQ_INT(verify_try(root, SYNC_TIMESTAMP, timestamp_signed(1), ts2, 2), 0);
    CHECK_EQ_INT(verify_try(root, SYNC_TIMESTAMP, timestamp_signed(1), ts21, 2), 0);
    CHECK_EQ_INT(verify_try(root, SYNC_TIMESTAMP, timestamp_signed(1), tsts, 3), CS_ESIG);
    CHECK_EQ_INT(verify_try(root, SYNC_TIMESTAMP, timestamp_signed(1), tsr2r2, 3), CS_ESIG);

    /* One valid signature copied into a second entry is still one key. */
    size_t len = 0;
    char *text = sign_with(timestamp_signed(1), ts1, 1, &len);
    REQUIRE(text != NULL);
    int times = 1;
    char *dup = envelope_edit(text, dup_first_sig, &times);
    REQUIRE(dup != NULL);
    CHECK_EQ_INT(verify_text(root, SYNC_TIMESTAMP, dup, strlen(dup)), CS_ESIG);
    free(dup);
    free(text);
    sync_root_free(root);
}

static void test_type_mismatch(void)
{
    sync_root *root = root_v1();
    REQUIRE(root != NULL);
    static const int tgt[] = {TGT}, snap[] = {SNAP}, r1[] = {R1};
    /* Right key, wrong kind of document. */
    json_t *s = targets_signed(1);
    json_object_set_new(s, "_type", json_string("snapshot"));
    CHECK_EQ_INT(verify_try(root, SYNC_TARGETS, s, tgt, 1), CS_EFORMAT);
    CHECK_EQ_INT(verify_try(root, SYNC_SNAPSHOT, targets_signed(1), snap, 1), CS_EFORMAT);
    CHECK_EQ_INT(verify_try(root, SYNC_TARGETS, snapshot_signed(1), tgt, 1), CS_EFORMAT);
    s = targets_signed(1);
    json_object_del(s, "_type");
    CHECK_EQ_INT(verify_try(root, SYNC_TARGETS, s, tgt, 1), CS_EFORMAT);
    s = targets_signed(1);
    json_object_set_new(s, "_type", json_integer(1));
    CHECK_EQ_INT(verify_try(root, SYNC_TARGETS, s, tgt, 1), CS_EFORMAT);
    s = targets_signed(1);
    json_object_set_new(s, "_type", json_string("Targets"));
    CHECK_EQ_INT(verify_try(root, SYNC_TARGETS, s, tgt, 1), CS_EFORMAT);
    s = targets_signed(1);
    json_object_set_new(s, "spec", json_string("cistern-2"));
    CHECK_EQ_INT(verify_try(root, SYNC_TARGETS, s, tgt, 1), CS_EUNSUPPORTED);
    s = targets_signed(1);
    json_object_del(s, "spec");
    CHECK_EQ_INT(verify_try(root, SYNC_TARGETS, s, tgt, 1), CS_EUNSUPPORTED);

    /* Root-shaped checks in sync_root_load. */
    CHECK_EQ_INT(root_try(targets_signed(1), r1, 1), CS_EFORMAT);
    static const int rk[] = {R1};
    s = root_signed(1, rk, 1, 1);
    json_object_set_new(s, "_type", json_string("targets"));
    CHECK_EQ_INT(root_try(s, r1, 1), CS_EFORMAT);
    s = root_signed(1, rk, 1, 1);
    json_object_set_new(s, "spec", json_string("tuf-1.0"));
    CHECK_EQ_INT(root_try(s, r1, 1), CS_EUNSUPPORTED);
    sync_root_free(root);
}

/* ---- canonical form ---- */

static int canon_try(const char *json_text, char **out)
{
    json_t *v = json_loads(json_text, JSON_DECODE_ANY, NULL);
    if (!v)
        return -999;
    size_t len = 0;
    char *s = NULL;
    cs_err err = {0};
    int rc = sync_canonical(v, &s, &len, &err);
    json_decref(v);
    if (rc == 0) {
        CHECK_EQ_INT(len, strlen(s));
        if (out)
            *out = s;
        else
            free(s);
    }
    return rc;
}

static void test_canonical_no_reals(void)
{
    char *s = NULL;
    CHECK_EQ_INT(
        canon_try("{ \"b\" : 1, \"a\" : [true, null, \"x\\u00e9\", -3, {\"z\":{}, \"y\":[]}] }",
                  &s),
        0);
    CHECK_STR(s, "{\"a\":[true,null,\"x\\u00E9\",-3,{\"y\":[],\"z\":{}}],\"b\":1}");
    free(s);
    s = NULL;
    CHECK_EQ_INT(canon_try("\"\xe4\xb8\xad/\"", &s), 0);
    CHECK_STR(s, "\"\\u4E2D/\""); /* jansson escapes in upper case */
    free(s);

    static const char *const reals[] = {
        "1.5",
        "{\"a\":0.0}",
        "[1,2,[3,[4,[5.25]]]]",
        "{\"a\":{\"b\":{\"c\":[1e3]}}}",
        "{\"version\":1.0}",
    };
    for (size_t i = 0; i < sizeof reals / sizeof reals[0]; i++)
        CHECK_EQ_INT(canon_try(reals[i], NULL), CS_EFORMAT);

    /* Nesting past the limit is refused too (never a stack overflow). */
    char deep[200];
    size_t n = 0;
    for (int i = 0; i < 40; i++)
        deep[n++] = '[';
    for (int i = 0; i < 40; i++)
        deep[n++] = ']';
    deep[n] = '\0';
    CHECK_EQ_INT(canon_try(deep, NULL), CS_EFORMAT);

    /* Signing refuses reals; so does verifying a document holding one. */
    static const int tgt[] = {TGT}, rk[] = {R1};
    json_t *t = targets_signed(1);
    json_object_set_new(t, "extra", json_pack("{s:[i,f]}", "x", 1, 0.5));
    cs_key *k = keys[TGT];
    char *text = NULL;
    size_t len = 0;
    cs_err err = {0};
    CHECK_EQ_INT(sync_meta_sign(t, &k, 1, &text, &len, &err), CS_EFORMAT);
    CHECK(text == NULL);
    json_decref(t);

    sync_root *root = root_v1();
    REQUIRE(root != NULL);
    char *good = sign_with(targets_signed(1), tgt, 1, &len);
    REQUIRE(good != NULL);
    /* "version": 1 -> "version": 1.0 (the signature is over the integer). */
    const char *p = strstr(good, "\"version\": 1");
    REQUIRE(p != NULL);
    size_t at = (size_t)(p - good) + strlen("\"version\": 1");
    char *bad = malloc(len + 3);
    REQUIRE(bad != NULL);
    memcpy(bad, good, at);
    memcpy(bad + at, ".0", 2);
    memcpy(bad + at + 2, good + at, len - at + 1);
    CHECK_EQ_INT(verify_text(root, SYNC_TARGETS, bad, len + 2), CS_EFORMAT);
    free(bad);
    free(good);

    /* A real in a root, somewhere the parser does not look. */
    json_t *rs = root_signed(1, rk, 1, 1);
    json_object_set_new(rs, "note", json_real(2.5));
    json_t *env = json_pack("{s:o,s:[]}", "signed", rs, "signatures");
    char *rt = json_dumps(env, JSON_SORT_KEYS);
    sync_root *r = NULL;
    CHECK_EQ_INT(root_load_text(rt, &r, &err), CS_EFORMAT);
    CHECK(r == NULL);
    free(rt);
    json_decref(env);
    sync_root_free(root);
}

/* ---- tampering ---- */

static char mutate(char c)
{
    if (c == 'z' || c == 'Z' || c == '9')
        return (char)(c - 1);
    return (char)(c + 1);
}

static int is_alnum(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

static void test_tamper(void)
{
    sync_root *root = root_v1();
    REQUIRE(root != NULL);
    static const int tgt[] = {TGT}, rk[] = {R1};
    size_t len = 0;
    char *text = sign_with(targets_signed(3), tgt, 1, &len);
    REQUIRE(text != NULL);
    CHECK_EQ_INT(verify_text(root, SYNC_TARGETS, text, len), 0);
    const char *signed_at = strstr(text, "\"signed\"");
    REQUIRE(signed_at != NULL);
    int tried = 0, accepted = 0;
    for (size_t i = (size_t)(signed_at - text) + 9; i < len; i++) {
        if (!is_alnum(text[i]))
            continue;
        char saved = text[i];
        text[i] = mutate(saved);
        int rc = verify_text(root, SYNC_TARGETS, text, len);
        if (rc == 0) {
            accepted++;
            fprintf(stderr, "tampered byte %zu ('%c' -> '%c') accepted\n", i, saved, text[i]);
        }
        text[i] = saved;
        tried++;
    }
    CHECK(tried > 100);
    CHECK_EQ_INT(accepted, 0);
    CHECK_EQ_INT(verify_text(root, SYNC_TARGETS, text, len), 0);

    /* A byte of the signature itself. */
    char *sig = strstr(text, "\"sig\": \"");
    REQUIRE(sig != NULL);
    sig += 8 + 20;
    *sig = *sig == '0' ? '1' : '0';
    CHECK_EQ_INT(verify_text(root, SYNC_TARGETS, text, len), CS_ESIG);
    free(text);

    /* The same over a root (every third candidate byte: keys make it slow). */
    text = sign_with(root_signed(1, rk, 1, 1), rk, 1, &len);
    REQUIRE(text != NULL);
    signed_at = strstr(text, "\"signed\"");
    REQUIRE(signed_at != NULL);
    tried = accepted = 0;
    int k = 0;
    for (size_t i = (size_t)(signed_at - text) + 9; i < len; i++) {
        if (!is_alnum(text[i]) || k++ % 3 != 0)
            continue;
        char saved = text[i];
        text[i] = mutate(saved);
        sync_root *r = NULL;
        cs_err err = {0};
        if (sync_root_load(&r, text, len, &err) == 0) {
            accepted++;
            fprintf(stderr, "tampered root byte %zu accepted\n", i);
            sync_root_free(r);
        }
        text[i] = saved;
        tried++;
    }
    CHECK(tried > 100);
    CHECK_EQ_INT(accepted, 0);
    free(text);
    sync_root_free(root);
}

/* ---- envelope shape and limits ---- */

static void add_extra(json_t *env, void *ctx)
{
    json_object_set_new(env, (const char *)ctx, json_integer(1));
}

static void drop_key(json_t *env, void *ctx)
{
    json_object_del(env, (const char *)ctx);
}

static void sigs_to_object(json_t *env, void *ctx)
{
    (void)ctx;
    json_object_set_new(env, "signatures", json_object());
}

static void signed_to_array(json_t *env, void *ctx)
{
    (void)ctx;
    json_object_set_new(env, "signed", json_array());
}

/* Junk signature entries before the valid one. */
static void junk_sigs(json_t *env, void *ctx)
{
    int keep_valid = *(int *)ctx;
    json_t *sigs = json_object_get(env, "signatures");
    json_t *valid = json_incref(json_array_get(sigs, 0));
    json_array_clear(sigs);
    const char *id = kid[TGT];
    json_array_append_new(sigs, json_integer(5));
    json_array_append_new(sigs, json_string("sig"));
    json_array_append_new(sigs, json_null());
    json_array_append_new(sigs, json_pack("{s:s}", "keyid", id));
    json_array_append_new(sigs, json_pack("{s:s}", "sig", "3045"));
    json_array_append_new(sigs, json_pack("{s:s,s:i}", "keyid", id, "sig", 3045));
    json_array_append_new(sigs, json_pack("{s:i,s:s}", "keyid", 7, "sig", "3045"));
    json_array_append_new(sigs, json_pack("{s:s,s:s}", "keyid", id, "sig", ""));
    json_array_append_new(sigs, json_pack("{s:s,s:s}", "keyid", id, "sig", "304"));
    json_array_append_new(sigs, json_pack("{s:s,s:s}", "keyid", id, "sig", "zz45"));
    char longhex[2 * CS_SIG_MAX + 5];
    memset(longhex, 'a', sizeof longhex - 1);
    longhex[sizeof longhex - 1] = '\0';
    json_array_append_new(sigs, json_pack("{s:s,s:s}", "keyid", id, "sig", longhex));
    json_array_append_new(sigs, json_pack("{s:s,s:s}", "keyid", "", "sig", "3045"));
    if (keep_valid)
        json_array_append(sigs, valid);
    json_decref(valid);
}

static void test_envelope_shape(void)
{
    sync_root *root = root_v1();
    REQUIRE(root != NULL);
    static const int tgt[] = {TGT};
    size_t len = 0;
    char *text = sign_with(targets_signed(1), tgt, 1, &len);
    REQUIRE(text != NULL);

    static const char *const extras[] = {"extra", "signed2", "signatures_", ""};
    for (size_t i = 0; i < sizeof extras / sizeof extras[0]; i++) {
        char *t = envelope_edit(text, add_extra, (void *)extras[i]);
        CHECK_EQ_INT(verify_text(root, SYNC_TARGETS, t, t ? strlen(t) : 0), CS_EFORMAT);
        free(t);
    }
    char *t = envelope_edit(text, drop_key, (void *)"signatures");
    CHECK_EQ_INT(verify_text(root, SYNC_TARGETS, t, t ? strlen(t) : 0), CS_EFORMAT);
    free(t);
    t = envelope_edit(text, drop_key, (void *)"signed");
    CHECK_EQ_INT(verify_text(root, SYNC_TARGETS, t, t ? strlen(t) : 0), CS_EFORMAT);
    free(t);
    t = envelope_edit(text, sigs_to_object, NULL);
    CHECK_EQ_INT(verify_text(root, SYNC_TARGETS, t, t ? strlen(t) : 0), CS_EFORMAT);
    free(t);
    t = envelope_edit(text, signed_to_array, NULL);
    CHECK_EQ_INT(verify_text(root, SYNC_TARGETS, t, t ? strlen(t) : 0), CS_EFORMAT);
    free(t);

    int keep = 1;
    t = envelope_edit(text, junk_sigs, &keep);
    CHECK_EQ_INT(verify_text(root, SYNC_TARGETS, t, t ? strlen(t) : 0), 0);
    free(t);
    keep = 0;
    t = envelope_edit(text, junk_sigs, &keep);
    CHECK_EQ_INT(verify_text(root, SYNC_TARGETS, t, t ? strlen(t) : 0), CS_ESIG);
    free(t);

    static const char *const broken[] = {
        "",
        "[]",
        "null",
        "{}",
        "{\"signed\":{},\"signatures\":[]",
        "{\"signed\":{},\"signatures\":[]} trailing",
        "{\"signed\":{\"_type\":\"targets\"},\"signed\":{},\"signatures\":[]}",
        ("{\"signed\":{\"_type\":\"targets\",\"_type\":\"targets\",\"spec\":\"cistern-1\"},"
         "\"signatures\":[]}"),
    };
    for (size_t i = 0; i < sizeof broken / sizeof broken[0]; i++) {
        int rc = verify_text(root, SYNC_TARGETS, broken[i], strlen(broken[i]));
        CHECK_EQ_INT(rc, CS_EFORMAT);
        sync_root *r = NULL;
        cs_err err = {0};
        CHECK_EQ_INT(sync_root_load(&r, broken[i], strlen(broken[i]), &err), CS_EFORMAT);
        CHECK(r == NULL);
    }
    /* A NUL byte inside the text. */
    char *nul = malloc(len + 1);
    REQUIRE(nul != NULL);
    memcpy(nul, text, len + 1);
    nul[len / 2] = '\0';
    CHECK(verify_text(root, SYNC_TARGETS, nul, len) != 0);
    free(nul);
    free(text);
    sync_root_free(root);
}

static void test_max_sigs(void)
{
    sync_root *root = root_v1();
    REQUIRE(root != NULL);
    static const int tgt[] = {TGT};
    char *text = sign_with(targets_signed(1), tgt, 1, NULL);
    REQUIRE(text != NULL);
    int more = SYNC_MAX_SIGS - 1; /* exactly SYNC_MAX_SIGS entries */
    char *t = envelope_edit(text, dup_first_sig, &more);
    CHECK_EQ_INT(verify_text(root, SYNC_TARGETS, t, t ? strlen(t) : 0), 0);
    free(t);
    more = SYNC_MAX_SIGS; /* one more */
    t = envelope_edit(text, dup_first_sig, &more);
    CHECK_EQ_INT(verify_text(root, SYNC_TARGETS, t, t ? strlen(t) : 0), CS_ETOOBIG);
    free(t);
    free(text);

    /* Same limit for roots. */
    static const int rk[] = {R1};
    text = sign_with(root_signed(1, rk, 1, 1), rk, 1, NULL);
    REQUIRE(text != NULL);
    more = SYNC_MAX_SIGS;
    t = envelope_edit(text, dup_first_sig, &more);
    sync_root *r = NULL;
    cs_err err = {0};
    CHECK_EQ_INT(root_load_text(t, &r, &err), CS_ETOOBIG);
    CHECK(r == NULL);
    free(t);
    free(text);
    sync_root_free(root);
}

/* text followed by blanks up to total bytes (JSON allows trailing blanks). */
static char *pad_to(const char *text, size_t total)
{
    size_t n = strlen(text);
    char *p = malloc(total + 1);
    if (!p || n > total) {
        free(p);
        return NULL;
    }
    memcpy(p, text, n);
    memset(p + n, ' ', total - n);
    p[total] = '\0';
    return p;
}

static void test_oversize(void)
{
    sync_root *root = root_v1();
    REQUIRE(root != NULL);
    static const int tgt[] = {TGT}, rk[] = {R1};
    char *text = sign_with(targets_signed(1), tgt, 1, NULL);
    REQUIRE(text != NULL);
    char *p = pad_to(text, SYNC_META_MAX);
    REQUIRE(p != NULL);
    CHECK_EQ_INT(verify_text(root, SYNC_TARGETS, p, SYNC_META_MAX), 0);
    free(p);
    p = pad_to(text, SYNC_META_MAX + 1);
    REQUIRE(p != NULL);
    CHECK_EQ_INT(verify_text(root, SYNC_TARGETS, p, SYNC_META_MAX + 1), CS_ETOOBIG);
    free(p);
    free(text);

    text = sign_with(root_signed(1, rk, 1, 1), rk, 1, NULL);
    REQUIRE(text != NULL);
    sync_root *r = NULL;
    cs_err err = {0};
    p = pad_to(text, SYNC_ROOT_MAX);
    REQUIRE(p != NULL);
    CHECK_EQ_INT(sync_root_load(&r, p, SYNC_ROOT_MAX, &err), 0);
    sync_root_free(r);
    r = NULL;
    free(p);
    p = pad_to(text, SYNC_ROOT_MAX + 1);
    REQUIRE(p != NULL);
    CHECK_EQ_INT(sync_root_load(&r, p, SYNC_ROOT_MAX + 1, &err), CS_ETOOBIG);
    CHECK(r == NULL);
    CHECK_EQ_INT(sync_root_rotate(root, p, SYNC_ROOT_MAX + 1, &r, &err), CS_ETOOBIG);
    CHECK(r == NULL);
    free(p);
    free(text);
    sync_root_free(root);
}

/* ---- rotation ---- */

static int rotate_try(const sync_root *cur, json_t *s, const int *signers, int n, sync_root **out)
{
    size_t len = 0;
    char *text = sign_with(s, signers, n, &len);
    sync_root *r = NULL;
    cs_err err = {0};
    int rc = text ? sync_root_rotate(cur, text, len, &r, &err) : -999;
    CHECK(rc == 0 ? r != NULL : r == NULL);
    if (rc == 0 && out)
        *out = r;
    else
        sync_root_free(r);
    free(text);
    return rc;
}

static void test_rotation(void)
{
    static const int k1[] = {R1}, k2[] = {R2}, k3[] = {R3}, k23[] = {R2, R3};
    static const int s12[] = {R1, R2}, s123[] = {R1, R2, R3}, s23[] = {R2, R3}, s13[] = {R1, R3};
    static const int tgt[] = {TGT};
    sync_root *v1 = root_v1(), *v2 = NULL, *v3 = NULL;
    REQUIRE(v1 != NULL);

    /* v2 signed by only one side of the rotation. */
    CHECK_EQ_INT(rotate_try(v1, root_signed(2, k2, 1, 1), k2, 1, NULL), CS_ESIG);
    CHECK_EQ_INT(rotate_try(v1, root_signed(2, k2, 1, 1), k1, 1, NULL), CS_ESIG);
    /* Skipping a version, or replaying the current one, is refused. */
    CHECK_EQ_INT(rotate_try(v1, root_signed(3, k3, 1, 1), s13, 2, NULL), CS_EROLLBACK);
    CHECK_EQ_INT(rotate_try(v1, root_signed(1, k1, 1, 1), k1, 1, NULL), CS_EROLLBACK);
    CHECK_EQ_INT(rotate_try(v1, root_signed(0, k1, 1, 1), k1, 1, NULL), CS_EROLLBACK);
    /* A rotation that keeps the key is fine. */
    CHECK_EQ_INT(rotate_try(v1, root_signed(2, k1, 1, 1), k1, 1, NULL), 0);

    /* The real thing: old and new root keys both sign v2. */
    CHECK_EQ_INT(rotate_try(v1, root_signed(2, k2, 1, 1), s12, 2, &v2), 0);
    REQUIRE(v2 != NULL);
    CHECK_EQ_INT(sync_root_version(v2), 2);
    /* v2's roles work; v1's root key no longer counts. */
    CHECK_EQ_INT(verify_try(v2, SYNC_TARGETS, targets_signed(2), tgt, 1), 0);
    CHECK_EQ_INT(rotate_try(v2, root_signed(3, k1, 1, 1), k1, 1, NULL), CS_ESIG);

    /* v3 raises the threshold to 2-of-{R2,R3}: needs v2's R2 and two own. */
    CHECK_EQ_INT(rotate_try(v2, root_signed(3, k23, 2, 2), s12, 2, NULL), CS_ESIG);
    CHECK_EQ_INT(rotate_try(v2, root_signed(3, k23, 2, 2), k3, 1, NULL), CS_ESIG);
    CHECK_EQ_INT(rotate_try(v2, root_signed(3, k23, 2, 2), s23, 2, &v3), 0);
    REQUIRE(v3 != NULL);
    CHECK_EQ_INT(sync_root_version(v3), 3);
    /* v3 presented straight to v1 is refused even if v1's key signs it. */
    CHECK_EQ_INT(rotate_try(v1, root_signed(3, k23, 2, 2), s123, 3, NULL), CS_EROLLBACK);
    /* v2 presented again to v3 is a rollback. */
    CHECK_EQ_INT(rotate_try(v3, root_signed(2, k23, 2, 2), s23, 2, NULL), CS_EROLLBACK);

    sync_root_free(v1);
    sync_root_free(v2);
    sync_root_free(v3);
}

/* ---- malformed roots ---- */

static void test_root_malformed(void)
{
    static const int rk[] = {R1}, r1[] = {R1};
    /* A key filed under another key's id. */
    json_t *s = root_signed(1, rk, 1, 1);
    json_t *jk = json_object_get(s, "keys");
    json_object_set_new(jk, kid[R1], key_json(R2));
    CHECK_EQ_INT(root_try(s, r1, 1), CS_EFORMAT);
    s = root_signed(1, rk, 1, 1);
    jk = json_object_get(s, "keys");
    json_object_set_new(jk, kid[TGT], key_json(SNAP));
    CHECK_EQ_INT(root_try(s, r1, 1), CS_EFORMAT);
    /* Id in upper case: not the same string. */
    s = root_signed(1, rk, 1, 1);
    char upper[CS_KEYID_HEX];
    for (int i = 0; i < 65; i++)
        upper[i] = (kid[R1][i] >= 'a' && kid[R1][i] <= 'f') ? (char)(kid[R1][i] - 32) : kid[R1][i];
    json_object_set_new(json_object_get(s, "keys"), upper, key_json(R1));
    CHECK_EQ_INT(root_try(s, r1, 1), CS_EFORMAT);

    /* Key types and key bytes. */
    s = root_signed(1, rk, 1, 1);
    json_object_set_new(json_object_get(json_object_get(s, "keys"), kid[R1]), "keytype",
                        json_string("rsa-2048"));
    CHECK_EQ_INT(root_try(s, r1, 1), CS_EFORMAT);
    s = root_signed(1, rk, 1, 1);
    json_object_set_new(
        json_object_get(json_object_get(s, "keys"), kid[R1]), "public",
        json_string("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n"));
    CHECK_EQ_INT(root_try(s, r1, 1), CS_ECRYPTO);
    s = root_signed(1, rk, 1, 1);
    json_object_del(json_object_get(json_object_get(s, "keys"), kid[R1]), "public");
    CHECK_EQ_INT(root_try(s, r1, 1), CS_EFORMAT);

    /* Roles. */
    s = root_signed(1, rk, 1, 1);
    json_object_set_new(json_object_get(json_object_get(s, "roles"), "root"), "threshold",
                        json_integer(0));
    CHECK_EQ_INT(root_try(s, r1, 1), CS_EFORMAT);
    s = root_signed(1, rk, 1, 1);
    json_object_set_new(json_object_get(json_object_get(s, "roles"), "root"), "threshold",
                        json_integer(2));
    CHECK_EQ_INT(root_try(s, r1, 1), CS_EFORMAT);
    s = root_signed(1, rk, 1, 1);
    json_object_set_new(json_object_get(json_object_get(s, "roles"), "root"), "threshold",
                        json_integer(-1));
    CHECK_EQ_INT(root_try(s, r1, 1), CS_EFORMAT);
    s = root_signed(1, rk, 1, 1);
    json_object_del(json_object_get(s, "roles"), "timestamp");
    CHECK_EQ_INT(root_try(s, r1, 1), CS_EFORMAT);
    s = root_signed(1, rk, 1, 1);
    json_array_append_new(
        json_object_get(json_object_get(json_object_get(s, "roles"), "targets"), "keyids"),
        json_string(kid[OUT]));
    CHECK_EQ_INT(root_try(s, r1, 1), CS_EFORMAT);
    s = root_signed(1, rk, 1, 1);
    json_array_append_new(
        json_object_get(json_object_get(json_object_get(s, "roles"), "root"), "keyids"),
        json_string(kid[R1]));
    CHECK_EQ_INT(root_try(s, r1, 1), CS_EFORMAT);
    s = root_signed(1, rk, 1, 1);
    json_array_clear(
        json_object_get(json_object_get(json_object_get(s, "roles"), "snapshot"), "keyids"));
    CHECK_EQ_INT(root_try(s, r1, 1), CS_EFORMAT);
    s = root_signed(1, rk, 1, 1);
    json_object_set_new(s, "keys", json_object());
    CHECK_EQ_INT(root_try(s, r1, 1), CS_EFORMAT);
    s = root_signed(1, rk, 1, 1);
    json_object_set_new(s, "roles", json_array());
    CHECK_EQ_INT(root_try(s, r1, 1), CS_EFORMAT);

    /* Version and expiry. */
    s = root_signed(1, rk, 1, 1);
    json_object_set_new(s, "version", json_integer(-1));
    CHECK_EQ_INT(root_try(s, r1, 1), CS_EFORMAT);
    s = root_signed(1, rk, 1, 1);
    json_object_set_new(s, "version", json_string("1"));
    CHECK_EQ_INT(root_try(s, r1, 1), CS_EFORMAT);
    s = root_signed(1, rk, 1, 1);
    json_object_set_new(s, "expires", json_string("2030-01-01 00:00:00"));
    CHECK_EQ_INT(root_try(s, r1, 1), CS_EFORMAT);
    s = root_signed(1, rk, 1, 1);
    json_object_del(s, "expires");
    CHECK_EQ_INT(root_try(s, r1, 1), CS_EFORMAT);

    int64_t v = 9, e = 9;
    cs_err err = {0};
    json_t *o = json_pack("{s:i,s:s}", "version", 4, "expires", "2030-01-01T00:00:00Z");
    CHECK_EQ_INT(sync_meta_version(o, &v, &e, &err), 0);
    CHECK_EQ_INT(v, 4);
    json_decref(o);
    o = json_pack("{s:i,s:i}", "version", 4, "expires", 5);
    CHECK_EQ_INT(sync_meta_version(o, &v, &e, &err), CS_EFORMAT);
    json_decref(o);
}

/* ---- file references ---- */

static void test_fileref(void)
{
    const char data[] = "catalogue bytes";
    uint8_t h[32];
    char hex[CS_SHA256_HEX];
    cs_sha256_buf(data, sizeof data - 1, h);
    cs_hex_encode(h, 32, hex);
    cs_err err = {0};
    sync_fileref f;

    json_t *o = json_pack("{s:s,s:i,s:s}", "path", "catalog/abc.cat", "length",
                          (int)(sizeof data - 1), "sha256", hex);
    CHECK_EQ_INT(sync_fileref_parse(o, &f, &err), 0);
    CHECK_STR(f.path, "catalog/abc.cat");
    CHECK_EQ_INT(f.length, sizeof data - 1);
    CHECK_EQ_INT(f.version, 0);
    CHECK(memcmp(f.sha256, h, 32) == 0);
    CHECK_EQ_INT(sync_fileref_check(&f, data, sizeof data - 1, &err), 0);
    /* Wrong length, wrong hash (same length), one flipped byte. */
    CHECK_EQ_INT(sync_fileref_check(&f, data, sizeof data - 2, &err), CS_EHASH);
    CHECK(strstr(err.msg, "catalog/abc.cat") != NULL);
    CHECK_EQ_INT(sync_fileref_check(&f, "catalogue bytez", sizeof data - 1, &err), CS_EHASH);
    char copy[sizeof data];
    memcpy(copy, data, sizeof data);
    copy[0] ^= 1;
    CHECK_EQ_INT(sync_fileref_check(&f, copy, sizeof data - 1, &err), CS_EHASH);
    f.length = 0;
    CHECK_EQ_INT(sync_fileref_check(&f, "", 0, &err), CS_EHASH);

    /* JSON round trip, with a version. */
    json_object_set_new(o, "version", json_integer(12));
    CHECK_EQ_INT(sync_fileref_parse(o, &f, &err), 0);
    CHECK_EQ_INT(f.version, 12);
    json_t *back = sync_fileref_json(&f);
    CHECK(json_equal(back, o));
    json_decref(back);
    json_decref(o);

    /* Refused references; the out-parameter stays as it was. */
    static const char *const bad[] = {
        "{\"path\":\"../x.cat\",\"length\":1,\"sha256\":\"%s\"}",
        "{\"path\":\"catalog/../../etc/passwd\",\"length\":1,\"sha256\":\"%s\"}",
        "{\"path\":\"catalog/..\",\"length\":1,\"sha256\":\"%s\"}",
        "{\"path\":\"/etc/passwd\",\"length\":1,\"sha256\":\"%s\"}",
        "{\"path\":\"a\",\"length\":-1,\"sha256\":\"%s\"}",
        "{\"path\":\"a\",\"length\":\"1\",\"sha256\":\"%s\"}",
        "{\"path\":\"a\",\"length\":1.0,\"sha256\":\"%s\"}",
        "{\"path\":\"a\",\"sha256\":\"%s\"}",
        "{\"length\":1,\"sha256\":\"%s\"}",
        "{\"path\":7,\"length\":1,\"sha256\":\"%s\"}",
        "{\"path\":\"a\",\"length\":1,\"sha256\":\"%s\",\"version\":-2}",
        "{\"path\":\"a\",\"length\":1,\"sha256\":\"%s\",\"version\":\"2\"}",
        "{\"path\":\"a\",\"length\":1,\"sha256\":\"%.62s\"}",
        "{\"path\":\"a\",\"length\":1,\"sha256\":\"%s00\"}",
        "{\"path\":\"a\",\"length\":1,\"sha256\":\"%.63sg\"}",
        "{\"path\":\"a\",\"length\":1,\"sha\":\"%s\"}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char text[512];
        snprintf(text, sizeof text, bad[i], hex);
        json_t *j = json_loads(text, 0, NULL);
        CHECK(j != NULL);
        memset(&f, 0x5a, sizeof f);
        CHECK_EQ_INT(sync_fileref_parse(j, &f, &err), CS_EFORMAT);
        CHECK_EQ_INT(f.path[0], 0x5a);
        json_decref(j);
    }
    CHECK_EQ_INT(sync_fileref_parse(NULL, &f, &err), CS_EFORMAT);
    json_t *arr = json_array();
    CHECK_EQ_INT(sync_fileref_parse(arr, &f, &err), CS_EFORMAT);
    json_decref(arr);
    /* A path of 256 bytes does not fit path[256]. */
    char longpath[300];
    memset(longpath, 'p', 256);
    longpath[256] = '\0';
    o = json_pack("{s:s,s:i,s:s}", "path", longpath, "length", 1, "sha256", hex);
    CHECK_EQ_INT(sync_fileref_parse(o, &f, &err), CS_EFORMAT);
    json_object_set_new(o, "path", json_string(longpath + 1));
    CHECK_EQ_INT(sync_fileref_parse(o, &f, &err), 0);
    json_decref(o);
}

int main(void)
{
    if (keys_init() != 0)
        return 1;
    RUN(test_root_self_signed);
    RUN(test_root_wrong_signer);
    RUN(test_threshold);
    RUN(test_role_thresholds);
    RUN(test_role_keys);
    RUN(test_type_mismatch);
    RUN(test_canonical_no_reals);
    RUN(test_tamper);
    RUN(test_envelope_shape);
    RUN(test_max_sigs);
    RUN(test_oversize);
    RUN(test_rotation);
    RUN(test_root_malformed);
    RUN(test_fileref);
    keys_free();
    return TEST_SUMMARY();
}
