/*
 * cmd_node_sync.c - `cistern node sync DATA [--hub URL] [--json]`
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "node/node.h"
#include "sync/client.h"

/* The run's counters, one JSON object (machine-readable; tests read it). */
static void print_json(const sync_client_stats *st)
{
    json_t *o = json_pack(
        "{s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:b,s:I,s:I,s:b}", "from_version",
        (json_int_t)st->from_version, "to_version", (json_int_t)st->to_version, "objects_needed",
        (json_int_t)st->objects_needed, "objects_fetched", (json_int_t)st->objects_fetched,
        "objects_present", (json_int_t)st->objects_present, "bytes_received",
        (json_int_t)st->bytes_received, "requests", (json_int_t)st->requests, "retries",
        (json_int_t)st->retries, "deltas_applied", (json_int_t)st->deltas_applied, "delta_bytes",
        (json_int_t)st->delta_bytes, "whole_bytes", (json_int_t)st->whole_bytes, "bytes_saved",
        (json_int_t)st->bytes_saved, "catalog_bytes", (json_int_t)st->catalog_bytes,
        "catalog_delta", st->catalog_delta, "resources_skipped", (json_int_t)st->resources_skipped,
        "resources_filled", (json_int_t)st->resources_filled, "used_batch", st->used_batch);
    char *s = o ? json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    printf("%s\n", s ? s : "{}");
    free(s);
    json_decref(o);
}

int cmd_node_sync(int argc, char **argv);
int cmd_node_sync(int argc, char **argv)
{
    const char *data = NULL, *hub = NULL;
    int json = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--hub") == 0 && i + 1 < argc)
            hub = argv[++i];
        else if (strcmp(argv[i], "--json") == 0)
            json = 1;
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
    if (json) {
        print_json(&st);
        return 0;
    }
    if (st.to_version == st.from_version) {
        printf("already at version %lld, the hub's current version\n", (long long)st.to_version);
        return 0;
    }
    char b[32], saved[32];
    cli_bytes(st.bytes_received, b, sizeof b);
    cli_bytes(st.bytes_saved, saved, sizeof saved);
    printf("synced version %lld (was %lld): %llu objects fetched, %llu already here, %s received "
           "in %llu requests%s\n",
           (long long)st.to_version, (long long)st.from_version,
           (unsigned long long)st.objects_fetched, (unsigned long long)st.objects_present, b,
           (unsigned long long)st.requests, st.retries ? " (with retries)" : "");
    printf("  %llu file deltas applied (%s saved), catalogue %s\n",
           (unsigned long long)st.deltas_applied, saved,
           st.catalog_delta ? "as the changes since this node's version" : "whole");
    return 0;
}
