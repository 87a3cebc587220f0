/*
 * http_opds.c - OPDS 1.2 catalogue feeds, so e-reader and library apps can
 * browse and download from the node.
 *
 *   /opds                      navigation: root
 *   /opds/all?page=N           acquisition: every resource, 50 a page
 *   /opds/subjects             navigation: one entry per subject
 *   /opds/subject/{s}?page=N   acquisition: one subject
 *   /opds/search?q=&page=N     acquisition: search results
 *   /opds/search.xml           OpenSearch description
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "platform/buf.h"
#include "platform/time.h"
#include "server_int.h"

#define OPDS_PAGE 50
#define NAV_TYPE "application/atom+xml;profile=opds-catalog;kind=navigation"
#define ACQ_TYPE "application/atom+xml;profile=opds-catalog;kind=acquisition"

static void xml_esc(cs_buf *b, const char *s)
{
    for (; s && *s; s++) {
        switch (*s) {
        case '<':
            cs_buf_append(b, "&lt;", 4);
            break;
        case '>':
            cs_buf_append(b, "&gt;", 4);
            break;
        case '&':
            cs_buf_append(b, "&amp;", 5);
            break;
        case '"':
            cs_buf_append(b, "&quot;", 6);
            break;
        case '\'':
            cs_buf_append(b, "&apos;", 6);
            break;
        default:
            if ((unsigned char)*s < 0x20 && *s != '\n' && *s != '\t')
                break; /* not allowed in XML 1.0 */
            cs_buf_append(b, s, 1);
        }
    }
}

/* URL-encode a path segment or query value. */
static void url_esc(cs_buf *b, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    for (; s && *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '-' ||
            ch == '_' || ch == '.' || ch == '~')
            cs_buf_append(b, s, 1);
        else {
            char e[3] = {'%', hex[ch >> 4], hex[ch & 15]};
            cs_buf_append(b, e, 3);
        }
    }
}

static void feed_open(cs_buf *b, const char *id, const char *title, const char *self, const char *kind_type,
                      const char *updated)
{
    cs_buf_printf(b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                     "<feed xmlns=\"http://www.w3.org/2005/Atom\" xmlns:dc=\"http://purl.org/dc/terms/\" "
                     "xmlns:opds=\"http://opds-spec.org/2010/catalog\">\n<id>");
    xml_esc(b, id);
    cs_buf_printf(b, "</id>\n<title>");
    xml_esc(b, title);
    cs_buf_printf(b, "</title>\n<updated>%s</updated>\n<author><name>Cistern</name></author>\n", updated);
    cs_buf_printf(b, "<link rel=\"self\" href=\"");
    xml_esc(b, self);
    cs_buf_printf(b, "\" type=\"%s\"/>\n<link rel=\"start\" href=\"/opds\" type=\"%s\"/>\n"
                     "<link rel=\"search\" href=\"/opds/search.xml\" type=\"application/opensearchdescription+xml\"/>\n",
                  kind_type, NAV_TYPE);
}

static void nav_entry(cs_buf *b, const char *id, const char *title, const char *href, const char *type,
                      const char *summary, const char *updated)
{
    cs_buf_printf(b, "<entry><id>%s</id><title>", id);
    xml_esc(b, title);
    cs_buf_printf(b, "</title><updated>%s</updated><link rel=\"subsection\" href=\"", updated);
    xml_esc(b, href);
    cs_buf_printf(b, "\" type=\"%s\"/>", type);
    if (summary) {
        cs_buf_printf(b, "<content type=\"text\">");
        xml_esc(b, summary);
        cs_buf_printf(b, "</content>");
    }
    cs_buf_printf(b, "</entry>\n");
}

