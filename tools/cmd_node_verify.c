/*
 * cmd_node_verify.c - `cistern node verify DATA [--repair]`
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "node/node.h"

int cmd_node_verify(int argc, char **argv);

static void report(void *ctx, const char *line)
{
    fprintf(stdout, "damaged: %s\n", line);
}

static void progress(void *ctx, uint64_t done, uint64_t total)
{
    cli_progress_cb(ctx, "verifying", done, total);
}

int cmd_node_verify(int argc, char **argv)
{
    const char *data = NULL;
    int repair = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--repair") == 0)
            repair = 1;
        else if (argv[i][0] != '-' && !data)
            data = argv[i];
        else
            return cli_usage(cli_cmd("node", "verify"), "unexpected argument");
    }
    if (!data)
        return cli_usage(cli_cmd("node", "verify"), "DATA is required");
    cs_err err = {0};
    node_data *n = NULL;
    cli_progress p;
    uint64_t damaged = 0;
    if (node_open(&n, data, repair ? 0 : NODE_RDONLY, &err) != 0)
        return cli_fail(&err);
    cli_progress_init(&p);
    int rc = node_verify(n, repair, report, NULL, progress, &p, &damaged, &err);
    cli_progress_done(&p);
    node_close(n);
    if (rc)
        return cli_fail(&err);
    if (damaged) {
        if (repair)
            printf("%llu damaged objects dropped; the next import or sync fetches them again\n",
                   (unsigned long long)damaged);
        return cli_failf("%llu damaged objects found", (unsigned long long)damaged);
    }
    printf("store verified: no damage\n");
    return 0;
}
