/*
 * cmd_node_request.c - `cistern node request DATA RESOURCE_ID`
 */
#include <stdio.h>

#include "cli.h"
#include "node/node.h"

int cmd_node_request(int argc, char **argv);
int cmd_node_request(int argc, char **argv)
{
    if (argc != 3 || argv[1][0] == '-')
        return cli_usage(cli_cmd("node", "request"), "expected DATA and RESOURCE_ID");
    cs_err err = {0};
    node_data *n = NULL;
    if (node_open(&n, argv[1], 0, &err) != 0)
        return cli_fail(&err);
    int rc = node_request(n, argv[2], &err);
    node_close(n);
    if (rc)
        return cli_fail(&err);
    printf("%s requested: it is fetched first at the next sync\n", argv[2]);
    return 0;
}
