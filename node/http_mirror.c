/*
 * http_mirror.c - /repo/: this node's verified copy of the repository, so a
 * township school's node can be the hub of the village schools around it.
 *
 * Same names as the hub (docs/repository.md): the signed metadata and
 * catalogue files the node verified (DATA/repo/, kept when mirror.enable =
 * 1), objects straight from the store in their encoded form (Range for
 * resumes), and POST /repo/batch.  Downstream nodes trust nothing from here
 * that does not verify against their own pinned root.  Mirrors keep no
 * deltas: downstream nodes fetch whole objects from them.
 */
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "node/hubserve.h"
#include "platform/crypto.h"
#include "server_int.h"

#define MIRROR_SMALL (256 * 1024)

static MHD_RESULT mirror_file(srv *s, struct MHD_Connection *c, srv_req *rq, const char *rel)
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/repo/%s", s->data_dir, rel);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        if (fd >= 0)
            close(fd);
        return srv_text(c, rq, 404, "text/plain; charset=utf-8", "not on this mirror\n");
    }
    struct MHD_Response *r = MHD_create_response_from_fd64((uint64_t)st.st_size, fd);
    if (!r) {
        close(fd);
        return MHD_NO;
    }
    int mutable_name = strcmp(rel, "timestamp.json") == 0;
    MHD_add_response_header(r, "Content-Type", strstr(rel, ".json") ? "application/json" : "application/octet-stream");
    MHD_add_response_header(r, "Cache-Control", mutable_name ? "no-cache" : "public, max-age=31536000, immutable");
    srv_common_headers(r);
    return srv_respond_len(c, rq, 200, r, (uint64_t)st.st_size);
}

/* Encoded bytes of objects, read through a pooled handle per chunk. */
typedef struct enc_item {
    uint8_t id[32];
    uint64_t len;
} enc_item;

typedef struct enc_stream {
    srv *s;
    enc_item *items;
    size_t n, cur;
    uint64_t in_item; /* bytes of the current record sent (72-byte header first in batches) */
    int batch;        /* records with headers (batch) or one object's bytes (GET) */
    uint64_t start;   /* GET with Range: first byte */
} enc_stream;

static const uint8_t no_base[32];

static ssize_t enc_read(void *cls, uint64_t pos, char *buf, size_t max)
{
    enc_stream *e = cls;
    size_t done = 0;
    while (done < max && e->cur < e->n) {
        enc_item *it = &e->items[e->cur];
        uint64_t hdr = e->batch ? 72 : 0;
        if (e->in_item < hdr) {
            uint8_t h[72];
            memcpy(h, it->id, 32);
            memcpy(h + 32, no_base, 32);
            cs_put_u64(h + 64, it->len);
            size_t take = hdr - e->in_item < max - done ? (size_t)(hdr - e->in_item) : max - done;
            memcpy(buf + done, h + e->in_item, take);
            e->in_item += take;
            done += take;
            continue;
        }
        uint64_t off = e->in_item - hdr + (e->batch ? 0 : e->start);
        uint64_t left = e->batch ? it->len - (e->in_item - hdr) : it->len - off;
        size_t want = left < max - done ? (size_t)left : max - done, got = 0;
        srv_handles *h = srv_handles_get(e->s);
        int rc = content_store_read_encoded(h->store, it->id, off, buf + done, want, &got, NULL);
        srv_handles_put(e->s, h);
        if (rc != 0 || (want && got == 0))
            return MHD_CONTENT_READER_END_WITH_ERROR;
        e->in_item += got;
        done += got;
        if (got == left) {
            e->cur++;
            e->in_item = 0;
        }
    }
    return done ? (ssize_t)done : MHD_CONTENT_READER_END_OF_STREAM;
}

static void enc_free(void *cls)
{
    enc_stream *e = cls;
    free(e->items);
    free(e);
}

