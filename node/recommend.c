/*
 * recommend.c - the recommender: a mutable model fed by events, and the
 * immutable index built from it that answers requests.  See recommend.h and
 * docs/recommend.md.
 */
#include "node/recommend.h"

#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Fixed parts of the design (documented in docs/recommend.md). */
#define REC_POP_LIST 512      /* items per (grade, subject, language) popularity list */
#define REC_START_LIST 64     /* curriculum starts per bucket (cold start) */
#define REC_FRESH_LIST 16     /* items without events per bucket */
#define REC_CURR_SCAN 64      /* items scanned either way in a curriculum sequence */
#define REC_CURR_GROUPS 5     /* recent curriculum sequences a learner is followed in */
#define REC_TRANS_STEPS 3     /* history items whose successors are candidates */
#define REC_BLEND_POP 128     /* popular items added to a blend's candidates */
#define REC_BKT_P0 0.2        /* Bayesian knowledge tracing: P(known) at first */
#define REC_BKT_LEARN 0.15    /* P(learns at an opportunity) */
#define REC_BKT_SLIP 0.1      /* P(wrong | known) */
#define REC_BKT_GUESS 0.2     /* P(right | not known) */
#define REC_BKT_MASTERED 0.95 /* P(known) from which a skill is not pushed */
#define REC_MASTERED_MULT 0.01
#define REC_PREREQ_MULT 0.1
#define REC_FILL 1e-3 /* popularity as the tie-break and filler of baselines */
#define REC_ANY 0xFFFFFu
#define REC_NONE 0xFFFFFFFFu
#define REC_SCORE_NONE 0xFFFFu
#define REC_SKILL_SELF 0x80000000u /* an item without a skill: REC_SKILL_SELF | item */
#define REC_PRE_NAME 0x80000000u   /* a prerequisite that was no item yet: | its name id */
#define REC_NB_SHIFT 10            /* neighbours are kept in blocks of 1024 items */
#define REC_NB_BLOCK (1u << REC_NB_SHIFT)

/* ------------------------------------------------------------------ */
/* small helpers                                                       */

static uint64_t rec_hash(const char *s)
{
    uint64_t h = 1469598103934665603ULL;
    for (; *s; s++)
        h = (h ^ (uint8_t)*s) * 1099511628211ULL;
    return h ^ (h >> 29);
}

static int rec_str_ok(const char *s, size_t max)
{
    size_t n = strlen(s);
    if (n == 0 || n >= max)
        return 0;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
            return 0;
    return 1;
}

static int rec_meta_ok(const char *s)
{
    return s == NULL ||
           (strlen(s) < NODE_REC_META_MAX && (s[0] == '\0' || rec_str_ok(s, NODE_REC_META_MAX)));
}

/* Open-addressing table of uint32 slots (index + 1; 0 = empty).  The caller
 * supplies the key of a slot. */
typedef struct rec_table {
    uint32_t *slot;
    uint32_t mask; /* capacity - 1 */
    uint32_t used;
} rec_table;

typedef const char *(*rec_key_fn)(const void *ctx, uint32_t idx);

static int64_t rec_table_find(const rec_table *t, const char *key, rec_key_fn kf, const void *ctx)
{
    if (!t->slot)
        return -1;
    for (uint64_t i = rec_hash(key) & t->mask;; i = (i + 1) & t->mask) {
        uint32_t v = t->slot[i];
        if (v == 0)
            return -1;
        if (strcmp(kf(ctx, v - 1), key) == 0)
            return v - 1;
    }
}

static void rec_table_put_raw(rec_table *t, const char *key, uint32_t idx)
{
    uint64_t i = rec_hash(key) & t->mask;
    while (t->slot[i] != 0)
        i = (i + 1) & t->mask;
    t->slot[i] = idx + 1;
    t->used++;
}

/* Insert idx (known to be absent); grows at 1/2 load. */
static int rec_table_put(rec_table *t, const char *key, uint32_t idx, rec_key_fn kf,
                         const void *ctx)
{
    if (!t->slot || (uint64_t)(t->used + 1) * 2 > (uint64_t)t->mask + 1) {
        uint32_t cap = t->slot ? (t->mask + 1) * 2 : 64;
        if (cap == 0)
            return CS_ETOOBIG;
        uint32_t *ns = calloc(cap, sizeof *ns);
        if (!ns)
            return CS_ENOMEM;
        rec_table old = *t;
        t->slot = ns;
        t->mask = cap - 1;
        t->used = 0;
        if (old.slot) {
            for (uint64_t i = 0; i <= old.mask; i++)
                if (old.slot[i])
                    rec_table_put_raw(t, kf(ctx, old.slot[i] - 1), old.slot[i] - 1);
            free(old.slot);
        }
    }
    rec_table_put_raw(t, key, idx);
    return 0;
}

static int rec_table_copy(rec_table *dst, const rec_table *src)
{
    *dst = *src;
    if (!src->slot)
        return 0;
    dst->slot = malloc(((size_t)src->mask + 1) * sizeof *dst->slot);
    if (!dst->slot)
        return CS_ENOMEM;
    memcpy(dst->slot, src->slot, ((size_t)src->mask + 1) * sizeof *dst->slot);
    return 0;
}

/* A string arena: strings packed in 64 KiB chunks, never moved or changed
 * once written, so pointers into it stay valid while it lives.  Reference
 * counted: a model, its clones and the indexes built from them share one
 * (the item ids are stored once).  Only the model that made it appends;
 * the others only read what was written before they took their reference. */
#define REC_STRS_CHUNK 65536

typedef struct rec_strs {
    atomic_uint refs;
    char **chunk;
    uint32_t nchunk, chunkcap;
    size_t used;  /* bytes used in the last chunk */
    size_t bytes; /* bytes stored in all chunks */
} rec_strs;

static rec_strs *rec_strs_new(void)
{
    rec_strs *a = calloc(1, sizeof *a);
    if (a)
        atomic_init(&a->refs, 1);
    return a;
}

static rec_strs *rec_strs_ref(rec_strs *a)
{
    if (a)
        atomic_fetch_add(&a->refs, 1);
    return a;
}

static void rec_strs_unref(rec_strs *a)
{
    if (!a || atomic_fetch_sub(&a->refs, 1) != 1)
        return;
    for (uint32_t i = 0; i < a->nchunk; i++)
        free(a->chunk[i]);
    free(a->chunk);
    free(a);
}

/* Room for len bytes (at most REC_STRS_CHUNK), or NULL. */
static char *rec_strs_alloc(rec_strs *a, size_t len)
{
    if (len > REC_STRS_CHUNK)
        return NULL;
    if (a->nchunk == 0 || a->used + len > REC_STRS_CHUNK) {
        if (a->nchunk == a->chunkcap) {
            uint32_t nc = a->chunkcap ? a->chunkcap * 2 : 16;
            char **n = realloc(a->chunk, nc * sizeof *n);
            if (!n)
                return NULL;
            a->chunk = n;
            a->chunkcap = nc;
        }
        char *c = malloc(REC_STRS_CHUNK);
        if (!c)
            return NULL;
        a->chunk[a->nchunk++] = c;
        a->used = 0;
    }
    char *p = a->chunk[a->nchunk - 1] + a->used;
    a->used += len;
    a->bytes += len;
    return p;
}

static const char *rec_strs_dup(rec_strs *a, const char *s)
{
    size_t l = strlen(s) + 1;
    char *p = rec_strs_alloc(a, l);
    if (p)
        memcpy(p, s, l);
    return p;
}

/* A string interner: names -> small ids (subjects, languages, skills...).
 * It does not own the strings: they live in an arena. */
typedef struct rec_names {
    const char **name;
    uint32_t n, cap;
    rec_table t;
} rec_names;

static const char *rec_names_key(const void *ctx, uint32_t i)
{
    return ((const rec_names *)ctx)->name[i];
}

static int64_t rec_names_find(const rec_names *nm, const char *s)
{
    return rec_table_find(&nm->t, s, rec_names_key, nm);
}

/* *id = the id of s, added if new; a new name is copied into a (or, when a
 * is NULL, s itself is kept: it must outlive nm). */
static int rec_names_intern(rec_names *nm, rec_strs *a, const char *s, uint32_t *id)
{
    int64_t f = rec_names_find(nm, s);
    if (f >= 0) {
        *id = (uint32_t)f;
        return 0;
    }
    if (nm->n == nm->cap) {
        uint32_t nc = nm->cap ? nm->cap * 2 : 16;
        const char **nn = realloc(nm->name, nc * sizeof *nn);
        if (!nn)
            return CS_ENOMEM;
        nm->name = nn;
        nm->cap = nc;
    }
    const char *c = a ? rec_strs_dup(a, s) : s;
    if (!c)
        return CS_ENOMEM;
    nm->name[nm->n] = c;
    int rc = rec_table_put(&nm->t, c, nm->n, rec_names_key, nm);
    if (rc)
        return rc;
    *id = nm->n++;
    return 0;
}

static int rec_names_copy(rec_names *dst, const rec_names *src)
{
    memset(dst, 0, sizeof *dst);
    if (src->n) {
        dst->name = malloc(src->n * sizeof *dst->name);
        if (!dst->name)
            return CS_ENOMEM;
        memcpy(dst->name, src->name, src->n * sizeof *dst->name);
        dst->n = dst->cap = src->n;
    }
    return rec_table_copy(&dst->t, &src->t);
}

static void rec_names_free(rec_names *nm)
{
    free(nm->name);
    free(nm->t.slot);
    memset(nm, 0, sizeof *nm);
}

/* Stable merge sort of a uint32 index array by a comparator with a context
 * (qsort has none in C11, and sorting 4-byte indices instead of records
 * keeps the temporary small: n * 4 bytes). */
typedef int (*rec_cmp_fn)(const void *ctx, uint32_t a, uint32_t b);

static int rec_sort(uint32_t *a, size_t n, rec_cmp_fn cmp, const void *ctx)
{
    if (n < 2)
        return 0;
    uint32_t *tmp = malloc(n * sizeof *tmp);
    if (!tmp)
        return CS_ENOMEM;
    uint32_t *src = a, *dst = tmp;
    for (size_t w = 1; w < n; w *= 2) {
        for (size_t lo = 0; lo < n; lo += 2 * w) {
            size_t mid = lo + w < n ? lo + w : n, hi = lo + 2 * w < n ? lo + 2 * w : n;
            size_t i = lo, j = mid, o = lo;
            while (i < mid && j < hi)
                dst[o++] = cmp(ctx, src[j], src[i]) < 0 ? src[j++] : src[i++];
            while (i < mid)
                dst[o++] = src[i++];
            while (j < hi)
                dst[o++] = src[j++];
        }
        uint32_t *t = src;
        src = dst;
        dst = t;
    }
    if (src != a)
        memcpy(a, src, n * sizeof *a);
    free(tmp);
    return 0;
}

/* ------------------------------------------------------------------ */
/* model                                                               */

typedef struct rec_succ {
    uint32_t to;
    float count;
} rec_succ;

/* An item: fixed size.  Its id is in the model's arena; subject,
 * language, edition, volume and skill are ids of the model's names;
 * prerequisites are uint32 in the model's m->pre. */
enum { REC_SUBJECT, REC_LANGUAGE, REC_EDITION, REC_VOLUME, REC_SKILL, REC_NMETA };

typedef struct rec_item {
    const char *id;           /* in m->strs */
    uint32_t meta[REC_NMETA]; /* m->names ids; REC_NONE = absent */
    uint32_t pre_off;         /* prerequisites: m->pre[pre_off ...], nprereq of them */
    uint32_t grades;
    int32_t unit;
    uint32_t events;
    float succ_total;
    uint16_t nsucc, succ_cap;
    uint8_t nprereq;
    double pop; /* decayed count at pop_t */
    int64_t pop_t;
    rec_succ *succ; /* successors, at most limits.successors */
} rec_item;

