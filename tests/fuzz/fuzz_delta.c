/*
 * fuzz_delta.c - applying zstd patch-from deltas (sync/delta.c), as a node
 * does with what a hub or mirror sends.  The first byte picks a mode:
 *
 *   even: hostile deltas.  [u16 base length][u24 result length][base][delta]
 *         are handed to sync_delta_apply as they are.  A delta that applies
 *         must apply again to the same bytes, pass with their hash and fail
 *         (CS_EHASH) with another.
 *   odd:  real deltas, so the fuzzer reaches deep into the decoder.
 *         [u16 base length][base][edit script] builds a target from copies of
 *         the base and literals, zstd makes the delta (level and long-distance
 *         matching from the mode byte, the base as prefix, as hub_delta.c
 *         does); it must rebuild exactly the target, and refuse a result
 *         length one off.  Then the delta is damaged at places the rest of
 *         the input names and applied again.
 *
 * Always: never crash, leak, read or write outside the buffers (each is
 * allocated to its exact size), and every refusal is one of the documented
 * codes with a message.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zstd.h>

#include "platform/crypto.h"
#include "sync/delta.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_RESULT (1u << 20)   /* hostile mode: result buffers up to 1 MiB */
#define MAX_TARGET (256u << 10) /* real mode: targets up to 256 KiB */

static uint8_t *dup_exact(const uint8_t *p, size_t n)
{
    uint8_t *d = malloc(n ? n : 1);
    if (d && n)
        memcpy(d, p, n);
    return d;
}

/* Apply, checking the contract; returns the code. */
static int apply(uint8_t *out, size_t out_len, const uint8_t expect[32], const uint8_t *base,
                 size_t base_len, const uint8_t *delta, size_t delta_len)
{
    cs_err err;
    memset(&err, 0, sizeof err);
    int rc = sync_delta_apply(out, out_len, expect, base, base_len, delta, delta_len, &err);
    if (rc != 0 && ((rc != CS_EFORMAT && rc != CS_EHASH && rc != CS_ENOMEM && rc != CS_ETOOBIG) ||
                    !err.msg[0]))
        abort(); /* an undocumented code, or a refusal without a reason */
    if (rc == CS_EHASH && !expect)
        abort();
    return rc;
}

static void hostile(const uint8_t *data, size_t size)
{
    if (size < 5)
        return;
    size_t base_len = (size_t)data[0] | (size_t)data[1] << 8;
    size_t out_len =
        ((size_t)data[2] | (size_t)data[3] << 8 | (size_t)data[4] << 16) % (MAX_RESULT + 1);
    data += 5;
    size -= 5;
    if (base_len > size)
        base_len = size;
    uint8_t *base = dup_exact(data, base_len), *delta = dup_exact(data + base_len, size - base_len);
    uint8_t *out = malloc(out_len ? out_len : 1), *again = malloc(out_len ? out_len : 1);
    if (base && delta && out && again &&
        apply(out, out_len, NULL, base, base_len, delta, size - base_len) == 0) {
        uint8_t id[32];
        cs_sha256_buf(out, out_len, id);
        if (apply(again, out_len, id, base, base_len, delta, size - base_len) != 0 ||
            memcmp(out, again, out_len) != 0)
            abort(); /* the same delta must rebuild the same bytes */
        id[0] ^= 1;
        if (apply(again, out_len, id, base, base_len, delta, size - base_len) != CS_EHASH)
            abort();
    }
    free(base);
    free(delta);
    free(out);
    free(again);
}

/* The target: an edit script over the base.  Each op byte: high bit clear,
 * copy (op & 0x7f) + 1 bytes of the base from the offset in the next two
 * bytes; high bit set, (op & 0x7f) + 1 literal bytes follow. */
static size_t build_target(const uint8_t *base, size_t base_len, const uint8_t *s, size_t n,
                           uint8_t *t)
{
    size_t tl = 0, i = 0;
    while (i < n && tl < MAX_TARGET) {
        uint8_t op = s[i++];
        size_t len = (size_t)(op & 0x7f) + 1;
        if (op & 0x80) {
            for (size_t k = 0; k < len && i < n && tl < MAX_TARGET; k++)
                t[tl++] = s[i++];
        } else if (base_len) {
            size_t off = i + 1 < n ? ((size_t)s[i] | (size_t)s[i + 1] << 8) % base_len : 0;
            i += 2;
            for (size_t k = 0; k < len && tl < MAX_TARGET; k++)
                t[tl++] = base[(off + k) % base_len];
        }
    }
    return tl;
}

static void real(uint8_t mode, const uint8_t *data, size_t size)
{
    if (size < 2)
        return;
    size_t base_len = (size_t)data[0] | (size_t)data[1] << 8;
    data += 2;
    size -= 2;
    if (base_len > size)
        base_len = size;
    /* The script takes the first half of the rest; the second names damage. */
    size_t script_len = (size - base_len + 1) / 2;
    const uint8_t *script = data + base_len, *damage = script + script_len;
    size_t damage_len = size - base_len - script_len;
    uint8_t *base = dup_exact(data, base_len), *t = malloc(MAX_TARGET);
    ZSTD_CCtx *cc = ZSTD_createCCtx();
    uint8_t *delta = NULL, *out = NULL, *big = NULL;
    if (!base || !t || !cc)
        goto out;
    size_t tl = build_target(base, base_len, script, script_len, t);
    size_t cap = ZSTD_compressBound(tl);
    if (!(delta = malloc(cap)) || !(out = malloc(tl ? tl : 1)) || !(big = malloc(tl + 1)))
        goto out;
    static const int levels[8] = {1, 1, 2, 3, 3, 6, 9, 19};
    ZSTD_CCtx_setParameter(cc, ZSTD_c_compressionLevel, levels[(mode >> 1) & 7]);
    ZSTD_CCtx_setParameter(cc, ZSTD_c_enableLongDistanceMatching, (mode >> 4) & 1);
    ZSTD_CCtx_setParameter(cc, ZSTD_c_windowLog, 10 + ((mode >> 5) & 7));
    ZSTD_CCtx_setParameter(cc, ZSTD_c_contentSizeFlag, !((mode >> 5) & 1));
    ZSTD_CCtx_refPrefix(cc, base, base_len);
    size_t dl = ZSTD_compress2(cc, delta, cap, t, tl);
    if (ZSTD_isError(dl))
        goto out;
    uint8_t id[32];
    cs_sha256_buf(t, tl, id);
    if (apply(out, tl, id, base, base_len, delta, dl) != 0 || memcmp(out, t, tl) != 0)
        abort(); /* a delta zstd made must rebuild its target */
    if (apply(big, tl + 1, NULL, base, base_len, delta, dl) != CS_EFORMAT ||
        (tl && apply(out, tl - 1, NULL, base, base_len, delta, dl) != CS_EFORMAT))
        abort(); /* the result length is exact */
    if (dl == 0 || damage_len == 0)
        goto out;
    /* Damage: pairs of [position byte][xor byte]; positions spread over the delta. */
    for (size_t i = 0; i + 1 < damage_len; i += 2)
        delta[((size_t)damage[i] * dl) / 256] ^= damage[i + 1] ? damage[i + 1] : 0x80;
    if (apply(out, tl, id, base, base_len, delta, dl) == 0 && memcmp(out, t, tl) != 0)
        abort(); /* passed the hash check with other bytes */
out:
    ZSTD_freeCCtx(cc);
    free(base);
    free(t);
    free(delta);
    free(out);
    free(big);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    if (data[0] & 1)
        real(data[0], data + 1, size - 1);
    else
        hostile(data + 1, size - 1);
    return 0;
}
