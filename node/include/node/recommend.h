/*
 * recommend.h - "what next" recommendations: a blend of curriculum order,
 * the school's sequences (first-order transitions), item-to-item
 * collaborative signal (sparse item-kNN, or EASE when the active item set
 * is small), decayed popularity within grade/subject/language, and mastery
 * (Bayesian knowledge tracing per skill: mastered skills are not pushed).
 *
 * Two objects:
 *
 *   node_rec_model  mutable: the item metadata and the running counts fed by
 *                   events (popularity, top-N successors per item, a bounded
 *                   recent history per learner).  NOT thread-safe: the caller
 *                   serialises every call on one model (a mutex).  Calls that
 *                   take a `const node_rec_model *` only read it and may run
 *                   together while no writer runs.
 *   node_rec_index  immutable snapshot built from a model by
 *                   node_rec_model_build(): item table, popularity lists per
 *                   (grade, subject, language) bucket, successors, item-kNN
 *                   neighbours, EASE weights, curriculum order.  It shares
 *                   only the model's strings (ids, names: an append-only,
 *                   reference-counted arena), so any number of threads may
 *                   call node_rec_index_recommend() on it at once, and the
 *                   model may change or be freed meanwhile.
 *
 * The daemon's pattern: under its model lock, node_rec_model_snapshot() (a
 * compact copy of what a build reads, milliseconds); then, off the lock in a
 * background thread, node_rec_snapshot_build(), free the snapshot, swap the
 * index pointer (the old index is freed once no reader holds it).
 *
 * Fairness: no call takes protected attributes (there is no place for
 * them); learner pseudonyms are only hash keys, so renaming learners changes
 * nothing.  Everything is deterministic: ties break by item id (byte order),
 * never by learner id, and there is no randomness.
 *
 * Memory is bounded by node_rec_limits: items, learners, history kept per
 * learner, successors kept per item (space-saving top-N), neighbours per
 * item, EASE only up to ease_max_items active items.
 */
#ifndef NODE_RECOMMEND_H
#define NODE_RECOMMEND_H

#include <stddef.h>
#include <stdint.h>

#include "platform/error.h"

#define NODE_REC_ID_MAX 128      /* bytes of an item id or learner pseudonym */
#define NODE_REC_META_MAX 64     /* bytes of subject, language, edition, volume, skill */
#define NODE_REC_PREREQ_MAX 16   /* prerequisites per item */
#define NODE_REC_HISTORY_MAX 256 /* entries of an explicit history */
#define NODE_REC_K_MAX 100       /* results per request */
#define NODE_REC_REASON_MAX 160  /* bytes of a reason, NUL included */
#define NODE_REC_GRADE_MAX 31    /* grades are 0..31 (bit g of the mask) */

/* Hard ceilings on the limits a caller may ask for. */
#define NODE_REC_ITEMS_CEIL (4u << 20)
#define NODE_REC_LEARNERS_CEIL (16u << 20)

typedef struct node_rec_limits {
    uint32_t max_items;      /* items in the model (default 200,000) */
    uint32_t max_learners;   /* learners with a kept history (default 100,000);
                                events of further learners still count for
                                popularity, not for sequences */
    uint32_t history;        /* events kept per learner, 1..256 (default 64) */
    uint32_t successors;     /* successors kept per item, top-N (default 32) */
    uint32_t neighbours;     /* item-kNN neighbours per item (default 30) */
    uint32_t window;         /* co-occurrence window in a history (default 5) */
    uint32_t ease_max_items; /* EASE when the active items are at most this
                                many (default 2000; 0 = never) */
    double ease_lambda;      /* EASE L2 regularisation (default 100) */
    int64_t half_life_s;     /* popularity half-life in seconds (default 30
                                days; 0 = no decay) */
} node_rec_limits;

void node_rec_limits_default(node_rec_limits *l);

/* An item's metadata.  Strings are copied; NULL means unknown. */
typedef struct node_rec_item {
    const char *id;             /* required, 1..NODE_REC_ID_MAX-1 bytes */
    const char *subject;        /* e.g. "math" */
    const char *language;       /* e.g. "zh" */
    uint32_t grades;            /* bit g set = grade g; 0 = unknown */
    const char *edition;        /* curriculum alignment: edition + volume */
    const char *volume;         /* ... make a sequence ordered by unit */
    int32_t unit;               /* position in edition+volume; < 0 unknown */
    const char *const *prereqs; /* item ids (may name items added later) */
    size_t nprereqs;            /* at most NODE_REC_PREREQ_MAX */
    const char *skill;          /* knowledge-tracing skill; NULL = the item */
} node_rec_item;

enum { NODE_REC_OPEN = 0, NODE_REC_COMPLETE = 1, NODE_REC_SCORE = 2 };

/* One interaction.  score is in [0, 1], or < 0 for none. */
typedef struct node_rec_event {
    const char *learner; /* pseudonym, 1..NODE_REC_ID_MAX-1 bytes */
    const char *item;
    int64_t ts; /* seconds */
    int kind;   /* NODE_REC_OPEN / _COMPLETE / _SCORE */
    double score;
} node_rec_event;

/* An explicit history entry (oldest first), e.g. a session-only history for
 * a learner who has not consented to a kept one. */
typedef struct node_rec_hist {
    const char *item;
    int kind;
    double score; /* < 0: none */
} node_rec_hist;

/* What to compute.  BLEND is the recommender; the others are its parts on
 * their own (the baselines of `cistern recommend eval`). */
