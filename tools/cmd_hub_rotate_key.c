/*
 * cmd_hub_rotate_key.c - `cistern hub rotate-key REPO ROLE`
 */
#include <stdio.h>

#include "cli.h"
#include "sync/hub.h"

int cmd_hub_rotate_key(int argc, char **argv);
int cmd_hub_rotate_key(int argc, char **argv)
{
    if (argc != 3 || argv[1][0] == '-')
        return cli_usage(cli_cmd("hub", "rotate-key"), "expected REPO and ROLE");
    cs_err err = {0};
    sync_hub *h = NULL;
    int64_t rv = 0;
    if (sync_hub_open(&h, argv[1], &err) != 0)
        return cli_fail(&err);
    int rc = sync_hub_rotate_key(h, argv[2], &rv, &err);
    sync_hub_free(h);
    if (rc)
        return cli_fail(&err);
    printf("new %s key; root version %lld written (%s/%lld.root.json); nodes follow it at their next sync or import\n",
           argv[2], (long long)rv, argv[1], (long long)rv);
    return 0;
}