typedef struct rec_hent {
    uint32_t item;
    uint16_t score; /* 0..1000, REC_SCORE_NONE */
    uint8_t kind;
    uint8_t pad;
} rec_hent;

typedef struct rec_learner {
    char *id;
    rec_hent *h;
    uint32_t n, cap;
} rec_learner;

struct node_rec_model {
    node_rec_limits lim;
    rec_strs *strs;    /* item ids, prerequisites and names; shared with clones and indexes */
    int strs_own;      /* 1: this model made strs and alone appends to it */
    size_t strs_bytes; /* bytes of strs in use by this model */
    uint32_t *pre;     /* prerequisite lists (see rec_item_pack) */
    size_t npre, precap, pre_dead;
    rec_names names; /* metadata values (subject, language, edition, volume, skill) */
    rec_item *it;
    uint32_t nit, itcap;
    rec_table items;
    rec_learner *ln;
    uint32_t nln, lncap;
    rec_table learners;
    int64_t now; /* latest event time */
    int have_now;
    uint64_t events, events_unknown, learners_dropped;
};

static const char *rec_item_key(const void *ctx, uint32_t i)
{
    return ((const node_rec_model *)ctx)->it[i].id;
}

static const char *rec_learner_key(const void *ctx, uint32_t i)
{
    return ((const node_rec_model *)ctx)->ln[i].id;
}

/* The item's metadata value f (REC_SUBJECT...), or NULL. */
static const char *rec_item_meta(const node_rec_model *m, const rec_item *it, int f)
{
    return it->meta[f] == REC_NONE ? NULL : m->names.name[it->meta[f]];
}

void node_rec_limits_default(node_rec_limits *l)
{
    memset(l, 0, sizeof *l);
    l->max_items = 200000;
    l->max_learners = 100000;
    l->history = 64;
    l->successors = 32;
    l->neighbours = 30;
    l->window = 5;
    l->ease_max_items = 2000;
    l->ease_lambda = 100.0;
    l->half_life_s = 30 * 86400;
}

void node_rec_weights_default(node_rec_weights *w)
{
    /* Chosen on the assist2009 *train* split (held out within it), see
     * docs/recommend.md; curriculum fixed a priori (assist has no
     * curriculum metadata). */
    w->curriculum = 1.0;
    w->transitions = 0.3;
    w->itemknn = 0.25;
    w->ease = 1.0;
    w->popular = 0.02;
    w->recency = 0.5;
}

void node_rec_request_init(node_rec_request *r)
{
    memset(r, 0, sizeof *r);
    r->method = NODE_REC_BLEND;
    r->grade = -1;
}

const char *node_rec_method_name(int method)
{
    static const char *names[] = {"blend",   "popular", "transitions",
                                  "itemknn", "ease",    "curriculum"};
    return method >= 0 && method < NODE_REC_NMETHODS ? names[method] : "?";
}

int node_rec_model_new(node_rec_model **out, const node_rec_limits *lim, cs_err *err)
{
    node_rec_limits l;
    if (lim)
        l = *lim;
    else
        node_rec_limits_default(&l);
    if (l.max_items == 0 || l.max_items > NODE_REC_ITEMS_CEIL ||
        l.max_learners > NODE_REC_LEARNERS_CEIL || l.history == 0 ||
        l.history > NODE_REC_HISTORY_MAX || l.successors == 0 || l.successors > 1024 ||
        l.neighbours == 0 || l.neighbours > 1024 || l.window == 0 ||
        l.window > NODE_REC_HISTORY_MAX || l.ease_max_items > 8000 || !(l.ease_lambda > 0) ||
        l.half_life_s < 0)
        return cs_err_set(err, CS_EINVAL, "recommender limits out of range");
    node_rec_model *m = calloc(1, sizeof *m);
    if (!m || !(m->strs = rec_strs_new())) {
        free(m);
        return cs_err_set(err, CS_ENOMEM, "out of memory");
    }
    m->lim = l;
    m->strs_own = 1;
    *out = m;
    return 0;
}

static void rec_item_clear(rec_item *it)
{
    free(it->succ);
}

void node_rec_model_free(node_rec_model *m)
{
    if (!m)
        return;
    for (uint32_t i = 0; i < m->nit; i++)
        rec_item_clear(&m->it[i]);
    free(m->it);
    free(m->items.slot);
    for (uint32_t i = 0; i < m->nln; i++) {
        free(m->ln[i].id);
        free(m->ln[i].h);
    }
    free(m->ln);
    free(m->learners.slot);
    rec_names_free(&m->names);
    rec_strs_unref(m->strs);
    free(m->pre);
    free(m);
}

/* Set the item's metadata from src.  it->id is NULL for a new item.
 * Prerequisites are kept as uint32: the item's index, or REC_PRE_NAME | the
 * name id of an id that is no item yet (the build looks it up again). */
static int rec_item_pack(node_rec_model *m, rec_item *it, const node_rec_item *src)
{
    const char *parts[REC_NMETA] = {src->subject, src->language, src->edition, src->volume,
                                    src->skill};
    uint32_t meta[REC_NMETA], pre[NODE_REC_PREREQ_MAX];
    int rc;
    for (int i = 0; i < REC_NMETA; i++) {
        meta[i] = REC_NONE;
        if (parts[i] && parts[i][0] &&
            (rc = rec_names_intern(&m->names, m->strs, parts[i], &meta[i])) != 0)
            return rc;
    }
    for (size_t k = 0; k < src->nprereqs; k++) {
        int64_t f = rec_table_find(&m->items, src->prereqs[k], rec_item_key, m);
        if (f >= 0) {
            pre[k] = (uint32_t)f;
        } else {
            if ((rc = rec_names_intern(&m->names, m->strs, src->prereqs[k], &pre[k])) != 0)
                return rc;
            pre[k] |= REC_PRE_NAME;
        }
    }
    uint32_t npre = (uint32_t)src->nprereqs;
    if (it->id && npre <= it->nprereq) {
        /* In place: a clone has its own copy of m->pre. */
        if (npre)
            memcpy(m->pre + it->pre_off, pre, npre * sizeof *pre);
    } else if (npre > 0) {
        if (it->id) {
            /* The old list is left unused: cap such waste. */
            size_t dead = m->pre_dead + it->nprereq;
            if (dead > 65536 && dead > m->npre / 2)
                return CS_ETOOBIG;
        }
        if (m->npre + npre > m->precap) {
            size_t nc = m->precap ? m->precap * 2 : 1024;
            while (nc < m->npre + npre)
                nc *= 2;
            uint32_t *np = realloc(m->pre, nc * sizeof *np);
            if (!np)
                return CS_ENOMEM;
            m->pre = np;
            m->precap = nc;
        }
        if (!it->id && !(it->id = rec_strs_dup(m->strs, src->id)))
            return CS_ENOMEM;
        if (it->nprereq)
            m->pre_dead += it->nprereq;
        memcpy(m->pre + m->npre, pre, npre * sizeof *pre);
        it->pre_off = (uint32_t)m->npre;
        m->npre += npre;
    }
    if (!it->id && !(it->id = rec_strs_dup(m->strs, src->id)))
        return CS_ENOMEM;
    it->nprereq = (uint8_t)npre;
    memcpy(it->meta, meta, sizeof meta);
    m->strs_bytes = m->strs->bytes;
    it->grades = src->grades;
    it->unit = src->unit < 0 ? -1 : src->unit;
    return 0;
}

/* Give a clone its own arena before it adds strings: the strings it uses
 * are copied to a new one (all or nothing). */
static int rec_model_own_strs(node_rec_model *m)
{
    if (m->strs_own)
        return 0;
    rec_strs *a = rec_strs_new();
    const char **nn = malloc(((size_t)m->names.n + 1) * sizeof *nn);
    const char **ni = malloc(((size_t)m->nit + 1) * sizeof *ni);
    int rc = CS_ENOMEM;
    if (!a || !nn || !ni)
        goto out;
    for (uint32_t i = 0; i < m->names.n; i++)
        if (!(nn[i] = rec_strs_dup(a, m->names.name[i])))
            goto out;
    for (uint32_t i = 0; i < m->nit; i++)
        if (!(ni[i] = rec_strs_dup(a, m->it[i].id)))
            goto out;
    /* Same strings at new places: the hash tables stay right. */
    for (uint32_t i = 0; i < m->names.n; i++)
        m->names.name[i] = nn[i];
    for (uint32_t i = 0; i < m->nit; i++)
        m->it[i].id = ni[i];
    rec_strs_unref(m->strs);
    m->strs = a;
    a = NULL;
    m->strs_own = 1;
    m->strs_bytes = m->strs->bytes;
    rc = 0;
out:
    rec_strs_unref(a);
    free(nn);
    free(ni);
    return rc;
}

int node_rec_model_item_add(node_rec_model *m, const node_rec_item *src, cs_err *err)
{
    if (!m || !src || !src->id || !rec_str_ok(src->id, NODE_REC_ID_MAX))
        return cs_err_set(err, CS_EINVAL, "item id missing, empty, too long or with control bytes");
    if (!rec_meta_ok(src->subject) || !rec_meta_ok(src->language) || !rec_meta_ok(src->edition) ||
        !rec_meta_ok(src->volume) || !rec_meta_ok(src->skill))
        return cs_err_set(err, CS_EINVAL,
                          "item %s: a metadata field is too long or has control bytes", src->id);
    if (src->nprereqs > NODE_REC_PREREQ_MAX || (src->nprereqs && !src->prereqs))
        return cs_err_set(err, CS_EINVAL, "item %s: more than %d prerequisites", src->id,
                          NODE_REC_PREREQ_MAX);
    for (size_t i = 0; i < src->nprereqs; i++)
        if (!src->prereqs[i] || !rec_str_ok(src->prereqs[i], NODE_REC_ID_MAX))
            return cs_err_set(err, CS_EINVAL, "item %s: bad prerequisite id", src->id);
    int rc0 = rec_model_own_strs(m);
    if (rc0)
        return cs_err_set(err, rc0, "item %s: %s", src->id, cs_err_text(rc0));
    int64_t f = rec_table_find(&m->items, src->id, rec_item_key, m);
    if (f >= 0) {
        /* Replace the metadata; counts stay.  The id is unchanged so the
         * table still points right. */
        int rc = rec_item_pack(m, &m->it[f], src);
        if (rc == CS_ETOOBIG)
            return cs_err_set(err, rc,
                              "item %s: too many longer prerequisite lists in one model "
                              "(build a new model)",
                              src->id);
        return rc ? cs_err_set(err, rc, "item %s: %s", src->id, cs_err_text(rc)) : 0;
    }
    if (m->nit >= m->lim.max_items)
        return cs_err_set(err, CS_ETOOBIG, "more than %u items", m->lim.max_items);
    if (m->nit == m->itcap) {
        uint32_t nc = m->itcap ? m->itcap * 2 : 256;
        if (nc > m->lim.max_items)
            nc = m->lim.max_items;
        rec_item *ni = realloc(m->it, (size_t)nc * sizeof *ni);
        if (!ni)
            return cs_err_set(err, CS_ENOMEM, "out of memory");
        m->it = ni;
        m->itcap = nc;
    }
    rec_item *it = &m->it[m->nit];
    memset(it, 0, sizeof *it);
    int rc = rec_item_pack(m, it, src);
    if (rc)
        return cs_err_set(err, rc, "item %s: %s", src->id, cs_err_text(rc));
    rc = rec_table_put(&m->items, it->id, m->nit, rec_item_key, m);
    if (rc) {
        rec_item_clear(it);
        return cs_err_set(err, rc, "item table: %s", cs_err_text(rc));
    }
    m->nit++;
    return 0;
}

/* Decay factor for dt >= 0 seconds. */
static double rec_decay(const node_rec_limits *l, int64_t dt)
{
    if (l->half_life_s <= 0 || dt <= 0)
        return 1.0;
    return exp2(-(double)dt / (double)l->half_life_s);
}