enum {
    NODE_REC_BLEND = 0,
    NODE_REC_POPULAR = 1,
    NODE_REC_TRANSITIONS = 2,
    NODE_REC_ITEMKNN = 3,
    NODE_REC_EASE = 4,
    NODE_REC_CURRICULUM = 5,
    NODE_REC_NMETHODS = 6
};
/* "blend", "popular", "transitions", "itemknn", "ease", "curriculum". */
const char *node_rec_method_name(int method);

/* The source a result's reason comes from. */
enum {
    NODE_REC_SRC_CURRICULUM = 0,
    NODE_REC_SRC_TRANSITION = 1,
    NODE_REC_SRC_NEIGHBOUR = 2,
    NODE_REC_SRC_EASE = 3,
    NODE_REC_SRC_POPULAR = 4,
    NODE_REC_SRC_NEW = 5
};

/* Blend weights (each signal is first scaled to [0, 1] over the candidates). */
typedef struct node_rec_weights {
    double curriculum, transitions, itemknn, ease, popular;
    double recency; /* decay per step back in the history, (0, 1] */
} node_rec_weights;

/* The weights fixed for BLEND (see docs/recommend.md for how they were chosen). */
void node_rec_weights_default(node_rec_weights *w);

typedef struct node_rec_request {
    int method;                      /* NODE_REC_BLEND, ... */
    const char *subject;             /* filter; NULL = any */
    const char *language;            /* filter; NULL = any */
    int grade;                       /* filter; -1 = any */
    int include_seen;                /* 1: items of the history may come back */
    const node_rec_weights *weights; /* NULL = node_rec_weights_default */
} node_rec_request;

void node_rec_request_init(node_rec_request *r); /* BLEND, no filter */

typedef struct node_rec_result {
    uint32_t item;  /* index in the index's item table */
    const char *id; /* the item id; valid while the index lives */
    double score;
    int source;                       /* NODE_REC_SRC_* the reason comes from */
    char reason[NODE_REC_REASON_MAX]; /* "next in unit 3", ... */
} node_rec_result;

typedef struct node_rec_model node_rec_model;
typedef struct node_rec_index node_rec_index;

/* ---- model (mutable, single writer) ---- */

/* New empty model; lim NULL = defaults.  *out is the caller's (free it). */
int node_rec_model_new(node_rec_model **out, const node_rec_limits *lim, cs_err *err);
void node_rec_model_free(node_rec_model *m);

/* Add an item, or replace the metadata of an item with the same id (its
 * counts stay).  CS_ETOOBIG past max_items, CS_EINVAL on bad fields. */
int node_rec_model_item_add(node_rec_model *m, const node_rec_item *it, cs_err *err);

/* Count one event at once: popularity, the learner's successor transition,
 * the learner's kept history.  CS_ENOENT for an unknown item (nothing is
 * counted), CS_EINVAL on bad fields. */
int node_rec_model_event_add(node_rec_model *m, const node_rec_event *ev, cs_err *err);

/* Copy (for building off the lock): the records are copied, the strings
 * shared (reference counted; the copy gets its own once it adds items).
 * *out is the caller's. */
int node_rec_model_clone(const node_rec_model *m, node_rec_model **out, cs_err *err);

/* A learner's kept history, oldest first, into out[cap]; *n = entries
 * written (0 for an unknown learner).  out[i].item points into the model:
 * valid until the next call that changes the model. */
int node_rec_model_history(const node_rec_model *m, const char *learner, node_rec_hist *out,
                           size_t cap, size_t *n);

typedef struct node_rec_stats {
    uint32_t items, learners, active_items;
    uint64_t events, events_unknown_item, learners_dropped;
    size_t bytes; /* approximate heap use */
} node_rec_stats;
void node_rec_model_stats(const node_rec_model *m, node_rec_stats *st);

/* Build a new immutable index from the model's current counts (the model
 * is only read).  *out is the caller's (node_rec_index_free). */
int node_rec_model_build(const node_rec_model *m, node_rec_index **out, cs_err *err);

/* ---- snapshot: what a build reads, taken under the caller's lock ---- */

typedef struct node_rec_snapshot node_rec_snapshot;

/* Copy what node_rec_model_build reads, compactly: the item records and
 * successors, and each kept history as its distinct items; no learner ids,
 * no hash tables, strings shared.  Cheaper than node_rec_model_clone in time
 * and memory, and then built off the lock with node_rec_snapshot_build
 * (the same index as node_rec_model_build on the model at that moment).
 * *out is the caller's (node_rec_snapshot_free). */
int node_rec_model_snapshot(const node_rec_model *m, node_rec_snapshot **out, cs_err *err);
int node_rec_snapshot_build(const node_rec_snapshot *s, node_rec_index **out, cs_err *err);
void node_rec_snapshot_free(node_rec_snapshot *s);

/* ---- index (immutable, any number of concurrent readers) ---- */

void node_rec_index_free(node_rec_index *ix);

/* Recommend up to k (<= NODE_REC_K_MAX) items for a learner whose history
 * (oldest first, at most NODE_REC_HISTORY_MAX entries; n 0 = a new learner)
 * is given.  Items of the history unknown to the index are skipped.  out
 * must hold k entries; *nout = results written, best first.  Reentrant. */
int node_rec_index_recommend(const node_rec_index *ix, const node_rec_hist *hist, size_t n,
                             const node_rec_request *req, node_rec_result *out, size_t k,
                             size_t *nout, cs_err *err);

/* Items of the index, their ids and whether EASE is active. */
uint32_t node_rec_index_items(const node_rec_index *ix);
const char *node_rec_index_item_id(const node_rec_index *ix, uint32_t item);
/* The item's index, or -1. */
int64_t node_rec_index_find(const node_rec_index *ix, const char *id);
int node_rec_index_has_ease(const node_rec_index *ix);
size_t node_rec_index_bytes(const node_rec_index *ix);

#endif
