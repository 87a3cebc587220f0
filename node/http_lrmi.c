/*
 * http_lrmi.c - GET /api/v1/catalog.jsonld: the catalogue as schema.org
 * LearningResource JSON-LD (docs/lrmi.md), a page at a time (offset, limit
 * up to 200, a Link: rel="next" header while more remain), with the same
 * filters as /api/v1/catalog.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sync/lrmi.h"
#include "server_int.h"

MHD_RESULT srv_lrmi(srv *s, struct MHD_Connection *c, srv_req *rq)
{
    content_query q;
    content_hits hits;
    cs_err err = {0};
    long limit, offset, grade;
    memset(&q, 0, sizeof q);
    memset(&hits, 0, sizeof hits);
    if (srv_arg_int(c, "limit", 1, CONTENT_QUERY_MAX_LIMIT, CONTENT_QUERY_MAX_LIMIT, &limit) < 0 ||
        srv_arg_int(c, "offset", 0, 10000000, 0, &offset) < 0 || srv_arg_int(c, "grade", -1, 99, -1, &grade) < 0)
        return srv_error(c, rq, 400, "bad_request", "limit is 1..%d, offset and grade are numbers",
                         CONTENT_QUERY_MAX_LIMIT);
    q.q = srv_arg(c, "q");
    q.subject = srv_arg(c, "subject");
    q.language = srv_arg(c, "language");
    q.type = srv_arg(c, "type");
    q.grade = (int)grade;
    q.limit = (uint32_t)limit;
    q.offset = (uint32_t)offset;
    /* Absolute URLs, as a platform importing this file needs them. */
    const char *host = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Host");
    char base[300];
    snprintf(base, sizeof base, "http://%s", host && strlen(host) < 256 && !strpbrk(host, "\"<> /\\") ? host : "localhost");
    srv_handles *h = srv_handles_get(s);
    int rc = content_catalog_search(h->cat, &q, &hits, &err);
    json_t *graph = json_array();
    for (size_t i = 0; rc == 0 && i < hits.n; i++) {
        content_resource *r = NULL;
        if (content_catalog_get(h->cat, hits.items[i].id, &r, NULL) == 0) {
            json_array_append_new(graph, sync_lrmi_resource(r, base));
            content_resource_free(r);
        }
    }
    srv_handles_put(s, h);
    uint64_t total = hits.total;
    content_hits_clear(&hits);
    if (rc != 0) {
        json_decref(graph);
        return srv_error(c, rq, rc == CS_ETOOBIG ? 400 : 500, "bad_request", "%s", err.msg);
    }
    json_t *doc = sync_lrmi_document(graph);
    char *text = json_dumps(doc, JSON_COMPACT);
    json_decref(doc);
    if (!text)
        return srv_error(c, rq, 500, "internal", "out of memory");
    size_t len = strlen(text);
    struct MHD_Response *r = MHD_create_response_from_buffer(len, text, MHD_RESPMEM_MUST_FREE);
    MHD_add_response_header(r, "Content-Type", "application/ld+json; charset=utf-8");
    MHD_add_response_header(r, "Cache-Control", "no-cache");
    char total_s[32];
    snprintf(total_s, sizeof total_s, "%llu", (unsigned long long)total);
    MHD_add_response_header(r, "X-Total-Count", total_s);
    if ((uint64_t)offset + (uint64_t)limit < total) {
        char link[128];
        snprintf(link, sizeof link, "</api/v1/catalog.jsonld?offset=%ld&limit=%ld>; rel=\"next\"", offset + limit, limit);
        MHD_add_response_header(r, "Link", link);
    }
    srv_common_headers(r);
    return srv_respond_len(c, rq, 200, r, len);
}
