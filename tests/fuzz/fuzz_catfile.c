/*
 * fuzz_catfile.c - catalogue files on arbitrary bytes: header parsing and a
 * full read whose callback turns every record into a resource; a resource
 * that parses must turn back into a record that parses to the same thing.
 * The bytes after the header are also tried as an uncompressed payload.
 * Must never crash or leak.
 */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <zstd.h>

#include "platform/buf.h"
#include "sync/catfile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int on_record(void *ctx, json_t *rec, cs_err *err)
{
    (void)err;
    content_resource *r = NULL;
    (*(uint32_t *)ctx)++;
    if (sync_record_to_resource(rec, &r, NULL) != 0)
        return 0;
    char *line = NULL;
    size_t len = 0;
    if (sync_resource_to_record(r, &line, &len, NULL) == 0) {
        json_t *again = json_loadb(line, len, 0, NULL);
        content_resource *r2 = NULL;
        if (!again || sync_record_to_resource(again, &r2, NULL) != 0 || r2->nfiles != r->nfiles ||
            strcmp(r2->id, r->id) != 0 || !json_equal(r2->meta, r->meta))
            abort();
        content_resource_free(r2);
        json_decref(again);
        free(line);
    }
    content_resource_free(r);
    return 0;
}

static void run(const uint8_t *data, size_t size)
{
    cs_err err;
    sync_catfile_header h, h2;
    memset(&err, 0, sizeof err);
    int hp = sync_catfile_header_parse(&h, data, size, &err);
    uint32_t seen = 0;
    int rc = sync_catfile_read(data, size, &h2, on_record, &seen, &err);
    if (rc == 0 && (hp != 0 || seen != h2.records || h2.records != h.records))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    run(data, size);
    /* Compressed bytes hide the records from mutation: run the input again
     * with the bytes after the header taken as the raw payload, compressed
     * here (header kept, payload_len made right). */
    if (size < CATFILE_HDR || size - CATFILE_HDR > (1u << 20))
        return 0;
    size_t plen = size - CATFILE_HDR;
    size_t bound = ZSTD_compressBound(plen);
    uint8_t *file = malloc(CATFILE_HDR + bound);
    if (!file)
        return 0;
    memcpy(file, data, CATFILE_HDR);
    cs_put_u64(file + 32, plen);
    size_t n = ZSTD_compress(file + CATFILE_HDR, bound, data + CATFILE_HDR, plen, 1);
    if (!ZSTD_isError(n))
        run(file, CATFILE_HDR + n);
    free(file);
    return 0;
}
