/*
 * cmd_hub_serve.c - `cistern hub serve REPO [--listen HOST:PORT] [--header-timeout S]`
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "node/hubserve.h"

int cmd_hub_serve(int argc, char **argv);
int cmd_hub_serve(int argc, char **argv)
{
    const char *repo = NULL, *listen = NULL, *ht = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--listen") == 0 && i + 1 < argc)
            listen = argv[++i];
        else if (strcmp(argv[i], "--header-timeout") == 0 && i + 1 < argc)
            ht = argv[++i];
        else if (argv[i][0] != '-' && !repo)
            repo = argv[i];
        else
            return cli_usage(cli_cmd("hub", "serve"), "unexpected argument");
    }
    if (!repo)
        return cli_usage(cli_cmd("hub", "serve"), "REPO is required");
    cs_err err = {0};
    node_server_options opt;
    if (node_server_options_load(&opt, NULL, &err) != 0 ||
        (listen && node_server_parse_listen(&opt, listen, &err) != 0))
        return cli_fail(&err);
    if (ht) {
        char *end;
        long v = strtol(ht, &end, 10);
        if (*ht < '0' || *ht > '9' || *end || v < 1 || v > 3600)
            return cli_usage(cli_cmd("hub", "serve"), "--header-timeout: 1 to 3600 seconds");
        opt.header_timeout_s = (unsigned)v;
    }
    if (node_hub_serve(repo, &opt, &err) != 0)
        return cli_fail(&err);
    return 0;
}
