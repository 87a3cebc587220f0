/*
 * store_int.h - private declarations shared by object.c and store.c.
 *
 * Not installed, not for other modules: the block-level helpers below let the
 * store decode single blocks of an object (range reads, streaming verify)
 * with exactly the checks content_obj_verify_buf applies to whole objects.
 */
#ifndef CONTENT_STORE_INT_H
#define CONTENT_STORE_INT_H

#include <stddef.h>
#include <stdint.h>

#include "content/object.h"
#include "platform/error.h"

/* Pack files: 16-byte header, then encoded objects back to back.
 *
 *   offset  size  field
 *   0       4     magic "CSPK"
 *   4       4     version (u32 LE) = CONTENT_PACK_VERSION
 *   8       8     reserved, 0
 */
#define CONTENT_PACK_MAGIC "CSPK"
#define CONTENT_PACK_VERSION 1
#define CONTENT_PACK_HDR 16
/* A pack stops taking new objects once its tail passes this size. */
#define CONTENT_PACK_ROLL (1ULL << 30)
/* index.db schema version (meta key 'format'). */
#define CONTENT_STORE_FORMAT 1

/* Size of the header plus block table of an object. */
static inline uint64_t content_obj_table_end(const content_obj_header *h)
{
    return CONTENT_OBJ_HDR + 8ULL * h->nblocks;
}

/* Raw length of block i (i < h->nblocks). */
uint32_t content_obj_block_len(const content_obj_header *h, uint32_t i);

/* Check block i's stored extent [start, end) (offsets relative to the data
 * area) against the format's bounds: start <= end and the stored length at
 * most LZ4_compressBound(raw block length).  CS_EFORMAT otherwise. */
int content_obj_block_check(const content_obj_header *h, uint32_t i, uint64_t start, uint64_t end,
                            cs_err *err);

/* Decode block i from its stored bytes src[0..src_len) into dst (room for
 * content_obj_block_len bytes).  src_len must already have passed
 * content_obj_block_check.  CS_EFORMAT if the LZ4 data is bad. */
int content_obj_block_decode(const content_obj_header *h, uint32_t i, const uint8_t *src,
                             size_t src_len, uint8_t *dst, cs_err *err);

/* content_obj_encode_buf when the caller already knows the raw SHA-256. */
int content_obj_encode_buf_id(const void *raw, size_t raw_len, const uint8_t id[32], uint8_t **out,
                              size_t *out_len, cs_err *err);

#endif
