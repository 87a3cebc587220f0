/*
 * cmd_node_import.c - `cistern node import DATA FILE`
 */
#include <stdio.h>

#include "cli.h"
#include "node/node.h"

int cmd_node_import(int argc, char **argv);
int cmd_node_import(int argc, char **argv)
{
    if (argc != 3 || argv[1][0] == '-' || argv[2][0] == '-')
        return cli_usage(cli_cmd("node", "import"), "expected DATA and FILE");
    cs_err err = {0};
    node_data *n = NULL;
    sync_import_stats st;
    cli_progress p;
    if (node_open(&n, argv[1], 0, &err) != 0)
        return cli_fail(&err);
    cli_progress_init(&p);
    int rc = node_import(n, argv[2], cli_progress_cb, &p, &st, &err);
    cli_progress_done(&p);
    node_close(n);
    if (rc == CS_EEXIST) {
        printf("%s; nothing to import\n", err.msg);
        return 0;
    }
    if (rc)
        return cli_fail(&err);
    char b[32];
    cli_bytes(st.bytes_read, b, sizeof b);
    printf("imported version %lld (was %lld): %llu objects stored (%s), %llu already present\n",
           (long long)st.to_version, (long long)st.from_version, (unsigned long long)st.objects_stored, b,
           (unsigned long long)st.objects_present);
    return 0;
}
