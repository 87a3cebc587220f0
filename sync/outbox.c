/*
 * outbox.c - signed outbox batches: framing, verification, transfer.
 */
#include "sync/outbox.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const record_kinds[] = {"usage", "feedback", "contribution"};

int sync_outbox_encode(const cs_key *key, const json_t *health, const json_t *records, int64_t now, cs_buf *out,
                       cs_err *err)
{
    char id[CS_KEYID_HEX], pem[1024], sig_hex[2 * CS_SIG_MAX + 1];
    uint8_t sig[CS_SIG_MAX];
    size_t sig_len = 0;
    int rc;
    if ((rc = cs_key_id(key, id, err)) != 0 || (rc = cs_key_write_public_pem(key, pem, sizeof pem, err)) != 0)
        return rc;
    /* Without health, an empty object: ours to release, as "O" takes its
     * own reference (it leaked before; found by fuzz_reports). */
    json_t *empty = health ? NULL : json_object();
    json_t *doc = json_pack("{s:s,s:s,s:I,s:O,s:O}", "node", id, "key", pem, "sent", (json_int_t)now, "health",
                            health ? health : empty, "records", records);
    json_decref(empty);
    char *text = doc ? json_dumps(doc, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    json_decref(doc);
    if (!text)
        return cs_err_set(err, CS_ENOMEM, "out of memory");
    size_t n = strlen(text);
    if ((rc = cs_key_sign(key, text, n, sig, &sig_len, err)) == 0) {
        cs_hex_encode(sig, sig_len, sig_hex);
        if (cs_buf_printf(out, "%ssig %s\n", SYNC_OUTBOX_MAGIC, sig_hex) != 0 || cs_buf_append(out, text, n) != 0)
            rc = cs_err_set(err, CS_ETOOBIG, "outbox batch over %u bytes", SYNC_OUTBOX_MAX_BYTES);
    }
    free(text);
    return rc;
}

static int record_ok(const json_t *r, int64_t prev, int64_t *seq, cs_err *err)
{
    json_t *s = json_object_get(r, "seq"), *u = json_object_get(r, "uuid"), *k = json_object_get(r, "kind"),
           *c = json_object_get(r, "created"), *b = json_object_get(r, "body");
    if (!json_is_object(r) || !json_is_integer(s) || !json_is_string(u) || !json_is_string(k) ||
        !json_is_integer(c) || !json_is_object(b))
        return cs_err_set(err, CS_EFORMAT, "outbox record: needs seq, uuid, kind, created and body");
    *seq = json_integer_value(s);
    if (*seq <= prev || *seq > ((int64_t)1 << 53))
        return cs_err_set(err, CS_EFORMAT, "outbox record: sequence numbers must increase");
    if (json_string_length(u) != 36)
        return cs_err_set(err, CS_EFORMAT, "outbox record %lld: malformed uuid", (long long)*seq);
    for (size_t i = 0; i < sizeof record_kinds / sizeof record_kinds[0]; i++)
        if (strcmp(json_string_value(k), record_kinds[i]) == 0)
            return 0;
    return cs_err_set(err, CS_EFORMAT, "outbox record %lld: unknown kind", (long long)*seq);
}

int sync_outbox_parse(sync_outbox_batch *b, const void *data, size_t len, cs_err *err)
{
    const char *p = data, *end = p + len;
    size_t ml = strlen(SYNC_OUTBOX_MAGIC);
    uint8_t sig[CS_SIG_MAX];
    cs_key *key = NULL;
    json_error_t je;
    int rc;
    memset(b, 0, sizeof *b);
    if (len > SYNC_OUTBOX_MAX_BYTES)
        return cs_err_set(err, CS_ETOOBIG, "outbox batch over %u bytes", SYNC_OUTBOX_MAX_BYTES);
    if (len < ml || memcmp(p, SYNC_OUTBOX_MAGIC, ml) != 0)
        return cs_err_set(err, CS_ESIG, "not a signed outbox batch (bad first line)");
    p += ml;
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    size_t hex_len = nl ? (size_t)(nl - p) : 0;
    if (!nl || hex_len < 4 + 16 || hex_len > 4 + 2 * CS_SIG_MAX || memcmp(p, "sig ", 4) != 0 ||
        (hex_len - 4) % 2 != 0)
        return cs_err_set(err, CS_ESIG, "outbox batch: unsigned (no signature line)");
    char hex[2 * CS_SIG_MAX + 1];
    memcpy(hex, p + 4, hex_len - 4);
    hex[hex_len - 4] = 0;
    size_t sig_len = (hex_len - 4) / 2;
    if (cs_hex_decode(hex, sig, sig_len) != 0)
        return cs_err_set(err, CS_ESIG, "outbox batch: malformed signature");
    const char *json = nl + 1;
    size_t json_len = (size_t)(end - json);
    b->doc = json_loadb(json, json_len, JSON_REJECT_DUPLICATES, &je);
    if (!b->doc || !json_is_object(b->doc)) {
        rc = cs_err_set(err, CS_EFORMAT, "outbox batch: JSON: %s", b->doc ? "not an object" : je.text);
        goto fail;
    }
    json_t *node = json_object_get(b->doc, "node"), *pem = json_object_get(b->doc, "key");
    b->records = json_object_get(b->doc, "records");
    b->health = json_object_get(b->doc, "health");
    if (!json_is_string(node) || json_string_length(node) != 64 || !json_is_string(pem) ||
        json_string_length(pem) > 1024 || !json_is_array(b->records) || (b->health && !json_is_object(b->health))) {
        rc = cs_err_set(err, CS_EFORMAT, "outbox batch: needs node, key and records");
        goto fail;
    }
    if (json_array_size(b->records) > SYNC_OUTBOX_MAX_RECORDS) {
        rc = cs_err_set(err, CS_ETOOBIG, "outbox batch: over %d records", SYNC_OUTBOX_MAX_RECORDS);
        goto fail;
    }
    /* The key must be the node's (its id), and must have signed these bytes. */
    char id[CS_KEYID_HEX];
    if ((rc = cs_key_parse_public(&key, json_string_value(pem), json_string_length(pem), err)) != 0 ||
        (rc = cs_key_id(key, id, err)) != 0) {
        rc = cs_err_set(err, CS_ESIG, "outbox batch: unusable public key");
        goto fail;
    }
    if (strcmp(id, json_string_value(node)) != 0) {
        rc = cs_err_set(err, CS_ESIG, "outbox batch: the key is not the node's");
        goto fail;
    }
    if (cs_key_verify(key, json, json_len, sig, sig_len, NULL) != 0) {
        rc = cs_err_set(err, CS_ESIG, "outbox batch: signature does not verify");
        goto fail;
    }
    snprintf(b->node, sizeof b->node, "%s", id);
    int64_t prev = 0, seq = 0;
    size_t i;
    json_t *r;
    json_array_foreach(b->records, i, r)
    {
        if ((rc = record_ok(r, prev, &seq, err)) != 0)
            goto fail;
        prev = seq;
    }
    cs_key_free(key);
    return 0;
fail:
    cs_key_free(key);
    sync_outbox_batch_clear(b);
    return rc;
}

void sync_outbox_batch_clear(sync_outbox_batch *b)
{
    if (!b)
        return;
    json_decref(b->doc);
    memset(b, 0, sizeof *b);
}

static size_t reply_write(char *ptr, size_t size, size_t n, void *ud)
{
    cs_buf *b = ud;
    return cs_buf_append(b, ptr, size * n) == 0 ? size * n : 0;
}

int sync_outbox_post(const char *base_url, const void *data, size_t len, long timeout_s, int64_t *acked,
                     cs_err *err)
{
    char url[4200];
    cs_buf reply;
    int rc = 0;
    size_t bl = strlen(base_url);
    snprintf(url, sizeof url, "%s%soutbox", base_url, bl && base_url[bl - 1] == '/' ? "" : "/");
    CURL *c = curl_easy_init();
    if (!c)
        return cs_err_set(err, CS_ENOMEM, "cannot start libcurl");
    cs_buf_init(&reply, 64 * 1024);
    struct curl_slist *hd = curl_slist_append(NULL, "Content-Type: application/vnd.cistern.outbox");
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_POST, 1L);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, (const char *)data);
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hd);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, reply_write);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &reply);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 30L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, timeout_s > 0 ? timeout_s : 600L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    CURLcode cc = curl_easy_perform(c);
    long code = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
    if (cc != CURLE_OK) {
        rc = cs_err_set(err, CS_ENET, "outbox upload: %s", curl_easy_strerror(cc));
    } else if (code != 200) {
        int kind = code == 401 ? CS_ESIG : code == 413 ? CS_ETOOBIG : (code == 404 || code == 405) ? CS_EUNSUPPORTED : CS_ENET;
        rc = cs_err_set(err, kind, "outbox upload: hub answered %ld%s%.*s", code, reply.len ? ": " : "",
                        (int)(reply.len > 200 ? 200 : reply.len), reply.data ? (const char *)reply.data : "");
    } else {
        json_t *o = json_loadb((const char *)reply.data, reply.len, 0, NULL);
        json_t *a = json_object_get(o, "acked");
        if (!json_is_integer(a))
            rc = cs_err_set(err, CS_EFORMAT, "outbox upload: the hub's answer has no \"acked\"");
        else
            *acked = json_integer_value(a);
        json_decref(o);
    }
    curl_slist_free_all(hd);
    curl_easy_cleanup(c);
    cs_buf_free(&reply);
    return rc;
}
