/*
 * cmd_node_status.c - `cistern node status DATA [--json]`
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "node/node.h"

int cmd_node_status(int argc, char **argv);
int cmd_node_status(int argc, char **argv)
{
    const char *data = NULL;
    int json = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0)
            json = 1;
        else if (argv[i][0] != '-' && !data)
            data = argv[i];
        else
            return cli_usage(cli_cmd("node", "status"), "unexpected argument");
    }
    if (!data)
        return cli_usage(cli_cmd("node", "status"), "DATA is required");
    cs_err err = {0};
    node_data *n = NULL;
    json_t *o = NULL;
    if (node_open(&n, data, NODE_RDONLY, &err) != 0)
        return cli_fail(&err);
    int rc = node_status(n, &o, &err);
    node_close(n);
    if (rc)
        return cli_fail(&err);
    if (json) {
        char *s = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
        printf("%s\n", s ? s : "{}");
        free(s);
    } else {
        json_t *c = json_object_get(o, "catalog"), *s = json_object_get(o, "storage");
        char raw[32], disk[32];
        cli_bytes((uint64_t)json_integer_value(json_object_get(s, "raw_bytes")), raw, sizeof raw);
        cli_bytes((uint64_t)json_integer_value(json_object_get(s, "disk_bytes")), disk, sizeof disk);
        printf("node %s\n  version:   %lld\n  catalogue: %lld resources, %lld files\n"
               "  storage:   %lld objects, %s of content in %s on disk\n  trust:     root version %lld\n",
               data, (long long)json_integer_value(json_object_get(o, "version")),
               (long long)json_integer_value(json_object_get(c, "resources")),
               (long long)json_integer_value(json_object_get(c, "files")),
               (long long)json_integer_value(json_object_get(s, "objects")), raw, disk,
               (long long)json_integer_value(json_object_get(o, "trust_root_version")));
        const char *li = json_string_value(json_object_get(o, "last_import"));
        const char *le = json_string_value(json_object_get(o, "last_error"));
        const char *hub = json_string_value(json_object_get(o, "hub"));
        printf("  last import: %s\n", li ? li : "never");
        if (le)
            printf("  last error:  %s\n", le);
        if (hub)
            printf("  hub:       %s\n", hub);
        json_t *ob = json_object_get(o, "outbox");
        if (ob)
            printf("  outbox:    %lld records waiting, acknowledged up to %lld\n",
                   (long long)json_integer_value(json_object_get(ob, "pending")),
                   (long long)json_integer_value(json_object_get(ob, "acked")));
        const char *nid = json_string_value(json_object_get(o, "node_id"));
        if (nid)
            printf("  node id:   %.16s…\n", nid);
    }
    json_decref(o);
    return 0;
}
