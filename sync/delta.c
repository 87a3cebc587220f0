/*
 * delta.c - applying zstd patch-from deltas (see delta.h).
 */
#include "sync/delta.h"

#include <string.h>
#include <zstd.h>

#include "platform/crypto.h"

int sync_delta_apply(uint8_t *out, size_t out_len, const uint8_t expect[32], const uint8_t *base,
                     size_t base_len, const uint8_t *delta, size_t delta_len, cs_err *err)
{
    if (base_len > SYNC_DELTA_MAX_RAW || out_len > SYNC_DELTA_MAX_RAW)
        return cs_err_set(err, CS_ETOOBIG,
                          "delta: base of %zu or result of %zu bytes over the %llu-byte cap",
                          base_len, out_len, (unsigned long long)SYNC_DELTA_MAX_RAW);
    ZSTD_DCtx *dc = ZSTD_createDCtx();
    if (!dc)
        return cs_err_set(err, CS_ENOMEM, "out of memory");
    size_t n = ZSTD_DCtx_setParameter(dc, ZSTD_d_windowLogMax, SYNC_DELTA_WINDOW_LOG_MAX);
    if (!ZSTD_isError(n))
        n = ZSTD_DCtx_refPrefix(dc, base, base_len);
    if (!ZSTD_isError(n))
        n = ZSTD_decompressDCtx(dc, out, out_len, delta, delta_len);
    ZSTD_freeDCtx(dc);
    if (ZSTD_isError(n))
        return cs_err_set(err, CS_EFORMAT, "delta: %s", ZSTD_getErrorName(n));
    if (n != out_len)
        return cs_err_set(err, CS_EFORMAT, "delta: rebuilt %zu bytes, expected %zu", n, out_len);
    if (expect) {
        uint8_t id[32];
        cs_sha256_buf(out, n, id);
        if (memcmp(id, expect, 32) != 0)
            return cs_err_set(err, CS_EHASH,
                              "delta: the rebuilt bytes do not have the expected hash");
    }
    return 0;
}
