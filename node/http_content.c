/*
 * http_content.c - GET/HEAD /r/{id}/{path}: a resource's files, streamed from
 * the compressed store, decoding only the blocks a request touches.
 *
 * Single byte ranges (206, 416 with Content-Range: bytes *\/size); a request
 * with several ranges gets 416 (no multipart responses).  The ETag is the
 * object id, so If-None-Match gives 304 and If-Range works; a URL carrying
 * ?v=<first 16 hex digits of the object id> is immutable and cached for a
 * year.  Everything but passive media (images other than SVG, audio, video,
 * PDF, plain text) is served under a CSP sandbox.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "platform/crypto.h"
#include "server_int.h"

#define SMALL_BODY (256 * 1024) /* files up to this are decoded at once with the pooled handle */
#define STREAM_BLOCK (64 * 1024)

typedef struct stream {
    content_reader *rd;
    uint64_t start;
} stream;

static ssize_t stream_read(void *cls, uint64_t pos, char *buf, size_t max)
{
    stream *st = cls;
    size_t n = 0;
    if (content_reader_read(st->rd, st->start + pos, buf, max, &n, NULL) != 0 || n == 0)
        return MHD_CONTENT_READER_END_WITH_ERROR;
    return (ssize_t)n;
}

static void stream_free(void *cls)
{
    stream *st = cls;
    content_reader_free(st->rd);
    free(st);
}

/* Types a browser shows without running anything from the file: images
 * (not SVG), audio, video, PDF and plain text.  They go out as they are, so
 * the UI's players, image views and PDF frame work (Chromium's PDF viewer
 * does not run in a sandboxed document; PDF scripts run inside the viewer,
 * never in this origin).  Every other type, and any type a publisher spelled
 * oddly, is active until proven otherwise: HTML, SVG, XML, XSL, multipart,
 * unknown ones all get the CSP sandbox.  Compared case-insensitively,
 * parameters ("; charset=...") ignored. */
static int is_passive(const char *mime)
{
    static const char *const passive[] = {"image/png",  "image/jpeg", "image/gif",
                                          "image/webp", "image/avif", "application/pdf",
                                          "text/plain"};
    size_t n = strcspn(mime, "; \t");
    if (n > 6 && (strncasecmp(mime, "audio/", 6) == 0 || strncasecmp(mime, "video/", 6) == 0))
        return 1;
    for (size_t i = 0; i < sizeof passive / sizeof passive[0]; i++)
        if (strlen(passive[i]) == n && strncasecmp(mime, passive[i], n) == 0)
            return 1;
    return 0;
}

/* Parse a Range header against size.  Returns 0 = no usable range (serve
 * whole), 1 = single range [*a, *b], -1 = unsatisfiable or multiple. */
static int parse_range(const char *h, uint64_t size, uint64_t *a, uint64_t *b)
{
    if (strncmp(h, "bytes=", 6) != 0)
        return 0; /* unknown unit: ignore (RFC 9110) */
    const char *p = h + 6;
    while (*p == ' ')
        p++;
    if (strchr(p, ','))
        return -1;
    char *end;
    if (*p == '-') {
        if (p[1] < '0' || p[1] > '9')
            return -1;
        uint64_t n = strtoull(p + 1, &end, 10);
        while (*end == ' ')
            end++;
        if (*end || n == 0 || size == 0)
            return -1;
        *a = n >= size ? 0 : size - n;
        *b = size - 1;
        return 1;
    }
    if (*p < '0' || *p > '9')
        return -1;
    uint64_t x = strtoull(p, &end, 10);
    if (*end != '-')
        return -1;
    const char *q = end + 1;
    uint64_t y = size ? size - 1 : 0;
    if (*q >= '0' && *q <= '9') {
        y = strtoull(q, &end, 10);
        q = end;
        if (y < x)
            return -1;
    }
    while (*q == ' ')
        q++;
    if (*q || x >= size)
        return -1;
    if (y >= size)
        y = size - 1;
    *a = x;
    *b = y;
    return 1;
}

static MHD_RESULT not_found(struct MHD_Connection *c, srv_req *rq, const char *what)
{
    char body[512];
    snprintf(body, sizeof body, "not found: %s\n", what);
    return srv_text(c, rq, 404, "text/plain; charset=utf-8", body);
}

static void content_headers(struct MHD_Response *r, const content_file *f, const char *etag, const char *cache)
{
    MHD_add_response_header(r, "Content-Type", f->mime ? f->mime : "application/octet-stream");
    MHD_add_response_header(r, "Accept-Ranges", "bytes");
    MHD_add_response_header(r, "ETag", etag);
    MHD_add_response_header(r, "Cache-Control", cache);
    if (!is_passive(f->mime ? f->mime : ""))
        MHD_add_response_header(r, "Content-Security-Policy",
                                "sandbox allow-scripts allow-forms allow-popups allow-modals allow-downloads");
    srv_common_headers(r);
}

