/*
 * delta.h - applying the hub's binary deltas (docs/sync.md, "Deltas"): a
 * zstd patch-from frame that rebuilds an object's raw bytes from an older
 * object, the base, given to the decoder as its prefix.
 *
 * The hub makes them at publish (hub_delta.c); a node applies them during a
 * sync (client.c) once the delta's length matched the signed catalogue.
 * The delta itself comes from a hub or mirror: outside bytes, decoded with
 * every size capped and the result hashed before anyone uses it.
 */
#ifndef SYNC_DELTA_H
#define SYNC_DELTA_H

#include <stddef.h>
#include <stdint.h>

#include "platform/error.h"

#define SYNC_DELTA_MAX_RAW (64ULL << 20) /* base and result: a node holds both in memory */
#define SYNC_DELTA_WINDOW_LOG_MAX 27     /* the largest window a delta may ask for (128 MiB) */

/* Rebuild exactly out_len bytes into out (the caller's buffer of out_len
 * bytes) from delta against base, then, when expect is not NULL, check that
 * their SHA-256 is expect.  CS_ETOOBIG when base_len or out_len is over
 * SYNC_DELTA_MAX_RAW; CS_EFORMAT when the delta is malformed, asks for a
 * larger window, or gives other than out_len bytes; CS_EHASH when the hash
 * differs; CS_ENOMEM.  out's contents are unspecified on failure. */
int sync_delta_apply(uint8_t *out, size_t out_len, const uint8_t expect[32], const uint8_t *base,
                     size_t base_len, const uint8_t *delta, size_t delta_len, cs_err *err);

#endif