static void rec_pop_add(const node_rec_limits *l, rec_item *it, int64_t ts)
{
    if (it->events == 0 || ts >= it->pop_t) {
        it->pop = it->pop * rec_decay(l, ts - it->pop_t) + 1.0;
        it->pop_t = ts;
    } else {
        it->pop += rec_decay(l, it->pop_t - ts);
    }
    it->events++;
}

/* Count from -> to; top-N kept by space-saving (a new successor replaces
 * the weakest, inheriting its count). */
static int rec_succ_add(const node_rec_limits *l, rec_item *from, uint32_t to)
{
    from->succ_total += 1.0f;
    for (uint32_t i = 0; i < from->nsucc; i++) {
        if (from->succ[i].to == to) {
            from->succ[i].count += 1.0f;
            return 0;
        }
    }
    if (from->nsucc < l->successors) {
        if (from->nsucc == from->succ_cap) {
            uint32_t nc = from->succ_cap ? from->succ_cap * 2u : 4u;
            if (nc > l->successors)
                nc = l->successors;
            rec_succ *ns = realloc(from->succ, nc * sizeof *ns);
            if (!ns)
                return CS_ENOMEM;
            from->succ = ns;
            from->succ_cap = (uint16_t)nc;
        }
        from->succ[from->nsucc].to = to;
        from->succ[from->nsucc].count = 1.0f;
        from->nsucc++;
        return 0;
    }
    uint32_t w = 0;
    for (uint32_t i = 1; i < from->nsucc; i++)
        if (from->succ[i].count < from->succ[w].count ||
            (from->succ[i].count == from->succ[w].count && from->succ[i].to > from->succ[w].to))
            w = i;
    from->succ[w].to = to;
    from->succ[w].count += 1.0f;
    return 0;
}

static int rec_learner_get(node_rec_model *m, const char *id, rec_learner **out)
{
    int64_t f = rec_table_find(&m->learners, id, rec_learner_key, m);
    if (f >= 0) {
        *out = &m->ln[f];
        return 0;
    }
    if (m->nln >= m->lim.max_learners) {
        *out = NULL;
        return 0;
    }
    if (m->nln == m->lncap) {
        uint32_t nc = m->lncap ? m->lncap * 2 : 256;
        rec_learner *nl = realloc(m->ln, (size_t)nc * sizeof *nl);
        if (!nl)
            return CS_ENOMEM;
        m->ln = nl;
        m->lncap = nc;
    }
    rec_learner *l = &m->ln[m->nln];
    memset(l, 0, sizeof *l);
    l->id = strdup(id);
    if (!l->id)
        return CS_ENOMEM;
    int rc = rec_table_put(&m->learners, l->id, m->nln, rec_learner_key, m);
    if (rc) {
        free(l->id);
        return rc;
    }
    m->nln++;
    *out = l;
    return 0;
}

int node_rec_model_event_add(node_rec_model *m, const node_rec_event *ev, cs_err *err)
{
    if (!m || !ev || !ev->learner || !ev->item || !rec_str_ok(ev->learner, NODE_REC_ID_MAX))
        return cs_err_set(err, CS_EINVAL, "event: learner missing, too long or with control bytes");
    if (ev->kind < NODE_REC_OPEN || ev->kind > NODE_REC_SCORE || ev->score > 1.0 ||
        isnan(ev->score))
        return cs_err_set(err, CS_EINVAL, "event: bad kind or score");
    int64_t f = rec_table_find(&m->items, ev->item, rec_item_key, m);
    if (f < 0) {
        m->events_unknown++;
        return cs_err_set(err, CS_ENOENT, "event: unknown item");
    }
    uint32_t idx = (uint32_t)f;
    rec_learner *l = NULL;
    int rc = rec_learner_get(m, ev->learner, &l);
    if (rc)
        return cs_err_set(err, rc, "learner table: %s", cs_err_text(rc));
    if (l && l->n > 0) {
        rc = rec_succ_add(&m->lim, &m->it[l->h[l->n - 1].item], idx);
        if (rc)
            return cs_err_set(err, rc, "successors: %s", cs_err_text(rc));
    }
    if (l) {
        if (l->n == m->lim.history) {
            memmove(l->h, l->h + 1, (l->n - 1) * sizeof *l->h);
            l->n--;
        } else if (l->n == l->cap) {
            uint32_t nc = l->cap ? l->cap * 2 : 8;
            if (nc > m->lim.history)
                nc = m->lim.history;
            rec_hent *nh = realloc(l->h, nc * sizeof *nh);
            if (!nh)
                return cs_err_set(err, CS_ENOMEM, "out of memory");
            l->h = nh;
            l->cap = nc;
        }
        rec_hent *e = &l->h[l->n++];
        e->item = idx;
        e->kind = (uint8_t)ev->kind;
        e->score = ev->score < 0 ? REC_SCORE_NONE : (uint16_t)lround(ev->score * 1000.0);
        e->pad = 0;
    } else {
        m->learners_dropped++;
    }
    rec_pop_add(&m->lim, &m->it[idx], ev->ts);
    if (!m->have_now || ev->ts > m->now) {
        m->now = ev->ts;
        m->have_now = 1;
    }
    m->events++;
    return 0;
}

int node_rec_model_clone(const node_rec_model *m, node_rec_model **out, cs_err *err)
{
    node_rec_model *c = NULL;
    int rc = node_rec_model_new(&c, &m->lim, err);
    if (rc)
        return rc;
    /* The strings are shared, not copied: the arena only grows. */
    rec_strs_unref(c->strs);
    c->strs = rec_strs_ref(m->strs);
    c->strs_own = 0;
    c->strs_bytes = m->strs_bytes;
    rc = rec_names_copy(&c->names, &m->names);
    if (rc)
        goto out;
    rc = CS_ENOMEM;
    if (m->npre) {
        if (!(c->pre = malloc(m->npre * sizeof *c->pre)))
            goto out;
        memcpy(c->pre, m->pre, m->npre * sizeof *c->pre);
        c->npre = c->precap = m->npre;
        c->pre_dead = m->pre_dead;
    }
    c->now = m->now;
    c->have_now = m->have_now;
    c->events = m->events;
    c->events_unknown = m->events_unknown;
    c->learners_dropped = m->learners_dropped;
    if (m->nit) {
        c->it = calloc(m->nit, sizeof *c->it);
        if (!c->it)
            goto out;
        c->itcap = m->nit;
        for (uint32_t i = 0; i < m->nit; i++) {
            rec_item *d = &c->it[i];
            *d = m->it[i];
            d->succ = NULL;
            d->succ_cap = 0;
            d->nsucc = 0;
            c->nit = i + 1;
            if (m->it[i].nsucc) {
                d->succ = malloc(m->it[i].nsucc * sizeof *d->succ);
                if (!d->succ)
                    goto out;
                memcpy(d->succ, m->it[i].succ, m->it[i].nsucc * sizeof *d->succ);
                d->nsucc = d->succ_cap = m->it[i].nsucc;
            }
        }
    }
    if (m->nln) {
        c->ln = calloc(m->nln, sizeof *c->ln);
        if (!c->ln)
            goto out;
        c->lncap = m->nln;
        for (uint32_t i = 0; i < m->nln; i++) {
            rec_learner *d = &c->ln[i];
            c->nln = i + 1;
            d->id = strdup(m->ln[i].id);
            if (!d->id)
                goto out;
            if (m->ln[i].n) {
                d->h = malloc(m->ln[i].n * sizeof *d->h);
                if (!d->h)
                    goto out;
                memcpy(d->h, m->ln[i].h, m->ln[i].n * sizeof *d->h);
                d->n = d->cap = m->ln[i].n;
            }
        }
    }
    if (rec_table_copy(&c->items, &m->items) || rec_table_copy(&c->learners, &m->learners))
        goto out;
    rc = 0;
    *out = c;
    c = NULL;
out:
    node_rec_model_free(c);
    return rc ? cs_err_set(err, rc, "model copy: %s", cs_err_text(rc)) : 0;
}

int node_rec_model_history(const node_rec_model *m, const char *learner, node_rec_hist *out,
                           size_t cap, size_t *n)
{
    *n = 0;
    int64_t f = learner ? rec_table_find(&m->learners, learner, rec_learner_key, m) : -1;
    if (f < 0)
        return 0;
    const rec_learner *l = &m->ln[f];
    size_t skip = l->n > cap ? l->n - cap : 0;
    for (size_t i = skip; i < l->n; i++) {
        node_rec_hist *h = &out[i - skip];
        h->item = m->it[l->h[i].item].id;
        h->kind = l->h[i].kind;
        h->score = l->h[i].score == REC_SCORE_NONE ? -1.0 : l->h[i].score / 1000.0;
    }
    *n = l->n - skip;
    return 0;
}

void node_rec_model_stats(const node_rec_model *m, node_rec_stats *st)
{
    memset(st, 0, sizeof *st);
    st->items = m->nit;
    st->learners = m->nln;
    st->events = m->events;
    st->events_unknown_item = m->events_unknown;
    st->learners_dropped = m->learners_dropped;
    size_t b =
        sizeof *m + (size_t)m->itcap * sizeof(rec_item) + (size_t)m->lncap * sizeof(rec_learner);
    b += ((size_t)m->items.mask + 1 + m->learners.mask + 1) * sizeof(uint32_t);
    b += m->strs_bytes + m->precap * sizeof(uint32_t) + (size_t)m->names.cap * sizeof(char *) +
         ((size_t)m->names.t.mask + 1) * sizeof(uint32_t);
    for (uint32_t i = 0; i < m->nit; i++) {
        b += m->it[i].succ_cap * sizeof(rec_succ);
        if (m->it[i].events)
            st->active_items++;
    }
    for (uint32_t i = 0; i < m->nln; i++)
        b += strlen(m->ln[i].id) + 1 + m->ln[i].cap * sizeof(rec_hent);
    st->bytes = b;
}

/* ------------------------------------------------------------------ */
/* index                                                               */

typedef struct rec_xitem {
    const char *id;
    uint32_t subject, language, skill; /* name ids; REC_ANY = unknown */
    uint32_t grades;
    uint32_t group; /* curriculum sequence; REC_NONE = none */
    int32_t unit;
    uint32_t unit_rank; /* 0 = first unit of its sequence */
    uint32_t curr_pos;  /* position in curr_order */
    uint32_t idrank;    /* rank of the id in byte order */
    uint32_t events;
    float pop; /* decayed to the index's time */
} rec_xitem;

typedef struct rec_nb {
    uint32_t to;
    float sim;
} rec_nb;

typedef struct rec_bucket {
    uint64_t key;
    uint32_t pop_off, npop, start_off, nstart, fresh_off, nfresh;
} rec_bucket;

struct node_rec_index {
    uint32_t n;
    rec_xitem *it;
    rec_strs *strs; /* the model's arena, shared: ids and names point into it */
    rec_table table;
    rec_names subjects, languages;
    uint32_t *pre_off, *pre; /* prerequisites (resolved) */
    uint32_t *succ_off, *succ_to;
    float *succ_p;
    /* Item-kNN neighbours, only those found, in blocks of REC_NB_BLOCK items
     * (one allocation a block, none for a block without any): item i's are
     * nb_blk[i >> REC_NB_SHIFT][nb_off[i] ...], nb_cnt[i] of them. */
    rec_nb **nb_blk;
    uint32_t *nb_off, nb_nblk;
    uint16_t *nb_cnt;
    size_t nb_total;
    uint32_t *curr_order, ncurr;
    rec_bucket *bk;
    uint32_t nbk;
    uint32_t *lists; /* bucket lists */
    uint32_t n_active;
    uint32_t *active_of;   /* item -> EASE row, REC_NONE */
    uint32_t *active_item; /* EASE row -> item */
    float *ease;           /* n_active x n_active: B[i][j] */
    size_t bytes;
};

