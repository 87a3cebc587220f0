/*
 * fuzz_interactions.c - the interaction, item-metadata CSV parsers and the
 * ASSISTments converter on arbitrary bytes; when a log parses, an
 * evaluation runs on it.  Must never crash or leak.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node/recommend_eval.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    cs_err err;
    memset(&err, 0, sizeof err);
    node_rec_log *log = NULL;
    if (node_rec_log_new(&log, &err) != 0)
        return 0;
    if (node_rec_log_parse(log, (const char *)data, size, "fuzz.csv", 1, &err) == 0) {
        if (node_rec_log_rows(log) > NODE_REC_CSV_ROWS_MAX)
            abort();
        for (uint32_t i = 0; i < node_rec_log_items(log); i++)
            if (strlen(node_rec_log_item_id(log, i)) >= NODE_REC_ID_MAX)
                abort();
        if (node_rec_log_rows(log) <= 2000) {
            node_rec_eval_opts o;
            node_rec_eval_opts_default(&o);
            o.k = 5;
            node_rec_metrics m[NODE_REC_NMETHODS];
            for (int p = 0; p < 2; p++) {
                o.protocol = p;
                if (node_rec_eval_run(log, &o, m, &err) == 0)
                    for (int i = 0; i < NODE_REC_NMETHODS; i++)
                        if (m[i].hr < 0 || m[i].hr > 1 || m[i].ndcg < 0 || m[i].ndcg > 1 + 1e-9 ||
                            m[i].coverage < 0 || m[i].coverage > 1)
                            abort();
            }
        }
    } else if (err.msg[0] == '\0') {
        abort(); /* every failure says why */
    }
    /* The same bytes as item metadata. */
    node_rec_log_parse_items(log, (const char *)data, size, "fuzz-items.csv", &err);
    node_rec_log_free(log);

    /* And as an ASSISTments file. */
    FILE *in = fmemopen((void *)(size ? data : (const uint8_t *)""), size ? size : 1, "rb");
    FILE *out = fopen("/dev/null", "wb");
    if (in && out) {
        uint64_t st, rows;
        node_rec_assist_convert(in, "fuzz.txt", out, "s", 1, &st, &rows, &err);
    }
    if (in)
        fclose(in);
    if (out)
        fclose(out);
    return 0;
}
