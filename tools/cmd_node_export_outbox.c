/*
 * cmd_node_export_outbox.c - `cistern node export-outbox DATA -o FILE`
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "node/node.h"

int cmd_node_export_outbox(int argc, char **argv);
int cmd_node_export_outbox(int argc, char **argv)
{
    const char *data = NULL, *out = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-o") == 0 && i + 1 < argc)
            out = argv[++i];
        else if (argv[i][0] != '-' && !data)
            data = argv[i];
        else
            return cli_usage(cli_cmd("node", "export-outbox"), "unexpected argument");
    }
    if (!data || !out)
        return cli_usage(cli_cmd("node", "export-outbox"), "expected DATA and -o FILE");
    node_data *n = NULL;
    cs_err err = {0};
    int records = 0;
    int64_t left = 0;
    if (node_open(&n, data, 0, &err) != 0)
        return cli_fail(&err);
    int rc = node_outbox_export(n, out, &records, &left, &err);
    node_close(n);
    if (rc)
        return cli_fail(&err);
    printf("%d outbox records written to %s (signed)%s\n", records, out,
           left ? "; more remain: export again after the hub has acknowledged these" : "");
    return 0;
}
