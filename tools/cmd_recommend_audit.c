/*
 * cmd_recommend_audit.c - `cistern recommend audit --interactions CSV
 *     --groups CSV [--k K] [--protocol P] [--items CSV] [--json]`
 *
 * Per learner group (labels from a `learner,group` CSV, read only here and
 * never given to the recommender): HR and NDCG of the blend, the exposure
 * share of each item category in the group's recommendation slots, and
 * calibration: KL(p || q~) between the category mix p of each learner's
 * history and q~ = 0.99 q + 0.01 p, q the mix of their list (Steck 2018),
 * averaged over the group.  Categories are item subjects when --items gives
 * any, otherwise popularity tiers: "head" = the 20% of items with the most
 * interactions in the log (ties by id), "tail" = the rest.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "node/recommend_eval.h"
#include "rec_cli.h"

int cmd_recommend_audit(int argc, char **argv);

#define AUDIT_CATS_MAX 64
#define AUDIT_ALPHA 0.01

typedef struct audit {
    const node_rec_log *log;
    uint32_t ncat;
    const char *cat_name[AUDIT_CATS_MAX];
    uint8_t *cat;     /* per item */
    uint32_t ngroups; /* rows of slots/sum: groups, then "all" */
    double *slots;    /* (ngroups + 1) x ncat */
    double *sum;      /* (ngroups + 1) x 4: cases, hit, ndcg, kl */
    uint64_t ungrouped;
} audit;

static void audit_row(audit *a, uint32_t g, const node_rec_case *c, const double *slots, double kl)
{
    double *s = a->sum + (size_t)g * 4;
    s[0] += 1;
    s[1] += c->hit;
    s[2] += c->ndcg;
    s[3] += kl;
    for (uint32_t k = 0; k < a->ncat; k++)
        a->slots[(size_t)g * a->ncat + k] += slots[k];
}

static void audit_case(void *ctx, const node_rec_case *c)
{
    audit *a = ctx;
    int64_t g = node_rec_log_learner_group_index(a->log, c->learner);
    if (g < 0) {
        a->ungrouped++;
        return;
    }
    double p[AUDIT_CATS_MAX] = {0}, q[AUDIT_CATS_MAX] = {0}, slots[AUDIT_CATS_MAX] = {0};
    for (size_t i = 0; i < c->nhist; i++)
        p[a->cat[c->history[i]]] += 1.0 / (double)c->nhist;
    for (size_t i = 0; i < c->n; i++) {
        q[a->cat[c->list[i]]] += 1.0 / (double)c->n;
        slots[a->cat[c->list[i]]] += 1.0;
    }
    double kl = 0;
    for (uint32_t k = 0; k < a->ncat; k++) {
        double qt = (1 - AUDIT_ALPHA) * q[k] + AUDIT_ALPHA * p[k];
        if (p[k] > 0)
            kl += p[k] * log(p[k] / qt);
    }
    audit_row(a, (uint32_t)g, c, slots, kl);
    audit_row(a, a->ngroups, c, slots, kl);
}

typedef struct audit_rank {
    uint64_t count;
    const char *id;
    uint32_t item;
} audit_rank;

static int cmp_rank(const void *x, const void *y)
{
    const audit_rank *a = x, *b = y;
    if (a->count != b->count)
        return a->count > b->count ? -1 : 1;
    return strcmp(a->id, b->id);
}

/* Item categories: subjects if any item has one, else popularity tiers. */
static int audit_categories(audit *a, int *by_subject)
{
    uint32_t ni = node_rec_log_items(a->log);
    a->cat = calloc(ni ? ni : 1, 1);
    if (!a->cat)
        return CS_ENOMEM;
    *by_subject = 0;
    for (uint32_t i = 0; i < ni && !*by_subject; i++)
        *by_subject = node_rec_log_item_subject(a->log, i) != NULL;
    if (*by_subject) {
        a->cat_name[0] = "(none)";
        a->ncat = 1;
        for (uint32_t i = 0; i < ni; i++) {
            const char *s = node_rec_log_item_subject(a->log, i);
            uint32_t k = 0;
            if (s) {
                for (k = 1; k < a->ncat && strcmp(a->cat_name[k], s) != 0; k++)
                    ;
                if (k == a->ncat) {
                    if (a->ncat == AUDIT_CATS_MAX - 1) {
                        a->cat_name[a->ncat++] = "(other)";
                        k = AUDIT_CATS_MAX - 1;
                    } else if (a->ncat == AUDIT_CATS_MAX) {
                        k = AUDIT_CATS_MAX - 1;
                    } else {
                        a->cat_name[a->ncat++] = s;
                    }
                }
            }
            a->cat[i] = (uint8_t)k;
        }
        return 0;
    }
    uint64_t *cnt = malloc((ni ? ni : 1) * sizeof *cnt);
    audit_rank *r = malloc((ni ? ni : 1) * sizeof *r);
    if (!cnt || !r) {
        free(cnt);
        free(r);
        return CS_ENOMEM;
    }
    node_rec_log_item_counts(a->log, cnt);
    for (uint32_t i = 0; i < ni; i++)
        r[i] = (audit_rank){cnt[i], node_rec_log_item_id(a->log, i), i};
    qsort(r, ni, sizeof *r, cmp_rank);
    uint32_t head = (ni + 4) / 5;
    for (uint32_t i = 0; i < ni; i++)
        a->cat[r[i].item] = i < head ? 0 : 1;
    a->cat_name[0] = "head";
    a->cat_name[1] = "tail";
    a->ncat = 2;
    free(cnt);
    free(r);
    return 0;
}

static void json_str(const char *s)
{
    putchar('"');
    for (; *s; s++) {
        if (*s == '"' || *s == '\\')
            printf("\\%c", *s);
        else if ((unsigned char)*s < 0x20)
            printf("\\u%04x", *s);
        else
            putchar(*s);
    }
    putchar('"');
}