static const char *rec_xitem_key(const void *ctx, uint32_t i)
{
    return ((const node_rec_index *)ctx)->it[i].id;
}

void node_rec_index_free(node_rec_index *ix)
{
    if (!ix)
        return;
    free(ix->it);
    free(ix->table.slot);
    rec_names_free(&ix->subjects);
    rec_names_free(&ix->languages);
    rec_strs_unref(ix->strs);
    free(ix->pre_off);
    free(ix->pre);
    free(ix->succ_off);
    free(ix->succ_to);
    free(ix->succ_p);
    for (uint32_t b = 0; ix->nb_blk && b < ix->nb_nblk; b++)
        free(ix->nb_blk[b]);
    free(ix->nb_blk);
    free(ix->nb_off);
    free(ix->nb_cnt);
    free(ix->curr_order);
    free(ix->bk);
    free(ix->lists);
    free(ix->active_of);
    free(ix->active_item);
    free(ix->ease);
    free(ix);
}

uint32_t node_rec_index_items(const node_rec_index *ix)
{
    return ix ? ix->n : 0;
}

const char *node_rec_index_item_id(const node_rec_index *ix, uint32_t item)
{
    return ix && item < ix->n ? ix->it[item].id : NULL;
}

int64_t node_rec_index_find(const node_rec_index *ix, const char *id)
{
    return ix && id ? rec_table_find(&ix->table, id, rec_xitem_key, ix) : -1;
}

int node_rec_index_has_ease(const node_rec_index *ix)
{
    return ix && ix->ease != NULL;
}

size_t node_rec_index_bytes(const node_rec_index *ix)
{
    return ix ? ix->bytes : 0;
}

static int rec_cmp_id(const void *ctx, uint32_t a, uint32_t b)
{
    const node_rec_index *ix = ctx;
    return strcmp(ix->it[a].id, ix->it[b].id);
}

static uint64_t rec_bkey(uint32_t grade, uint32_t subject, uint32_t language)
{
    return ((uint64_t)(grade & 0xFFFFF) << 40) | ((uint64_t)(subject & 0xFFFFF) << 20) |
           (language & 0xFFFFF);
}

/* Items, ids, names, prerequisites, successors. */
static int rec_build_items(const node_rec_model *m, node_rec_index *ix)
{
    int rc = CS_ENOMEM;
    uint32_t *ord = NULL;
    uint32_t n = m->nit;
    ix->n = n;
    ix->strs = rec_strs_ref(m->strs);
    ix->it = calloc(n ? n : 1, sizeof *ix->it);
    ord = malloc((n ? n : 1) * sizeof *ord);
    if (!ix->it || !ord)
        goto out;
    for (uint32_t i = 0; i < n; i++) {
        const rec_item *src = &m->it[i];
        rec_xitem *x = &ix->it[i];
        x->id = src->id;
        x->grades = src->grades;
        x->unit = src->unit;
        x->group = REC_NONE;
        x->curr_pos = REC_NONE;
        x->events = src->events;
        x->pop = src->events ? (float)(src->pop * rec_decay(&m->lim, m->now - src->pop_t)) : 0.0f;
        const char *sj = rec_item_meta(m, src, REC_SUBJECT),
                   *lg = rec_item_meta(m, src, REC_LANGUAGE);
        x->subject = x->language = REC_ANY;
        x->skill = src->meta[REC_SKILL];
        if (sj && (rc = rec_names_intern(&ix->subjects, NULL, sj, &x->subject)) != 0)
            goto out;
        if (lg && (rc = rec_names_intern(&ix->languages, NULL, lg, &x->language)) != 0)
            goto out;
        if ((rc = rec_table_put(&ix->table, x->id, i, rec_xitem_key, ix)) != 0)
            goto out;
        rc = CS_ENOMEM;
        ord[i] = i;
    }
    if (ix->subjects.n >= REC_ANY || ix->languages.n >= REC_ANY) {
        rc = CS_ETOOBIG;
        goto out;
    }
    /* Skills are the model's name ids.  An item without a skill is its own
     * skill, named by its id: the same skill as items whose skill is that
     * id (if the id is a name at all), else REC_SKILL_SELF | item. */
    for (uint32_t i = 0; i < n; i++) {
        rec_xitem *x = &ix->it[i];
        if (x->skill == REC_NONE) {
            int64_t f = rec_names_find(&m->names, x->id);
            x->skill = f >= 0 ? (uint32_t)f : REC_SKILL_SELF | i;
        }
    }
    if ((rc = rec_sort(ord, n, rec_cmp_id, ix)) != 0)
        goto out;
    rc = CS_ENOMEM;
    for (uint32_t i = 0; i < n; i++)
        ix->it[ord[i]].idrank = i;

    /* Prerequisites, resolved to items (unknown ids dropped). */
    ix->pre_off = calloc((size_t)n + 1, sizeof *ix->pre_off);
    size_t npre = 0;
    for (uint32_t i = 0; i < n; i++)
        npre += m->it[i].nprereq;
    ix->pre = malloc((npre ? npre : 1) * sizeof *ix->pre);
    if (!ix->pre_off || !ix->pre)
        goto out;
    npre = 0;
    for (uint32_t i = 0; i < n; i++) {
        ix->pre_off[i] = (uint32_t)npre;
        const uint32_t *p = m->pre + m->it[i].pre_off;
        for (uint32_t k = 0; k < m->it[i].nprereq; k++) {
            int64_t f = p[k] & REC_PRE_NAME
                            ? rec_table_find(&ix->table, m->names.name[p[k] & ~REC_PRE_NAME],
                                             rec_xitem_key, ix)
                            : (int64_t)p[k];
            if (f >= 0 && (uint32_t)f != i)
                ix->pre[npre++] = (uint32_t)f;
        }
    }
    ix->pre_off[n] = (uint32_t)npre;

    /* Successors: P(next = j | this), best first, ties by id. */
    ix->succ_off = calloc((size_t)n + 1, sizeof *ix->succ_off);
    size_t ns = 0;
    for (uint32_t i = 0; i < n; i++)
        ns += m->it[i].nsucc;
    ix->succ_to = malloc((ns ? ns : 1) * sizeof *ix->succ_to);
    ix->succ_p = malloc((ns ? ns : 1) * sizeof *ix->succ_p);
    if (!ix->succ_off || !ix->succ_to || !ix->succ_p)
        goto out;
    ns = 0;
    for (uint32_t i = 0; i < n; i++) {
        const rec_item *src = &m->it[i];
        ix->succ_off[i] = (uint32_t)ns;
        for (uint32_t k = 0; k < src->nsucc; k++) {
            /* insertion sort: at most `successors` entries */
            uint32_t to = src->succ[k].to;
            float p = src->succ_total > 0 ? src->succ[k].count / src->succ_total : 0;
            size_t j = ns + k;
            while (j > ns && (ix->succ_p[j - 1] < p ||
                              (ix->succ_p[j - 1] == p &&
                               ix->it[ix->succ_to[j - 1]].idrank > ix->it[to].idrank))) {
                ix->succ_p[j] = ix->succ_p[j - 1];
                ix->succ_to[j] = ix->succ_to[j - 1];
                j--;
            }
            ix->succ_p[j] = p;
            ix->succ_to[j] = to;
        }
        ns += src->nsucc;
    }
    ix->succ_off[n] = (uint32_t)ns;
    rc = 0;
out:
    free(ord);
    return rc;
}

typedef struct rec_currctx {
    const node_rec_model *m;
    const node_rec_index *ix;
} rec_currctx;

static const char *rec_item_meta0(const node_rec_model *m, const rec_item *it, int f)
{
    return it->meta[f] == REC_NONE ? "" : m->names.name[it->meta[f]];
}

static int rec_curr_item(const rec_item *it)
{
    return (it->meta[REC_EDITION] != REC_NONE || it->meta[REC_VOLUME] != REC_NONE) && it->unit >= 0;
}

/* (edition, volume) compared field by field orders as the joined string
 * "edition \x1f volume" would: metadata has no byte below 0x20. */
static int rec_cmp_group(const node_rec_model *m, const rec_item *x, const rec_item *y)
{
    if (x->meta[REC_EDITION] == y->meta[REC_EDITION] && x->meta[REC_VOLUME] == y->meta[REC_VOLUME])
        return 0;
    int c = strcmp(rec_item_meta0(m, x, REC_EDITION), rec_item_meta0(m, y, REC_EDITION));
    return c ? c : strcmp(rec_item_meta0(m, x, REC_VOLUME), rec_item_meta0(m, y, REC_VOLUME));
}

static int rec_cmp_curr(const void *ctx, uint32_t a, uint32_t b)
{
    const rec_currctx *c = ctx;
    const rec_item *x = &c->m->it[a], *y = &c->m->it[b];
    int d = rec_cmp_group(c->m, x, y);
    if (d)
        return d;
    if (x->unit != y->unit)
        return x->unit < y->unit ? -1 : 1;
    uint32_t rx = c->ix->it[a].idrank, ry = c->ix->it[b].idrank;
    return rx < ry ? -1 : rx > ry;
}

/* Curriculum sequences: items with an edition or volume and a unit, ordered
 * by (edition+volume, unit, id). */
static int rec_build_curriculum(const node_rec_model *m, node_rec_index *ix)
{
    uint32_t nk = 0;
    for (uint32_t i = 0; i < m->nit; i++) {
        const rec_item *src = &m->it[i];
        if (rec_curr_item(src))
            nk++;
    }
    ix->curr_order = malloc((nk ? nk : 1) * sizeof *ix->curr_order);
    if (!ix->curr_order)
        return CS_ENOMEM;
    ix->ncurr = nk;
    nk = 0;
    for (uint32_t i = 0; i < m->nit; i++) {
        const rec_item *src = &m->it[i];
        if (rec_curr_item(src))
            ix->curr_order[nk++] = i;
    }
    rec_currctx ctx = {m, ix};
    int rc = rec_sort(ix->curr_order, nk, rec_cmp_curr, &ctx);
    if (rc)
        return rc;
    uint32_t group = 0, urank = 0;
    for (uint32_t i = 0; i < nk; i++) {
        const rec_item *a = &m->it[ix->curr_order[i]];
        if (i > 0 && rec_cmp_group(m, a, &m->it[ix->curr_order[i - 1]]) != 0) {
            group++;
            urank = 0;
        } else if (i > 0 && a->unit != m->it[ix->curr_order[i - 1]].unit) {
            urank++;
        }
        rec_xitem *x = &ix->it[ix->curr_order[i]];
        x->group = group;
        x->unit_rank = urank;
        x->curr_pos = i;
    }
    return 0;
}

/* The (grade, subject, language) buckets an item is listed in, each of the
 * three possibly "any": at most 33 * 4 keys. */
#define REC_BKEYS_MAX ((NODE_REC_GRADE_MAX + 2) * 4)

static uint32_t rec_item_bkeys(const rec_xitem *x, uint64_t *keys)
{
    uint32_t nk = 0;
    for (int g = -1; g <= NODE_REC_GRADE_MAX; g++) {
        if (g >= 0 && !(x->grades & (1u << g)))
            continue;
        for (int s = 0; s < 2; s++) {
            if (s == 1 && x->subject == REC_ANY)
                continue;
            for (int l = 0; l < 2; l++) {
                if (l == 1 && x->language == REC_ANY)
                    continue;
                keys[nk++] = rec_bkey(g < 0 ? REC_ANY : (uint32_t)g, s ? x->subject : REC_ANY,
                                      l ? x->language : REC_ANY);
            }
        }
    }
    return nk;
}

/* Bucket key -> bucket number: open addressing, value + 1 (0 = empty). */
typedef struct rec_kmap {
    uint64_t *key;
    uint32_t *val;
    uint32_t mask, used;
} rec_kmap;

static uint32_t *rec_kmap_slot(const rec_kmap *t, uint64_t key)
{
    uint64_t h = key * 0x9E3779B97F4A7C15ULL;
    for (uint64_t i = (h ^ (h >> 32)) & t->mask;; i = (i + 1) & t->mask)
        if (t->val[i] == 0 || t->key[i] == key)
            return &t->val[i];
}

