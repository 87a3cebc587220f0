/*
 * cmd_recommend_convert_assist.c - `cistern recommend convert-assist IN
 *     [-o OUT.csv] [--prefix P]`: ASSISTments knowledge-tracing files to the
 * interaction CSV that `recommend eval` reads.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "node/recommend_eval.h"

int cmd_recommend_convert_assist(int argc, char **argv);

int cmd_recommend_convert_assist(int argc, char **argv)
{
    const cli_command *me = cli_cmd("recommend", "convert-assist");
    const char *in = NULL, *outp = NULL, *prefix = "s";
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if ((strcmp(a, "-o") == 0 || strcmp(a, "--output") == 0) && v)
            outp = argv[++i];
        else if (strcmp(a, "--prefix") == 0 && v)
            prefix = argv[++i];
        else if (a[0] != '-' && !in)
            in = a;
        else
            return cli_usage(me, "unexpected argument");
    }
    if (!in)
        return cli_usage(me, "the ASSISTments file is required");
    FILE *f = fopen(in, "rb");
    if (!f)
        return cli_failf("%s: %s", in, strerror(errno));
    FILE *o = outp ? fopen(outp, "wb") : stdout;
    if (!o) {
        fclose(f);
        return cli_failf("%s: %s", outp, strerror(errno));
    }
    cs_err err = {0};
    uint64_t students = 0, rows = 0;
    int rc = node_rec_assist_convert(f, in, o, prefix, 1, &students, &rows, &err);
    fclose(f);
    if (fflush(o) != 0 && rc == 0)
        rc = cs_err_set(&err, CS_EIO, "%s: %s", outp ? outp : "stdout", strerror(errno));
    if (outp && fclose(o) != 0 && rc == 0)
        rc = cs_err_set(&err, CS_EIO, "%s: %s", outp, strerror(errno));
    if (rc) {
        if (outp)
            remove(outp);
        return cli_fail(&err);
    }
    const char *q = getenv("CISTERN_QUIET");
    if (!q || strcmp(q, "1") != 0)
        fprintf(stderr, "%llu students, %llu answers\n", (unsigned long long)students,
                (unsigned long long)rows);
    return 0;
}
