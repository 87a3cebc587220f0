/*
 * object.c - the encoded object format (see object.h and docs/store.md).
 *
 * Decoders treat every byte as hostile: the header is range-checked, the
 * table must fit and be non-decreasing, no block may claim more stored bytes
 * than LZ4 could ever produce for it, LZ4 must decode to exactly the block's
 * raw length, and the SHA-256 must match at the end.
 */
#include <errno.h>
#include <lz4.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "content/object.h"
#include "platform/buf.h"
#include "platform/crypto.h"
#include "platform/error.h"
#include "store_int.h"

#define OBJ_MIN_BLOCK (4u * 1024)
#define OBJ_MAX_BLOCK (4u * 1024 * 1024)
/* encode_fd reads and writes in batches of about this many bytes. */
#define OBJ_IO_BATCH (1u << 20)

int content_obj_header_parse(content_obj_header *out, const uint8_t *p, size_t len, cs_err *err)
{
    if (!p || len < CONTENT_OBJ_HDR)
        return cs_err_set(err, CS_EFORMAT, "object header truncated (%zu of %d bytes)", len,
                          CONTENT_OBJ_HDR);
    if (memcmp(p, CONTENT_OBJ_MAGIC, 4) != 0)
        return cs_err_set(err, CS_EFORMAT, "object magic is not \"CSO1\"");
    uint32_t bs = cs_get_u32(p + 4);
    if (bs < OBJ_MIN_BLOCK || bs > OBJ_MAX_BLOCK || (bs & (bs - 1)) != 0)
        return cs_err_set(err, CS_EFORMAT, "object block size %u invalid", bs);
    uint64_t raw_len = cs_get_u64(p + 8);
    if (raw_len > CONTENT_OBJ_MAX_RAW)
        return cs_err_set(err, CS_ETOOBIG, "object raw length %llu over the %llu-byte cap",
                          (unsigned long long)raw_len, (unsigned long long)CONTENT_OBJ_MAX_RAW);
    uint32_t nblocks = cs_get_u32(p + 48);
    uint64_t want = (raw_len + bs - 1) / bs;
    if (nblocks != want)
        return cs_err_set(err, CS_EFORMAT, "object block count %u, expected %llu", nblocks,
                          (unsigned long long)want);
    if (cs_get_u32(p + 52) != 0)
        return cs_err_set(err, CS_EFORMAT, "object reserved field not zero");
    out->block_size = bs;
    out->raw_len = raw_len;
    memcpy(out->id, p + 16, 32);
    out->nblocks = nblocks;
    return 0;
}

uint64_t content_obj_bound(uint64_t raw_len)
{
    uint64_t n = (raw_len + 4095) / 4096; /* the smallest legal block size */
    return CONTENT_OBJ_HDR + 8 * n + raw_len;
}

uint32_t content_obj_block_len(const content_obj_header *h, uint32_t i)
{
    uint64_t start = (uint64_t)i * h->block_size;
    uint64_t left = h->raw_len - start;
    return left < h->block_size ? (uint32_t)left : h->block_size;
}

int content_obj_block_check(const content_obj_header *h, uint32_t i, uint64_t start, uint64_t end,
                            cs_err *err)
{
    if (end < start)
        return cs_err_set(err, CS_EFORMAT, "object block %u: table offsets decrease", i);
    uint32_t blen = content_obj_block_len(h, i);
    if (end - start > (uint64_t)LZ4_compressBound((int)blen))
        return cs_err_set(err, CS_EFORMAT, "object block %u: %llu stored bytes for %u raw", i,
                          (unsigned long long)(end - start), blen);
    return 0;
}

int content_obj_block_decode(const content_obj_header *h, uint32_t i, const uint8_t *src,
                             size_t src_len, uint8_t *dst, cs_err *err)
{
    uint32_t blen = content_obj_block_len(h, i);
    if (src_len == blen) {
        memcpy(dst, src, blen);
        return 0;
    }
    int n = LZ4_decompress_safe((const char *)src, (char *)dst, (int)src_len, (int)blen);
    if (n != (int)blen)
        return cs_err_set(err, CS_EFORMAT, "object block %u: LZ4 data does not decode to %u bytes",
                          i, blen);
    return 0;
}

/* Compress one block into dst (capacity blen - 1: LZ4 gives up as soon as the
 * output would not be strictly smaller).  Returns the stored length; the
 * stored bytes are in dst if it is < blen, else they are the raw block. */
static size_t encode_block(const uint8_t *raw, uint32_t blen, uint8_t *dst)
{
    if (blen < 2)
        return blen;
    int c = LZ4_compress_default((const char *)raw, (char *)dst, (int)blen, (int)blen - 1);
    return c > 0 ? (size_t)c : blen;
}

