/*
 * catfile.c - catalogue files (see catfile.h for the layout).
 */
#include "sync/catfile.h"

#include <stdlib.h>
#include <string.h>
#include <zstd.h>

#include "content/object.h"
#include "content/resource.h"
#include "platform/crypto.h"
#include "sync/meta.h"

struct sync_catfile_writer {
    uint64_t from, to;
    uint32_t flags;
    uint32_t records;
    cs_buf payload;
};

int sync_catfile_writer_new(sync_catfile_writer **out, uint64_t from, uint64_t to, uint32_t flags)
{
    sync_catfile_writer *w = calloc(1, sizeof *w);
    if (!w)
        return CS_ENOMEM;
    w->from = from;
    w->to = to;
    w->flags = flags;
    cs_buf_init(&w->payload, (size_t)CATFILE_MAX_PAYLOAD);
    *out = w;
    return 0;
}

void sync_catfile_writer_free(sync_catfile_writer *w)
{
    if (!w)
        return;
    cs_buf_free(&w->payload);
    free(w);
}

int sync_catfile_writer_add(sync_catfile_writer *w, const char *line, size_t len, cs_err *err)
{
    if (len > CATFILE_MAX_LINE || memchr(line, '\n', len))
        return cs_err_set(err, CS_ETOOBIG, "catalogue record too long or has a newline");
    if (w->records >= CATFILE_MAX_RECORDS)
        return cs_err_set(err, CS_ETOOBIG, "more than %u catalogue records", CATFILE_MAX_RECORDS);
    if (cs_buf_append(&w->payload, line, len) || cs_buf_append(&w->payload, "\n", 1))
        return cs_err_set(err, CS_ETOOBIG, "catalogue larger than the format allows");
    w->records++;
    return 0;
}

int sync_catfile_writer_finish(sync_catfile_writer *w, int level, uint8_t **out, size_t *out_len,
                               cs_err *err)
{
    size_t bound = ZSTD_compressBound(w->payload.len);
    uint8_t *buf = malloc(CATFILE_HDR + bound);
    if (!buf)
        return cs_err_set(err, CS_ENOMEM, "out of memory compressing the catalogue");
    memcpy(buf, CATFILE_MAGIC, 4);
    cs_put_u32(buf + 4, 1);
    cs_put_u64(buf + 8, w->from);
    cs_put_u64(buf + 16, w->to);
    cs_put_u32(buf + 24, w->records);
    cs_put_u32(buf + 28, w->flags);
    cs_put_u64(buf + 32, w->payload.len);
    size_t n = ZSTD_compress(buf + CATFILE_HDR, bound, w->payload.data ? (void *)w->payload.data : "",
                             w->payload.len, level);
    if (ZSTD_isError(n)) {
        free(buf);
        return cs_err_set(err, CS_EIO, "zstd: %s", ZSTD_getErrorName(n));
    }
    *out = buf;
    *out_len = CATFILE_HDR + n;
    return 0;
}

int sync_catfile_header_parse(sync_catfile_header *h, const uint8_t *p, size_t len, cs_err *err)
{
    if (len < CATFILE_HDR || memcmp(p, CATFILE_MAGIC, 4) != 0)
        return cs_err_set(err, CS_EFORMAT, "not a catalogue file (bad magic or too short)");
    sync_catfile_header x;
    x.format = cs_get_u32(p + 4);
    x.from_version = cs_get_u64(p + 8);
    x.to_version = cs_get_u64(p + 16);
    x.records = cs_get_u32(p + 24);
    x.flags = cs_get_u32(p + 28);
    x.payload_len = cs_get_u64(p + 32);
    if (x.format != 1)
        return cs_err_set(err, CS_EUNSUPPORTED, "catalogue file format %u (this node reads 1)", x.format);
    if (x.flags & ~CATFILE_FULL)
        return cs_err_set(err, CS_EFORMAT, "catalogue file has unknown flags %#x", x.flags);
    if ((x.flags & CATFILE_FULL) ? x.from_version != 0 : x.from_version >= x.to_version)
        return cs_err_set(err, CS_EFORMAT, "catalogue file versions %llu -> %llu are inconsistent",
                          (unsigned long long)x.from_version, (unsigned long long)x.to_version);
    if (x.records > CATFILE_MAX_RECORDS || x.payload_len > CATFILE_MAX_PAYLOAD)
        return cs_err_set(err, CS_ETOOBIG, "catalogue file declares %u records / %llu bytes, over the limits",
                          x.records, (unsigned long long)x.payload_len);
    *h = x;
    return 0;
}

