/*
 * cmd_node_init.c - `cistern node init DATA --trust ROOT.json [--hub URL]`
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "node/node.h"

int cmd_node_init(int argc, char **argv);
int cmd_node_init(int argc, char **argv)
{
    const char *data = NULL, *trust = NULL, *hub = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--trust") == 0 && i + 1 < argc)
            trust = argv[++i];
        else if (strcmp(argv[i], "--hub") == 0 && i + 1 < argc)
            hub = argv[++i];
        else if (argv[i][0] != '-' && !data)
            data = argv[i];
        else
            return cli_usage(cli_cmd("node", "init"), "unexpected argument");
    }
    if (!data || !trust)
        return cli_usage(cli_cmd("node", "init"), "DATA and --trust ROOT.json are required");
    cs_err err = {0};
    if (node_init(data, trust, hub, &err) != 0)
        return cli_fail(&err);
    printf("initialised node %s (trust root pinned from %s)\n", data, trust);
    return 0;
}