static int rec_kmap_grow(rec_kmap *t)
{
    uint32_t cap = t->val ? (t->mask + 1) * 2 : 256;
    rec_kmap nt = {calloc(cap, sizeof *nt.key), calloc(cap, sizeof *nt.val), cap - 1, 0};
    if (!nt.key || !nt.val) {
        free(nt.key);
        free(nt.val);
        return CS_ENOMEM;
    }
    for (uint64_t i = 0; t->val && i <= t->mask; i++) {
        if (t->val[i]) {
            uint32_t *v = rec_kmap_slot(&nt, t->key[i]);
            nt.key[v - nt.val] = t->key[i];
            *v = t->val[i];
            nt.used++;
        }
    }
    free(t->key);
    free(t->val);
    *t = nt;
    return 0;
}

static uint32_t rec_kmap_get(const rec_kmap *t, uint64_t key)
{
    return *rec_kmap_slot(t, key) - 1;
}

static int rec_cmp_pop(const void *ctx, uint32_t a, uint32_t b)
{
    const rec_xitem *x = &((const node_rec_index *)ctx)->it[a],
                    *y = &((const node_rec_index *)ctx)->it[b];
    if (x->pop != y->pop)
        return x->pop > y->pop ? -1 : 1;
    return x->idrank < y->idrank ? -1 : x->idrank > y->idrank;
}

static int rec_cmp_start(const void *ctx, uint32_t a, uint32_t b)
{
    const rec_xitem *x = &((const node_rec_index *)ctx)->it[a],
                    *y = &((const node_rec_index *)ctx)->it[b];
    if (x->unit_rank != y->unit_rank)
        return x->unit_rank < y->unit_rank ? -1 : 1;
    return x->idrank < y->idrank ? -1 : x->idrank > y->idrank;
}

static int rec_cmp_bucket(const void *a, const void *b)
{
    uint64_t x = ((const rec_bucket *)a)->key, y = ((const rec_bucket *)b)->key;
    return x < y ? -1 : x > y;
}

/* Append the items of ord[n], in that order, to each of their buckets' lists
 * (which: 0 popularity, 1 curriculum starts, 2 fresh) until a list is full. */
static void rec_fill_lists(node_rec_index *ix, const rec_kmap *km, const uint32_t *ord, uint32_t n,
                           int which, uint32_t *fill)
{
    uint64_t keys[REC_BKEYS_MAX];
    memset(fill, 0, ix->nbk * sizeof *fill);
    for (uint32_t a = 0; a < n; a++) {
        uint32_t nk = rec_item_bkeys(&ix->it[ord[a]], keys);
        for (uint32_t k = 0; k < nk; k++) {
            uint32_t b = rec_kmap_get(km, keys[k]);
            const rec_bucket *bk = &ix->bk[b];
            uint32_t off = which == 0 ? bk->pop_off : which == 1 ? bk->start_off : bk->fresh_off;
            uint32_t cap = which == 0 ? bk->npop : which == 1 ? bk->nstart : bk->nfresh;
            if (fill[b] < cap)
                ix->lists[off + fill[b]++] = ord[a];
        }
    }
}

/* Popularity, curriculum-start and fresh lists per (grade, subject,
 * language) bucket.  Items are ordered once (4-byte indices) and dealt to
 * their buckets; no per-(item, bucket) records are made. */
static int rec_build_buckets(node_rec_index *ix)
{
    int rc = CS_ENOMEM;
    rec_kmap km = {0};
    uint32_t *ord = NULL, *fill = NULL, nbk = 0, cap = 0;
    uint64_t keys[REC_BKEYS_MAX];
    /* Buckets and how many items each would list (counts in npop, nstart,
     * nfresh until capped). */
    for (uint32_t i = 0; i < ix->n; i++) {
        const rec_xitem *x = &ix->it[i];
        uint32_t nk = rec_item_bkeys(x, keys);
        for (uint32_t k = 0; k < nk; k++) {
            if ((km.used + 1) * 2 > km.mask + 1 && rec_kmap_grow(&km) != 0)
                goto out;
            uint32_t *v = rec_kmap_slot(&km, keys[k]);
            if (*v == 0) {
                if (nbk == cap) {
                    uint32_t nc = cap ? cap * 2 : 64;
                    rec_bucket *nb = realloc(ix->bk, (size_t)nc * sizeof *nb);
                    if (!nb)
                        goto out;
                    ix->bk = nb;
                    cap = nc;
                }
                memset(&ix->bk[nbk], 0, sizeof ix->bk[nbk]);
                ix->bk[nbk].key = keys[k];
                km.key[v - km.val] = keys[k];
                *v = ++nbk;
                km.used++;
            }
            rec_bucket *bk = &ix->bk[*v - 1];
            bk->npop++;
            bk->nstart += x->group != REC_NONE;
            bk->nfresh += x->events == 0;
        }
    }
    ix->nbk = nbk;
    if (nbk == 0) {
        rc = 0;
        goto out;
    }
    qsort(ix->bk, nbk, sizeof *ix->bk, rec_cmp_bucket);
    size_t lo = 0;
    for (uint32_t b = 0; b < nbk; b++) {
        *rec_kmap_slot(&km, ix->bk[b].key) = b + 1;
        rec_bucket *bk = &ix->bk[b];
        bk->npop = bk->npop < REC_POP_LIST ? bk->npop : REC_POP_LIST;
        bk->nstart = bk->nstart < REC_START_LIST ? bk->nstart : REC_START_LIST;
        bk->nfresh = bk->nfresh < REC_FRESH_LIST ? bk->nfresh : REC_FRESH_LIST;
        bk->pop_off = (uint32_t)lo;
        lo += bk->npop;
    }
    for (uint32_t b = 0; b < nbk; b++) {
        ix->bk[b].start_off = (uint32_t)lo;
        lo += ix->bk[b].nstart;
    }
    for (uint32_t b = 0; b < nbk; b++) {
        ix->bk[b].fresh_off = (uint32_t)lo;
        lo += ix->bk[b].nfresh;
    }
    ix->lists = malloc((lo ? lo : 1) * sizeof *ix->lists);
    ord = malloc((size_t)ix->n * sizeof *ord);
    fill = malloc((size_t)nbk * sizeof *fill);
    if (!ix->lists || !ord || !fill)
        goto out;
    /* Popularity: by decayed count, then id. */
    for (uint32_t i = 0; i < ix->n; i++)
        ord[i] = i;
    if ((rc = rec_sort(ord, ix->n, rec_cmp_pop, ix)) != 0)
        goto out;
    rec_fill_lists(ix, &km, ord, ix->n, 0, fill);
    /* Curriculum starts: by unit rank, then id. */
    uint32_t no = 0;
    for (uint32_t i = 0; i < ix->n; i++)
        if (ix->it[i].group != REC_NONE)
            ord[no++] = i;
    if ((rc = rec_sort(ord, no, rec_cmp_start, ix)) != 0)
        goto out;
    rec_fill_lists(ix, &km, ord, no, 1, fill);
    /* Fresh: items nobody used yet, the most recently added first. */
    no = 0;
    for (uint32_t i = ix->n; i-- > 0;)
        if (ix->it[i].events == 0)
            ord[no++] = i;
    rec_fill_lists(ix, &km, ord, no, 2, fill);
    rc = 0;
out:
    free(km.key);
    free(km.val);
    free(ord);
    free(fill);
    return rc;
}

/* Distinct items of each kept history, first occurrence order; each
 * learner's run ends with REC_NONE, so a window stops at it. */
typedef struct rec_seqs {
    uint32_t *off; /* per learner, nseq + 1: run l is item[off[l] .. off[l + 1] - 1) */
    uint32_t *item;
    uint32_t n;
    uint32_t *cnt;     /* per item: learners whose history holds it */
    uint32_t *occ_off; /* per item: positions holding it */
    uint32_t *occ;
} rec_seqs;

static void rec_seqs_free(rec_seqs *s)
{
    free(s->off);
    free(s->item);
    free(s->cnt);
    free(s->occ_off);
    free(s->occ);
}

static int rec_seqs_build(const node_rec_model *m, rec_seqs *s)
{
    size_t total = 0;
    for (uint32_t l = 0; l < m->nln; l++)
        total += m->ln[l].n;
    total += m->nln; /* the ends of the runs */
    if (total > UINT32_MAX)
        return CS_ETOOBIG;
    s->n = m->nln;
    s->off = malloc(((size_t)m->nln + 1) * sizeof *s->off);
    s->item = malloc((total ? total : 1) * sizeof *s->item);
    s->cnt = calloc(m->nit ? m->nit : 1, sizeof *s->cnt);
    s->occ_off = calloc((size_t)m->nit + 1, sizeof *s->occ_off);
    uint32_t *seen = calloc(m->nit ? m->nit : 1, sizeof *seen); /* learner + 1 */
    if (!s->off || !s->item || !s->cnt || !s->occ_off || !seen) {
        free(seen);
        return CS_ENOMEM;
    }
    size_t o = 0;
    for (uint32_t l = 0; l < m->nln; l++) {
        s->off[l] = (uint32_t)o;
        const rec_learner *ln = &m->ln[l];
        for (uint32_t i = 0; i < ln->n; i++) {
            uint32_t it = ln->h[i].item;
            if (seen[it] == l + 1)
                continue;
            seen[it] = l + 1;
            s->item[o] = it;
            s->cnt[it]++;
            o++;
        }
        s->item[o++] = REC_NONE;
    }
    free(seen);
    s->off[m->nln] = (uint32_t)o;
    if (o < total) { /* repeats dropped: give the room back */
        uint32_t *shrunk = realloc(s->item, o * sizeof *s->item);
        if (shrunk)
            s->item = shrunk;
    }
    for (uint32_t i = 0; i < m->nit; i++)
        s->occ_off[i + 1] = s->occ_off[i] + s->cnt[i];
    s->occ = malloc(((size_t)s->occ_off[m->nit] + 1) * sizeof *s->occ);
    uint32_t *fill = malloc((m->nit ? m->nit : 1) * sizeof *fill);
    if (!s->occ || !fill) {
        free(fill);
        return CS_ENOMEM;
    }
    memcpy(fill, s->occ_off, m->nit * sizeof *fill);
    for (size_t p = 0; p < o; p++)
        if (s->item[p] != REC_NONE)
            s->occ[fill[s->item[p]]++] = (uint32_t)p;
    free(fill);
    return 0;
}

typedef struct rec_knn_job {
    node_rec_index *ix;
    const rec_seqs *s;
    uint32_t k, window;
    atomic_uint *next; /* the next block to do, shared by the workers */
    int rc;
} rec_knn_job;

/* Neighbours of the items of one block, appended to buf (room for
 * REC_NB_BLOCK * k); returns how many. */
