/*
 * bundle.c - reading USB bundles (layout in bundle.h).  Nothing here is
 * trusted: the header and table are checked for consistency and bounds
 * only; trust comes from signed metadata in apply.c.
 */
#include "sync/bundle.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "platform/buf.h"
#include "platform/crypto.h"
#include "platform/file.h"

void sync_bundle_free(sync_bundle *b)
{
    if (!b)
        return;
    if (b->fd >= 0)
        close(b->fd);
    free(b->entries);
    free(b->names);
    free(b);
}

static int name_ok(const char *s, uint8_t kind)
{
    size_t n = strlen(s);
    if (n == 0 || n > 255 || s[0] == '/' || strstr(s, ".."))
        return 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '/' || c == '_' || c == '-'))
            return 0;
    }
    if (kind == BUNDLE_OBJECT && n != 64)
        return 0;
    return 1;
}

int sync_bundle_open(sync_bundle **out, const char *path, cs_err *err)
{
    uint8_t hdr[BUNDLE_HDR];
    uint8_t *table = NULL;
    struct stat st;
    int rc = 0;
    sync_bundle *b = calloc(1, sizeof *b);
    if (!b)
        return cs_err_set(err, CS_ENOMEM, "out of memory");
    b->fd = open(path, O_RDONLY | O_CLOEXEC);
    if (b->fd < 0) {
        rc = cs_err_errno(err, path);
        goto fail;
    }
    if (fstat(b->fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        rc = cs_err_set(err, CS_EINVAL, "%s: not a regular file", path);
        goto fail;
    }
    b->file_size = (uint64_t)st.st_size;
    if (b->file_size < BUNDLE_HDR) {
        rc = cs_err_set(err, CS_EFORMAT, "%s: too short to be a bundle (truncated?)", path);
        goto fail;
    }
    if ((rc = cs_pread_full(b->fd, hdr, sizeof hdr, 0, err)) != 0)
        goto fail;
    if (memcmp(hdr, BUNDLE_MAGIC, 4) != 0) {
        rc = cs_err_set(err, CS_EFORMAT, "%s: not a Cistern bundle (bad magic)", path);
        goto fail;
    }
    if (cs_get_u32(hdr + 4) != 1) {
        rc = cs_err_set(err, CS_EUNSUPPORTED, "%s: bundle format %u (this node reads 1)", path, cs_get_u32(hdr + 4));
        goto fail;
    }
    b->since = cs_get_u64(hdr + 8);
    b->to_version = cs_get_u64(hdr + 16);
    b->n = cs_get_u32(hdr + 24);
    uint64_t tlen = cs_get_u64(hdr + 32);
    if (cs_get_u32(hdr + 28) != 0 || b->n == 0 || b->n > BUNDLE_MAX_ENTRIES || tlen > BUNDLE_MAX_TABLE ||
        tlen < (uint64_t)b->n * BUNDLE_ENTRY_FIXED || tlen > b->file_size - BUNDLE_HDR ||
        b->since >= b->to_version) {
        rc = cs_err_set(err, CS_EFORMAT, "%s: bundle header is damaged or truncated", path);
        goto fail;
    }
    table = malloc(tlen ? tlen : 1);
    b->entries = calloc(b->n, sizeof *b->entries);
    if (!table || !b->entries) {
        rc = cs_err_set(err, CS_ENOMEM, "out of memory reading the bundle table");
        goto fail;
    }
    if ((rc = cs_pread_full(b->fd, table, tlen, BUNDLE_HDR, err)) != 0)
        goto fail;
    {
        uint8_t sum[32];
        cs_sha256 *h = NULL;
        if (cs_sha256_new(&h) != 0) {
            rc = cs_err_set(err, CS_ENOMEM, "out of memory");
            goto fail;
        }
        cs_sha256_update(h, hdr, 40);
        cs_sha256_update(h, table, tlen);
        cs_sha256_final(h, sum);
        cs_sha256_free(h);
        if (memcmp(sum, hdr + 40, 32) != 0) {
            rc = cs_err_set(err, CS_EHASH, "%s: bundle header or table is damaged (checksum mismatch)", path);
            goto fail;
        }
    }
    uint64_t pos = 0, expect_off = BUNDLE_HDR + tlen;
    size_t names_len = 0, nonobj = 0;
    size_t names_cap = tlen < BUNDLE_MAX_NAMED * 256 ? (size_t)tlen : BUNDLE_MAX_NAMED * 256;
    b->names = malloc(names_cap);
    if (!b->names) {
        rc = cs_err_set(err, CS_ENOMEM, "out of memory");
        goto fail;
    }
    for (uint32_t i = 0; i < b->n; i++) {
        sync_bundle_entry *e = &b->entries[i];
        if (tlen - pos < BUNDLE_ENTRY_FIXED)
            goto bad_table;
        const uint8_t *p = table + pos;
        uint32_t nl = cs_get_u32(p + 4);
        e->kind = p[0];
        e->offset = cs_get_u64(p + 8);
        e->length = cs_get_u64(p + 16);
        memcpy(e->hash, p + 24, 32);
        if (p[1] || p[2] || p[3] || nl == 0 || nl > 255 || tlen - pos - BUNDLE_ENTRY_FIXED < nl ||
            e->kind < BUNDLE_META || e->kind > BUNDLE_OBJECT)
            goto bad_table;
        char name[256];
        memcpy(name, p + BUNDLE_ENTRY_FIXED, nl);
        name[nl] = '\0';
        if (strlen(name) != nl || !name_ok(name, e->kind))
            goto bad_table;
        if (e->kind == BUNDLE_OBJECT) {
            char hex[CS_SHA256_HEX];
            cs_hex_encode(e->hash, 32, hex);
            if (strcmp(hex, name) != 0)
                goto bad_table;
            e->name = NULL;
        } else {
            /* Few of these (roots, timestamp, snapshot, targets, one
             * catalogue); their names fit the buffer sized below. */
            if (nonobj >= BUNDLE_MAX_NAMED || names_len + nl + 1 > names_cap)
                goto bad_table;
            memcpy(b->names + names_len, name, nl + 1);
            e->name = b->names + names_len;
            names_len += nl + 1;
            nonobj++;
        }
        /* Sections are contiguous, in table order, and end at end of file. */
        if (e->offset != expect_off || e->length > b->file_size - e->offset)
            goto bad_table;
        expect_off = e->offset + e->length;
        pos += BUNDLE_ENTRY_FIXED + nl;
    }
    if (pos != tlen)
        goto bad_table;
    if (expect_off != b->file_size) {
        rc = cs_err_set(err, CS_EFORMAT, "%s: bundle is %llu bytes, its table describes %llu (truncated or padded)",
                        path, (unsigned long long)b->file_size, (unsigned long long)expect_off);
        goto fail;
    }
    free(table);
    *out = b;
    return 0;
bad_table:
    rc = cs_err_set(err, CS_EFORMAT, "%s: bundle table is damaged or truncated", path);
fail:
    free(table);
    sync_bundle_free(b);
    return rc;
}

int sync_bundle_read(sync_bundle *b, const sync_bundle_entry *e, uint64_t max, uint8_t **out, cs_err *err)
{
    if (e->length > max)
        return cs_err_set(err, CS_ETOOBIG, "bundle section %s is %llu bytes, over the limit of %llu",
                          e->name, (unsigned long long)e->length, (unsigned long long)max);
    uint8_t *p = malloc(e->length ? e->length : 1);
    if (!p)
        return cs_err_set(err, CS_ENOMEM, "out of memory");
    int rc = cs_pread_full(b->fd, p, e->length, e->offset, err);
    if (rc) {
        free(p);
        return rc;
    }
    *out = p;
    return 0;
}

const sync_bundle_entry *sync_bundle_find(const sync_bundle *b, uint8_t kind, const char *name)
{
    for (uint32_t i = 0; i < b->n; i++)
        if (b->entries[i].kind == kind && b->entries[i].name && strcmp(b->entries[i].name, name) == 0)
            return &b->entries[i];
    return NULL;
}