int sync_catfile_read(const uint8_t *data, size_t len, sync_catfile_header *hdr,
                      sync_catfile_record_cb cb, void *ctx, cs_err *err)
{
    sync_catfile_header h;
    int rc = sync_catfile_header_parse(&h, data, len, err);
    if (rc)
        return rc;
    ZSTD_DStream *ds = ZSTD_createDStream();
    cs_buf line;
    cs_buf_init(&line, CATFILE_MAX_LINE);
    size_t chunk_cap = ZSTD_DStreamOutSize();
    uint8_t *chunk = malloc(chunk_cap);
    uint64_t produced = 0;
    uint32_t records = 0;
    int frame_done = 0;
    if (!ds || !chunk) {
        rc = cs_err_set(err, CS_ENOMEM, "out of memory");
        goto out;
    }
    /* Refuse frames that would need a window over 128 MiB of memory. */
    ZSTD_DCtx_setParameter(ds, ZSTD_d_windowLogMax, 27);
    ZSTD_inBuffer in = {data + CATFILE_HDR, len - CATFILE_HDR, 0};
    while (!frame_done) {
        ZSTD_outBuffer o = {chunk, chunk_cap, 0};
        size_t r = ZSTD_decompressStream(ds, &o, &in);
        if (ZSTD_isError(r)) {
            rc = cs_err_set(err, CS_EFORMAT, "catalogue file does not decompress: %s", ZSTD_getErrorName(r));
            goto out;
        }
        if (r == 0)
            frame_done = 1;
        else if (o.pos == 0 && in.pos == in.size) {
            rc = cs_err_set(err, CS_EFORMAT, "catalogue file is truncated");
            goto out;
        }
        produced += o.pos;
        if (produced > h.payload_len) {
            rc = cs_err_set(err, CS_EFORMAT, "catalogue file decompresses past its declared size");
            goto out;
        }
        size_t start = 0;
        for (size_t i = 0; i < o.pos; i++) {
            if (chunk[i] != '\n')
                continue;
            if (cs_buf_append(&line, chunk + start, i - start)) {
                rc = cs_err_set(err, CS_ETOOBIG, "catalogue record over %u bytes", CATFILE_MAX_LINE);
                goto out;
            }
            start = i + 1;
            if (++records > h.records) {
                rc = cs_err_set(err, CS_EFORMAT, "catalogue file has more records than declared");
                goto out;
            }
            json_error_t je;
            json_t *rec = json_loadb((const char *)line.data, line.len, JSON_REJECT_DUPLICATES, &je);
            if (!json_is_object(rec)) {
                json_decref(rec);
                rc = cs_err_set(err, CS_EFORMAT, "catalogue record %u is not a JSON object", records);
                goto out;
            }
            rc = cb ? cb(ctx, rec, err) : 0;
            json_decref(rec);
            if (rc)
                goto out;
            cs_buf_reset(&line);
        }
        if (start < o.pos && cs_buf_append(&line, chunk + start, o.pos - start)) {
            rc = cs_err_set(err, CS_ETOOBIG, "catalogue record over %u bytes", CATFILE_MAX_LINE);
            goto out;
        }
    }
    if (in.pos != in.size || produced != h.payload_len || records != h.records || line.len != 0) {
        rc = cs_err_set(err, CS_EFORMAT, "catalogue file is inconsistent with its header");
        goto out;
    }
    if (hdr)
        *hdr = h;
out:
    free(chunk);
    cs_buf_free(&line);
    ZSTD_freeDStream(ds);
    return rc;
}

