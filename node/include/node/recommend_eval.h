/*
 * recommend_eval.h - offline evaluation of the recommender: interaction
 * logs read from CSV (outside bytes: every size is capped), the evaluation
 * protocols and metrics behind `cistern recommend eval` and `audit`, and
 * the ASSISTments converter.  See docs/recommend.md.
 *
 * Interaction CSV (RFC 4180 quoting allowed; a quoted field does not span
 * lines):
 *     learner,item,ts[,score]
 *     s1,fractions-1,1700000000,0.8
 * ts is an integer (seconds, or any order key); score is empty or in [0, 1].
 * Item metadata CSV (optional): a header naming `item` and any of subject,
 * language, grades (e.g. "3;4"), edition, volume, unit, prerequisites
 * (ids separated by ';'), skill; other columns are ignored.
 * Groups CSV (audit): `learner,group`.
 */
#ifndef NODE_RECOMMEND_EVAL_H
#define NODE_RECOMMEND_EVAL_H

#include <stdint.h>
#include <stdio.h>

#include "node/recommend.h"
#include "platform/error.h"

#define NODE_REC_CSV_LINE_MAX 4096        /* bytes of a CSV line */
#define NODE_REC_CSV_ROWS_MAX 50000000ull /* rows of one log */
#define NODE_REC_CSV_FIELDS_MAX 32        /* columns of a CSV line */
#define NODE_REC_LOG_ITEMS_MAX (4u << 20)
#define NODE_REC_LOG_LEARNERS_MAX (16u << 20)
#define NODE_REC_ASSIST_LINE_MAX (4u << 20) /* bytes of an ASSISTments line */

typedef struct node_rec_log node_rec_log;

int node_rec_log_new(node_rec_log **out, cs_err *err);
void node_rec_log_free(node_rec_log *log);

/* Append the interactions of a CSV held in memory / in a file.  Learners
 * read with eval = 1 are evaluated; with eval = 0 they only train (the
 * --train file).  name labels error messages ("NAME:LINE: reason").  On
 * failure the log may hold the rows before the bad one. */
int node_rec_log_parse(node_rec_log *log, const char *data, size_t len, const char *name, int eval,
                       cs_err *err);
int node_rec_log_load(node_rec_log *log, const char *path, int eval, cs_err *err);
/* Item metadata and learner groups (see above). */
int node_rec_log_parse_items(node_rec_log *log, const char *data, size_t len, const char *name,
                             cs_err *err);
int node_rec_log_load_items(node_rec_log *log, const char *path, cs_err *err);
int node_rec_log_load_groups(node_rec_log *log, const char *path, cs_err *err);

uint64_t node_rec_log_rows(const node_rec_log *log);
uint32_t node_rec_log_learners(const node_rec_log *log);
uint32_t node_rec_log_items(const node_rec_log *log);
const char *node_rec_log_learner_id(const node_rec_log *log, uint32_t learner);
const char *node_rec_log_item_id(const node_rec_log *log, uint32_t item);
/* Subject from the item metadata, or NULL. */
const char *node_rec_log_item_subject(const node_rec_log *log, uint32_t item);
/* Group name from the groups file, or NULL; number of distinct groups. */
const char *node_rec_log_learner_group(const node_rec_log *log, uint32_t learner);
uint32_t node_rec_log_groups(const node_rec_log *log);
/* The learner's group number (0..groups-1), or -1; a group's name. */
int64_t node_rec_log_learner_group_index(const node_rec_log *log, uint32_t learner);
const char *node_rec_log_group_name(const node_rec_log *log, uint32_t group);
/* Interactions per item into counts[node_rec_log_items(log)]. */
void node_rec_log_item_counts(const node_rec_log *log, uint64_t *counts);

enum { NODE_REC_NEXT_NEW = 0, NODE_REC_LEAVE_LAST_OUT = 1 };

/* One evaluated list, for callers that aggregate more (the audit).  Item
 * numbers are the log's. */
typedef struct node_rec_case {
    int method;
    uint32_t learner;
    const uint32_t *list; /* recommended, best first */
    size_t n;
    const uint32_t *held; /* held-out items */
    size_t nheld;
    const uint32_t *history; /* the prefix given to the recommender */
    size_t nhist;
    double hit, ndcg, recall;
} node_rec_case;

typedef struct node_rec_eval_opts {
    int protocol;           /* NODE_REC_NEXT_NEW or NODE_REC_LEAVE_LAST_OUT */
    unsigned k;             /* list length, 1..NODE_REC_K_MAX */
    unsigned holdout;       /* interactions held out per learner (>= 1) */
    unsigned methods;       /* bit (1 << NODE_REC_*) per method to run */
    node_rec_limits limits; /* max_items/max_learners are raised to the log's */
    node_rec_weights weights;
    void (*progress)(void *ctx, const char *phase, uint64_t done, uint64_t total);
    void *progress_ctx;
    void (*on_case)(void *ctx, const node_rec_case *c);
    void *case_ctx;
} node_rec_eval_opts;

/* Defaults: next-new, k 10, holdout 1, every method but curriculum (a
 * baseline only with --items metadata), history 256, no
 * popularity decay (log times are rarely comparable across learners). */
void node_rec_eval_opts_default(node_rec_eval_opts *o);

typedef struct node_rec_metrics {
    double hr, ndcg, recall, coverage;
    uint64_t cases; /* learners evaluated */
} node_rec_metrics;

/* Evaluate: one model trained on every interaction that is not held out,
 * then one list per evaluated learner and method.  out[m] is filled for
 * each method m asked (others zeroed).  CS_ENOENT when no learner has
 * enough interactions to hold one out. */
int node_rec_eval_run(const node_rec_log *log, const node_rec_eval_opts *o,
                      node_rec_metrics out[NODE_REC_NMETHODS], cs_err *err);

/* Metrics of one list: hit = 1 if any held-out item is in the first k;
 * recall = hits / nheld; ndcg = DCG / ideal DCG with gain 1 per held-out
 * item and discount 1/log2(rank + 1). */
void node_rec_eval_case_metrics(const uint32_t *list, size_t n, const uint32_t *held, size_t nheld,
                                unsigned k, double *hit, double *ndcg, double *recall);

/* ASSISTments knowledge-tracing files (3 lines per student: count; skill
 * ids; 0/1 correctness) to interaction CSV rows: learner PREFIX<n> (n from
 * 1, in file order), item "skill-<id>", ts = position, score = correctness.
 * header: write the CSV header first.  *students, *rows: what was written. */
int node_rec_assist_convert(FILE *in, const char *name, FILE *out, const char *prefix, int header,
                            uint64_t *students, uint64_t *rows, cs_err *err);

#endif
