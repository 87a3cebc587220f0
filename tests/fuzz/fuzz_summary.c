/*
 * fuzz_summary.c - the catalogue answer's summaries, two ways.
 *
 * The input is handed to node_summary_splice as it is (any bytes: it must
 * not crash), and, when it parses as a JSON object, its compact dump (what
 * the catalogue stores) is spliced and compared with json_dumps of
 * node_summary_json: when the splice says done, the bytes must be equal.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "content/resource.h"
#include "platform/buf.h"
#include "summary_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_SUMMARY_MAX (256 * 1024) /* CONTENT_RESOURCE_JSON_MAX */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text, *stored = NULL, *want = NULL;
    json_t *meta = NULL, *sum = NULL;
    content_resource r;
    cs_buf b;
    int cached = size & 1, done;

    if (size > FUZZ_SUMMARY_MAX)
        return 0;
    text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    cs_buf_init(&b, 4 * FUZZ_SUMMARY_MAX);
    node_summary_splice(&b, text, cached); /* raw bytes: only must not crash */
    cs_buf_reset(&b);

    meta = json_loads(text, JSON_REJECT_DUPLICATES, NULL);
    if (!json_is_object(meta) || !(stored = json_dumps(meta, JSON_COMPACT)))
        goto out;
    memset(&r, 0, sizeof r);
    r.meta = meta;
    r.cached = cached;
    r.id = (char *)json_string_value(json_object_get(meta, "id"));
    sum = r.id ? node_summary_json(&r) : NULL;
    want = sum ? json_dumps(sum, JSON_COMPACT) : NULL;
    done = node_summary_splice(&b, stored, cached);
    if (done == 1 && (!want || b.len != strlen(want) || memcmp(b.data, want, b.len) != 0))
        abort(); /* the splice and jansson disagree */
out:
    cs_buf_free(&b);
    free(want);
    json_decref(sum);
    free(stored);
    json_decref(meta);
    free(text);
    return 0;
}
