/*
 * cmd_hub_reports.c - `cistern hub reports REPO [--json]`
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "platform/time.h"
#include "sync/outbox.h"

static const char *str(const json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));
    return s ? s : "-";
}

static long long num(const json_t *o, const char *k)
{
    return (long long)json_integer_value(json_object_get(o, k));
}

int cmd_hub_reports(int argc, char **argv);
int cmd_hub_reports(int argc, char **argv)
{
    const char *repo = NULL;
    int json = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0)
            json = 1;
        else if (argv[i][0] != '-' && !repo)
            repo = argv[i];
        else
            return cli_usage(cli_cmd("hub", "reports"), "unexpected argument");
    }
    if (!repo)
        return cli_usage(cli_cmd("hub", "reports"), "expected REPO");
    cs_err err = {0};
    sync_reports *r = NULL;
    json_t *o = NULL;
    int rc = sync_reports_open_sqlite(&r, repo, &err);
    if (rc == 0)
        rc = sync_reports_report(r, &o, &err);
    sync_reports_close(r);
    if (rc)
        return cli_fail(&err);
    if (json) {
        char *s = json_dumps(o, JSON_COMPACT);
        printf("%s\n", s);
        free(s);
        json_decref(o);
        return 0;
    }
    size_t i;
    json_t *v;
    char when[32];
    printf("Nodes (%zu)\n", json_array_size(json_object_get(o, "nodes")));
    json_array_foreach(json_object_get(o, "nodes"), i, v)
    {
        json_t *h = json_object_get(v, "health");
        cs_time_format(num(v, "last_contact"), when, sizeof when);
        printf("  %.12s  version %lld  last contact %s  disk %lld bytes  pending %lld  records %lld%s%s\n",
               str(v, "node"), num(h, "version"), when,
               (long long)json_integer_value(json_object_get(json_object_get(h, "storage"), "disk_bytes")),
               num(h, "pending"), num(v, "records"), json_is_string(json_object_get(h, "last_error")) ? "  error: " : "",
               json_is_string(json_object_get(h, "last_error")) ? str(h, "last_error") : "");
    }
    printf("Usage across schools (noisy weekly aggregates)\n");
    json_array_foreach(json_object_get(o, "usage"), i, v)
        printf("  %-40s schools %lld  learners %lld  completions %lld  (%s .. %s)\n", str(v, "resource"),
               num(v, "schools"), num(v, "learners"), num(v, "completions"), str(v, "first_week"), str(v, "last_week"));
    printf("Feedback (%zu)\n", json_array_size(json_object_get(o, "feedback")));
    json_array_foreach(json_object_get(o, "feedback"), i, v)
    {
        cs_time_format(num(v, "created"), when, sizeof when);
        printf("  %s  %.12s  %-32s rating %lld  %s  %s\n", when, str(v, "node"), str(v, "resource"), num(v, "rating"),
               str(v, "report"), str(v, "comment"));
    }
    printf("Contributed resources (%zu)\n", json_array_size(json_object_get(o, "contributions")));
    json_array_foreach(json_object_get(o, "contributions"), i, v)
        printf("  %s  from %.12s  in %s/%s\n", str(v, "id"), str(v, "node"), repo, str(v, "path"));
    json_decref(o);
    return 0;
}
