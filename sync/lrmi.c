/*
 * lrmi.c - resources as schema.org LearningResource (see lrmi.h and
 * docs/lrmi.md for the mapping).
 */
#include "sync/lrmi.h"

#include <stdio.h>
#include <string.h>

/* {"zh": "…", "en": "…"} as JSON-LD language-tagged values. */
static json_t *lang_values(const json_t *ml)
{
    json_t *a = json_array();
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)ml, k, v) if (json_is_string(v))
        json_array_append_new(a, json_pack("{s:s,s:O}", "@language", k, "@value", v));
    return a;
}

static json_t *scalar_text(const json_t *v)
{
    char buf[32];
    if (json_is_string(v))
        return json_incref((json_t *)v);
    if (json_is_integer(v)) {
        snprintf(buf, sizeof buf, "%lld", (long long)json_integer_value(v));
        return json_string(buf);
    }
    return NULL;
}

json_t *sync_lrmi_resource(const content_resource *r, const char *base)
{
    const json_t *m = r->meta;
    char url[4096];
    const char *entry = json_string_value(json_object_get(m, "entry"));
    json_t *o = json_object(), *v, *align = json_array();
    size_t i;
    snprintf(url, sizeof url, "%s/r/%s/", base, r->id);
    json_object_set_new(o, "@type", json_string("LearningResource"));
    json_object_set_new(o, "@id", json_string(url));
    json_object_set_new(o, "identifier", json_string(r->id));
    snprintf(url, sizeof url, "%s/r/%s/%s", base, r->id, entry ? entry : "");
    json_object_set_new(o, "url", json_string(url));
    if ((v = json_object_get(m, "title")))
        json_object_set_new(o, "name", lang_values(v));
    if ((v = json_object_get(m, "description")))
        json_object_set_new(o, "description", lang_values(v));
    if ((v = json_object_get(m, "language")))
        json_object_set(o, "inLanguage", v);
    if ((v = json_object_get(m, "type")))
        json_object_set(o, "learningResourceType", v);
    if ((v = json_object_get(m, "keywords")))
        json_object_set(o, "keywords", v);
    if ((v = json_object_get(m, "license")))
        json_object_set(o, "license", v);
    if ((v = json_object_get(m, "publisher")))
        json_object_set_new(o, "publisher", json_pack("{s:s,s:O}", "@type", "Organization", "name", v));
    json_object_set_new(o, "isAccessibleForFree", json_true());
    if (json_is_true(json_object_get(m, "local")))
        json_object_set_new(o, "creativeWorkStatus", json_string("local"));
    /* Alignment: subject, grades, the place in a curriculum, prerequisites. */
    if ((v = json_object_get(m, "subject")))
        json_array_append_new(align, json_pack("{s:s,s:s,s:O}", "@type", "AlignmentObject", "alignmentType",
                                               "educationalSubject", "targetName", v));
    json_t *levels = json_array();
    json_array_foreach(json_object_get(m, "grades"), i, v)
    {
        char g[32];
        snprintf(g, sizeof g, "grade %lld", (long long)json_integer_value(v));
        json_array_append_new(levels, json_string(g));
        json_array_append_new(align, json_pack("{s:s,s:s,s:s}", "@type", "AlignmentObject", "alignmentType",
                                               "educationalLevel", "targetName", g));
    }
    if (json_array_size(levels))
        json_object_set_new(o, "educationalLevel", levels);
    else
        json_decref(levels);
    json_t *ed = scalar_text(json_object_get(m, "edition")), *vol = scalar_text(json_object_get(m, "volume")),
           *unit = scalar_text(json_object_get(m, "unit"));
    if (ed || vol || unit) {
        char target[256];
        snprintf(target, sizeof target, "%s%s%s%s%s", vol ? "volume " : "", vol ? json_string_value(vol) : "",
                 vol && unit ? ", " : "", unit ? "unit " : "", unit ? json_string_value(unit) : "");
        json_t *a = json_pack("{s:s,s:s,s:s}", "@type", "AlignmentObject", "alignmentType", "teaches", "targetName",
                              target);
        if (ed)
            json_object_set(a, "educationalFramework", ed);
        json_array_append_new(align, a);
    }
    json_decref(ed);
    json_decref(vol);
    json_decref(unit);
    json_array_foreach(json_object_get(m, "prerequisites"), i, v)
    {
        snprintf(url, sizeof url, "%s/r/%s/", base, json_string_value(v));
        json_array_append_new(align, json_pack("{s:s,s:s,s:O,s:s}", "@type", "AlignmentObject", "alignmentType",
                                               "requires", "targetName", v, "targetUrl", url));
    }
    json_object_set_new(o, "educationalAlignment", align);
    /* The files (the first SYNC_LRMI_MAX_FILES). */
    json_t *parts = json_array();
    for (i = 0; i < r->nfiles && i < SYNC_LRMI_MAX_FILES; i++) {
        char size[32];
        snprintf(url, sizeof url, "%s/r/%s/%s", base, r->id, r->files[i].path);
        snprintf(size, sizeof size, "%llu", (unsigned long long)r->files[i].size);
        json_array_append_new(parts, json_pack("{s:s,s:s,s:s,s:s}", "@type", "MediaObject", "contentUrl", url,
                                               "encodingFormat", r->files[i].mime, "contentSize", size));
    }
    json_object_set_new(o, "hasPart", parts);
    return o;
}

json_t *sync_lrmi_document(json_t *graph)
{
    return json_pack("{s:s,s:o}", "@context", "https://schema.org/", "@graph", graph);
}