static MHD_RESULT range_416(struct MHD_Connection *c, srv_req *rq, uint64_t size)
{
    char cr[64];
    snprintf(cr, sizeof cr, "bytes */%" PRIu64, size);
    struct MHD_Response *r = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
    MHD_add_response_header(r, "Content-Range", cr);
    srv_common_headers(r);
    return srv_respond(c, rq, 416, r);
}

/* Decide the range: 0 whole, 1 partial [*a, *b], -1 answer 416. */
static int want_range(struct MHD_Connection *c, const char *etag, uint64_t size, uint64_t *a, uint64_t *b)
{
    *a = 0;
    *b = size ? size - 1 : 0;
    const char *range = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Range");
    const char *if_range = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "If-Range");
    if (!range || (if_range && strcmp(if_range, etag) != 0))
        return 0;
    return parse_range(range, size, a, b);
}

/* The request a small file answers: its URL parts and how it is cached. */
typedef struct small_req {
    const char *id, *path; /* as in the URL ("" = the entry file) */
    const char *hex;       /* object id */
    const char *etag, *cache;
    int versioned, head;
} small_req;

/* A small file: decoded with the pooled handle while we hold it.  A plain
 * GET's answer is also kept in the file cache for the next one. */
static MHD_RESULT small_body(srv *s, struct MHD_Connection *c, srv_req *rq, srv_handles *h, content_file *f,
                             const small_req *sr)
{
    const char *etag = sr->etag, *cache = sr->cache;
    int head = sr->head;
    int64_t version = h->snap_version, gen = h->snap_gen;
    uint64_t a, b;
    int pr = want_range(c, etag, f->size, &a, &b);
    if (pr < 0) {
        srv_handles_put(s, h);
        uint64_t size = f->size;
        content_file_clear(f);
        return range_416(c, rq, size);
    }
    uint64_t len = f->size ? b - a + 1 : 0;
    char *body = NULL;
    size_t got = 0;
    cs_err err = {0};
    if (!head && len) {
        body = malloc(len);
        if (!body || content_store_read(h->store, f->object, a, body, len, &got, &err) != 0 || got != len) {
            srv_handles_put(s, h);
            free(body);
            cs_log_error(&s->log, "reading %s: %s", f->path, err.msg);
            content_file_clear(f);
            return srv_text(c, rq, 500, "text/plain; charset=utf-8", "store error\n");
        }
    }
    srv_handles_put(s, h);
    struct MHD_Response *r = head ? MHD_create_response_from_callback(len, STREAM_BLOCK, stream_read, NULL, NULL)
                                  : MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
    if (!r) {
        free(body);
        content_file_clear(f);
        return MHD_NO;
    }
    content_headers(r, f, etag, cache);
    if (pr == 1) {
        char cr[96];
        snprintf(cr, sizeof cr, "bytes %" PRIu64 "-%" PRIu64 "/%" PRIu64, a, b, f->size);
        MHD_add_response_header(r, "Content-Range", cr);
    }
    content_file_clear(f);
    if (pr == 0 && len <= SRV_FCACHE_MAX_FILE && srv_fcache_eligible(c, rq)) {
        MHD_RESULT ret = srv_queue_len(c, rq, 200, r, len);
        srv_fcache_put(s, sr->id, sr->path, version, gen, sr->hex, sr->versioned, len, r);
        return ret;
    }
    return srv_respond_len(c, rq, pr == 1 ? 206 : 200, r, len);
}

