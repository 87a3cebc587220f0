/*
 * http_ui.c - the web UI, compiled into the binary from node/ui/.
 *
 * index.html is served with no-cache; at start its references to
 * /ui/<file> get ?v=<content hash> appended, and such versioned URLs are
 * cached for a year.  Every asset is served by the node: nothing from outside.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "platform/buf.h"
#include "server_int.h"

static const char fallback_index[] =
    "<!doctype html><meta charset=utf-8><title>Cistern</title>"
    "<p>The web UI was not built into this binary; the API is at /api/v1/catalog.</p>";

static const srv_asset *asset_find(const char *name)
{
    for (size_t i = 0; i < srv_nassets; i++)
        if (strcmp(srv_assets[i].name, name) == 0)
            return &srv_assets[i];
    return NULL;
}

int srv_ui_init(srv *s, cs_err *err)
{
    const srv_asset *idx = asset_find("index.html");
    const char *src = idx ? (const char *)idx->data : fallback_index;
    size_t len = idx ? idx->len : sizeof fallback_index - 1;
    cs_buf b;
    cs_buf_init(&b, 4 << 20);
    /* Append ?v=<etag> to every "/ui/<name>" that names an asset. */
    size_t i = 0;
    while (i < len) {
        const char *hit = memmem(src + i, len - i, "/ui/", 4);
        if (!hit) {
            cs_buf_append(&b, src + i, len - i);
            break;
        }
        size_t at = (size_t)(hit - src);
        cs_buf_append(&b, src + i, at - i);
        size_t j = at + 4;
        while (j < len && src[j] != '"' && src[j] != '\'' && src[j] != ' ' && src[j] != '>' && src[j] != '?')
            j++;
        char name[128];
        size_t nl = j - at - 4;
        cs_buf_append(&b, src + at, j - at);
        if (nl > 0 && nl < sizeof name) {
            memcpy(name, src + at + 4, nl);
            name[nl] = '\0';
            const srv_asset *a = asset_find(name);
            if (a)
                cs_buf_printf(&b, "?v=%.16s", a->etag + 1);
        }
        i = j;
    }
    if (!b.data)
        return cs_err_set(err, CS_ENOMEM, "out of memory");
    s->index_html = (char *)b.data;
    s->index_len = b.len;
    snprintf(s->index_etag, sizeof s->index_etag, "%s", idx ? idx->etag : "\"fallback\"");
    return 0;
}

MHD_RESULT srv_ui(srv *s, struct MHD_Connection *c, srv_req *rq, const char *url)
{
    const char *data;
    size_t len;
    const char *mime, *etag, *cache;
    if (strcmp(url, "/") == 0) {
        data = s->index_html;
        len = s->index_len;
        mime = "text/html; charset=utf-8";
        etag = s->index_etag;
        cache = "no-cache";
    } else {
        const char *name = strcmp(url, "/favicon.ico") == 0 ? "icon.svg" : url + 4;
        const srv_asset *a = asset_find(name);
        if (!a)
            return srv_text(c, rq, 404, "text/plain; charset=utf-8", "not found\n");
        data = (const char *)a->data;
        len = a->len;
        mime = a->mime;
        etag = a->etag;
        const char *v = srv_arg(c, "v");
        cache = v && strncmp(v, a->etag + 1, 16) == 0 ? "public, max-age=31536000, immutable" : "no-cache";
    }
    const char *inm = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "If-None-Match");
    int not_modified = inm && strstr(inm, etag) != NULL;
    struct MHD_Response *r = not_modified
                                 ? MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT)
                                 : MHD_create_response_from_buffer(len, (void *)data, MHD_RESPMEM_PERSISTENT);
    if (!r)
        return MHD_NO;
    MHD_add_response_header(r, "ETag", etag);
    MHD_add_response_header(r, "Cache-Control", cache);
    if (!not_modified)
        MHD_add_response_header(r, "Content-Type", mime);
    if (strcmp(url, "/") == 0)
        MHD_add_response_header(r, "Content-Security-Policy",
                                "default-src 'self'; img-src 'self' data:; media-src 'self'; "
                                "frame-src 'self'; object-src 'self'; style-src 'self' 'unsafe-inline'; "
                                "frame-ancestors 'self'; base-uri 'none'; form-action 'self'");
    srv_common_headers(r);
    return srv_respond_len(c, rq, not_modified ? 304 : 200, r, len);
}