static void acq_entry(cs_buf *b, srv_handles *h, const char *id, const char *updated, const char *lang)
{
    content_resource *r = NULL;
    if (content_catalog_get(h->cat, id, &r, NULL) != 0)
        return;
    json_t *m = r->meta;
    cs_buf_printf(b, "<entry><id>urn:cistern:resource:");
    xml_esc(b, r->id);
    cs_buf_printf(b, "</id><title>");
    xml_esc(b, srv_title(m, lang));
    cs_buf_printf(b, "</title><updated>%s</updated>", updated);
    const char *pub = json_string_value(json_object_get(m, "publisher"));
    if (pub) {
        cs_buf_printf(b, "<author><name>");
        xml_esc(b, pub);
        cs_buf_printf(b, "</name></author>");
    }
    cs_buf_printf(b, "<dc:language>");
    xml_esc(b, json_string_value(json_object_get(m, "language")));
    cs_buf_printf(b, "</dc:language>");
    const char *subj = json_string_value(json_object_get(m, "subject"));
    if (subj) {
        cs_buf_printf(b, "<category term=\"");
        xml_esc(b, subj);
        cs_buf_printf(b, "\" label=\"");
        xml_esc(b, subj);
        cs_buf_printf(b, "\"/>");
    }
    const char *lic = json_string_value(json_object_get(m, "license"));
    if (lic) {
        cs_buf_printf(b, "<rights>");
        xml_esc(b, lic);
        cs_buf_printf(b, "</rights>");
    }
    json_t *desc = json_object_get(m, "description");
    const char *d = json_string_value(json_object_get(desc, lang));
    if (!d) {
        const char *k;
        json_t *v;
        json_object_foreach(desc, k, v)
        {
            d = json_string_value(v);
            break;
        }
    }
    if (d) {
        cs_buf_printf(b, "<summary type=\"text\">");
        xml_esc(b, d);
        cs_buf_printf(b, "</summary>");
    }
    const char *entry = json_string_value(json_object_get(m, "entry"));
    for (size_t i = 0; i < r->nfiles; i++) {
        const content_file *f = &r->files[i];
        int is_entry = entry && strcmp(entry, f->path) == 0;
        if (!is_entry && strncmp(f->mime ? f->mime : "", "image/", 6) != 0)
            continue;
        cs_buf_printf(b, "<link rel=\"%s\" href=\"/r/",
                      is_entry ? "http://opds-spec.org/acquisition/open-access" : "http://opds-spec.org/image");
        url_esc(b, r->id);
        cs_buf_printf(b, "/");
        xml_esc(b, f->path); /* paths are validated: no quotes, no control characters */
        cs_buf_printf(b, "\" type=\"");
        xml_esc(b, f->mime);
        cs_buf_printf(b, "\"/>");
    }
    cs_buf_printf(b, "<link rel=\"alternate\" type=\"text/html\" href=\"/#/r/");
    url_esc(b, r->id);
    cs_buf_printf(b, "\"/></entry>\n");
    content_resource_free(r);
}

static MHD_RESULT send_feed(struct MHD_Connection *c, srv_req *rq, cs_buf *b, const char *type)
{
    if (!b->data)
        return srv_text(c, rq, 500, "text/plain", "out of memory\n");
    size_t len = b->len;
    struct MHD_Response *r = MHD_create_response_from_buffer(b->len, b->data, MHD_RESPMEM_MUST_FREE);
    b->data = NULL;
    MHD_add_response_header(r, "Content-Type", type);
    MHD_add_response_header(r, "Cache-Control", "no-cache");
    srv_common_headers(r);
    return srv_respond_len(c, rq, 200, r, len);
}

static int subject_entry(void *ctx, const char *value, uint64_t count)
{
    void **a = ctx;
    cs_buf *b = a[0];
    const char *updated = a[1];
    cs_buf href, id;
    cs_buf_init(&href, 4096);
    cs_buf_init(&id, 4096);
    cs_buf_printf(&href, "/opds/subject/");
    url_esc(&href, value);
    cs_buf_printf(&id, "urn:cistern:subject:");
    url_esc(&id, value);
    char summary[64];
    snprintf(summary, sizeof summary, "%llu resources", (unsigned long long)count);
    nav_entry(b, (const char *)id.data, value, (const char *)href.data, ACQ_TYPE, summary, updated);
    cs_buf_free(&href);
    cs_buf_free(&id);
    return 0;
}

static const char *lang_of(struct MHD_Connection *c)
{
    const char *al = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Accept-Language");
    return al && strncmp(al, "en", 2) == 0 ? "en" : "zh";
}

static MHD_RESULT acq_feed(srv *s, struct MHD_Connection *c, srv_req *rq, const char *self_base,
                           const char *title, const content_query *q0, const char *updated)
{
    long page;
    if (srv_arg_int(c, "page", 1, 100000, 1, &page) < 0)
        return srv_text(c, rq, 400, "text/plain; charset=utf-8", "bad page\n");
    content_query q = *q0;
    q.limit = OPDS_PAGE;
    q.offset = (uint32_t)((page - 1) * OPDS_PAGE);
    content_hits hits = {0};
    cs_err err = {0};
    srv_handles *h = srv_handles_get(s);
    if (content_catalog_search(h->cat, &q, &hits, &err) != 0) {
        srv_handles_put(s, h);
        return srv_text(c, rq, err.code == CS_ETOOBIG ? 400 : 500, "text/plain; charset=utf-8",
                        "search failed\n");
    }
    cs_buf b, self;
    cs_buf_init(&b, 16 << 20);
    cs_buf_init(&self, 8192);
    cs_buf_printf(&self, "%s%spage=%ld", self_base, strchr(self_base, '?') ? "&" : "?", page);
    feed_open(&b, (const char *)self.data, title, (const char *)self.data, ACQ_TYPE, updated);
    if ((uint64_t)page * OPDS_PAGE < hits.total) {
        cs_buf_printf(&b, "<link rel=\"next\" href=\"");
        cs_buf_printf(&self, "%s", "");
        char next[8300];
        snprintf(next, sizeof next, "%s%spage=%ld", self_base, strchr(self_base, '?') ? "&" : "?", page + 1);
        xml_esc(&b, next);
        cs_buf_printf(&b, "\" type=\"%s\"/>\n", ACQ_TYPE);
    }
    const char *lang = lang_of(c);
    for (size_t i = 0; i < hits.n; i++)
        acq_entry(&b, h, hits.items[i].id, updated, lang);
    srv_handles_put(s, h);
    content_hits_clear(&hits);
    cs_buf_printf(&b, "</feed>\n");
    cs_buf_free(&self);
    return send_feed(c, rq, &b, ACQ_TYPE);
}