int sync_deltas_valid(const json_t *d)
{
    if (!json_is_array(d) || json_array_size(d) == 0 || json_array_size(d) > CATFILE_MAX_DELTAS)
        return CS_EFORMAT;
    size_t i;
    json_t *e;
    json_array_foreach(d, i, e)
    {
        uint8_t id[32];
        const char *hex = json_string_value(json_array_get(e, 0));
        json_t *len = json_array_get(e, 1);
        if (!json_is_array(e) || json_array_size(e) != 2 || !hex || cs_hex_decode(hex, id, 32) != 0 ||
            !json_is_integer(len) || json_integer_value(len) < 1 || (uint64_t)json_integer_value(len) > CONTENT_OBJ_MAX_RAW)
            return CS_EFORMAT;
    }
    return 0;
}

int sync_record_to_resource(json_t *rec, content_resource **out, cs_err *err)
{
    json_t *meta = json_object_get(rec, "resource");
    json_t *files = json_object_get(rec, "files");
    content_resource *r = NULL;
    int rc = 0;
    if (!json_is_object(meta) || !json_is_array(files))
        return cs_err_set(err, CS_EFORMAT, "put record needs \"resource\" and \"files\"");
    if ((rc = content_resource_validate(meta, err)) != 0)
        return rc;
    if (json_array_size(files) > CONTENT_RESOURCE_MAX_FILES)
        return cs_err_set(err, CS_ETOOBIG, "resource has more than %d files", CONTENT_RESOURCE_MAX_FILES);
    r = calloc(1, sizeof *r);
    if (!r)
        return cs_err_set(err, CS_ENOMEM, "out of memory");
    r->id = strdup(json_string_value(json_object_get(meta, "id")));
    r->meta = json_incref(meta);
    r->files = calloc(json_array_size(files) + 1, sizeof *r->files);
    if (!r->id || !r->files) {
        rc = cs_err_set(err, CS_ENOMEM, "out of memory");
        goto fail;
    }
    size_t i;
    json_t *f;
    int entry_found = 0;
    const char *entry = json_string_value(json_object_get(meta, "entry"));
    json_array_foreach(files, i, f)
    {
        const char *path = json_string_value(json_array_get(f, 0));
        json_t *size = json_array_get(f, 1);
        const char *mime = json_string_value(json_array_get(f, 2));
        const char *hex = json_string_value(json_array_get(f, 3));
        json_t *enc = json_array_get(f, 4);
        content_file *cf = &r->files[r->nfiles];
        if (!json_is_array(f) || (json_array_size(f) != 5 && json_array_size(f) != 6) ||
            (json_array_size(f) == 6 && sync_deltas_valid(json_array_get(f, 5)) != 0) || !path ||
            !content_path_valid(path) ||
            !json_is_integer(size) || json_integer_value(size) < 0 || !mime || strlen(mime) > 255 ||
            !hex || cs_hex_decode(hex, cf->object, 32) != 0 || !json_is_integer(enc)) {
            rc = cs_err_set(err, CS_EFORMAT, "resource %s: file entry %zu is malformed", r->id, i);
            goto fail;
        }
        cf->size = (uint64_t)json_integer_value(size);
        cf->enc_len = (uint64_t)json_integer_value(enc);
        if (cf->size > CONTENT_OBJ_MAX_RAW || cf->enc_len < CONTENT_OBJ_HDR ||
            cf->enc_len > content_obj_bound(cf->size)) {
            rc = cs_err_set(err, CS_EFORMAT, "resource %s: file %s has impossible sizes", r->id, path);
            goto fail;
        }
        cf->path = strdup(path);
        cf->mime = strdup(mime);
        content_mime_lower(cf->mime); /* catalogues from older hubs may carry "Text/HTML" */
        r->nfiles++;
        if (!cf->path || !cf->mime) {
            rc = cs_err_set(err, CS_ENOMEM, "out of memory");
            goto fail;
        }
        if (i > 0 && strcmp(r->files[i - 1].path, path) >= 0) {
            rc = cs_err_set(err, CS_EFORMAT, "resource %s: files not in strict path order", r->id);
            goto fail;
        }
        if (entry && strcmp(entry, path) == 0)
            entry_found = 1;
    }
    if (!entry_found) {
        rc = cs_err_set(err, CS_EFORMAT, "resource %s: entry \"%s\" is not one of its files", r->id,
                        entry ? entry : "");
        goto fail;
    }
    *out = r;
    return 0;
fail:
    content_resource_free(r);
    return rc;
}

