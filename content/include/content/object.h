/*
 * object.h - the encoded object: one format for the node's packs, the hub's
 * object files and USB bundles, so bytes move between them without being
 * recompressed.
 *
 * An object is addressed by the SHA-256 of its raw (uncompressed) bytes.  Its
 * raw bytes are cut into blocks of block_size (128 KiB); each block is stored
 * LZ4-compressed if that is strictly smaller, else raw.  A table of block end
 * offsets lets any byte range be read by decoding only the blocks it touches.
 *
 *   offset  size        field
 *   0       4           magic "CSO1"
 *   4       4           block_size (u32 LE, a power of two, 4 KiB..4 MiB)
 *   8       8           raw_len (u64 LE)
 *   16      32          sha256 of the raw bytes
 *   48      4           nblocks (u32 LE) = ceil(raw_len / block_size)
 *   52      4           reserved, 0
 *   56      8*nblocks   end[i]: end offset of block i's stored bytes,
 *                       relative to the data area (u64 LE, non-decreasing)
 *   56+8*nblocks        data area: block 0, block 1, ...
 *
 * Block i holds raw bytes [i*block_size, min((i+1)*block_size, raw_len)).
 * Its stored length is end[i] - end[i-1] (end[-1] = 0).  If the stored length
 * equals the raw length the block is raw, otherwise it is an LZ4 block
 * (LZ4_compress_default / LZ4_decompress_safe), which must decode to exactly
 * the raw length.  encoded_len = 56 + 8*nblocks + end[nblocks-1].
 */
#ifndef CONTENT_OBJECT_H
#define CONTENT_OBJECT_H

#include <stddef.h>
#include <stdint.h>

#include "platform/error.h"

#define CONTENT_OBJ_MAGIC "CSO1"
#define CONTENT_OBJ_HDR 56
#define CONTENT_OBJ_BLOCK (128 * 1024) /* what our encoder writes; decoders take any valid size */
#define CONTENT_OBJ_MAX_RAW (64ULL << 30) /* 64 GiB: cap on any one object */

typedef struct content_obj_header {
    uint32_t block_size;
    uint64_t raw_len;
    uint8_t id[32];
    uint32_t nblocks;
} content_obj_header;

/* Parse and sanity-check the fixed 56-byte header (magic, block size, block
 * count consistent with raw_len, raw_len <= CONTENT_OBJ_MAX_RAW). */
int content_obj_header_parse(content_obj_header *out, const uint8_t *p, size_t len, cs_err *err);

/* Streaming encoder: feed raw bytes, get encoded bytes.  Because the table of
 * block ends precedes the data, the encoder needs raw_len up front (the hub
 * and the node always know a file's size before storing it). */
typedef struct content_obj_encoder content_obj_encoder;

/* Output sink: called with encoded bytes in order; returns 0 or CS_E*. */
typedef int (*content_obj_sink)(void *ctx, const void *data, size_t len, cs_err *err);

/* Encode a whole buffer into malloc'd memory (*out, *out_len; caller frees);
 * fills id with the raw SHA-256. */
int content_obj_encode_buf(const void *raw, size_t raw_len, uint8_t id[32], uint8_t **out,
                           size_t *out_len, cs_err *err);

/* Encode from a file descriptor of known length, writing through sink.
 * Because the header holds the hash and the block table comes first, the
 * encoder writes a placeholder header+table through sink, then the blocks;
 * at the end it fills *hdr_out (56 + 8*nblocks bytes, malloc'd, caller frees)
 * which the caller must write over the placeholder (pwrite at the start). */
int content_obj_encode_fd(int fd, uint64_t raw_len, content_obj_sink sink, void *ctx,
                          uint8_t id[32], uint8_t **hdr_out, size_t *hdr_len, uint64_t *enc_len,
                          cs_err *err);

/* Decode and verify a whole encoded object held in memory: checks every
 * block, the total length and the SHA-256.  If raw is non-NULL it receives
 * the raw bytes (raw_cap >= raw_len).  Never reads outside enc[0..enc_len). */
int content_obj_verify_buf(const uint8_t *enc, size_t enc_len, const uint8_t expect_id[32],
                           uint8_t *raw, size_t raw_cap, cs_err *err);

/* Worst-case encoded size for raw_len bytes from any valid encoder (the
 * smallest legal block size, 4 KiB, has the largest table). */
uint64_t content_obj_bound(uint64_t raw_len);

#endif
