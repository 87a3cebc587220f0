/*
 * cmd_hub_bundle.c - `cistern hub bundle REPO --since N -o FILE`
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "sync/hub.h"

int cmd_hub_bundle(int argc, char **argv);
int cmd_hub_bundle(int argc, char **argv)
{
    const char *repo = NULL, *out = NULL, *since_s = NULL;
    for (int i = 1; i < argc; i++) {
        if ((strcmp(argv[i], "--since") == 0) && i + 1 < argc)
            since_s = argv[++i];
        else if ((strcmp(argv[i], "-o") == 0 || strcmp(argv[i], "--output") == 0) && i + 1 < argc)
            out = argv[++i];
        else if (argv[i][0] != '-' && !repo)
            repo = argv[i];
        else
            return cli_usage(cli_cmd("hub", "bundle"), "unexpected argument");
    }
    if (!repo || !out || !since_s)
        return cli_usage(cli_cmd("hub", "bundle"), "REPO, --since and -o are required");
    char *end;
    long long since = strtoll(since_s, &end, 10);
    if (*end || since < 0)
        return cli_usage(cli_cmd("hub", "bundle"), "--since takes a version number (0 = everything)");
    cs_err err = {0};
    sync_hub *h = NULL;
    cli_progress p;
    if (sync_hub_open(&h, repo, &err) != 0)
        return cli_fail(&err);
    cli_progress_init(&p);
    int rc = sync_hub_bundle(h, since, out, cli_progress_cb, &p, &err);
    cli_progress_done(&p);
    int64_t v = sync_hub_version(h);
    sync_hub_free(h);
    if (rc)
        return cli_fail(&err);
    struct stat st;
    char size[32] = "?";
    if (stat(out, &st) == 0)
        cli_bytes((uint64_t)st.st_size, size, sizeof size);
    printf("wrote %s: version %lld for nodes at version %lld, %s\n", out, (long long)v, since, size);
    return 0;
}