int sync_resource_to_record(const content_resource *r, char **out, size_t *len, cs_err *err)
{
    return sync_resource_to_record_ex(r, NULL, out, len, err);
}

int sync_resource_to_record_ex(const content_resource *r, const json_t *deltas, char **out, size_t *len,
                               cs_err *err)
{
    json_t *files = json_array();
    for (size_t i = 0; i < r->nfiles; i++) {
        const content_file *f = &r->files[i];
        char hex[CS_SHA256_HEX];
        cs_hex_encode(f->object, 32, hex);
        json_t *fe = json_pack("[s,I,s,s,I]", f->path, (json_int_t)f->size, f->mime, hex, (json_int_t)f->enc_len);
        json_t *d = deltas ? json_object_get(deltas, f->path) : NULL;
        if (fe && d && json_array_size(d) > 0)
            json_array_append(fe, d);
        json_array_append_new(files, fe);
    }
    json_t *rec = json_pack("{s:s,s:O,s:o}", "op", "put", "resource", r->meta, "files", files);
    if (!rec)
        return cs_err_set(err, CS_ENOMEM, "cannot build catalogue record for %s", r->id);
    int rc = sync_canonical(rec, out, len, err);
    json_decref(rec);
    return rc;
}

typedef struct apply_ctx {
    content_catalog *cat;
    sync_catfile_file_cb file_cb;
    void *ctx;
} apply_ctx;

static int apply_record(void *vctx, json_t *rec, cs_err *err)
{
    apply_ctx *a = vctx;
    const char *op = json_string_value(json_object_get(rec, "op"));
    if (op && strcmp(op, "del") == 0) {
        const char *id = json_string_value(json_object_get(rec, "id"));
        if (!id || !content_id_valid(id))
            return cs_err_set(err, CS_EFORMAT, "del record has a bad id");
        int rc = content_catalog_delete(a->cat, id, err);
        return rc == CS_ENOENT ? 0 : rc;
    }
    if (!op || strcmp(op, "put") != 0)
        return cs_err_set(err, CS_EFORMAT, "catalogue record has unknown op");
    content_resource *r = NULL;
    int rc = sync_record_to_resource(rec, &r, err);
    if (rc)
        return rc;
    r->cached = 1;
    for (size_t i = 0; a->file_cb && i < r->nfiles; i++) {
        int x = a->file_cb(a->ctx, r, &r->files[i]);
        if (x < 0) {
            rc = cs_err_set(err, x, "resource %s: checking file %s failed", r->id, r->files[i].path);
            break;
        }
        if (x == 0)
            r->cached = 0;
    }
    if (rc == 0)
        rc = content_catalog_put(a->cat, r, err);
    content_resource_free(r);
    return rc;
}

int sync_catfile_apply(content_catalog *cat, const uint8_t *data, size_t len,
                       sync_catfile_file_cb file_cb, void *ctx, cs_err *err)
{
    sync_catfile_header h;
    int rc = sync_catfile_header_parse(&h, data, len, err);
    if (rc)
        return rc;
    if ((h.flags & CATFILE_FULL) && (rc = content_catalog_clear(cat, err)) != 0)
        return rc;
    apply_ctx a = {cat, file_cb, ctx};
    return sync_catfile_read(data, len, NULL, apply_record, &a, err);
}
