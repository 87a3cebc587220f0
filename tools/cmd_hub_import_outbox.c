/*
 * cmd_hub_import_outbox.c - `cistern hub import-outbox REPO FILE`
 */
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"
#include "platform/file.h"
#include "platform/time.h"
#include "sync/outbox.h"

int cmd_hub_import_outbox(int argc, char **argv);
int cmd_hub_import_outbox(int argc, char **argv)
{
    if (argc != 3 || argv[1][0] == '-' || argv[2][0] == '-')
        return cli_usage(cli_cmd("hub", "import-outbox"), "expected REPO and FILE");
    cs_err err = {0};
    char *data = NULL;
    size_t len = 0;
    sync_outbox_batch b;
    sync_reports *r = NULL;
    int64_t acked = 0;
    int added = 0;
    if (cs_file_read_all(argv[2], SYNC_OUTBOX_MAX_BYTES, &data, &len, &err) != 0)
        return cli_fail(&err);
    int rc = sync_outbox_parse(&b, data, len, &err);
    free(data);
    if (rc)
        return cli_fail(&err);
    if ((rc = sync_reports_open_sqlite(&r, argv[1], &err)) == 0)
        rc = sync_reports_ingest(r, &b, cs_time_now(), &acked, &added, &err);
    sync_reports_close(r);
    size_t n = json_array_size(b.records);
    char node[13];
    snprintf(node, sizeof node, "%s", b.node);
    sync_outbox_batch_clear(&b);
    if (rc)
        return cli_fail(&err);
    printf("node %s: %zu records in the file, %d new; every record up to %lld is held\n", node, n, added,
           (long long)acked);
    return 0;
}
