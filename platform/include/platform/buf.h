/*
 * buf.h - a growable byte buffer with a hard cap (curl's dynbuf).
 *
 * Every buffer that outside bytes can grow has a cap; appending past it
 * fails with CS_ETOOBIG and leaves the buffer as it was.
 */
#ifndef PLATFORM_BUF_H
#define PLATFORM_BUF_H

#include <stddef.h>
#include <stdint.h>

#include "platform/error.h"

typedef struct cs_buf {
    uint8_t *data; /* NUL-terminated when non-NULL (terminator not counted) */
    size_t len;
    size_t alloc;
    size_t cap; /* hard maximum of len */
} cs_buf;

void cs_buf_init(cs_buf *b, size_t cap);
int cs_buf_append(cs_buf *b, const void *data, size_t len);
int cs_buf_printf(cs_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int cs_buf_reserve(cs_buf *b, size_t extra);
void cs_buf_reset(cs_buf *b); /* len = 0, keeps memory */
void cs_buf_free(cs_buf *b);
/* Hand the bytes to the caller (who frees them); buffer becomes empty. */
uint8_t *cs_buf_steal(cs_buf *b, size_t *len);

/* Little-endian integer codecs used by every binary format. */
static inline void cs_put_u32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}
static inline void cs_put_u64(uint8_t *p, uint64_t v)
{
    cs_put_u32(p, (uint32_t)v);
    cs_put_u32(p + 4, (uint32_t)(v >> 32));
}
static inline uint32_t cs_get_u32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static inline uint64_t cs_get_u64(const uint8_t *p)
{
    return (uint64_t)cs_get_u32(p) | (uint64_t)cs_get_u32(p + 4) << 32;
}

#endif
