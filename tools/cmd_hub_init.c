/*
 * cmd_hub_init.c - `cistern hub init REPO`
 */
#include <stdio.h>

#include "cli.h"
#include "sync/hub.h"

int cmd_hub_init(int argc, char **argv);
int cmd_hub_init(int argc, char **argv)
{
    if (argc != 2 || argv[1][0] == '-')
        return cli_usage(cli_cmd("hub", "init"), "expected exactly one argument, the repository folder");
    cs_err err = {0};
    if (sync_hub_init(argv[1], NULL, &err) != 0)
        return cli_fail(&err);
    printf("created repository %s\n  trust root: %s/root.json (give it to nodes: cistern node init DATA --trust %s/root.json)\n"
           "  keys: %s/keys/ (keep them secret; move root.key offline)\n",
           argv[1], argv[1], argv[1], argv[1]);
    return 0;
}
