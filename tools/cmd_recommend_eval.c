/*
 * cmd_recommend_eval.c - `cistern recommend eval --interactions CSV
 *     --protocol next-new|leave-last-out [--k K] [--json] ...`
 *
 * Offline evaluation of the blend and each baseline in one run (see
 * docs/recommend.md for the protocols and metric definitions).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "node/recommend_eval.h"
#include "rec_cli.h"

int cmd_recommend_eval(int argc, char **argv);

int cmd_recommend_eval(int argc, char **argv)
{
    const cli_command *me = cli_cmd("recommend", "eval");
    rec_cli_opts ro;
    int rc = rec_cli_parse(me, argc, argv, &ro);
    if (rc)
        return rc;
    if (!ro.have_protocol)
        return cli_usage(me, "--protocol next-new|leave-last-out is required");
    if (ro.groups)
        return cli_usage(me, "--groups belongs to `cistern recommend audit`");
    cs_err err = {0};
    node_rec_log *log = NULL;
    cli_progress prog;
    cli_progress_init(&prog);
    node_rec_metrics m[NODE_REC_NMETHODS];
    if (rec_cli_load(&ro, &log, &err) != 0) {
        node_rec_log_free(log);
        return cli_fail(&err);
    }
    ro.eval.progress = cli_progress_cb;
    ro.eval.progress_ctx = &prog;
    rc = node_rec_eval_run(log, &ro.eval, m, &err);
    cli_progress_done(&prog);
    if (rc) {
        node_rec_log_free(log);
        return cli_fail(&err);
    }
    if (ro.json) {
        printf("{");
        int first = 1;
        for (int i = 0; i < NODE_REC_NMETHODS; i++) {
            if (!m[i].cases)
                continue;
            printf("%s\"%s\":{\"hr\":%.6f,\"ndcg\":%.6f,\"recall\":%.6f,\"coverage\":%.6f,"
                   "\"cases\":%llu}",
                   first ? "" : ",", node_rec_method_name(i), m[i].hr, m[i].ndcg, m[i].recall,
                   m[i].coverage, (unsigned long long)m[i].cases);
            first = 0;
        }
        printf("}\n");
    } else {
        uint64_t cases = 0;
        for (int i = 0; i < NODE_REC_NMETHODS && !cases; i++)
            cases = m[i].cases;
        printf("%s, K=%u: %llu learners evaluated, %u items, %llu interactions\n",
               ro.eval.protocol == NODE_REC_NEXT_NEW ? "next-new" : "leave-last-out", ro.eval.k,
               (unsigned long long)cases, node_rec_log_items(log),
               (unsigned long long)node_rec_log_rows(log));
        printf("%-12s %8s %8s %8s %9s\n", "method", "HR", "NDCG", "Recall", "coverage");
        for (int i = 0; i < NODE_REC_NMETHODS; i++) {
            if (!m[i].cases)
                continue;
            printf("%-12s %8.4f %8.4f %8.4f %9.4f\n", node_rec_method_name(i), m[i].hr, m[i].ndcg,
                   m[i].recall, m[i].coverage);
        }
        if ((ro.eval.methods & (1u << NODE_REC_EASE)) && !m[NODE_REC_EASE].cases)
            printf("(ease not run: more active items than --ease-max %u)\n",
                   ro.eval.limits.ease_max_items);
    }
    node_rec_log_free(log);
    return 0;
}
