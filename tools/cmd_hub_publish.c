/*
 * cmd_hub_publish.c - `cistern hub publish REPO SOURCE_DIR [--delta-depth K]`
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "sync/hub.h"

int cmd_hub_publish(int argc, char **argv);
int cmd_hub_publish(int argc, char **argv)
{
    const char *repo = NULL, *src = NULL;
    long depth = -1;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--delta-depth") == 0 && i + 1 < argc) {
            char *end = NULL;
            depth = strtol(argv[++i], &end, 10);
            if (!*argv[i] || *end || depth < 0 || depth > SYNC_HUB_DELTA_DEPTH_MAX)
                return cli_failf("--delta-depth takes a number from 0 to %d, not \"%s\"",
                                 SYNC_HUB_DELTA_DEPTH_MAX, argv[i]);
        } else if (argv[i][0] != '-' && !repo) {
            repo = argv[i];
        } else if (argv[i][0] != '-' && !src) {
            src = argv[i];
        } else {
            return cli_usage(cli_cmd("hub", "publish"), "unexpected argument");
        }
    }
    if (!repo || !src)
        return cli_usage(cli_cmd("hub", "publish"), "expected REPO and SOURCE_DIR");
    cs_err err = {0};
    sync_hub *h = NULL;
    sync_publish_stats st;
    cli_progress p;
    if (sync_hub_open(&h, repo, &err) != 0)
        return cli_fail(&err);
    if (depth >= 0 && sync_hub_set_delta_depth(h, (int)depth, &err) != 0) {
        sync_hub_free(h);
        return cli_fail(&err);
    }
    cli_progress_init(&p);
    int rc = sync_hub_publish(h, src, cli_progress_cb, &p, &st, &err);
    cli_progress_done(&p);
    int64_t before = sync_hub_version(h);
    sync_hub_free(h);
    if (rc)
        return cli_fail(&err);
    char raw[32], enc[32];
    cli_bytes(st.bytes_raw, raw, sizeof raw);
    cli_bytes(st.bytes_new_encoded, enc, sizeof enc);
    if (st.added == 0 && st.changed == 0 && st.removed == 0) {
        printf("no changes since version %lld: nothing published\n", (long long)before);
        return 0;
    }
    printf("published version %lld: %llu resources (%llu added, %llu changed, %llu removed), "
           "%llu files, %s; %llu new objects, %s stored\n",
           (long long)st.version, (unsigned long long)st.resources, (unsigned long long)st.added,
           (unsigned long long)st.changed, (unsigned long long)st.removed, (unsigned long long)st.files,
           raw, (unsigned long long)st.objects_new, enc);
    return 0;
}
