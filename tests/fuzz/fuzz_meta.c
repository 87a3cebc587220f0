/*
 * fuzz_meta.c - signed metadata on arbitrary bytes: the input is loaded as a
 * self-signed root, offered as the next root in a rotation, verified as each
 * role's metadata against a fixed root, and (when it is JSON) put through the
 * canonical form and the file-reference parser.  Must never crash or leak.
 *
 * The fixed root is built once, on the first call, from a key generated
 * then; it lives for the process.
 */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "platform/crypto.h"
#include "sync/meta.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* One key holds every role of a version-1 root. */
static sync_root *build_root(void)
{
    cs_key *k = NULL;
    sync_root *root = NULL;
    char kid[CS_KEYID_HEX], pem[1024];
    char *text = NULL;
    size_t len = 0;
    json_t *s = NULL;
    if (cs_key_generate(&k, NULL) != 0 || cs_key_id(k, kid, NULL) != 0 ||
        cs_key_write_public_pem(k, pem, sizeof pem, NULL) != 0)
        goto out;
    s = json_pack("{s:s,s:s,s:i,s:s,s:{s:{s:s,s:s}},s:{s:{s:[s],s:i},s:{s:[s],s:i},"
                  "s:{s:[s],s:i},s:{s:[s],s:i}}}",
                  "_type", "root", "spec", SYNC_SPEC, "version", 1, "expires",
                  "2030-01-01T00:00:00Z", "keys", kid, "keytype", "ecdsa-p256", "public", pem,
                  "roles", "root", "keyids", kid, "threshold", 1, "targets", "keyids", kid,
                  "threshold", 1, "snapshot", "keyids", kid, "threshold", 1, "timestamp", "keyids",
                  kid, "threshold", 1);
    if (!s || sync_meta_sign(s, &k, 1, &text, &len, NULL) != 0)
        goto out;
    sync_root_load(&root, text, len, NULL);
out:
    free(text);
    json_decref(s);
    cs_key_free(k);
    return root;
}

static const sync_root *fixture_root(void)
{
    static sync_root *root;
    static int tried;
    if (!tried) {
        tried = 1;
        root = build_root();
    }
    return root;
}

static void check_json(const uint8_t *data, size_t size)
{
    json_t *j =
        json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, NULL);
    if (!j)
        return;
    char *canon = NULL;
    size_t clen = 0;
    if (sync_canonical(j, &canon, &clen, NULL) == 0) {
        /* The canonical form parses back to an equal value. */
        json_t *back = json_loadb(canon, clen, JSON_DECODE_ANY, NULL);
        if (!back || !json_equal(back, j))
            abort();
        json_decref(back);
        free(canon);
    }
    sync_fileref f;
    if (sync_fileref_parse(j, &f, NULL) == 0 && (strstr(f.path, "..") || f.path[0] == '/'))
        abort();
    int64_t v, e;
    sync_meta_version(j, &v, &e, NULL);
    json_t *s = json_object_get(j, "signed");
    if (s) {
        sync_meta_version(s, &v, &e, NULL);
        const char *k;
        json_t *x;
        json_object_foreach(json_object_get(s, "meta"), k, x) sync_fileref_parse(x, &f, NULL);
    }
    json_decref(j);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data;
    cs_err err;
    memset(&err, 0, sizeof err);

    sync_root *r = NULL;
    if (sync_root_load(&r, text, size, &err) == 0) {
        if (!r)
            abort();
        sync_root_version(r);
        sync_root_expires(r);
        sync_root_free(r);
    }

    const sync_root *root = fixture_root();
    if (root) {
        sync_root *next = NULL;
        if (sync_root_rotate(root, text, size, &next, &err) == 0)
            sync_root_free(next);
        for (int role = 0; role < SYNC_NROLES; role++) {
            json_t *s = NULL;
            if (sync_meta_verify(root, (sync_role)role, text, size, &s, &err) == 0) {
                int64_t v, e;
                sync_meta_version(s, &v, &e, &err);
                json_decref(s);
            }
        }
    }
    check_json(data, size);
    return 0;
}
