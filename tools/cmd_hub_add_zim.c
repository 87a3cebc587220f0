/*
 * cmd_hub_add_zim.c - `cistern hub add-zim REPO FILE.zim --source SOURCE_DIR
 * [--id ID] [--subject S] [--grades 3,4] [--language L] [--no-publish]`
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "sync/hub.h"
#include "sync/zimsource.h"

int cmd_hub_add_zim(int argc, char **argv);

static int parse_grades(const char *s, int *out, size_t cap, size_t *n)
{
    *n = 0;
    while (*s) {
        char *end;
        long g = strtol(s, &end, 10);
        if (end == s || g < 0 || g > 13 || *n >= cap || (*end && *end != ','))
            return -1;
        out[(*n)++] = (int)g;
        s = *end ? end + 1 : end;
    }
    return *n ? 0 : -1;
}

int cmd_hub_add_zim(int argc, char **argv)
{
    const cli_command *me = cli_cmd("hub", "add-zim");
    const char *repo = NULL, *zim = NULL, *source = NULL;
    sync_zim_options opt;
    int grades[64], publish = 1;
    memset(&opt, 0, sizeof opt);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--source") == 0 && v)
            source = argv[++i];
        else if (strcmp(a, "--id") == 0 && v)
            opt.id = argv[++i];
        else if (strcmp(a, "--subject") == 0 && v)
            opt.subject = argv[++i];
        else if (strcmp(a, "--language") == 0 && v)
            opt.language = argv[++i];
        else if (strcmp(a, "--grades") == 0 && v) {
            if (parse_grades(argv[++i], grades, 64, &opt.ngrades) != 0)
                return cli_usage(me, "--grades takes grades 0..13 separated by commas, e.g. 3,4");
            opt.grades = grades;
        } else if (strcmp(a, "--no-publish") == 0)
            publish = 0;
        else if (a[0] != '-' && !repo)
            repo = a;
        else if (a[0] != '-' && !zim)
            zim = a;
        else
            return cli_usage(me, "unexpected argument");
    }
    if (!repo || !zim)
        return cli_usage(me, "expected REPO and FILE.zim");
    if (!source)
        return cli_usage(me,
                         "--source SOURCE_DIR is required (the source tree `hub publish` reads)");

    cs_err err = {0};
    sync_hub *h = NULL;
    /* The repository first: locked for the whole import, and a bad REPO is
     * reported before minutes of expanding. */
    if (publish && sync_hub_open(&h, repo, &err) != 0)
        return cli_fail(&err);
    sync_zim_stats zs;
    cli_progress p;
    cli_progress_init(&p);
    int rc = sync_zim_to_source(zim, source, &opt, cli_progress_cb, &p, &zs, &err);
    cli_progress_done(&p);
    if (rc) {
        sync_hub_free(h);
        return cli_fail(&err);
    }
    char bytes[32];
    cli_bytes(zs.bytes, bytes, sizeof bytes);
    printf(
        "%s %s/%s from %s: %llu entries (%llu redirects, %llu as forwarding pages), %llu titles, "
        "%llu files, %s\n",
        zs.replaced ? "replaced" : "wrote", source, zs.id, zim, (unsigned long long)zs.entries,
        (unsigned long long)zs.redirects, (unsigned long long)zs.redirect_pages,
        (unsigned long long)zs.titles, (unsigned long long)zs.files, bytes);
    if (zs.skipped)
        printf("skipped %llu entries whose paths cannot be resource paths or collide (first: "
               "\"%s\")\n",
               (unsigned long long)zs.skipped, zs.first_skipped);
    if (!publish)
        return 0;
    sync_publish_stats st;
    cli_progress_init(&p);
    rc = sync_hub_publish(h, source, cli_progress_cb, &p, &st, &err);
    cli_progress_done(&p);
    int64_t before = sync_hub_version(h);
    sync_hub_free(h);
    if (rc) {
        cs_err_wrap(&err, "%s/%s is written but not published", source, zs.id);
        return cli_fail(&err);
    }
    if (st.added == 0 && st.changed == 0 && st.removed == 0) {
        printf("no changes since version %lld: nothing published\n", (long long)before);
        return 0;
    }
    char enc[32];
    cli_bytes(st.bytes_new_encoded, enc, sizeof enc);
    printf("published version %lld: %llu resources (%llu added, %llu changed, %llu removed); "
           "%llu new objects, %s stored; %llu with deltas\n",
           (long long)st.version, (unsigned long long)st.resources, (unsigned long long)st.added,
           (unsigned long long)st.changed, (unsigned long long)st.removed,
           (unsigned long long)st.objects_new, enc, (unsigned long long)st.deltas);
    return 0;
}