static void print_row_json(const audit *a, uint32_t g)
{
    const double *s = a->sum + (size_t)g * 4;
    double n = s[0] > 0 ? s[0] : 1, slots = 0;
    for (uint32_t k = 0; k < a->ncat; k++)
        slots += a->slots[(size_t)g * a->ncat + k];
    printf("{\"learners\":%.0f,\"hr\":%.6f,\"ndcg\":%.6f,\"calibration_kl\":%.6f,\"exposure\":{",
           s[0], s[1] / n, s[2] / n, s[3] / n);
    for (uint32_t k = 0; k < a->ncat; k++) {
        printf("%s", k ? "," : "");
        json_str(a->cat_name[k]);
        printf(":%.6f", slots > 0 ? a->slots[(size_t)g * a->ncat + k] / slots : 0.0);
    }
    printf("}}");
}

static void print_row_text(const audit *a, uint32_t g, const char *name)
{
    const double *s = a->sum + (size_t)g * 4;
    double n = s[0] > 0 ? s[0] : 1, slots = 0;
    for (uint32_t k = 0; k < a->ncat; k++)
        slots += a->slots[(size_t)g * a->ncat + k];
    printf("%-16.16s %8.0f %8.4f %8.4f %9.4f ", name, s[0], s[1] / n, s[2] / n, s[3] / n);
    for (uint32_t k = 0; k < a->ncat; k++)
        printf(" %s=%.3f", a->cat_name[k],
               slots > 0 ? a->slots[(size_t)g * a->ncat + k] / slots : 0.0);
    printf("\n");
}

int cmd_recommend_audit(int argc, char **argv)
{
    const cli_command *me = cli_cmd("recommend", "audit");
    rec_cli_opts ro;
    int rc = rec_cli_parse(me, argc, argv, &ro);
    if (rc)
        return rc;
    if (!ro.groups) {
        fprintf(stderr, "cistern: no group labels: nothing to audit (give --groups FILE, a CSV "
                        "learner,group)\n");
        return CLI_USAGE;
    }
    cs_err err = {0};
    node_rec_log *log = NULL;
    node_rec_metrics m[NODE_REC_NMETHODS];
    audit a;
    memset(&a, 0, sizeof a);
    cli_progress prog;
    cli_progress_init(&prog);
    int by_subject = 0;
    rc = CLI_FAIL;
    if (rec_cli_load(&ro, &log, &err) != 0) {
        cli_fail(&err);
        goto out;
    }
    a.log = log;
    a.ngroups = node_rec_log_groups(log);
    if (a.ngroups == 0) {
        fprintf(stderr, "cistern: %s labels none of the learners: nothing to audit\n", ro.groups);
        rc = CLI_USAGE;
        goto out;
    }
    if (audit_categories(&a, &by_subject) != 0) {
        cli_failf("out of memory");
        goto out;
    }
    a.slots = calloc((size_t)(a.ngroups + 1) * a.ncat, sizeof *a.slots);
    a.sum = calloc((size_t)(a.ngroups + 1) * 4, sizeof *a.sum);
    if (!a.slots || !a.sum) {
        cli_failf("out of memory");
        goto out;
    }
    ro.eval.methods = 1u << NODE_REC_BLEND;
    ro.eval.on_case = audit_case;
    ro.eval.case_ctx = &a;
    ro.eval.progress = cli_progress_cb;
    ro.eval.progress_ctx = &prog;
    if (node_rec_eval_run(log, &ro.eval, m, &err) != 0) {
        cli_progress_done(&prog);
        cli_fail(&err);
        goto out;
    }
    cli_progress_done(&prog);
    double hmin = 2, hmax = -1;
    for (uint32_t g = 0; g < a.ngroups; g++) {
        const double *s = a.sum + (size_t)g * 4;
        if (s[0] == 0)
            continue;
        double hr = s[1] / s[0];
        hmin = hr < hmin ? hr : hmin;
        hmax = hr > hmax ? hr : hmax;
    }
    double gap = hmax >= hmin ? hmax - hmin : 0;
    if (ro.json) {
        printf("{\"method\":\"blend\",\"k\":%u,\"categories\":\"%s\",\"groups\":{", ro.eval.k,
               by_subject ? "subject" : "popularity-tier");
        for (uint32_t g = 0; g < a.ngroups; g++) {
            printf("%s", g ? "," : "");
            json_str(node_rec_log_group_name(log, g));
            putchar(':');
            print_row_json(&a, g);
        }
        printf("},\"all\":");
        print_row_json(&a, a.ngroups);
        printf(",\"ungrouped\":%llu,\"hr_gap\":%.6f}\n", (unsigned long long)a.ungrouped, gap);
    } else {
        printf("audit of the blend, K=%u: %.0f learners in %u groups; %llu evaluated learners "
               "without a group "
               "left out\n",
               ro.eval.k, a.sum[(size_t)a.ngroups * 4], a.ngroups, (unsigned long long)a.ungrouped);
        printf("categories: %s\n",
               by_subject ? "item subject (from --items)"
                          : "popularity tier (head = top 20% of items by interactions)");
        printf("%-16s %8s %8s %8s %9s  exposure share of slots\n", "group", "learners", "HR",
               "NDCG", "calib.KL");
        for (uint32_t g = 0; g < a.ngroups; g++)
            print_row_text(&a, g, node_rec_log_group_name(log, g));
        print_row_text(&a, a.ngroups, "(all)");
        printf("HR gap between groups (max - min): %.4f\n", gap);
    }
    rc = 0;
out:
    free(a.cat);
    free(a.slots);
    free(a.sum);
    node_rec_log_free(log);
    return rc;
}
