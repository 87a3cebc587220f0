/*
 * fuzz_resource.c - resource.json parsing/validation and search queries.
 *
 * The input is parsed as resource.json (and validated again when it parses),
 * checked as an id and a path, tokenized in both modes, and used as the free
 * text of searches on a small in-memory catalogue built once.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "content/catalog.h"
#include "content/resource.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const seed_resources[] = {
    "{\"id\":\"r1\",\"title\":{\"zh\":\"勾股定理\",\"en\":\"Pythagorean theorem\"},"
    "\"description\":{\"zh\":\"初中数学课\"},\"language\":\"zh\",\"subject\":\"math\","
    "\"grades\":[8],\"type\":\"video\",\"entry\":\"index.html\",\"keywords\":[\"几何\"]}",
    "{\"id\":\"r2\",\"title\":{\"en\":\"Photosynthesis\"},\"language\":\"en\","
    "\"subject\":\"biology\",\"grades\":[7],\"type\":\"html\",\"entry\":\"index.html\"}",
    "{\"id\":\"r3\",\"title\":{\"fr\":\"Café crème\"},\"language\":\"fr\",\"type\":\"document\","
    "\"entry\":\"a/b.pdf\"}",
};

static content_catalog *fuzz_catalog(void)
{
    static content_catalog *cat; /* built once, lives for the process */
    static int tried;
    if (tried)
        return cat;
    tried = 1;
    if (content_catalog_open(&cat, ":memory:", 0, NULL) != 0)
        return NULL;
    for (size_t i = 0; i < sizeof seed_resources / sizeof seed_resources[0]; i++) {
        content_resource r = {0};
        if (content_resource_parse_json(&r.meta, seed_resources[i], strlen(seed_resources[i]),
                                        NULL) == 0)
            content_catalog_put(cat, &r, NULL);
        json_decref(r.meta);
    }
    return cat;
}

static void count_tok(void *ctx, const char *tok, int len, int colocated)
{
    (void)tok;
    (void)colocated;
    *(int *)ctx += len;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_t *meta = NULL;
    cs_err err;
    content_catalog *cat = fuzz_catalog();

    if (content_resource_parse_json(&meta, (const char *)data, size, &err) == 0) {
        if (content_resource_validate(meta, &err) != 0)
            abort(); /* parse validated it already */
        json_decref(meta);
    }

    char *s = malloc(size + 1);
    if (!s)
        return 0;
    memcpy(s, data, size);
    s[size] = '\0';
    content_id_valid(s);
    content_path_valid(s);
    content_mime_guess(s);
    int n = 0;
    if (size < 4096) {
        content_fts_tokenize(s, (int)size, 0, count_tok, &n);
        content_fts_tokenize(s, (int)size, 1, count_tok, &n);
    }
    if (cat) {
        for (int v = 0; v < 4; v++) {
            content_query q = {0};
            content_hits h = {0};
            q.q = s;
            q.prefix = v & 1;
            q.grade = v & 2 ? 8 : -1;
            q.subject = v & 2 ? "math" : NULL;
            q.limit = (uint32_t)(size % 3);
            q.offset = (uint32_t)(size % 2);
            if (content_catalog_search(cat, &q, &h, &err) == 0 && h.n > h.total)
                abort();
            content_hits_clear(&h);
        }
    }
    free(s);
    return 0;
}
