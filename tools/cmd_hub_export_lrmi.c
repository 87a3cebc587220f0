/*
 * cmd_hub_export_lrmi.c - `cistern hub export-lrmi REPO [-o FILE] [--base URL]`
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "sync/hub.h"
#include "sync/lrmi.h"

typedef struct lrmi_out {
    FILE *f;
    const char *base;
    size_t n;
} lrmi_out;

static int one(void *ctx, const struct content_resource *r)
{
    lrmi_out *o = ctx;
    json_t *node = sync_lrmi_resource(r, o->base);
    char *s = json_dumps(node, JSON_COMPACT);
    json_decref(node);
    if (!s)
        return CS_ENOMEM;
    fprintf(o->f, "%s\n  %s", o->n++ ? "," : "", s);
    free(s);
    return ferror(o->f) ? CS_EIO : 0;
}

int cmd_hub_export_lrmi(int argc, char **argv);
int cmd_hub_export_lrmi(int argc, char **argv)
{
    const char *repo = NULL, *out = NULL, *base = "";
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-o") == 0 && i + 1 < argc)
            out = argv[++i];
        else if (strcmp(argv[i], "--base") == 0 && i + 1 < argc)
            base = argv[++i];
        else if (argv[i][0] != '-' && !repo)
            repo = argv[i];
        else
            return cli_usage(cli_cmd("hub", "export-lrmi"), "unexpected argument");
    }
    if (!repo)
        return cli_usage(cli_cmd("hub", "export-lrmi"), "expected REPO");
    size_t bl = strlen(base);
    char b[1024];
    snprintf(b, sizeof b, "%.*s", (int)(bl && base[bl - 1] == '/' ? bl - 1 : bl), base);
    cs_err err = {0};
    sync_hub *h = NULL;
    if (sync_hub_open(&h, repo, &err) != 0)
        return cli_fail(&err);
    char tmp[4200];
    FILE *f = stdout;
    if (out) {
        snprintf(tmp, sizeof tmp, "%s.tmp", out);
        if (!(f = fopen(tmp, "w"))) {
            sync_hub_free(h);
            return cli_failf("%s: cannot write", tmp);
        }
    }
    lrmi_out o = {f, b, 0};
    fprintf(f, "{\"@context\": \"https://schema.org/\", \"@graph\": [");
    int rc = sync_hub_foreach_current(h, one, &o, &err);
    fprintf(f, "\n]}\n");
    sync_hub_free(h);
    if (out) {
        int bad = fflush(f) != 0 || ferror(f);
        fclose(f);
        if (rc == 0 && (bad || rename(tmp, out) != 0)) {
            remove(tmp);
            return cli_failf("%s: cannot write", out);
        }
        if (rc != 0)
            remove(tmp);
    }
    if (rc != 0) {
        if (!err.msg[0])
            cs_err_set(&err, rc, "export failed");
        return cli_fail(&err);
    }
    if (out)
        fprintf(stderr, "%zu resources written to %s\n", o.n, out);
    return 0;
}
