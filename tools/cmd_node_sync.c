/*
 * cmd_node_sync.c - `cistern node sync DATA [--hub URL]`
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "node/node.h"
#include "sync/client.h"

int cmd_node_sync(int argc, char **argv);
int cmd_node_sync(int argc, char **argv)
{
    const char *data = NULL, *hub = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--hub") == 0 && i + 1 < argc)
            hub = argv[++i];
        else if (argv[i][0] != '-' && !data)
            data = argv[i];
        else
            return cli_usage(cli_cmd("node", "sync"), "unexpected argument");
    }
    if (!data)
        return cli_usage(cli_cmd("node", "sync"), "DATA is required");
    cs_err err = {0};
    node_data *n = NULL;
    sync_client_stats st;
    cli_progress p;
    if (node_open(&n, data, 0, &err) != 0)
        return cli_fail(&err);
    cli_progress_init(&p);
    int rc = node_sync(n, hub, cli_progress_cb, &p, &st, &err);
    cli_progress_done(&p);
    node_close(n);
    if (rc)
        return cli_fail(&err);
    if (st.to_version == st.from_version) {
        printf("already at version %lld, the hub's current version\n", (long long)st.to_version);
        return 0;
    }
    char b[32];
    cli_bytes(st.bytes_received, b, sizeof b);
    printf("synced version %lld (was %lld): %llu objects fetched, %llu already here, %s received in %llu requests%s\n",
           (long long)st.to_version, (long long)st.from_version, (unsigned long long)st.objects_fetched,
           (unsigned long long)st.objects_present, b, (unsigned long long)st.requests,
           st.retries ? " (with retries)" : "");
    return 0;
}