static MHD_RESULT mirror_object(srv *s, struct MHD_Connection *c, srv_req *rq, const char *hex)
{
    uint8_t id[32];
    content_obj_info info;
    if (cs_hex_decode(hex, id, 32) != 0)
        return srv_text(c, rq, 404, "text/plain; charset=utf-8", "not found\n");
    srv_handles *h = srv_handles_get_fresh(s);
    int rc = content_store_stat(h->store, id, &info, NULL);
    srv_handles_put(s, h);
    if (rc)
        return srv_text(c, rq, 404, "text/plain; charset=utf-8", "not on this mirror\n");
    uint64_t a = 0, b = info.enc_len - 1;
    int partial = 0;
    const char *range = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Range");
    if (range && strncmp(range, "bytes=", 6) == 0 && !strchr(range, ',')) {
        char *end;
        uint64_t x = strtoull(range + 6, &end, 10), y = b;
        int bad = end == range + 6 || *end != '-' || x >= info.enc_len;
        if (!bad && end[1])
            y = strtoull(end + 1, &end, 10);
        /* A last byte before the first (bytes=10-5) is unsatisfiable too:
         * it used to make the length b - a + 1 wrap to nearly 2^64, sent as
         * Content-Length (found by fuzz_http). */
        if (bad || y < x) {
            char cr[64];
            snprintf(cr, sizeof cr, "bytes */%" PRIu64, info.enc_len);
            struct MHD_Response *r = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
            MHD_add_response_header(r, "Content-Range", cr);
            return srv_respond(c, rq, 416, r);
        }
        if (y < b)
            b = y;
        a = x;
        partial = 1;
    }
    enc_stream *e = calloc(1, sizeof *e);
    enc_item *it = calloc(1, sizeof *it);
    if (!e || !it) {
        free(e);
        free(it);
        return MHD_NO;
    }
    memcpy(it->id, id, 32);
    it->len = b + 1; /* bytes up to b; the reader starts at a */
    e->s = s;
    e->items = it;
    e->n = 1;
    e->start = a;
    struct MHD_Response *r = MHD_create_response_from_callback(b - a + 1, 64 * 1024, enc_read, e, enc_free);
    if (!r) {
        enc_free(e);
        return MHD_NO;
    }
    MHD_add_response_header(r, "Content-Type", "application/octet-stream");
    MHD_add_response_header(r, "Accept-Ranges", "bytes");
    MHD_add_response_header(r, "Cache-Control", "public, max-age=31536000, immutable");
    if (partial) {
        char cr[96];
        snprintf(cr, sizeof cr, "bytes %" PRIu64 "-%" PRIu64 "/%" PRIu64, a, b, info.enc_len);
        MHD_add_response_header(r, "Content-Range", cr);
    }
    srv_common_headers(r);
    return srv_respond_len(c, rq, partial ? 206 : 200, r, b - a + 1);
}

MHD_RESULT srv_mirror_batch(srv *s, struct MHD_Connection *c, srv_req *rq, const cs_buf *body)
{
    enc_stream *e = calloc(1, sizeof *e);
    enc_item *items = calloc(HUB_BATCH_MAX_IDS, sizeof *items);
    if (!e || !items) {
        free(e);
        free(items);
        return MHD_NO;
    }
    e->s = s;
    e->items = items;
    e->batch = 1;
    uint64_t total = 0;
    const char *p = body->data ? (const char *)body->data : "";
    size_t len = body->len, i = 0;
    srv_handles *h = srv_handles_get_fresh(s);
    int bad = 0;
    while (i < len && !bad) {
        size_t end = i;
        while (end < len && p[end] != '\n')
            end++;
        size_t ll = end - i;
        if (ll && p[end - 1] == '\r')
            ll--;
        if (ll) {
            /* A delta request (BASE:TARGET): mirrors hold no deltas; skipped. */
            char hex[65];
            if ((ll != 64 && ll != 129) || e->n >= HUB_BATCH_MAX_IDS) {
                bad = 1;
                break;
            }
            if (ll == 64) {
                memcpy(hex, p + i, 64);
                hex[64] = '\0';
                content_obj_info info;
                if (cs_hex_decode(hex, items[e->n].id, 32) != 0) {
                    bad = 1;
                    break;
                }
                if (content_store_stat(h->store, items[e->n].id, &info, NULL) == 0 &&
                    total + 72 + info.enc_len <= HUB_BATCH_MAX_ANSWER) { /* beyond: left out, asked again */
                    items[e->n].len = info.enc_len;
                    total += 72 + info.enc_len;
                    e->n++;
                }
            }
        }
        i = end + 1;
    }
    srv_handles_put(s, h);
    if (bad) {
        enc_free(e);
        return srv_text(c, rq, 400, "text/plain; charset=utf-8", "batch body: one 64-digit hex id a line, at most 4096\n");
    }
    struct MHD_Response *r = MHD_create_response_from_callback(total, 64 * 1024, enc_read, e, enc_free);
    if (!r) {
        enc_free(e);
        return MHD_NO;
    }
    MHD_add_response_header(r, "Content-Type", "application/octet-stream");
    MHD_add_response_header(r, "Cache-Control", "no-store");
    srv_common_headers(r);
    return srv_respond_len(c, rq, 200, r, total);
}

MHD_RESULT srv_mirror(srv *s, struct MHD_Connection *c, srv_req *rq, const char *url)
{
    const char *rel = url + 6; /* after "/repo/" */
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s/repo", s->data_dir);
    struct stat st;
    if (stat(dir, &st) != 0)
        return srv_text(c, rq, 404, "text/plain; charset=utf-8",
                        "this node is not a mirror (set mirror.enable = 1 and sync once)\n");
    if (!node_hub_path_public(rel) || strncmp(rel, "deltas/", 7) == 0)
        return srv_text(c, rq, 404, "text/plain; charset=utf-8", "not found\n");
    if (strncmp(rel, "objects/", 8) == 0)
        return mirror_object(s, c, rq, rel + 11);
    if (strcmp(rel, "root.json") == 0)
        return srv_text(c, rq, 404, "text/plain; charset=utf-8", "nodes pin the hub's root.json at init\n");
    return mirror_file(s, c, rq, rel);
}