static size_t rec_knn_block(rec_knn_job *j, uint32_t blk, uint32_t *acc, uint32_t *touched,
                            rec_nb *tmp, rec_nb *buf)
{
    const rec_seqs *s = j->s;
    node_rec_index *ix = j->ix;
    uint32_t first = blk << REC_NB_SHIFT;
    uint32_t last = ix->n - first > REC_NB_BLOCK ? first + REC_NB_BLOCK : ix->n;
    size_t used = 0;
    for (uint32_t i = first; i < last; i++) {
        uint32_t nt = 0;
        for (uint32_t o = s->occ_off[i]; o < s->occ_off[i + 1]; o++) {
            /* Up to `window` positions either side, within the run. */
            uint32_t p = s->occ[o];
            for (uint32_t q = p; q > 0 && p - q < j->window && s->item[q - 1] != REC_NONE; q--)
                if (acc[s->item[q - 1]]++ == 0)
                    touched[nt++] = s->item[q - 1];
            for (uint32_t q = p + 1; q - p <= j->window && s->item[q] != REC_NONE; q++)
                if (acc[s->item[q]]++ == 0)
                    touched[nt++] = s->item[q];
        }
        uint32_t m = 0;
        for (uint32_t t = 0; t < nt; t++) {
            uint32_t it = touched[t];
            tmp[m].to = it;
            tmp[m].sim = (float)((double)acc[it] / sqrt((double)s->cnt[i] * (double)s->cnt[it]));
            acc[it] = 0;
            m++;
        }
        /* Top k by similarity, ties by id: partial selection. */
        uint32_t keep = m < j->k ? m : j->k;
        for (uint32_t a = 0; a < keep; a++) {
            uint32_t best = a;
            for (uint32_t b = a + 1; b < m; b++)
                if (tmp[b].sim > tmp[best].sim ||
                    (tmp[b].sim == tmp[best].sim &&
                     ix->it[tmp[b].to].idrank < ix->it[tmp[best].to].idrank))
                    best = b;
            rec_nb t = tmp[a];
            tmp[a] = tmp[best];
            tmp[best] = t;
            buf[used + a] = tmp[a];
        }
        ix->nb_off[i] = (uint32_t)used;
        ix->nb_cnt[i] = (uint16_t)keep;
        used += keep;
    }
    return used;
}

static void *rec_knn_worker(void *arg)
{
    rec_knn_job *j = arg;
    node_rec_index *ix = j->ix;
    uint32_t n = ix->n;
    uint32_t *acc = calloc(n ? n : 1, sizeof *acc);
    uint32_t *touched = malloc((n ? n : 1) * sizeof *touched);
    rec_nb *tmp = malloc((n ? n : 1) * sizeof *tmp);
    rec_nb *buf = malloc((size_t)REC_NB_BLOCK * j->k * sizeof *buf);
    if (!acc || !touched || !tmp || !buf) {
        j->rc = CS_ENOMEM;
        goto out;
    }
    for (;;) {
        uint32_t blk = atomic_fetch_add(j->next, 1);
        if (blk >= ix->nb_nblk)
            break;
        size_t used = rec_knn_block(j, blk, acc, touched, tmp, buf);
        if (used == 0)
            continue;
        rec_nb *keep = malloc(used * sizeof *keep);
        if (!keep) {
            j->rc = CS_ENOMEM;
            break;
        }
        memcpy(keep, buf, used * sizeof *keep);
        ix->nb_blk[blk] = keep; /* each block is written by one worker */
    }
out:
    free(acc);
    free(touched);
    free(tmp);
    free(buf);
    return NULL;
}

/* Item-kNN: cosine of co-occurrence counts within `window` positions of a
 * learner's distinct recent items; top-k per item, only the neighbours
 * found are stored.  Two threads take blocks of items in turn. */
static int rec_build_knn(const node_rec_model *m, node_rec_index *ix, const rec_seqs *s)
{
    uint32_t n = ix->n;
    ix->nb_nblk = (n + REC_NB_BLOCK - 1) >> REC_NB_SHIFT;
    ix->nb_blk = calloc(ix->nb_nblk ? ix->nb_nblk : 1, sizeof(rec_nb *));
    ix->nb_off = calloc(n ? n : 1, sizeof *ix->nb_off);
    ix->nb_cnt = calloc(n ? n : 1, sizeof *ix->nb_cnt);
    if (!ix->nb_blk || !ix->nb_off || !ix->nb_cnt)
        return CS_ENOMEM;
    if (s->occ_off[n] == 0)
        return 0; /* no kept history: no neighbours */
    atomic_uint next = 0;
    rec_knn_job jobs[2];
    pthread_t th;
    for (int t = 0; t < 2; t++)
        jobs[t] = (rec_knn_job){ix, s, m->lim.neighbours, m->lim.window, &next, 0};
    int threaded = n > 1000 && pthread_create(&th, NULL, rec_knn_worker, &jobs[1]) == 0;
    rec_knn_worker(&jobs[0]);
    if (threaded)
        pthread_join(th, NULL);
    if (jobs[0].rc || jobs[1].rc)
        return jobs[0].rc ? jobs[0].rc : jobs[1].rc;
    for (uint32_t i = 0; i < n; i++)
        ix->nb_total += ix->nb_cnt[i];
    return 0;
}

/* EASE (Steck 2019): B = I - P diagMat(1/diag(P)), P = (X^T X + lambda I)^-1,
 * X the learner x item matrix of kept histories.  Only for a small active
 * item set: O(n^3) time, O(n^2) memory. */
static int rec_build_ease(const node_rec_model *m, node_rec_index *ix, const rec_seqs *s)
{
    uint32_t na = 0;
    for (uint32_t i = 0; i < ix->n; i++)
        if (s->cnt[i])
            na++;
    if (na == 0 || na > m->lim.ease_max_items)
        return 0;
    int rc = CS_ENOMEM;
    double *g = NULL;
    ix->active_of = malloc((size_t)ix->n * sizeof *ix->active_of);
    ix->active_item = malloc((size_t)na * sizeof *ix->active_item);
    g = calloc((size_t)na * na, sizeof *g);
    ix->ease = malloc((size_t)na * na * sizeof *ix->ease);
    if (!ix->active_of || !ix->active_item || !g || !ix->ease)
        goto out;
    ix->n_active = 0;
    for (uint32_t i = 0; i < ix->n; i++) {
        ix->active_of[i] = s->cnt[i] ? ix->n_active : REC_NONE;
        if (s->cnt[i])
            ix->active_item[ix->n_active++] = i;
    }
    for (uint32_t l = 0; l < s->n; l++)
        for (uint32_t a = s->off[l]; a + 1 < s->off[l + 1]; a++) {
            double *row = g + (size_t)ix->active_of[s->item[a]] * na;
            for (uint32_t b = s->off[l]; b + 1 < s->off[l + 1]; b++)
                row[ix->active_of[s->item[b]]] += 1.0;
        }
    for (uint32_t i = 0; i < na; i++)
        g[(size_t)i * na + i] += m->lim.ease_lambda;
    /* In-place Gauss-Jordan inversion; the matrix is symmetric positive
     * definite, so no pivoting is needed. */
    for (uint32_t k = 0; k < na; k++) {
        double *rk = g + (size_t)k * na;
        double piv = rk[k];
        if (!(piv > 1e-12)) {
            rc = CS_EINVAL;
            goto out;
        }
        rk[k] = 1.0;
        for (uint32_t j = 0; j < na; j++)
            rk[j] /= piv;
        for (uint32_t i = 0; i < na; i++) {
            if (i == k)
                continue;
            double *ri = g + (size_t)i * na;
            double f = ri[k];
            if (f == 0.0)
                continue;
            ri[k] = 0.0;
            for (uint32_t j = 0; j < na; j++)
                ri[j] -= f * rk[j];
        }
    }
    for (uint32_t i = 0; i < na; i++)
        for (uint32_t j = 0; j < na; j++)
            ix->ease[(size_t)i * na + j] =
                i == j ? 0.0f : (float)(-g[(size_t)i * na + j] / g[(size_t)j * na + j]);
    rc = 0;
out:
    free(g);
    if (rc) {
        free(ix->ease);
        ix->ease = NULL;
    }
    return rc;
}

/* The build from the model's items and the kept histories s (read only). */
static int rec_build(const node_rec_model *m, const rec_seqs *s, node_rec_index **out,
                     const char **what_out)
{
    int rc = CS_ENOMEM;
    const char *what = "items";
    node_rec_index *ix = calloc(1, sizeof *ix);
    if (!ix)
        goto out;
    if ((rc = rec_build_items(m, ix)) != 0)
        goto out;
    what = "curriculum";
    if ((rc = rec_build_curriculum(m, ix)) != 0)
        goto out;
    what = "popularity lists";
    if ((rc = rec_build_buckets(ix)) != 0)
        goto out;
    what = "item neighbours";
    if ((rc = rec_build_knn(m, ix, s)) != 0)
        goto out;
    what = "EASE";
    if ((rc = rec_build_ease(m, ix, s)) != 0)
        goto out;
    size_t b = sizeof *ix + (size_t)ix->n * (sizeof *ix->it + 4 * sizeof(uint32_t)) +
               ix->pre_off[ix->n] * 4;
    b += (size_t)ix->succ_off[ix->n] * 8 + ix->nb_total * sizeof(rec_nb) +
         (size_t)ix->n * (sizeof *ix->nb_off + sizeof *ix->nb_cnt) +
         (size_t)ix->nb_nblk * sizeof(rec_nb *) + (size_t)ix->ncurr * 4;
    b += (size_t)ix->nbk * sizeof *ix->bk;
    for (uint32_t k = 0; k < ix->nbk; k++)
        b += ((size_t)ix->bk[k].npop + ix->bk[k].nstart + ix->bk[k].nfresh) * 4;
    b += ((size_t)ix->table.mask + 1) * 4 + (size_t)ix->n_active * ix->n_active * 4;
    ix->bytes = b; /* the ids are the model's (shared arena), not counted */
    *out = ix;
    ix = NULL;
    rc = 0;
out:
    node_rec_index_free(ix);
    *what_out = what;
    return rc;
}

int node_rec_model_build(const node_rec_model *m, node_rec_index **out, cs_err *err)
{
    const char *what = "histories";
    rec_seqs s;
    memset(&s, 0, sizeof s);
    int rc = rec_seqs_build(m, &s);
    if (rc == 0)
        rc = rec_build(m, &s, out, &what);
    rec_seqs_free(&s);
    return rc ? cs_err_set(err, rc, "recommender build (%s): %s", what, cs_err_text(rc)) : 0;
}

/* A snapshot is a model without learners or hash tables (only what
 * rec_build reads: items, names, prerequisites, limits, time; successors in
 * one array), and the kept histories already reduced to distinct items. */
struct node_rec_snapshot {
    node_rec_model m;
    rec_succ *succ;
    rec_seqs seqs;
};

void node_rec_snapshot_free(node_rec_snapshot *s)
{
    if (!s)
        return;
    free(s->m.it);
    free(s->m.pre);
    rec_names_free(&s->m.names);
    rec_strs_unref(s->m.strs);
    free(s->succ);
    rec_seqs_free(&s->seqs);
    free(s);
}

int node_rec_model_snapshot(const node_rec_model *m, node_rec_snapshot **out, cs_err *err)
{
    int rc = CS_ENOMEM;
    node_rec_snapshot *s = calloc(1, sizeof *s);
    if (!s)
        goto out;
    node_rec_model *c = &s->m;
    c->lim = m->lim;
    c->now = m->now;
    c->have_now = m->have_now;
    c->strs = rec_strs_ref(m->strs);
    c->strs_bytes = m->strs_bytes;
    if ((rc = rec_names_copy(&c->names, &m->names)) != 0)
        goto out;
    rc = CS_ENOMEM;
    size_t nsucc = 0;
    for (uint32_t i = 0; i < m->nit; i++)
        nsucc += m->it[i].nsucc;
    c->it = malloc((m->nit ? m->nit : 1) * sizeof *c->it);
    c->pre = malloc((m->npre ? m->npre : 1) * sizeof *c->pre);
    s->succ = malloc((nsucc ? nsucc : 1) * sizeof *s->succ);
    if (!c->it || !c->pre || !s->succ)
        goto out;
    memcpy(c->pre, m->pre, m->npre * sizeof *c->pre);
    c->npre = c->precap = m->npre;
    nsucc = 0;
    for (uint32_t i = 0; i < m->nit; i++) {
        rec_item *d = &c->it[i];
        *d = m->it[i];
        d->succ = s->succ + nsucc;
        d->succ_cap = d->nsucc;
        if (d->nsucc)
            memcpy(d->succ, m->it[i].succ, d->nsucc * sizeof *d->succ);
        nsucc += d->nsucc;
    }
    c->nit = c->itcap = m->nit;
    if ((rc = rec_seqs_build(m, &s->seqs)) != 0)
        goto out;
    *out = s;
    s = NULL;
out:
    node_rec_snapshot_free(s);
    return rc ? cs_err_set(err, rc, "recommender snapshot: %s", cs_err_text(rc)) : 0;
}

