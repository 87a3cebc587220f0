/*
 * hub_delta.c - binary deltas for changed files, computed at publish.
 *
 * For every file of a changed resource, each different object the same
 * path held in the last K versions becomes the base of a zstd patch-from
 * delta (level 19, long-distance matching, the base as prefix): the same
 * algorithm as `zstd --patch-from`.  A delta is kept only if it is smaller
 * than the encoded object.  Files over HUB_DELTA_MAX_RAW get none: nodes
 * must hold the base and the result in memory to apply it.
 */
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>

#include "content/object.h"
#include "hub_int.h"
#include "platform/file.h"
#include "sync/catfile.h"

#define HUB_DELTA_MAX_RAW (32u << 20)
#define HUB_DELTA_LEVEL 19

/* The raw bytes of an object in the repository (decoded and verified). */
static int load_object(sync_hub *h, const uint8_t id[32], uint64_t raw_len, uint8_t **out, cs_err *err)
{
    char hex[CS_SHA256_HEX], path[PATH_MAX];
    cs_hex_encode(id, 32, hex);
    snprintf(path, sizeof path, "%s/objects/%.2s/%s", h->dir, hex, hex);
    char *enc = NULL;
    size_t len = 0;
    int rc = cs_file_read_all(path, content_obj_bound(raw_len), &enc, &len, err);
    if (rc)
        return rc;
    uint8_t *raw = malloc(raw_len ? raw_len : 1);
    if (!raw) {
        free(enc);
        return cs_err_set(err, CS_ENOMEM, "out of memory");
    }
    rc = content_obj_verify_buf((const uint8_t *)enc, len, id, raw, raw_len, err);
    free(enc);
    if (rc) {
        free(raw);
        return rc;
    }
    *out = raw;
    return 0;
}

static unsigned window_log(uint64_t n)
{
    unsigned w = 10;
    while (w < 27 && (1ULL << w) < n)
        w++;
    return w;
}

/* Make (or find) the delta base -> target; *dlen 0 if not worth it. */
static int make_delta(sync_hub *h, const uint8_t base[32], uint64_t base_len, const content_file *f,
                      const uint8_t *target, uint64_t *dlen, cs_err *err)
{
    char bh[CS_SHA256_HEX], th[CS_SHA256_HEX], path[PATH_MAX], dir[PATH_MAX];
    cs_hex_encode(base, 32, bh);
    cs_hex_encode(f->object, 32, th);
    snprintf(dir, sizeof dir, "%s/deltas/%.2s", h->dir, th);
    snprintf(path, sizeof path, "%s/%s-%s.zst", dir, bh, th);
    struct stat st;
    *dlen = 0;
    if (stat(path, &st) == 0 && st.st_size > 0) {
        *dlen = (uint64_t)st.st_size;
        return 0;
    }
    uint8_t *old = NULL, *out = NULL;
    int rc = load_object(h, base, base_len, &old, err);
    if (rc)
        return rc == CS_ENOENT ? 0 : rc;
    ZSTD_CCtx *cc = ZSTD_createCCtx();
    size_t cap = ZSTD_compressBound(f->size);
    out = malloc(cap ? cap : 1);
    if (!cc || !out) {
        rc = cs_err_set(err, CS_ENOMEM, "out of memory computing a delta");
        goto out;
    }
    ZSTD_CCtx_setParameter(cc, ZSTD_c_compressionLevel, HUB_DELTA_LEVEL);
    ZSTD_CCtx_setParameter(cc, ZSTD_c_enableLongDistanceMatching, 1);
    ZSTD_CCtx_setParameter(cc, ZSTD_c_windowLog, (int)window_log(base_len + f->size));
    ZSTD_CCtx_refPrefix(cc, old, base_len);
    size_t n = ZSTD_compress2(cc, out, cap, target, f->size);
    if (ZSTD_isError(n)) {
        rc = cs_err_set(err, CS_EIO, "zstd delta: %s", ZSTD_getErrorName(n));
        goto out;
    }
    if (n >= f->enc_len)
        goto out; /* the whole object is no bigger: no delta */
    if ((rc = cs_mkdirs(dir, 0755, err)) != 0 || (rc = cs_file_write_atomic(path, out, n, 0644, err)) != 0)
        goto out;
    *dlen = n;
out:
    ZSTD_freeCCtx(cc);
    free(out);
    free(old);
    return rc;
}

