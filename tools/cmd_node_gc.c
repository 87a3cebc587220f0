/*
 * cmd_node_gc.c - `cistern node gc DATA`
 */
#include <stdio.h>

#include "cli.h"
#include "node/node.h"

int cmd_node_gc(int argc, char **argv);
int cmd_node_gc(int argc, char **argv)
{
    if (argc != 2 || argv[1][0] == '-')
        return cli_usage(cli_cmd("node", "gc"), "expected DATA");
    cs_err err = {0};
    node_data *n = NULL;
    uint64_t objs = 0, bytes = 0;
    cli_progress p;
    if (node_open(&n, argv[1], 0, &err) != 0)
        return cli_fail(&err);
    cli_progress_init(&p);
    content_store_gc_progress_set(n->store, cli_progress_cb, &p);
    int rc = node_gc(n, &objs, &bytes, &err);
    cli_progress_done(&p);
    node_close(n);
    if (rc)
        return cli_fail(&err);
    char b[32];
    cli_bytes(bytes, b, sizeof b);
    printf("removed %llu unreferenced objects, %s freed\n", (unsigned long long)objs, b);
    return 0;
}
