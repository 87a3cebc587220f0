/*
 * fuzz_bundle.c - USB bundles on arbitrary bytes: the input is written to a
 * temporary file, opened as a bundle, and every section under 1 MiB is read
 * (and looked up by kind and name); then the same with the header checksum
 * recomputed, so mutations reach the table parser.  Must never crash, leak
 * or leave a temporary file behind.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "platform/buf.h"
#include "platform/crypto.h"
#include "sync/bundle.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Write bytes to a fresh temporary file, open it as a bundle and read it. */
static void run(const uint8_t *data, size_t size)
{
    char path[4096];
    const char *dir = getenv("TMPDIR");
    snprintf(path, sizeof path, "%s/fuzz_bundle.XXXXXX", dir && *dir ? dir : "/tmp");
    int fd = mkstemp(path);
    if (fd < 0)
        return;
    size_t off = 0;
    while (off < size) {
        ssize_t n = write(fd, data + off, size - off);
        if (n <= 0)
            break;
        off += (size_t)n;
    }
    close(fd);
    if (off != size) {
        unlink(path);
        return;
    }

    cs_err err;
    memset(&err, 0, sizeof err);
    sync_bundle *b = NULL;
    if (sync_bundle_open(&b, path, &err) == 0) {
        uint64_t end = BUNDLE_HDR;
        for (uint32_t i = 0; i < b->n; i++) {
            const sync_bundle_entry *e = &b->entries[i];
            if (e->offset < end || e->offset + e->length > b->file_size)
                abort(); /* open promised contiguous sections inside the file */
            end = e->offset + e->length;
            if (e->kind == BUNDLE_OBJECT ? e->name != NULL : !sync_bundle_find(b, e->kind, e->name))
                abort(); /* objects carry no name; the others are found by theirs */
            if (e->length >= (1u << 20))
                continue;
            uint8_t *p = NULL;
            if (sync_bundle_read(b, e, 1u << 20, &p, &err) == 0) {
                if (!p)
                    abort();
                free(p);
            }
            if (e->length > 0 && sync_bundle_read(b, e, e->length - 1, &p, &err) != CS_ETOOBIG)
                abort();
        }
        sync_bundle_free(b);
    }
    unlink(path);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    run(data, size);
    /* The header checksum stops almost every mutation at the door: run the
     * input again with the checksum made right, to reach the table checks. */
    if (size < BUNDLE_HDR)
        return 0;
    uint64_t tlen = cs_get_u64(data + 32);
    if (tlen > size - BUNDLE_HDR)
        return 0;
    uint8_t *fixed = malloc(size);
    if (!fixed)
        return 0;
    memcpy(fixed, data, size);
    cs_sha256 *h = NULL;
    if (cs_sha256_new(&h) == 0) {
        cs_sha256_update(h, fixed, 40);
        cs_sha256_update(h, fixed + BUNDLE_HDR, (size_t)tlen);
        cs_sha256_final(h, fixed + 40);
        cs_sha256_free(h);
        if (memcmp(fixed + 40, data + 40, 32) != 0)
            run(fixed, size);
    }
    free(fixed);
    return 0;
}