int hub_deltas_for(sync_hub *h, int64_t v, const content_resource *r, const char *src, json_t **out, cs_err *err)
{
    *out = NULL;
    if (h->opt.delta_depth < 1)
        return 0;
    sqlite3_stmt *st = NULL;
    json_t *bases = json_object(); /* path -> {base hex: raw_len} */
    json_t *deltas = json_object();
    uint8_t *target = NULL;
    int rc = 0;
    if (sqlite3_prepare_v2(h->db,
                           "SELECT record FROM records WHERE id = ?1 AND first <= ?2 - 1 AND "
                           "(last IS NULL OR last >= ?2 - ?3)",
                           -1, &st, NULL) != SQLITE_OK) {
        rc = cs_err_set(err, CS_EDB, "hub database: %s", sqlite3_errmsg(h->db));
        goto out;
    }
    sqlite3_bind_text(st, 1, r->id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, v);
    sqlite3_bind_int64(st, 3, h->opt.delta_depth);
    while (sqlite3_step(st) == SQLITE_ROW) {
        json_t *rec = json_loadb((const char *)sqlite3_column_text(st, 0), (size_t)sqlite3_column_bytes(st, 0), 0, NULL);
        size_t i;
        json_t *fe;
        json_array_foreach(json_object_get(rec, "files"), i, fe)
        {
            const char *path = json_string_value(json_array_get(fe, 0));
            const char *hex = json_string_value(json_array_get(fe, 3));
            json_int_t size = json_integer_value(json_array_get(fe, 1));
            if (!path || !hex)
                continue;
            json_t *m = json_object_get(bases, path);
            if (!m) {
                m = json_object();
                json_object_set_new(bases, path, m);
            }
            if (json_object_size(m) < CATFILE_MAX_DELTAS)
                json_object_set_new(m, hex, json_integer(size));
        }
        json_decref(rec);
    }
    for (size_t i = 0; i < r->nfiles && rc == 0; i++) {
        const content_file *f = &r->files[i];
        json_t *m = json_object_get(bases, f->path);
        if (!m || f->size > HUB_DELTA_MAX_RAW || f->size == 0)
            continue;
        char th[CS_SHA256_HEX];
        cs_hex_encode(f->object, 32, th);
        const char *bh;
        json_t *bl;
        json_t *arr = json_array();
        free(target);
        target = NULL;
        json_object_foreach(m, bh, bl)
        {
            uint8_t base[32];
            uint64_t blen = (uint64_t)json_integer_value(bl), dlen = 0;
            if (strcmp(bh, th) == 0 || blen > HUB_DELTA_MAX_RAW || cs_hex_decode(bh, base, 32) != 0)
                continue;
            /* The target is read back from its stored object, not from the
             * source tree: the delta is made against exactly the bytes that
             * were hashed, and files listed by a manifest (resource.files)
             * need no path mapping here. */
            if (!target && (rc = load_object(h, f->object, f->size, &target, err)) != 0)
                break;
            if ((rc = make_delta(h, base, blen, f, target, &dlen, err)) != 0)
                break;
            if (dlen)
                json_array_append_new(arr, json_pack("[s,I]", bh, (json_int_t)dlen));
        }
        if (json_array_size(arr))
            json_object_set_new(deltas, f->path, arr);
        else
            json_decref(arr);
    }
out:
    free(target);
    sqlite3_finalize(st);
    json_decref(bases);
    if (rc == 0 && json_object_size(deltas))
        *out = deltas;
    else
        json_decref(deltas);
    return rc;
}
