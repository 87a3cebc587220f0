/*
 * cmd_node_serve.c - `cistern node serve DATA [--listen HOST:PORT] [--check]`
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "node/node.h"
#include "node/server.h"

int cmd_node_serve(int argc, char **argv);
int cmd_node_serve(int argc, char **argv)
{
    const char *data = NULL, *listen = NULL;
    int check = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--listen") == 0 && i + 1 < argc)
            listen = argv[++i];
        else if (strcmp(argv[i], "--check") == 0)
            check = 1;
        else if (argv[i][0] != '-' && !data)
            data = argv[i];
        else
            return cli_usage(cli_cmd("node", "serve"), "unexpected argument");
    }
    if (!data)
        return cli_usage(cli_cmd("node", "serve"), "DATA is required");
    cs_err err = {0};
    node_data *n = NULL;
    node_server_options opt;
    if (node_open(&n, data, NODE_RDONLY, &err) != 0)
        return cli_fail(&err);
    /* Every setting the daemon reads, not only serve.*: a bad one found now
     * rather than by the sync thread at night. */
    int rc = node_server_conf_check(n->conf, &err);
    if (rc == 0)
        rc = node_server_options_load(&opt, n->conf, &err);
    node_close(n);
    if (rc == 0 && listen)
        rc = node_server_parse_listen(&opt, listen, &err);
    if (rc) {
        cs_err_wrap(&err, "%s/node.conf", data);
        return cli_fail(&err);
    }
    if (check) {
        printf("configuration ok: would listen on %s:%u with %u threads, %u connections "
               "(%u per client), %u s timeout, %u s for a request's headers\n",
               opt.host, opt.port, opt.threads, opt.max_conns, opt.max_conns_per_ip, opt.timeout_s,
               opt.header_timeout_s);
        return 0;
    }
    if (node_server_run(data, &opt, &err) != 0)
        return cli_fail(&err);
    return 0;
}
