/*
 * cmd_node_cat.c - `cistern node cat DATA RESOURCE_ID PATH`
 */
#include <stdio.h>

#include "cli.h"
#include "node/node.h"

int cmd_node_cat(int argc, char **argv);
int cmd_node_cat(int argc, char **argv)
{
    if (argc != 4)
        return cli_usage(cli_cmd("node", "cat"), "expected DATA, RESOURCE_ID and PATH");
    cs_err err = {0};
    node_data *n = NULL;
    if (node_open(&n, argv[1], NODE_RDONLY, &err) != 0)
        return cli_fail(&err);
    int rc = node_cat(n, argv[2], argv[3], 1, &err);
    node_close(n);
    return rc ? cli_fail(&err) : 0;
}