static void put_header(uint8_t *p, uint64_t raw_len, const uint8_t id[32], uint32_t nblocks)
{
    memcpy(p, CONTENT_OBJ_MAGIC, 4);
    cs_put_u32(p + 4, CONTENT_OBJ_BLOCK);
    cs_put_u64(p + 8, raw_len);
    memcpy(p + 16, id, 32);
    cs_put_u32(p + 48, nblocks);
    cs_put_u32(p + 52, 0);
}

int content_obj_encode_buf_id(const void *raw, size_t raw_len, const uint8_t id[32], uint8_t **out,
                              size_t *out_len, cs_err *err)
{
    if (raw_len > CONTENT_OBJ_MAX_RAW)
        return cs_err_set(err, CS_ETOOBIG, "object of %zu bytes over the cap", raw_len);
    if (!raw && raw_len)
        return cs_err_set(err, CS_EINVAL, "NULL buffer");
    const uint8_t *in = raw;
    uint32_t n = (uint32_t)((raw_len + CONTENT_OBJ_BLOCK - 1) / CONTENT_OBJ_BLOCK);
    size_t cap = (size_t)content_obj_bound(raw_len);
    uint8_t *enc = malloc(cap ? cap : 1);
    if (!enc)
        return cs_err_set(err, CS_ENOMEM, "no memory for a %zu-byte object", cap);
    put_header(enc, raw_len, id, n);
    uint8_t *table = enc + CONTENT_OBJ_HDR;
    uint8_t *data = table + 8ULL * n;
    uint64_t end = 0;
    for (uint32_t i = 0; i < n; i++) {
        size_t start = (size_t)i * CONTENT_OBJ_BLOCK;
        uint32_t blen =
            raw_len - start < CONTENT_OBJ_BLOCK ? (uint32_t)(raw_len - start) : CONTENT_OBJ_BLOCK;
        size_t sl = encode_block(in + start, blen, data + end);
        if (sl == blen)
            memcpy(data + end, in + start, blen);
        end += sl;
        cs_put_u64(table + 8ULL * i, end);
    }
    size_t total = CONTENT_OBJ_HDR + 8ULL * n + end;
    uint8_t *shrunk = realloc(enc, total);
    *out = shrunk ? shrunk : enc;
    *out_len = total;
    return 0;
}

int content_obj_encode_buf(const void *raw, size_t raw_len, uint8_t id[32], uint8_t **out,
                           size_t *out_len, cs_err *err)
{
    uint8_t h[32];
    if (!raw && raw_len)
        return cs_err_set(err, CS_EINVAL, "NULL buffer");
    cs_sha256_buf(raw_len ? raw : "", raw_len, h);
    int rc = content_obj_encode_buf_id(raw, raw_len, h, out, out_len, err);
    if (rc == 0)
        memcpy(id, h, 32);
    return rc;
}

/* Read exactly len bytes (fewer only at EOF, reported as an error). */
static int read_exact(int fd, uint8_t *buf, size_t len, cs_err *err)
{
    size_t got = 0;
    while (got < len) {
        ssize_t r = read(fd, buf + got, len - got);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            return cs_err_errno(err, "reading file to encode");
        }
        if (r == 0)
            return cs_err_set(err, CS_EFORMAT, "file shorter than announced (changed while read?)");
        got += (size_t)r;
    }
    return 0;
}