MHD_RESULT srv_content(srv *s, struct MHD_Connection *c, srv_req *rq, const char *url, int head)
{
    char id[CONTENT_ID_MAX + 1];
    const char *p = url + 3; /* after "/r/" */
    const char *slash = strchr(p, '/');
    size_t idlen = slash ? (size_t)(slash - p) : strlen(p);
    if (idlen == 0 || idlen > CONTENT_ID_MAX)
        return not_found(c, rq, "no such resource");
    memcpy(id, p, idlen);
    id[idlen] = '\0';
    if (!content_id_valid(id))
        return srv_text(c, rq, 400, "text/plain; charset=utf-8", "bad resource id\n");
    if (!slash) {
        /* /r/{id} -> /r/{id}/ so that relative links inside packages resolve. */
        char loc[CONTENT_ID_MAX + 8];
        snprintf(loc, sizeof loc, "/r/%s/", id);
        struct MHD_Response *r = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
        MHD_add_response_header(r, "Location", loc);
        srv_common_headers(r);
        return srv_respond(c, rq, 301, r);
    }
    const char *path = slash + 1;
    MHD_RESULT ret;
    if ((*path == '\0' || content_path_valid(path)) && srv_fcache_serve(s, c, rq, id, path, &ret))
        return ret;
    srv_handles *h = srv_handles_get(s);
    content_file f;
    memset(&f, 0, sizeof f);
    cs_err err = {0};
    int rc = 0;
    char redirect[CONTENT_PATH_MAX + CONTENT_ID_MAX + 8] = "";
    if (*path == '\0') {
        char entry[CONTENT_PATH_MAX + 1];
        if (content_catalog_entry(h->cat, id, entry, sizeof entry, &err) != 0) {
            srv_handles_put(s, h);
            return not_found(c, rq, "no such resource");
        }
        if (strchr(entry, '/')) {
            /* Serve /r/id/dir/page.html at its own URL so its relative links work. */
            srv_handles_put(s, h);
            snprintf(redirect, sizeof redirect, "/r/%s/%s", id, entry);
            struct MHD_Response *r = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
            MHD_add_response_header(r, "Location", redirect);
            srv_common_headers(r);
            return srv_respond(c, rq, 302, r);
        }
        rc = content_catalog_file(h->cat, id, entry, &f, &err);
    } else if (!content_path_valid(path)) {
        srv_handles_put(s, h);
        return srv_text(c, rq, 400, "text/plain; charset=utf-8", "bad path\n");
    } else {
        rc = content_catalog_file(h->cat, id, path, &f, &err);
    }
    if (rc != 0) {
        srv_handles_put(s, h);
        return not_found(c, rq, rc == CS_ENOENT ? "no such file" : "catalogue error");
    }
    char hex[CS_SHA256_HEX], etag[40];
    cs_hex_encode(f.object, 32, hex);
    snprintf(etag, sizeof etag, "\"%.32s\"", hex);
    const char *inm = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "If-None-Match");
    const char *v = srv_arg(c, "v");
    int versioned = srv_content_versioned(v, hex);
    const char *cache = versioned ? "public, max-age=31536000, immutable" : "no-cache";
    if (inm && (strstr(inm, etag) || strcmp(inm, "*") == 0)) {
        srv_handles_put(s, h);
        content_file_clear(&f);
        struct MHD_Response *r = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
        MHD_add_response_header(r, "ETag", etag);
        MHD_add_response_header(r, "Cache-Control", cache);
        srv_common_headers(r);
        return srv_respond(c, rq, 304, r);
    }
    if (!content_store_has(h->store, f.object)) {
        srv_handles_put(s, h);
        content_file_clear(&f);
        return srv_text(c, rq, 404, "text/plain; charset=utf-8",
                        "not cached: this resource is listed in the catalogue but not stored on this device yet\n");
    }
    if (f.size <= SMALL_BODY) {
        small_req sr = {id, path, hex, etag, cache, versioned, head};
        return small_body(s, c, rq, h, &f, &sr);
    }
    content_reader *rd = NULL;
    if (content_store_reader_open(h->store, f.object, &rd, &err) != 0) {
        srv_handles_put(s, h);
        content_file_clear(&f);
        if (err.code == CS_ENOENT)
            return srv_text(c, rq, 404, "text/plain; charset=utf-8",
                            "not cached: this resource is listed in the catalogue but not stored on this device yet\n");
        return srv_text(c, rq, 500, "text/plain; charset=utf-8", "store error\n");
    }
    srv_handles_put(s, h);
    /* A large file: streamed through its own reader, 64 KiB at a time. */
    uint64_t size = content_reader_size(rd), a, b;
    int pr = want_range(c, etag, size, &a, &b);
    if (pr < 0) {
        content_reader_free(rd);
        content_file_clear(&f);
        return range_416(c, rq, size);
    }
    uint64_t len = size ? b - a + 1 : 0;
    struct MHD_Response *r = NULL;
    if (head) {
        content_reader_free(rd); /* MHD never reads the body of a HEAD response */
        r = MHD_create_response_from_callback(len, STREAM_BLOCK, stream_read, NULL, NULL);
    } else {
        stream *st = calloc(1, sizeof *st);
        if (!st) {
            content_reader_free(rd);
            content_file_clear(&f);
            return MHD_NO;
        }
        st->rd = rd;
        st->start = a;
        r = MHD_create_response_from_callback(len, STREAM_BLOCK, stream_read, st, stream_free);
        if (!r)
            stream_free(st);
    }
    if (!r) {
        content_file_clear(&f);
        return MHD_NO;
    }
    content_headers(r, &f, etag, cache);
    if (pr == 1) {
        char cr[96];
        snprintf(cr, sizeof cr, "bytes %" PRIu64 "-%" PRIu64 "/%" PRIu64, a, b, size);
        MHD_add_response_header(r, "Content-Range", cr);
    }
    content_file_clear(&f);
    return srv_respond_len(c, rq, pr == 1 ? 206 : 200, r, len);
}
