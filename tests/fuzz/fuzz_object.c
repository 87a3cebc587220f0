/*
 * fuzz_object.c - content/object.c decoders on arbitrary bytes: the header
 * parser and the whole-object verifier, with a zero expected id (always a
 * mismatch), with the id the header claims, and with no id, into a bounded
 * output buffer.  Must never crash, read out of bounds or leak.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "content/object.h"
#include "platform/error.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    cs_err err;
    content_obj_header h;
    static const uint8_t zero[32];
    memset(&err, 0, sizeof err);
    int hp = content_obj_header_parse(&h, data, size, &err);
    content_obj_verify_buf(data, size, zero, NULL, 0, &err);
    if (hp != 0)
        return 0;
    content_obj_verify_buf(data, size, h.id, NULL, 0, &err);
    if (h.raw_len <= (1u << 20)) {
        uint8_t *raw = malloc(h.raw_len ? (size_t)h.raw_len : 1);
        if (raw) {
            content_obj_verify_buf(data, size, NULL, raw, (size_t)h.raw_len, &err);
            free(raw);
        }
    }
    return 0;
}