MHD_RESULT srv_opds(srv *s, struct MHD_Connection *c, srv_req *rq, const char *url)
{
    char updated[32];
    cs_time_format(s->started, updated, sizeof updated);
    content_query q;
    memset(&q, 0, sizeof q);
    q.grade = -1;
    if (strcmp(url, "/opds") == 0 || strcmp(url, "/opds/") == 0) {
        cs_buf b;
        cs_buf_init(&b, 1 << 20);
        feed_open(&b, "urn:cistern:root", "Cistern", "/opds", NAV_TYPE, updated);
        nav_entry(&b, "urn:cistern:all", "All resources / 全部资源", "/opds/all", ACQ_TYPE,
                  "Every resource in this school's catalogue", updated);
        nav_entry(&b, "urn:cistern:subjects", "By subject / 按学科", "/opds/subjects", NAV_TYPE,
                  "Resources grouped by subject", updated);
        cs_buf_printf(&b, "</feed>\n");
        return send_feed(c, rq, &b, NAV_TYPE);
    }
    if (strcmp(url, "/opds/all") == 0)
        return acq_feed(s, c, rq, "/opds/all", "All resources / 全部资源", &q, updated);
    if (strcmp(url, "/opds/subjects") == 0) {
        cs_buf b;
        cs_buf_init(&b, 1 << 20);
        feed_open(&b, "urn:cistern:subjects", "By subject / 按学科", "/opds/subjects", NAV_TYPE, updated);
        void *ctx[2] = {&b, updated};
        srv_handles *h = srv_handles_get(s);
        content_catalog_facets(h->cat, "subject", subject_entry, ctx, NULL);
        srv_handles_put(s, h);
        cs_buf_printf(&b, "</feed>\n");
        return send_feed(c, rq, &b, NAV_TYPE);
    }
    if (strncmp(url, "/opds/subject/", 14) == 0 && url[14]) {
        const char *subject = url + 14;
        if (strlen(subject) > 256)
            return srv_text(c, rq, 400, "text/plain; charset=utf-8", "subject too long\n");
        q.subject = subject;
        cs_buf base;
        cs_buf_init(&base, 4096);
        cs_buf_printf(&base, "/opds/subject/");
        url_esc(&base, subject);
        MHD_RESULT ret = acq_feed(s, c, rq, (const char *)base.data, subject, &q, updated);
        cs_buf_free(&base);
        return ret;
    }
    if (strcmp(url, "/opds/search.xml") == 0)
        return srv_text(c, rq, 200, "application/opensearchdescription+xml; charset=utf-8",
                        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                        "<OpenSearchDescription xmlns=\"http://a9.com/-/spec/opensearch/1.1/\">\n"
                        "<ShortName>Cistern</ShortName>\n<Description>Search this school's learning resources</Description>\n"
                        "<InputEncoding>UTF-8</InputEncoding><OutputEncoding>UTF-8</OutputEncoding>\n"
                        "<Url type=\"" ACQ_TYPE "\" template=\"/opds/search?q={searchTerms}\"/>\n"
                        "</OpenSearchDescription>\n");
    if (strcmp(url, "/opds/search") == 0) {
        const char *text = srv_arg(c, "q");
        if (!text || !*text)
            return srv_text(c, rq, 400, "text/plain; charset=utf-8", "missing q\n");
        if (strlen(text) > CONTENT_QUERY_MAX_TEXT)
            return srv_text(c, rq, 400, "text/plain; charset=utf-8", "query too long\n");
        q.q = text;
        cs_buf base;
        cs_buf_init(&base, 4096);
        cs_buf_printf(&base, "/opds/search?q=");
        url_esc(&base, text);
        MHD_RESULT ret = acq_feed(s, c, rq, (const char *)base.data, text, &q, updated);
        cs_buf_free(&base);
        return ret;
    }
    return srv_text(c, rq, 404, "text/plain; charset=utf-8", "not found\n");
}