int node_rec_snapshot_build(const node_rec_snapshot *s, node_rec_index **out, cs_err *err)
{
    const char *what = "items";
    int rc = rec_build(&s->m, &s->seqs, out, &what);
    return rc ? cs_err_set(err, rc, "recommender build (%s): %s", what, cs_err_text(rc)) : 0;
}

/* ------------------------------------------------------------------ */
/* requests                                                            */

enum { F_CURR, F_TRANS, F_KNN, F_EASE, F_POP, F_N };

typedef struct rec_cand {
    uint32_t item;
    float f[F_N];
    uint32_t trans_from, knn_from;
    float knn_best;
    int curr_kind; /* 0 none, 1 next unit, 2 same unit, 3 start */
    double score;
} rec_cand;

/* A hash set of item indices -> candidate slot, sized once per request. */
typedef struct rec_cset {
    uint32_t *slot; /* item + 1 */
    uint32_t *pos;
    uint32_t mask;
    rec_cand *c;
    uint32_t n, cap;
} rec_cset;

static uint32_t rec_mix(uint32_t x)
{
    x ^= x >> 16;
    x *= 0x7feb352dU;
    x ^= x >> 15;
    x *= 0x846ca68bU;
    x ^= x >> 16;
    return x;
}

static int rec_cset_init(rec_cset *s, uint32_t cap)
{
    uint32_t sz = 64;
    while (sz < cap * 2)
        sz *= 2;
    s->slot = calloc(sz, sizeof *s->slot);
    s->pos = malloc(sz * sizeof *s->pos);
    s->c = malloc((cap ? cap : 1) * sizeof *s->c);
    s->mask = sz - 1;
    s->n = 0;
    s->cap = cap;
    return s->slot && s->pos && s->c ? 0 : CS_ENOMEM;
}

static void rec_cset_free(rec_cset *s)
{
    free(s->slot);
    free(s->pos);
    free(s->c);
}

/* The candidate of item, or NULL if absent (and add is 0 or the set is full). */
static rec_cand *rec_cset_get(rec_cset *s, uint32_t item, int add)
{
    uint32_t i = rec_mix(item) & s->mask;
    while (s->slot[i]) {
        if (s->slot[i] == item + 1)
            return &s->c[s->pos[i]];
        i = (i + 1) & s->mask;
    }
    if (!add || s->n >= s->cap)
        return NULL;
    s->slot[i] = item + 1;
    s->pos[i] = s->n;
    rec_cand *c = &s->c[s->n++];
    memset(c, 0, sizeof *c);
    c->item = item;
    c->trans_from = c->knn_from = REC_NONE;
    return c;
}

/* Membership only (history sets). */
static int rec_cset_has(const rec_cset *s, uint32_t item)
{
    uint32_t i = rec_mix(item) & s->mask;
    while (s->slot[i]) {
        if (s->slot[i] == item + 1)
            return 1;
        i = (i + 1) & s->mask;
    }
    return 0;
}

static int rec_filter_ok(const node_rec_index *ix, const node_rec_request *r, uint32_t fs,
                         uint32_t fl, uint32_t item)
{
    const rec_xitem *x = &ix->it[item];
    if (r->subject && x->subject != fs)
        return 0;
    if (r->language && x->language != fl)
        return 0;
    if (r->grade >= 0 && (r->grade > NODE_REC_GRADE_MAX || !(x->grades & (1u << r->grade))))
        return 0;
    return 1;
}

static const rec_bucket *rec_bucket_find(const node_rec_index *ix, uint64_t key)
{
    uint32_t lo = 0, hi = ix->nbk;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (ix->bk[mid].key < key)
            lo = mid + 1;
        else if (ix->bk[mid].key > key)
            hi = mid;
        else
            return &ix->bk[mid];
    }
    return NULL;
}

static int rec_cmp_cand(const void *a, const void *b, const node_rec_index *ix)
{
    const rec_cand *x = a, *y = b;
    if (x->score != y->score)
        return x->score > y->score ? -1 : 1;
    uint32_t rx = ix->it[x->item].idrank, ry = ix->it[y->item].idrank;
    return rx < ry ? -1 : rx > ry;
}

/* Insert c into the best-k array top[] (sorted, best first). */
static void rec_topk_push(const node_rec_index *ix, rec_cand **top, size_t *ntop, size_t k,
                          rec_cand *c)
{
    size_t n = *ntop;
    if (n == k && rec_cmp_cand(c, top[n - 1], ix) >= 0)
        return;
    size_t i = n < k ? n : k - 1;
    while (i > 0 && rec_cmp_cand(c, top[i - 1], ix) < 0) {
        top[i] = top[i - 1];
        i--;
    }
    top[i] = c;
    if (n < k)
        (*ntop)++;
}

static void rec_grade_subject(const node_rec_index *ix, char *buf, size_t cap, int grade,
                              uint32_t subj)
{
    const char *s = subj != REC_ANY ? ix->subjects.name[subj] : NULL;
    if (grade >= 0 && s)
        snprintf(buf, cap, "grade %d %s", grade, s);
    else if (grade >= 0)
        snprintf(buf, cap, "grade %d", grade);
    else if (s)
        snprintf(buf, cap, "%s", s);
    else
        snprintf(buf, cap, "this school");
}

/* BKT over scored history entries, per skill; mastered[s] set for skills at
 * P(known) >= REC_BKT_MASTERED.  skills/pl are scratch of nh entries. */
static void rec_bkt(const node_rec_index *ix, const uint32_t *h, const float *hs, uint32_t nh,
                    uint32_t *skills, double *pl, uint32_t *nsk)
{
    uint32_t n = 0;
    for (uint32_t i = 0; i < nh; i++) {
        if (hs[i] < 0)
            continue;
        uint32_t sk = ix->it[h[i]].skill, s;
        for (s = 0; s < n && skills[s] != sk; s++)
            ;
        if (s == n) {
            skills[n] = sk;
            pl[n] = REC_BKT_P0;
            n++;
        }
        double p = pl[s], post;
        if (hs[i] >= 0.5f)
            post = p * (1 - REC_BKT_SLIP) / (p * (1 - REC_BKT_SLIP) + (1 - p) * REC_BKT_GUESS);
        else
            post = p * REC_BKT_SLIP / (p * REC_BKT_SLIP + (1 - p) * (1 - REC_BKT_GUESS));
        pl[s] = post + (1 - post) * REC_BKT_LEARN;
    }
    *nsk = n;
}