int content_obj_encode_fd(int fd, uint64_t raw_len, content_obj_sink sink, void *ctx,
                          uint8_t id[32], uint8_t **hdr_out, size_t *hdr_len, uint64_t *enc_len,
                          cs_err *err)
{
    int rc = 0;
    cs_sha256 *sha = NULL;
    uint8_t *hdr = NULL, *in = NULL, *outb = NULL;
    size_t out_n = 0;
    uint64_t end = 0;
    if (raw_len > CONTENT_OBJ_MAX_RAW)
        return cs_err_set(err, CS_ETOOBIG, "file of %llu bytes over the object cap",
                          (unsigned long long)raw_len);
    uint32_t n = (uint32_t)((raw_len + CONTENT_OBJ_BLOCK - 1) / CONTENT_OBJ_BLOCK);
    size_t hl = CONTENT_OBJ_HDR + 8ULL * n;
    /* Read batch: whole blocks; out batch: room for a batch of raw blocks. */
    size_t batch = OBJ_IO_BATCH / CONTENT_OBJ_BLOCK * CONTENT_OBJ_BLOCK;
    hdr = calloc(1, hl);
    in = malloc(batch);
    outb = malloc(batch);
    if (!hdr || !in || !outb) {
        rc = cs_err_set(err, CS_ENOMEM, "no memory for the encoder");
        goto out;
    }
    if ((rc = cs_sha256_new(&sha)) != 0) {
        cs_err_set(err, rc, "cannot create a SHA-256 context");
        goto out;
    }
    if ((rc = sink(ctx, hdr, hl, err)) != 0)
        goto out;
    uint64_t done = 0;
    uint32_t bi = 0;
    while (done < raw_len) {
        size_t want = raw_len - done < batch ? (size_t)(raw_len - done) : batch;
        if ((rc = read_exact(fd, in, want, err)) != 0)
            goto out;
        cs_sha256_update(sha, in, want);
        for (size_t o = 0; o < want; o += CONTENT_OBJ_BLOCK, bi++) {
            uint32_t blen = want - o < CONTENT_OBJ_BLOCK ? (uint32_t)(want - o) : CONTENT_OBJ_BLOCK;
            if (out_n + blen > batch) {
                if ((rc = sink(ctx, outb, out_n, err)) != 0)
                    goto out;
                out_n = 0;
            }
            size_t sl = encode_block(in + o, blen, outb + out_n);
            if (sl == blen)
                memcpy(outb + out_n, in + o, blen);
            out_n += sl;
            end += sl;
            cs_put_u64(hdr + CONTENT_OBJ_HDR + 8ULL * bi, end);
        }
        done += want;
    }
    if (out_n && (rc = sink(ctx, outb, out_n, err)) != 0)
        goto out;
    uint8_t h[32];
    cs_sha256_final(sha, h);
    put_header(hdr, raw_len, h, n);
    memcpy(id, h, 32);
    *hdr_out = hdr;
    *hdr_len = hl;
    *enc_len = hl + end;
    hdr = NULL;
out:
    cs_sha256_free(sha);
    free(hdr);
    free(in);
    free(outb);
    return rc;
}

int content_obj_verify_buf(const uint8_t *enc, size_t enc_len, const uint8_t expect_id[32],
                           uint8_t *raw, size_t raw_cap, cs_err *err)
{
    int rc;
    content_obj_header h;
    cs_sha256 *sha = NULL;
    uint8_t *scratch = NULL;
    if ((rc = content_obj_header_parse(&h, enc, enc_len, err)) != 0)
        return rc;
    if (expect_id && memcmp(expect_id, h.id, 32) != 0)
        return cs_err_set(err, CS_EHASH, "object header names a different id");
    uint64_t data_off = content_obj_table_end(&h);
    if (data_off > enc_len)
        return cs_err_set(err, CS_EFORMAT, "object block table truncated");
    if (raw && raw_cap < h.raw_len)
        return cs_err_set(err, CS_ETOOBIG, "object of %llu bytes does not fit in %zu",
                          (unsigned long long)h.raw_len, raw_cap);
    /* The table's last entry fixes the total length: check it before any
     * allocation or decoding. */
    uint64_t last = h.nblocks ? cs_get_u64(enc + data_off - 8) : 0;
    if (last > enc_len - data_off || data_off + last != enc_len)
        return cs_err_set(err, CS_EFORMAT, "object length %zu, table says %llu", enc_len,
                          (unsigned long long)(data_off + last));
    if ((rc = cs_sha256_new(&sha)) != 0) {
        cs_err_set(err, rc, "cannot create a SHA-256 context");
        goto out;
    }
    if (!raw && h.nblocks) {
        scratch = malloc(h.block_size);
        if (!scratch) {
            rc = cs_err_set(err, CS_ENOMEM, "no memory for a block");
            goto out;
        }
    }
    const uint8_t *table = enc + CONTENT_OBJ_HDR;
    const uint8_t *data = enc + data_off;
    uint64_t prev = 0;
    for (uint32_t i = 0; i < h.nblocks; i++) {
        uint64_t e = cs_get_u64(table + 8ULL * i);
        if ((rc = content_obj_block_check(&h, i, prev, e, err)) != 0)
            goto out;
        if (e > last) {
            rc = cs_err_set(err, CS_EFORMAT, "object block %u runs past the end", i);
            goto out;
        }
        uint8_t *dst = raw ? raw + (size_t)i * h.block_size : scratch;
        uint32_t blen = content_obj_block_len(&h, i);
        if ((rc = content_obj_block_decode(&h, i, data + prev, (size_t)(e - prev), dst, err)) != 0)
            goto out;
        cs_sha256_update(sha, dst, blen);
        prev = e;
    }
    uint8_t got[32];
    cs_sha256_final(sha, got);
    if (memcmp(got, h.id, 32) != 0) {
        rc = cs_err_set(err, CS_EHASH, "object content does not hash to its id");
        goto out;
    }
out:
    cs_sha256_free(sha);
    free(scratch);
    return rc;
}
