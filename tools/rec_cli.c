/*
 * rec_cli.c - options and file loading shared by the recommend commands.
 */
#include "rec_cli.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static int num(const char *s, double lo, double hi, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || !(v >= lo && v <= hi))
        return -1;
    *out = v;
    return 0;
}

static int parse_methods(const char *s, unsigned *mask)
{
    char buf[256];
    if (strlen(s) >= sizeof buf)
        return -1;
    strcpy(buf, s);
    *mask = 0;
    for (char *save = NULL, *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        int found = 0;
        for (int m = 0; m < NODE_REC_NMETHODS; m++)
            if (strcmp(t, node_rec_method_name(m)) == 0) {
                *mask |= 1u << m;
                found = 1;
            }
        if (!found)
            return -1;
    }
    return *mask ? 0 : -1;
}

static int parse_weights(const char *s, node_rec_weights *w)
{
    double v[6];
    int n = 0;
    const char *p = s;
    while (*p && n < 6) {
        char *end;
        errno = 0;
        v[n] = strtod(p, &end);
        if (errno || end == p || !(v[n] >= 0 && v[n] <= 1000))
            return -1;
        n++;
        if (*end == ',')
            p = end + 1;
        else if (*end == '\0')
            p = end;
        else
            return -1;
    }
    if (*p || n < 5)
        return -1;
    w->curriculum = v[0];
    w->transitions = v[1];
    w->itemknn = v[2];
    w->ease = v[3];
    w->popular = v[4];
    if (n == 6) {
        if (!(v[5] > 0 && v[5] <= 1))
            return -1;
        w->recency = v[5];
    }
    return 0;
}

int rec_cli_parse(const cli_command *me, int argc, char **argv, rec_cli_opts *o)
{
    memset(o, 0, sizeof *o);
    node_rec_eval_opts_default(&o->eval);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        double d;
        if (strcmp(a, "--json") == 0) {
            o->json = 1;
            continue;
        }
        if (a[0] != '-' || !v)
            return cli_usage(me, a[0] == '-' ? "option needs a value" : "unexpected argument");
        i++;
        if (strcmp(a, "--interactions") == 0)
            o->interactions = v;
        else if (strcmp(a, "--train") == 0)
            o->train = v;
        else if (strcmp(a, "--items") == 0)
            o->items = v;
        else if (strcmp(a, "--groups") == 0)
            o->groups = v;
        else if (strcmp(a, "--protocol") == 0) {
            o->have_protocol = 1;
            if (strcmp(v, "next-new") == 0)
                o->eval.protocol = NODE_REC_NEXT_NEW;
            else if (strcmp(v, "leave-last-out") == 0)
                o->eval.protocol = NODE_REC_LEAVE_LAST_OUT;
            else
                return cli_usage(me, "--protocol is next-new or leave-last-out");
        } else if (strcmp(a, "--k") == 0) {
            if (num(v, 1, NODE_REC_K_MAX, &d) || d != (unsigned)d)
                return cli_usage(me, "--k is an integer from 1 to 100");
            o->eval.k = (unsigned)d;
        } else if (strcmp(a, "--holdout") == 0) {
            if (num(v, 1, 1000, &d) || d != (unsigned)d)
                return cli_usage(me, "--holdout is an integer from 1 to 1000");
            o->eval.holdout = (unsigned)d;
        } else if (strcmp(a, "--methods") == 0) {
            if (parse_methods(v, &o->eval.methods))
                return cli_usage(me, "--methods is a comma list of "
                                     "blend,popular,transitions,itemknn,ease,curriculum");
        } else if (strcmp(a, "--weights") == 0) {
            if (parse_weights(v, &o->eval.weights))
                return cli_usage(
                    me, "--weights is CURRICULUM,TRANSITIONS,ITEMKNN,EASE,POPULAR[,RECENCY]");
        } else if (strcmp(a, "--lambda") == 0) {
            if (num(v, 1e-6, 1e9, &o->eval.limits.ease_lambda))
                return cli_usage(me, "--lambda is a positive number");
        } else if (strcmp(a, "--ease-max") == 0) {
            if (num(v, 0, 8000, &d) || d != (unsigned)d)
                return cli_usage(me, "--ease-max is an integer from 0 to 8000");
            o->eval.limits.ease_max_items = (uint32_t)d;
        } else if (strcmp(a, "--neighbours") == 0) {
            if (num(v, 1, 1024, &d) || d != (unsigned)d)
                return cli_usage(me, "--neighbours is an integer from 1 to 1024");
            o->eval.limits.neighbours = (uint32_t)d;
        } else if (strcmp(a, "--window") == 0) {
            if (num(v, 1, NODE_REC_HISTORY_MAX, &d) || d != (unsigned)d)
                return cli_usage(me, "--window is an integer from 1 to 256");
            o->eval.limits.window = (uint32_t)d;
        } else if (strcmp(a, "--half-life") == 0) {
            if (num(v, 0, 1e12, &d))
                return cli_usage(me, "--half-life is seconds (0 = no decay)");
            o->eval.limits.half_life_s = (int64_t)d;
        } else {
            return cli_usage(me, "unknown option");
        }
    }
    if (!o->interactions)
        return cli_usage(me, "--interactions FILE is required");
    return 0;
}

int rec_cli_load(const rec_cli_opts *o, node_rec_log **out, cs_err *err)
{
    node_rec_log *log = NULL;
    int rc = node_rec_log_new(&log, err);
    *out = log;
    if (rc)
        return rc;
    if (o->train && (rc = node_rec_log_load(log, o->train, 0, err)) != 0)
        return rc;
    if ((rc = node_rec_log_load(log, o->interactions, 1, err)) != 0)
        return rc;
    if (o->items && (rc = node_rec_log_load_items(log, o->items, err)) != 0)
        return rc;
    if (o->groups && (rc = node_rec_log_load_groups(log, o->groups, err)) != 0)
        return rc;
    return 0;
}
