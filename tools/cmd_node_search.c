/*
 * cmd_node_search.c - `cistern node search DATA QUERY [filters] [--json]`
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "node/node.h"

int cmd_node_search(int argc, char **argv);

static const char *title_of(const json_t *meta, const char *lang)
{
    json_t *t = json_object_get(meta, "title");
    const char *s = json_string_value(json_object_get(t, lang));
    if (s)
        return s;
    const char *k;
    json_t *v;
    json_object_foreach(t, k, v) return json_string_value(v);
    return "";
}

int cmd_node_search(int argc, char **argv)
{
    const char *data = NULL, *lang = "zh";
    content_query q;
    memset(&q, 0, sizeof q);
    q.grade = -1;
    q.entries = 1; /* pages inside resources (ZIM articles) too, after the resources */
    int json = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--json") == 0)
            json = 1;
        else if (strcmp(a, "--prefix") == 0)
            q.prefix = 1;
        else if (strcmp(a, "--subject") == 0 && v)
            q.subject = argv[++i];
        else if (strcmp(a, "--language") == 0 && v)
            q.language = argv[++i];
        else if (strcmp(a, "--type") == 0 && v)
            q.type = argv[++i];
        else if (strcmp(a, "--grade") == 0 && v)
            q.grade = atoi(argv[++i]);
        else if (strcmp(a, "--limit") == 0 && v)
            q.limit = (uint32_t)atoi(argv[++i]);
        else if (strcmp(a, "--offset") == 0 && v)
            q.offset = (uint32_t)atoi(argv[++i]);
        else if (strcmp(a, "--lang") == 0 && v)
            lang = argv[++i];
        else if (a[0] != '-' && !data)
            data = a;
        else if (a[0] != '-' && !q.q)
            q.q = a;
        else
            return cli_usage(cli_cmd("node", "search"), "unexpected argument");
    }
    if (!data)
        return cli_usage(cli_cmd("node", "search"), "DATA is required");
    cs_err err = {0};
    node_data *n = NULL;
    content_hits hits = {0};
    if (node_open(&n, data, NODE_RDONLY, &err) != 0)
        return cli_fail(&err);
    int rc = content_catalog_search(n->cat, &q, &hits, &err);
    if (rc) {
        node_close(n);
        return cli_fail(&err);
    }
    json_t *arr = json_array();
    for (size_t i = 0; i < hits.n; i++) {
        content_resource *r = NULL;
        if (content_catalog_get(n->cat, hits.items[i].id, &r, NULL) != 0)
            continue;
        const content_hit *hit = &hits.items[i];
        if (json) {
            json_t *o = json_pack("{s:s,s:s,s:f,s:b}", "id", r->id, "title", title_of(r->meta, lang), "score",
                                  hit->score, "cached", r->cached);
            if (o && hit->path)
                json_object_set_new(o, "entry", json_pack("{s:s,s:s}", "path", hit->path, "title", hit->title));
            json_array_append_new(arr, o);
        } else if (hit->path) {
            printf("%-40s %s  (page %s in %s)\n", r->id, hit->title, hit->path, title_of(r->meta, lang));
        } else {
            printf("%-40s %s%s\n", r->id, title_of(r->meta, lang), r->cached ? "" : "  (listed, not cached)");
        }
        content_resource_free(r);
    }
    if (json) {
        json_t *o = json_pack("{s:I,s:o}", "total", (json_int_t)hits.total, "results", arr);
        char *s = json_dumps(o, JSON_COMPACT);
        printf("%s\n", s ? s : "{}");
        free(s);
        json_decref(o);
    } else {
        json_decref(arr);
        printf("%llu result%s\n", (unsigned long long)hits.total, hits.total == 1 ? "" : "s");
    }
    content_hits_clear(&hits);
    node_close(n);
    return 0;
}