int node_rec_index_recommend(const node_rec_index *ix, const node_rec_hist *hist, size_t n,
                             const node_rec_request *req, node_rec_result *out, size_t k,
                             size_t *nout, cs_err *err)
{
    int rc = CS_ENOMEM;
    node_rec_request dreq;
    node_rec_weights w;
    uint32_t *h = NULL, *skills = NULL;
    float *hs = NULL;
    uint8_t *hk = NULL;
    double *pl = NULL;
    rec_cand **top = NULL;
    rec_cset cs, hset;
    memset(&cs, 0, sizeof cs);
    memset(&hset, 0, sizeof hset);
    if (!ix || (!hist && n) || !out || !nout)
        return cs_err_set(err, CS_EINVAL, "recommend: bad arguments");
    *nout = 0;
    if (n > NODE_REC_HISTORY_MAX)
        return cs_err_set(err, CS_ETOOBIG, "recommend: history longer than %d",
                          NODE_REC_HISTORY_MAX);
    if (k > NODE_REC_K_MAX)
        return cs_err_set(err, CS_ETOOBIG, "recommend: more than %d results asked", NODE_REC_K_MAX);
    if (!req) {
        node_rec_request_init(&dreq);
        req = &dreq;
    }
    if (req->method < 0 || req->method >= NODE_REC_NMETHODS)
        return cs_err_set(err, CS_EINVAL, "recommend: unknown method %d", req->method);
    if (req->weights)
        w = *req->weights;
    else
        node_rec_weights_default(&w);
    if (!(w.recency > 0 && w.recency <= 1))
        w.recency = 1;
    if (k == 0)
        return 0;
    const int method = req->method, blend = method == NODE_REC_BLEND;

    /* The history, resolved. */
    h = malloc((n ? n : 1) * sizeof *h);
    hs = malloc((n ? n : 1) * sizeof *hs);
    hk = malloc(n ? n : 1);
    skills = malloc((n ? n : 1) * sizeof *skills);
    pl = malloc((n ? n : 1) * sizeof *pl);
    top = malloc(k * sizeof *top); // NOLINT(bugprone-sizeof-expression): an array of pointers
    if (!h || !hs || !hk || !skills || !pl || !top || rec_cset_init(&hset, (uint32_t)n + 1) != 0)
        goto out;
    uint32_t nh = 0;
    for (size_t i = 0; i < n; i++) {
        int64_t f = hist[i].item ? node_rec_index_find(ix, hist[i].item) : -1;
        if (f < 0)
            continue;
        h[nh] = (uint32_t)f;
        hk[nh] = (uint8_t)hist[i].kind;
        hs[nh] = hist[i].score >= 0 && hist[i].score <= 1 ? (float)hist[i].score : -1.0f;
        rec_cset_get(&hset, (uint32_t)f, 1);
        nh++;
    }
    uint32_t nsk = 0;
    rec_bkt(ix, h, hs, nh, skills, pl, &nsk);

    /* Filter names resolved to ids (a name the index lacks matches nothing). */
    uint32_t fs = REC_NONE, fl = REC_NONE;
    if (req->subject) {
        int64_t f = rec_names_find(&ix->subjects, req->subject);
        fs = f >= 0 ? (uint32_t)f : REC_NONE - 1;
    }
    if (req->language) {
        int64_t f = rec_names_find(&ix->languages, req->language);
        fl = f >= 0 ? (uint32_t)f : REC_NONE - 1;
    }
    /* Popularity bucket: the filter, or else the learner's latest item. */
    int bgrade = req->grade;
    uint32_t bsubj = req->subject ? fs : REC_ANY, blang = req->language ? fl : REC_ANY;
    if (nh > 0 && blend) {
        const rec_xitem *last = &ix->it[h[nh - 1]];
        if (bgrade < 0 && last->grades)
            bgrade = __builtin_ctz(last->grades);
        if (!req->subject)
            bsubj = last->subject;
        if (!req->language)
            blang = last->language;
    }
    const rec_bucket *bk = NULL;
    if (bsubj < REC_NONE - 1 && blang < REC_NONE - 1 && bgrade <= NODE_REC_GRADE_MAX)
        bk = rec_bucket_find(ix, rec_bkey(bgrade < 0 ? REC_ANY : (uint32_t)bgrade, bsubj, blang));
    if (!bk && blend && nh > 0) {
        /* fall back to the filter alone */
        bgrade = req->grade;
        bsubj = req->subject ? fs : REC_ANY;
        blang = req->language ? fl : REC_ANY;
        if (bsubj < REC_NONE - 1 && blang < REC_NONE - 1 && bgrade <= NODE_REC_GRADE_MAX)
            bk = rec_bucket_find(ix,
                                 rec_bkey(bgrade < 0 ? REC_ANY : (uint32_t)bgrade, bsubj, blang));
    }

    /* Candidate bound. */
    const int use_trans = blend || method == NODE_REC_TRANSITIONS;
    const int use_knn = blend || method == NODE_REC_ITEMKNN;
    const int use_ease = (blend || method == NODE_REC_EASE) && ix->ease;
    const int use_curr = blend || method == NODE_REC_CURRICULUM;
    size_t bound = 16;
    if (bk)
        bound += bk->npop + bk->nstart + bk->nfresh;
    uint32_t tsteps = method == NODE_REC_TRANSITIONS ? 1 : REC_TRANS_STEPS;
    for (uint32_t a = 0; a < nh && a < tsteps; a++)
        bound += ix->succ_off[h[nh - 1 - a] + 1] - ix->succ_off[h[nh - 1 - a]];
    if (use_knn)
        for (uint32_t a = 0; a < nh; a++)
            bound += ix->nb_cnt[h[a]];
    if (use_ease)
        bound += ix->n_active;
    if (use_curr)
        bound += (size_t)REC_CURR_GROUPS * 4 * REC_CURR_SCAN;
    if (rec_cset_init(&cs, (uint32_t)bound) != 0)
        goto out;

#define CAND(item_)                                                                                \
    ((!req->include_seen && rec_cset_has(&hset, (item_))) ||                                       \
             !rec_filter_ok(ix, req, fs, fl, (item_))                                              \
         ? NULL                                                                                    \
         : rec_cset_get(&cs, (item_), 1))

    /* Popularity (always: the tie-break and filler of every method). */
    if (bk) {
        uint32_t np = blend ? (bk->npop < REC_BLEND_POP ? bk->npop : REC_BLEND_POP) : bk->npop;
        for (uint32_t a = 0; a < np; a++)
            CAND(ix->lists[bk->pop_off + a]);
        for (uint32_t a = 0; a < bk->nfresh && blend; a++)
            CAND(ix->lists[bk->fresh_off + a]);
    }
    /* Transitions from the latest items. */
    if (use_trans) {
        double wt = 1.0;
        for (uint32_t a = 0; a < nh && a < tsteps; a++, wt *= w.recency) {
            uint32_t from = h[nh - 1 - a];
            for (uint32_t o = ix->succ_off[from]; o < ix->succ_off[from + 1]; o++) {
                rec_cand *c = CAND(ix->succ_to[o]);
                if (!c)
                    continue;
                c->f[F_TRANS] += (float)(wt * ix->succ_p[o]);
                if (c->trans_from == REC_NONE)
                    c->trans_from = from;
            }
        }
    }
    /* Neighbours of every history item, decayed with age in the blend. */
    if (use_knn) {
        double wt = 1.0;
        for (uint32_t a = 0; a < nh; a++, wt *= blend ? w.recency : 1.0) {
            uint32_t from = h[nh - 1 - a];
            if (ix->nb_cnt[from] == 0)
                continue;
            const rec_nb *nb = ix->nb_blk[from >> REC_NB_SHIFT] + ix->nb_off[from];
            for (uint32_t o = 0; o < ix->nb_cnt[from]; o++) {
                rec_cand *c = CAND(nb[o].to);
                if (!c)
                    continue;
                float v = (float)(wt * nb[o].sim);
                c->f[F_KNN] += v;
                if (v > c->knn_best) {
                    c->knn_best = v;
                    c->knn_from = from;
                }
            }
        }
    }
    /* EASE over every active item. */
    if (use_ease && nh > 0) {
        uint32_t na = ix->n_active;
        for (uint32_t j = 0; j < na; j++) {
            uint32_t item = ix->active_item[j];
            rec_cand *c = CAND(item);
            if (!c)
                continue;
            double sum = 0;
            for (uint32_t a = 0; a < nh; a++) {
                uint32_t r = ix->active_of[h[a]];
                if (r != REC_NONE)
                    sum += ix->ease[(size_t)r * na + j];
            }
            c->f[F_EASE] = (float)(sum > 0 ? sum : 0);
        }
    }
    /* Curriculum: the next unit (and the rest of the current one) of the
     * sequences the learner was in lately; a new learner starts at the
     * first unit of the bucket's sequences. */
    if (use_curr) {
        uint32_t groups[REC_CURR_GROUPS], ng = 0;
        double wt = 1.0;
        for (uint32_t a = 0; a < nh && ng < REC_CURR_GROUPS; a++) {
            const rec_xitem *x = &ix->it[h[nh - 1 - a]];
            if (x->group == REC_NONE)
                continue;
            uint32_t g;
            for (g = 0; g < ng && groups[g] != x->group; g++)
                ;
            if (g < ng)
                continue;
            groups[ng++] = x->group;
            /* The frontier: the furthest unit reached in this sequence. */
            uint32_t fpos = x->curr_pos, frank = x->unit_rank;
            for (uint32_t b = 0; b < nh; b++) {
                const rec_xitem *y = &ix->it[h[b]];
                if (y->group == x->group && y->unit_rank > frank) {
                    frank = y->unit_rank;
                    fpos = y->curr_pos;
                }
            }
            uint32_t lo = fpos, scanned = 0;
            while (lo > 0 && ix->it[ix->curr_order[lo - 1]].group == x->group &&
                   ix->it[ix->curr_order[lo - 1]].unit_rank == frank && scanned++ < REC_CURR_SCAN)
                lo--;
            scanned = 0;
            for (uint32_t p = lo; p < ix->ncurr && scanned < 3 * REC_CURR_SCAN; p++, scanned++) {
                const rec_xitem *y = &ix->it[ix->curr_order[p]];
                if (y->group != x->group || y->unit_rank > frank + 1)
                    break;
                rec_cand *c = CAND(ix->curr_order[p]);
                if (!c)
                    continue;
                double v = wt * (y->unit_rank == frank + 1 ? 1.0 : 0.8);
                if (v > c->f[F_CURR]) {
                    c->f[F_CURR] = (float)v;
                    c->curr_kind = y->unit_rank == frank + 1 ? 1 : 2;
                }
            }
            wt *= 0.5;
        }
        if (ng == 0 && bk) {
            for (uint32_t a = 0; a < bk->nstart; a++) {
                uint32_t item = ix->lists[bk->start_off + a];
                rec_cand *c = CAND(item);
                if (!c)
                    continue;
                c->f[F_CURR] = (float)(1.0 / (1.0 + ix->it[item].unit_rank));
                c->curr_kind = 3;
            }
        }
    }
#undef CAND

    /* Scale each signal to [0, 1] over the candidates; combine. */
    float mx[F_N] = {0};
    for (uint32_t i = 0; i < cs.n; i++) {
        rec_cand *c = &cs.c[i];
        c->f[F_POP] = ix->it[c->item].pop;
        for (int f = 0; f < F_N; f++)
            if (c->f[f] > mx[f])
                mx[f] = c->f[f];
    }
    size_t ntop = 0;
    for (uint32_t i = 0; i < cs.n; i++) {
        rec_cand *c = &cs.c[i];
        double v[F_N];
        for (int f = 0; f < F_N; f++)
            v[f] = mx[f] > 0 ? c->f[f] / mx[f] : 0.0;
        double s;
        switch (method) {
        case NODE_REC_POPULAR:
            s = v[F_POP];
            break;
        case NODE_REC_TRANSITIONS:
            s = v[F_TRANS] + REC_FILL * v[F_POP];
            break;
        case NODE_REC_ITEMKNN:
            s = v[F_KNN] + REC_FILL * v[F_POP];
            break;
        case NODE_REC_EASE:
            s = v[F_EASE] + REC_FILL * v[F_POP];
            break;
        case NODE_REC_CURRICULUM:
            s = v[F_CURR] + REC_FILL * v[F_POP];
            break;
        default:
            s = w.curriculum * v[F_CURR] + w.transitions * v[F_TRANS] + w.itemknn * v[F_KNN] +
                w.ease * v[F_EASE] + w.popular * v[F_POP];
            break;
        }
        if (blend || method == NODE_REC_CURRICULUM) {
            /* Mastered skills are not pushed; prerequisites come first. */
            uint32_t sk = ix->it[c->item].skill;
            for (uint32_t a = 0; a < nsk; a++)
                if (skills[a] == sk && pl[a] >= REC_BKT_MASTERED)
                    s = s * REC_MASTERED_MULT - 1.0; /* after every unmastered item */
            for (uint32_t o = ix->pre_off[c->item]; o < ix->pre_off[c->item + 1]; o++)
                if (!rec_cset_has(&hset, ix->pre[o])) {
                    s *= REC_PREREQ_MULT;
                    break;
                }
        }
        c->score = s;
        rec_topk_push(ix, top, &ntop, k, c);
    }

    /* Results and reasons. */
    for (size_t i = 0; i < ntop; i++) {
        rec_cand *c = top[i];
        node_rec_result *o = &out[i];
        const rec_xitem *x = &ix->it[c->item];
        memset(o, 0, sizeof *o);
        o->item = c->item;
        o->id = x->id;
        o->score = c->score;
        double contrib[F_N];
        for (int f = 0; f < F_N; f++)
            contrib[f] = mx[f] > 0 ? c->f[f] / mx[f] : 0.0;
        if (blend) {
            contrib[F_CURR] *= w.curriculum;
            contrib[F_TRANS] *= w.transitions;
            contrib[F_KNN] *= w.itemknn;
            contrib[F_EASE] *= w.ease;
            contrib[F_POP] *= w.popular;
        } else {
            int only[] = {F_POP, F_POP, F_TRANS, F_KNN, F_EASE, F_CURR};
            for (int f = 0; f < F_N; f++)
                if (f != only[method])
                    contrib[f] = 0;
        }
        int best = F_POP;
        for (int f = 0; f < F_N; f++)
            if (contrib[f] > contrib[best])
                best = f;
        char where[96];
        switch (best) {
        case F_CURR:
            o->source = NODE_REC_SRC_CURRICULUM;
            snprintf(o->reason, sizeof o->reason, "%s unit %d",
                     c->curr_kind == 1   ? "next in"
                     : c->curr_kind == 2 ? "more in"
                                         : "start of",
                     x->unit);
            break;
        case F_TRANS: {
            o->source = NODE_REC_SRC_TRANSITION;
            int fin = 0;
            for (uint32_t a = nh; a-- > 0;)
                if (h[a] == c->trans_from) {
                    fin = hk[a] != NODE_REC_OPEN;
                    break;
                }
            snprintf(o->reason, sizeof o->reason, "students who %s %s opened this next",
                     fin ? "finished" : "opened", ix->it[c->trans_from].id);
            break;
        }
        case F_KNN:
            o->source = NODE_REC_SRC_NEIGHBOUR;
            snprintf(o->reason, sizeof o->reason, "students who used %s also used this",
                     ix->it[c->knn_from].id);
            break;
        case F_EASE: {
            o->source = NODE_REC_SRC_EASE;
            uint32_t j = ix->active_of[c->item], bi = REC_NONE;
            float bv = 0;
            for (uint32_t a = 0; a < nh && j != REC_NONE; a++) {
                uint32_t r = ix->active_of[h[a]];
                if (r != REC_NONE && ix->ease[(size_t)r * ix->n_active + j] > bv) {
                    bv = ix->ease[(size_t)r * ix->n_active + j];
                    bi = h[a];
                }
            }
            if (bi != REC_NONE)
                snprintf(o->reason, sizeof o->reason, "often used together with %s", ix->it[bi].id);
            else
                snprintf(o->reason, sizeof o->reason, "often used with what you used");
            break;
        }
        default:
            if (x->events == 0) {
                o->source = NODE_REC_SRC_NEW;
                rec_grade_subject(ix, where, sizeof where, bgrade,
                                  bsubj != REC_NONE - 1 ? bsubj : REC_ANY);
                snprintf(o->reason, sizeof o->reason, "new in %s", where);
            } else {
                o->source = NODE_REC_SRC_POPULAR;
                rec_grade_subject(ix, where, sizeof where, bgrade,
                                  bsubj != REC_NONE - 1 ? bsubj : REC_ANY);
                snprintf(o->reason, sizeof o->reason, "popular in %s", where);
            }
            break;
        }
    }
    *nout = ntop;
    rc = 0;
out:
    free(h);
    free(hs);
    free(hk);
    free(skills);
    free(pl);
    free(top);
    rec_cset_free(&cs);
    rec_cset_free(&hset);
    return rc ? cs_err_set(err, rc, "recommend: %s", cs_err_text(rc)) : 0;
}
