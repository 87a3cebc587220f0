/*
 * fuzz_titles.c - the titles file a resource carries (.cistern/titles.tsv,
 * content/zim_map.c), which a node parses from what a hub sent: every line
 * handed on has a safe path and a clean, bounded title; a title cleaned
 * again is unchanged.  Must never crash or leak.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "content/resource.h"
#include "content/zim.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int line(void *ctx, const char *path, const char *title)
{
    char again[CONTENT_ZIM_TITLE_MAX + 1];
    size_t n = strlen(title);
    (*(size_t *)ctx)++;
    if (!content_path_valid(path) || n > CONTENT_ZIM_TITLE_MAX)
        abort();
    if (content_zim_title_clean(title, n, again, sizeof again) != n || memcmp(again, title, n) != 0)
        abort();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t lines = 0;
    uint64_t skipped = 0;
    cs_err err;
    memset(&err, 0, sizeof err);
    char out[CONTENT_ZIM_TITLE_MAX + 1];
    if (content_zim_title_clean((const char *)data, size, out, sizeof out) > CONTENT_ZIM_TITLE_MAX)
        abort();
    int rc = content_titles_parse((const char *)data, size, line, &lines, &skipped, &err);
    if (rc != 0 && (err.code == 0 || !err.msg[0]))
        abort();
    return 0;
}
