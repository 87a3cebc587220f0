/*
 * summary.c - a search hit's summary: built with jansson from a parsed
 * resource, or spliced from the stored resource.json text (the catalogue
 * answer's hot path: parsing ~1 KB per hit cost more than the search).
 */
#include <stdio.h>
#include <string.h>

#include "content/catalog.h"
#include "summary_int.h"

json_t *node_summary_json(const content_resource *r)
{
    json_t *m = r->meta;
    char url[CONTENT_ID_MAX + 8];
    snprintf(url, sizeof url, "/r/%s/", r->id);
    json_t *o = json_pack("{s:s,s:O,s:O,s:O,s:b,s:s}", "id", r->id, "title", json_object_get(m, "title"),
                          "type", json_object_get(m, "type"), "language", json_object_get(m, "language"),
                          "cached", r->cached, "url", url);
    static const char *opt[] = {"description", "subject", "grades", "edition", "volume", "unit", "local"};
    for (size_t i = 0; o && i < sizeof opt / sizeof opt[0]; i++) {
        json_t *v = json_object_get(m, opt[i]);
        if (v)
            json_object_set(o, opt[i], v);
    }
    return o;
}

/* The catalogue keeps each resource.json as json_dumps(JSON_COMPACT) wrote
 * it, so a value's bytes there are what json_dumps would write for it again:
 * a summary is spliced from them instead of parsing ~1 KB per hit.  Any
 * surprise in the text (not an object, an escaped key, nesting deeper than
 * SPLICE_DEPTH) falls back to the jansson path, which gives the same bytes. */
#define SPLICE_DEPTH 32

typedef struct span {
    const char *p;
    size_t n;
} span;

/* Summary keys, in the order summary() writes them (after the fixed ones). */
static const char *const splice_keys[] = {"id",          "title",   "type",   "language",
                                          "description", "subject", "grades", "edition",
                                          "volume",      "unit",    "local"};
enum { SK_ID, SK_TITLE, SK_TYPE, SK_LANGUAGE, SK_FIRST_OPT, SK_COUNT = 11 };

static const char *skip_ws(const char *p, const char *e)
{
    while (p < e && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
        p++;
    return p;
}

/* p at '"': the end of the string, or NULL. */
static const char *skip_string(const char *p, const char *e)
{
    for (p++; p < e; p++) {
        if (*p == '\\') {
            if (++p >= e)
                return NULL;
        } else if (*p == '"') {
            return p + 1;
        }
    }
    return NULL;
}

/* The end of the value at p, or NULL. */
static const char *skip_value(const char *p, const char *e)
{
    int depth = 0;
    if (p >= e)
        return NULL;
    if (*p == '"')
        return skip_string(p, e);
    if (*p != '{' && *p != '[') { /* number, true, false, null */
        const char *q = p;
        while (q < e && *q != ',' && *q != '}' && *q != ']' && *q != ' ' && *q != '\n')
            q++;
        return q > p ? q : NULL;
    }
    for (; p < e; p++) {
        if (*p == '"') {
            if (!(p = skip_string(p, e)))
                return NULL;
            p--;
        } else if (*p == '{' || *p == '[') {
            if (++depth > SPLICE_DEPTH)
                return NULL;
        } else if (*p == '}' || *p == ']') {
            if (--depth == 0)
                return p + 1;
        }
    }
    return NULL;
}

/* The spans of the summary's keys in the top-level object json[0..len);
 * 0, or -1 when the text is not what json_dumps writes. */
static int splice_fields(const char *json, size_t len, span out[SK_COUNT])
{
    const char *p = json, *e = json + len;
    memset(out, 0, SK_COUNT * sizeof *out);
    p = skip_ws(p, e);
    if (p >= e || *p++ != '{')
        return -1;
    p = skip_ws(p, e);
    if (p < e && *p == '}')
        return 0;
    for (;;) {
        const char *k, *ke, *v;
        p = skip_ws(p, e);
        if (p >= e || *p != '"' || !(ke = skip_string(p, e)))
            return -1;
        k = p + 1;
        if (memchr(k, '\\', (size_t)(ke - 1 - k)))
            return -1;
        p = skip_ws(ke, e);
        if (p >= e || *p++ != ':')
            return -1;
        v = skip_ws(p, e);
        if (!(p = skip_value(v, e)))
            return -1;
        for (int i = 0; i < SK_COUNT; i++)
            if (strlen(splice_keys[i]) == (size_t)(ke - 1 - k) &&
                memcmp(splice_keys[i], k, (size_t)(ke - 1 - k)) == 0) {
                if (out[i].p)
                    return -1; /* a duplicate key: let jansson decide */
                out[i].p = v;
                out[i].n = (size_t)(p - v);
            }
        p = skip_ws(p, e);
        if (p < e && *p == ',') {
            p++;
            continue;
        }
        return p < e && *p == '}' ? 0 : -1;
    }
}

int node_summary_splice(cs_buf *b, const char *json, int cached)
{
    span f[SK_COUNT];
    if (splice_fields(json, strlen(json), f) != 0 || !f[SK_ID].p || f[SK_ID].n < 2 ||
        f[SK_ID].p[0] != '"' || !f[SK_TITLE].p || !f[SK_TYPE].p || !f[SK_LANGUAGE].p)
        return 0;
    /* An id longer than an id may be (or escaped) would be cut in the url
     * node_summary_json writes: that path decides. */
    if (f[SK_ID].n - 2 > CONTENT_ID_MAX || memchr(f[SK_ID].p + 1, '\\', f[SK_ID].n - 2))
        return 0;
    int rc = cs_buf_append(b, "{\"id\":", 6);
    rc = rc ? rc : cs_buf_append(b, f[SK_ID].p, f[SK_ID].n);
    rc = rc ? rc : cs_buf_append(b, ",\"title\":", 9);
    rc = rc ? rc : cs_buf_append(b, f[SK_TITLE].p, f[SK_TITLE].n);
    rc = rc ? rc : cs_buf_append(b, ",\"type\":", 8);
    rc = rc ? rc : cs_buf_append(b, f[SK_TYPE].p, f[SK_TYPE].n);
    rc = rc ? rc : cs_buf_append(b, ",\"language\":", 12);
    rc = rc ? rc : cs_buf_append(b, f[SK_LANGUAGE].p, f[SK_LANGUAGE].n);
    rc = rc ? rc : cs_buf_printf(b, ",\"cached\":%s,\"url\":\"/r/", cached ? "true" : "false");
    rc = rc ? rc : cs_buf_append(b, f[SK_ID].p + 1, f[SK_ID].n - 2);
    rc = rc ? rc : cs_buf_append(b, "/\"", 2);
    for (int i = SK_FIRST_OPT; i < SK_COUNT && rc == 0; i++)
        if (f[i].p) {
            rc = cs_buf_printf(b, ",\"%s\":", splice_keys[i]);
            rc = rc ? rc : cs_buf_append(b, f[i].p, f[i].n);
        }
    rc = rc ? rc : cs_buf_append(b, "}", 1);
    return rc ? -1 : 1;
}

