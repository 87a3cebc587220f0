/*
 * test_recommend.c - the recommender (node/recommend.h) and its offline
 * evaluation (node/recommend_eval.h): fairness invariances, cold start,
 * prerequisites, mastery, metrics on a log whose answers are known, and the
 * CSV parser on malformed input.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "node/recommend.h"
#include "node/recommend_eval.h"
#include "test.h"

#define NEAR(a, b) (fabs((a) - (b)) < 1e-9)

static int add_item(node_rec_model *m, const char *id, const char *subject, uint32_t grades,
                    const char *edition, int unit, const char *pre1, const char *pre2,
                    const char *skill)
{
    const char *pre[2] = {pre1, pre2};
    node_rec_item it;
    memset(&it, 0, sizeof it);
    it.id = id;
    it.subject = subject;
    it.language = "zh";
    it.grades = grades;
    it.edition = edition;
    it.volume = edition ? "1" : NULL;
    it.unit = unit;
    it.prereqs = pre;
    it.nprereqs = pre2 ? 2 : pre1 ? 1 : 0;
    it.skill = skill;
    return node_rec_model_item_add(m, &it, NULL);
}

static int add_ev(node_rec_model *m, const char *learner, const char *item, int64_t ts,
                  double score)
{
    node_rec_event ev = {learner, item, ts, score >= 0 ? NODE_REC_SCORE : NODE_REC_OPEN, score};
    return node_rec_model_event_add(m, &ev, NULL);
}

/* A small school: 12 items over two subjects, learners following sequences. */
static node_rec_model *school(void)
{
    node_rec_model *m = NULL;
    if (node_rec_model_new(&m, NULL, NULL) != 0)
        return NULL;
    char id[32];
    for (int i = 0; i < 12; i++) {
        snprintf(id, sizeof id, "item-%02d", i);
        add_item(m, id, i < 8 ? "math" : "chinese", 1u << 3, NULL, -1, NULL, NULL, NULL);
    }
    const int seqs[6][5] = {{0, 1, 2, 3, 4},   {0, 1, 2, 5, 6}, {0, 2, 3, 4, 7},
                            {8, 9, 10, 11, 0}, {1, 2, 3, 4, 5}, {0, 1, 3, 4, 6}};
    char lid[32];
    for (int l = 0; l < 30; l++) {
        snprintf(lid, sizeof lid, "learner-%d", l);
        for (int j = 0; j < 5; j++) {
            snprintf(id, sizeof id, "item-%02d", seqs[l % 6][j]);
            add_ev(m, lid, id, 1000 + l * 10 + j, -1);
        }
    }
    return m;
}

static int same_lists(const node_rec_result *a, size_t na, const node_rec_result *b, size_t nb)
{
    if (na != nb)
        return 0;
    for (size_t i = 0; i < na; i++)
        if (strcmp(a[i].id, b[i].id) != 0 || a[i].score != b[i].score ||
            strcmp(a[i].reason, b[i].reason) != 0)
            return 0;
    return 1;
}

/* Two learners with identical histories get identical lists, whatever
 * their ids and whatever else is in the model. */
static void test_counterfactual(void)
{
    node_rec_model *m = school();
    REQUIRE(m);
    const char *path[] = {"item-00", "item-01", "item-02"};
    for (int i = 0; i < 3; i++) {
        CHECK(add_ev(m, "alice", path[i], 5000 + i, -1) == 0);
        CHECK(add_ev(m, "zz-someone-else-entirely", path[i], 9000 + i, -1) == 0);
    }
    node_rec_index *ix = NULL;
    REQUIRE(node_rec_model_build(m, &ix, NULL) == 0);
    node_rec_hist ha[NODE_REC_HISTORY_MAX], hb[NODE_REC_HISTORY_MAX];
    size_t na = 0, nb = 0;
    CHECK(node_rec_model_history(m, "alice", ha, NODE_REC_HISTORY_MAX, &na) == 0);
    CHECK(node_rec_model_history(m, "zz-someone-else-entirely", hb, NODE_REC_HISTORY_MAX, &nb) ==
          0);
    CHECK_EQ_INT(na, 3);
    CHECK_EQ_INT(nb, 3);
    for (int meth = 0; meth < NODE_REC_NMETHODS; meth++) {
        node_rec_request req;
        node_rec_request_init(&req);
        req.method = meth;
        node_rec_result ra[10], rb[10];
        size_t ka = 0, kb = 0;
        CHECK(node_rec_index_recommend(ix, ha, na, &req, ra, 10, &ka, NULL) == 0);
        CHECK(node_rec_index_recommend(ix, hb, nb, &req, rb, 10, &kb, NULL) == 0);
        CHECK(ka > 0);
        CHECK(same_lists(ra, ka, rb, kb));
        for (size_t i = 0; i < ka; i++) {
            CHECK(strcmp(ra[i].id, "item-00") && strcmp(ra[i].id, "item-01") &&
                  strcmp(ra[i].id, "item-02"));
            CHECK(ra[i].reason[0] != '\0');
        }
    }
    /* The same history built from another model in which only the learner
     * names differ gives the same lists too (below, relabelling). */
    node_rec_index_free(ix);
    node_rec_model_free(m);
}

/* Renaming every learner (a permutation of the ids) changes no list, and
 * neither does the order in which learners' events arrive. */
static void test_relabel_model(void)
{
    node_rec_model *m[3] = {NULL, NULL, NULL};
    for (int v = 0; v < 3; v++) {
        REQUIRE(node_rec_model_new(&m[v], NULL, NULL) == 0);
        char id[32], lid[32];
        for (int i = 0; i < 20; i++) {
            snprintf(id, sizeof id, "r%02d", i);
            add_item(m[v], id, "math", 1u << 4, NULL, -1, NULL, NULL, NULL);
        }
        for (int a = 0; a < 40; a++) {
            int l = v == 2 ? 39 - a : a; /* v2: learners arrive in reverse order */
            int name = v == 0 ? l : 39 - l;
            snprintf(lid, sizeof lid, "%s-%d", v == 0 ? "pupil" : "p", name);
            for (int j = 0; j < 6; j++) {
                snprintf(id, sizeof id, "r%02d", (l * 7 + j * (1 + l % 3)) % 20);
                add_ev(m[v], lid, id, 100 + j, -1);
            }
        }
    }
    node_rec_index *ix[3] = {NULL, NULL, NULL};
    for (int v = 0; v < 3; v++)
        REQUIRE(node_rec_model_build(m[v], &ix[v], NULL) == 0);
    node_rec_hist h[3] = {
        {"r03", NODE_REC_OPEN, -1}, {"r10", NODE_REC_OPEN, -1}, {"r17", NODE_REC_COMPLETE, -1}};
    for (int meth = 0; meth < NODE_REC_NMETHODS; meth++) {
        node_rec_request req;
        node_rec_request_init(&req);
        req.method = meth;
        node_rec_result r[3][8];
        size_t n[3];
        for (int v = 0; v < 3; v++)
            CHECK(node_rec_index_recommend(ix[v], h, 3, &req, r[v], 8, &n[v], NULL) == 0);
        CHECK(same_lists(r[0], n[0], r[1], n[1]));
        CHECK(same_lists(r[0], n[0], r[2], n[2]));
    }
    for (int v = 0; v < 3; v++) {
        node_rec_index_free(ix[v]);
        node_rec_model_free(m[v]);
    }
}

static const char *LOG_A = "learner,item,ts,score\n"
                           "u1,a,1,\nu1,b,2,\nu1,c,3,\n"
                           "u2,a,1,\nu2,b,2,\nu2,d,3,\n"
                           "u3,a,1,\nu3,c,2,\n"
                           "u4,b,1,\nu4,e,2,\n";

/* Relabelled: every learner renamed (u1<->u4, u2<->u3), rows unchanged. */
static const char *LOG_B = "learner,item,ts,score\n"
                           "zeta,a,1,\nzeta,b,2,\nzeta,c,3,\n"
                           "yy,a,1,\nyy,b,2,\nyy,d,3,\n"
                           "u2,a,1,\nu2,c,2,\n"
                           "u1,b,1,\nu1,e,2,\n";

static int run_eval2(const char *train, const char *csv, unsigned k, unsigned methods, int protocol,
                     node_rec_metrics *out)
{
    node_rec_log *log = NULL;
    cs_err err = {0};
    int rc = node_rec_log_new(&log, &err);
    if (!rc && train)
        rc = node_rec_log_parse(log, train, strlen(train), "train.csv", 0, &err);
    if (!rc)
        rc = node_rec_log_parse(log, csv, strlen(csv), "t.csv", 1, &err);
    node_rec_eval_opts o;
    node_rec_eval_opts_default(&o);
    o.k = k;
    o.methods = methods;
    o.protocol = protocol;
    if (!rc)
        rc = node_rec_eval_run(log, &o, out, &err);
    if (rc)
        fprintf(stderr, "eval: %s\n", err.msg);
    node_rec_log_free(log);
    return rc;
}

static int run_eval(const char *csv, unsigned k, unsigned methods, int protocol,
                    node_rec_metrics *out)
{
    return run_eval2(NULL, csv, k, methods, protocol, out);
}

/* Metrics on a log whose answers are worked out by hand (see below). */
static void test_metrics_known(void)
{
    /* next-new, popular, K=2.  Training (prefixes): a x3, b x3, c d e x0.
     *   u1 saw a,b -> [c, d] (ties by id), held c at 1: hit, ndcg 1
     *   u2 saw a,b -> [c, d], held d at 2: hit, ndcg 1/log2(3)
     *   u3 saw a   -> [b, c], held c at 2: hit, ndcg 1/log2(3)
     *   u4 saw b   -> [a, c], held e: miss
     * HR = Recall = 3/4, NDCG = (1 + 2/log2(3)) / 4, coverage = {a,b,c,d}/5. */
    node_rec_metrics m[NODE_REC_NMETHODS];
    REQUIRE(run_eval(LOG_A, 2, 1u << NODE_REC_POPULAR, NODE_REC_NEXT_NEW, m) == 0);
    CHECK_EQ_INT(m[NODE_REC_POPULAR].cases, 4);
    CHECK(NEAR(m[NODE_REC_POPULAR].hr, 0.75));
    CHECK(NEAR(m[NODE_REC_POPULAR].recall, 0.75));
    CHECK(NEAR(m[NODE_REC_POPULAR].ndcg, (1.0 + 2.0 / log2(3.0)) / 4.0));
    CHECK(NEAR(m[NODE_REC_POPULAR].coverage, 0.8));
    CHECK_EQ_INT(m[NODE_REC_BLEND].cases, 0);

    /* One list, two held-out items, one found at rank 2. */
    uint32_t list[3] = {7, 4, 9}, held[2] = {4, 5};
    double hit, ndcg, recall;
    node_rec_eval_case_metrics(list, 3, held, 2, 3, &hit, &ndcg, &recall);
    CHECK(NEAR(hit, 1.0));
    CHECK(NEAR(recall, 0.5));
    CHECK(NEAR(ndcg, (1.0 / log2(3.0)) / (1.0 + 1.0 / log2(3.0))));
    node_rec_eval_case_metrics(list, 3, held, 2, 1, &hit, &ndcg, &recall);
    CHECK(NEAR(hit, 0.0) && NEAR(ndcg, 0.0) && NEAR(recall, 0.0));

    /* A strict sequence everyone follows (training learners go all the
     * way, evaluated ones stop anywhere): transitions get every next item
     * at rank 1. */
    char tr[2048], ev[2048];
    size_t o = (size_t)snprintf(tr, sizeof tr, "learner,item,ts\n");
    for (int l = 0; l < 3; l++)
        for (int j = 0; j < 8; j++)
            o += (size_t)snprintf(tr + o, sizeof tr - o, "T%d,step-%d,%d\n", l, j, j);
    o = (size_t)snprintf(ev, sizeof ev, "learner,item,ts\n");
    for (int l = 0; l < 10; l++)
        for (int j = 0; j < 2 + l % 6; j++)
            o += (size_t)snprintf(ev + o, sizeof ev - o, "L%d,step-%d,%d\n", l, j, 100 - j * 0);
    REQUIRE(run_eval2(tr, ev, 1, 1u << NODE_REC_TRANSITIONS, NODE_REC_NEXT_NEW, m) == 0);
    CHECK_EQ_INT(m[NODE_REC_TRANSITIONS].cases, 10);
    CHECK(NEAR(m[NODE_REC_TRANSITIONS].hr, 1.0));
    CHECK(NEAR(m[NODE_REC_TRANSITIONS].ndcg, 1.0));
}

/* Renaming learners changes no metric. */
static void test_relabel_metrics(void)
{
    node_rec_metrics a[NODE_REC_NMETHODS], b[NODE_REC_NMETHODS];
    for (int p = 0; p < 2; p++) {
        REQUIRE(run_eval(LOG_A, 3, 0x1F, p, a) == 0);
        REQUIRE(run_eval(LOG_B, 3, 0x1F, p, b) == 0);
        for (int i = 0; i < NODE_REC_NMETHODS; i++) {
            CHECK(a[i].cases == b[i].cases);
            CHECK(a[i].hr == b[i].hr && a[i].ndcg == b[i].ndcg && a[i].recall == b[i].recall &&
                  a[i].coverage == b[i].coverage);
        }
    }
}

/* A new learner in grade 3 maths starts at unit 1 of grade 3 maths;
 * prerequisites come first; other grades and subjects never appear. */
static void test_cold_start(void)
{
    node_rec_model *m = NULL;
    REQUIRE(node_rec_model_new(&m, NULL, NULL) == 0);
    const uint32_t g3 = 1u << 3, g4 = 1u << 4;
    CHECK(add_item(m, "m3-u1-a", "math", g3, "pep-3", 1, NULL, NULL, NULL) == 0);
    CHECK(add_item(m, "m3-u1-b", "math", g3, "pep-3", 1, NULL, NULL, NULL) == 0);
    CHECK(add_item(m, "m3-u2-a", "math", g3, "pep-3", 2, "m3-u1-a", NULL, NULL) == 0);
    CHECK(add_item(m, "m3-u2-b", "math", g3, "pep-3", 2, "m3-u1-a", "m3-u1-b", NULL) == 0);
    CHECK(add_item(m, "m3-u3-a", "math", g3, "pep-3", 3, "m3-u2-a", NULL, NULL) == 0);
    CHECK(add_item(m, "m4-u1-a", "math", g4, "pep-4", 1, NULL, NULL, NULL) == 0);
    CHECK(add_item(m, "c3-u1-a", "chinese", g3, "yuwen-3", 1, NULL, NULL, NULL) == 0);
    /* Unit 3 and grade 4 are the most popular: the curriculum still leads. */
    char lid[16];
    for (int l = 0; l < 20; l++) {
        snprintf(lid, sizeof lid, "x%d", l);
        add_ev(m, lid, "m3-u3-a", 100, -1);
        add_ev(m, lid, "m4-u1-a", 101, -1);
    }
    node_rec_index *ix = NULL;
    REQUIRE(node_rec_model_build(m, &ix, NULL) == 0);
    node_rec_request req;
    node_rec_request_init(&req);
    req.grade = 3;
    req.subject = "math";
    node_rec_result r[10];
    size_t n = 0;
    REQUIRE(node_rec_index_recommend(ix, NULL, 0, &req, r, 10, &n, NULL) == 0);
    REQUIRE(n == 5);
    CHECK_STR(r[0].id, "m3-u1-a");
    CHECK_STR(r[1].id, "m3-u1-b");
    CHECK_STR(r[0].reason, "start of unit 1");
    CHECK(r[0].source == NODE_REC_SRC_CURRICULUM);
    for (size_t i = 0; i < n; i++)
        CHECK(strncmp(r[i].id, "m3-", 3) == 0);

    /* After unit 1 item a: unit 2 item a (prerequisite met) is next, before
     * unit 2 item b (needs m3-u1-b too); the rest of unit 1 is offered. */
    node_rec_hist h[1] = {{"m3-u1-a", NODE_REC_COMPLETE, -1}};
    REQUIRE(node_rec_index_recommend(ix, h, 1, &req, r, 10, &n, NULL) == 0);
    REQUIRE(n >= 3);
    CHECK_STR(r[0].id, "m3-u2-a");
    CHECK_STR(r[0].reason, "next in unit 2");
    int pa = -1, pb = -1, p1b = -1;
    for (size_t i = 0; i < n; i++) {
        if (strcmp(r[i].id, "m3-u2-a") == 0)
            pa = (int)i;
        if (strcmp(r[i].id, "m3-u2-b") == 0)
            pb = (int)i;
        if (strcmp(r[i].id, "m3-u1-b") == 0)
            p1b = (int)i;
        CHECK(strcmp(r[i].id, "m3-u1-a") != 0);
    }
    CHECK(pa >= 0 && p1b >= 0 && pb > p1b && pb > pa);
    /* A learner with no filter and no history still gets something. */
    node_rec_request_init(&req);
    REQUIRE(node_rec_index_recommend(ix, NULL, 0, &req, r, 3, &n, NULL) == 0);
    CHECK_EQ_INT(n, 3);
    CHECK(r[0].source == NODE_REC_SRC_CURRICULUM);
    CHECK(strcmp(r[0].reason, "start of unit 1") == 0);
    node_rec_index_free(ix);
    node_rec_model_free(m);
}

/* A skill mastered (BKT over scores) is not pushed. */
static void test_mastery(void)
{
    node_rec_model *m = NULL;
    REQUIRE(node_rec_model_new(&m, NULL, NULL) == 0);
    add_item(m, "frac-1", "math", 0, NULL, -1, NULL, NULL, "fractions");
    add_item(m, "frac-2", "math", 0, NULL, -1, NULL, NULL, "fractions");
    add_item(m, "geo-1", "math", 0, NULL, -1, NULL, NULL, "geometry");
    add_item(m, "geo-2", "math", 0, NULL, -1, NULL, NULL, "geometry");
    char lid[16];
    for (int l = 0; l < 10; l++) {
        snprintf(lid, sizeof lid, "y%d", l);
        add_ev(m, lid, "frac-1", 10, -1);
        add_ev(m, lid, "frac-2", 11, -1); /* frac-1 -> frac-2 is what everyone does */
    }
    add_ev(m, "z", "geo-1", 1, -1);
    node_rec_index *ix = NULL;
    REQUIRE(node_rec_model_build(m, &ix, NULL) == 0);
    node_rec_result r[4];
    size_t n = 0;
    /* Struggling with fractions: frac-2 first. */
    node_rec_hist weak[3] = {{"frac-1", NODE_REC_SCORE, 0.0},
                             {"frac-1", NODE_REC_SCORE, 1.0},
                             {"frac-1", NODE_REC_SCORE, 0.0}};
    REQUIRE(node_rec_index_recommend(ix, weak, 3, NULL, r, 4, &n, NULL) == 0);
    REQUIRE(n == 3);
    CHECK_STR(r[0].id, "frac-2");
    CHECK(strstr(r[0].reason, "frac-1") != NULL);
    node_rec_request req;
    node_rec_request_init(&req);
    req.method = NODE_REC_TRANSITIONS;
    REQUIRE(node_rec_index_recommend(ix, weak, 3, &req, r, 4, &n, NULL) == 0);
    CHECK_STR(r[0].reason, "students who finished frac-1 opened this next");
    CHECK(r[0].source == NODE_REC_SRC_TRANSITION);
    /* Three right in a row: fractions mastered, frac-2 goes last. */
    node_rec_hist strong[3] = {{"frac-1", NODE_REC_SCORE, 1.0},
                               {"frac-1", NODE_REC_SCORE, 1.0},
                               {"frac-1", NODE_REC_SCORE, 0.9}};
    REQUIRE(node_rec_index_recommend(ix, strong, 3, NULL, r, 4, &n, NULL) == 0);
    REQUIRE(n == 3);
    CHECK_STR(r[2].id, "frac-2");
    CHECK(strncmp(r[0].id, "geo-", 4) == 0);
    node_rec_index_free(ix);
    node_rec_model_free(m);
}

/* A clone builds the same index; the model keeps working after a build. */
static void test_clone_and_limits(void)
{
    node_rec_model *m = school(), *c = NULL;
    REQUIRE(m);
    REQUIRE(node_rec_model_clone(m, &c, NULL) == 0);
    node_rec_index *a = NULL, *b = NULL;
    REQUIRE(node_rec_model_build(m, &a, NULL) == 0);
    REQUIRE(node_rec_model_build(c, &b, NULL) == 0);
    CHECK(node_rec_index_has_ease(a));
    node_rec_hist h[2] = {{"item-00", NODE_REC_OPEN, -1}, {"item-01", NODE_REC_OPEN, -1}};
    node_rec_result ra[5], rb[5];
    size_t na, nb;
    CHECK(node_rec_index_recommend(a, h, 2, NULL, ra, 5, &na, NULL) == 0);
    node_rec_model_free(m); /* the index stands alone */
    CHECK(node_rec_index_recommend(b, h, 2, NULL, rb, 5, &nb, NULL) == 0);
    CHECK(same_lists(ra, na, rb, nb));
    CHECK_STR(ra[0].id, "item-02");
    CHECK(node_rec_index_find(a, "item-05") == 5);
    node_rec_request req;
    /* No curriculum metadata, no history: popularity, said so. */
    node_rec_request_init(&req);
    req.grade = 3;
    req.subject = "math";
    CHECK(node_rec_index_recommend(a, NULL, 0, &req, ra, 5, &na, NULL) == 0 && na == 5);
    CHECK_STR(ra[0].id, "item-00");
    CHECK_STR(ra[0].reason, "popular in grade 3 math");
    CHECK(ra[0].source == NODE_REC_SRC_POPULAR);
    CHECK(node_rec_index_find(a, "nope") == -1);
    /* Unknown history items are skipped; bad requests are refused. */
    node_rec_hist unk[1] = {{"not-an-item", NODE_REC_OPEN, -1}};
    CHECK(node_rec_index_recommend(a, unk, 1, NULL, ra, 5, &na, NULL) == 0 && na == 5);
    CHECK(node_rec_index_recommend(a, h, 2, NULL, ra, NODE_REC_K_MAX + 1, &na, NULL) == CS_ETOOBIG);
    node_rec_request_init(&req);
    req.subject = "no-such-subject";
    CHECK(node_rec_index_recommend(a, h, 2, &req, ra, 5, &na, NULL) == 0 && na == 0);
    /* Events for unknown items are refused; caps hold. */
    CHECK(add_ev(c, "l", "missing", 1, -1) == CS_ENOENT);
    CHECK(add_ev(c, "l", "item-00", 1, 1.5) == CS_EINVAL);
    node_rec_limits lim;
    node_rec_limits_default(&lim);
    lim.max_items = 2;
    lim.max_learners = 1;
    lim.history = 2;
    node_rec_model *s = NULL;
    REQUIRE(node_rec_model_new(&s, &lim, NULL) == 0);
    CHECK(add_item(s, "i1", NULL, 0, NULL, -1, NULL, NULL, NULL) == 0);
    CHECK(add_item(s, "i2", NULL, 0, NULL, -1, NULL, NULL, NULL) == 0);
    CHECK(add_item(s, "i3", NULL, 0, NULL, -1, NULL, NULL, NULL) == CS_ETOOBIG);
    CHECK(add_item(s, "i2", "math", 0, NULL, -1, NULL, NULL, NULL) == 0); /* replace */
    for (int i = 0; i < 5; i++)
        CHECK(add_ev(s, "one", i % 2 ? "i1" : "i2", i, -1) == 0);
    CHECK(add_ev(s, "two", "i1", 9, -1) == 0); /* counted, history not kept */
    node_rec_stats st;
    node_rec_model_stats(s, &st);
    CHECK_EQ_INT(st.learners, 1);
    CHECK_EQ_INT(st.learners_dropped, 1);
    CHECK_EQ_INT(st.events, 6);
    node_rec_hist hh[8];
    size_t nh;
    CHECK(node_rec_model_history(s, "one", hh, 8, &nh) == 0 && nh == 2);
    node_rec_model_free(s);
    node_rec_model_free(c);
    node_rec_index_free(a);
    node_rec_index_free(b);
    node_rec_model_free(NULL);
    node_rec_index_free(NULL);
}

static node_rec_model *three(const char *const *order, const char *pre_of_r)
{
    node_rec_model *m = NULL;
    if (node_rec_model_new(&m, NULL, NULL) != 0)
        return NULL;
    for (int i = 0; i < 3; i++)
        add_item(m, order[i], "math", 1u << 3, NULL, -1,
                 strcmp(order[i], "r") == 0 ? pre_of_r : NULL, NULL, NULL);
    char lid[32];
    for (int l = 0; l < 10; l++) {
        snprintf(lid, sizeof lid, "learner-%d", l);
        add_ev(m, lid, "t", 100 + l * 10, -1);
        add_ev(m, lid, l % 3 ? "r" : "s", 101 + l * 10, -1);
        add_ev(m, lid, l % 3 ? "s" : "r", 102 + l * 10, -1);
    }
    return m;
}

static double score_of(const node_rec_result *r, size_t n, const char *id)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(r[i].id, id) == 0)
            return r[i].score;
    return -1;
}

/* Prerequisites may name items added later; ids and names are shared by a
 * model, its clones and their indexes, each of which may outlive the
 * others; a clone that adds items gets its own strings. */
static void test_shared_strings(void)
{
    const char *fwd[3] = {"t", "r", "s"}, *bwd[3] = {"s", "r", "t"};
    node_rec_model *a = three(bwd, "s"), *b = three(fwd, "s"), *d = three(bwd, NULL), *c = NULL;
    REQUIRE(a && b && d);
    node_rec_index *ia = NULL, *ib = NULL, *ic = NULL, *id = NULL;
    REQUIRE(node_rec_model_build(a, &ia, NULL) == 0);
    REQUIRE(node_rec_model_build(b, &ib, NULL) == 0);
    REQUIRE(node_rec_model_build(d, &id, NULL) == 0);
    node_rec_hist h[1] = {{"t", NODE_REC_OPEN, -1}};
    node_rec_result ra[5], rb[5], rd[5], rc[5];
    size_t na, nb, nd, nc;
    CHECK(node_rec_index_recommend(ia, h, 1, NULL, ra, 5, &na, NULL) == 0);
    CHECK(node_rec_index_recommend(ib, h, 1, NULL, rb, 5, &nb, NULL) == 0);
    CHECK(node_rec_index_recommend(id, h, 1, NULL, rd, 5, &nd, NULL) == 0);
    CHECK(same_lists(ra, na, rb, nb)); /* the order of adding does not matter */
    CHECK(score_of(ra, na, "r") >= 0 && score_of(rd, nd, "r") > score_of(ra, na, "r"));
    REQUIRE(node_rec_model_clone(b, &c, NULL) == 0);
    node_rec_model_free(b);
    node_rec_model_free(a);
    CHECK(node_rec_index_recommend(ib, h, 1, NULL, rb, 5, &nb, NULL) == 0);
    CHECK(same_lists(ra, na, rb, nb));
    CHECK(add_item(c, "u", "chinese", 1u << 4, "ed", 1, "r", "v", "skill-u") == 0);
    CHECK(add_item(c, "r", "math", 1u << 3, NULL, -1, "s", "u", NULL) == 0);   /* longer list */
    CHECK(add_item(c, "r", "math", 1u << 3, NULL, -1, NULL, NULL, NULL) == 0); /* shorter */
    CHECK(add_ev(c, "learner-0", "u", 1000, -1) == 0);
    REQUIRE(node_rec_model_build(c, &ic, NULL) == 0);
    node_rec_model_free(c);
    CHECK(node_rec_index_items(ic) == 4);
    CHECK(node_rec_index_find(ic, "u") == 3);
    CHECK_STR(node_rec_index_item_id(ic, 3), "u");
    CHECK(node_rec_index_recommend(ic, h, 1, NULL, rc, 5, &nc, NULL) == 0);
    CHECK(score_of(rc, nc, "r") > score_of(ra, na, "r")); /* no prerequisite any more */
    CHECK(node_rec_index_recommend(ib, h, 1, NULL, rb, 5, &nb, NULL) == 0);
    CHECK(same_lists(ra, na, rb, nb));
    node_rec_index_free(ia);
    node_rec_index_free(ib);
    node_rec_index_free(ic);
    node_rec_index_free(id);
    node_rec_model_free(d);
}

/* A snapshot builds the index the model would; it stands alone. */
static void test_snapshot(void)
{
    node_rec_model *m = school();
    REQUIRE(m);
    add_item(m, "item-12", "math", 1u << 3, "ed", 2, "item-13", "item-00", "skill-x");
    add_item(m, "item-13", "math", 1u << 3, "ed", 1, NULL, NULL, "skill-x");
    add_ev(m, "learner-0", "item-13", 5000, 1.0);
    add_ev(m, "learner-0", "item-13", 5001, 1.0);
    node_rec_snapshot *sn = NULL;
    node_rec_index *a = NULL, *b = NULL;
    REQUIRE(node_rec_model_snapshot(m, &sn, NULL) == 0);
    REQUIRE(node_rec_model_build(m, &a, NULL) == 0);
    add_ev(m, "learner-1", "item-12", 6000, -1); /* after the snapshot: not in it */
    REQUIRE(node_rec_snapshot_build(sn, &b, NULL) == 0);
    node_rec_snapshot_free(sn);
    node_rec_model_free(m);
    CHECK(node_rec_index_has_ease(a) == node_rec_index_has_ease(b));
    CHECK(node_rec_index_bytes(a) == node_rec_index_bytes(b));
    node_rec_hist hs[4][3] = {{{"item-00", NODE_REC_OPEN, -1}, {"item-01", NODE_REC_OPEN, -1}},
                              {{"item-13", NODE_REC_SCORE, 1.0}, {"item-13", NODE_REC_SCORE, 1.0}},
                              {{"item-09", NODE_REC_COMPLETE, -1}},
                              {{"nope", NODE_REC_OPEN, -1}}};
    size_t nhs[4] = {2, 2, 1, 0};
    for (int q = 0; q < 4; q++) {
        for (int meth = 0; meth < NODE_REC_NMETHODS; meth++) {
            node_rec_request req;
            node_rec_request_init(&req);
            req.method = meth;
            node_rec_result ra[10], rb[10];
            size_t na = 0, nb = 0;
            CHECK(node_rec_index_recommend(a, hs[q], nhs[q], &req, ra, 10, &na, NULL) == 0);
            CHECK(node_rec_index_recommend(b, hs[q], nhs[q], &req, rb, 10, &nb, NULL) == 0);
            CHECK(na > 0 && same_lists(ra, na, rb, nb));
        }
    }
    node_rec_index_free(a);
    node_rec_index_free(b);
    node_rec_snapshot_free(NULL);
}

static int parse_fails(const char *csv, const char *want)
{
    node_rec_log *log = NULL;
    cs_err err = {0};
    node_rec_log_new(&log, &err);
    int rc = node_rec_log_parse(log, csv, strlen(csv), "x.csv", 1, &err);
    node_rec_log_free(log);
    if (rc == 0) {
        fprintf(stderr, "parsed but should not: %s\n", csv);
        return 0;
    }
    if (!strstr(err.msg, want)) {
        fprintf(stderr, "message \"%s\" lacks \"%s\"\n", err.msg, want);
        return 0;
    }
    return 1;
}

static void test_csv(void)
{
    CHECK(parse_fails("", "empty file"));
    CHECK(parse_fails("user,item,ts\n", "x.csv:1: header"));
    CHECK(parse_fails("learner,item,ts\na,b\n", "x.csv:2: too few columns"));
    CHECK(parse_fails("learner,item,ts\na,b,1,2\n", "x.csv:2: too many columns"));
    CHECK(parse_fails("learner,item,ts\n\na,b,1\na,b,soon\n", "x.csv:4: ts is not an integer"));
    CHECK(parse_fails("learner,item,ts,score\na,b,1,1.5\n", "x.csv:2: score"));
    CHECK(parse_fails("learner,item,ts,score\na,b,1,nan\n", "score"));
    CHECK(parse_fails("learner,item,ts\n,b,1\n", "learner empty"));
    CHECK(parse_fails("learner,item,ts\na,\"b,1\n", "unterminated"));
    CHECK(parse_fails("learner,item,ts\na,b\"c,1\n", "quote inside"));
    CHECK(parse_fails("learner,item,ts\na,\"b\"c,1\n", "after a closing quote"));
    CHECK(parse_fails("learner,item,ts\na,b,99999999999999999999999\n", "ts"));
    char nul[] = "learner,item,ts\na,b\0,1\n";
    {
        node_rec_log *log = NULL;
        cs_err err = {0};
        node_rec_log_new(&log, &err);
        CHECK(node_rec_log_parse(log, nul, sizeof nul - 1, "x.csv", 1, &err) != 0 &&
              strstr(err.msg, "NUL"));
        node_rec_log_free(log);
    }
    static char longl[NODE_REC_CSV_LINE_MAX + 64];
    int o = snprintf(longl, sizeof longl, "learner,item,ts\nabc,");
    memset(longl + o, 'x', NODE_REC_CSV_LINE_MAX);
    longl[o + NODE_REC_CSV_LINE_MAX] = '\0';
    CHECK(parse_fails(longl, "x.csv:2: line longer"));
    char longid[300];
    snprintf(longid, sizeof longid, "learner,item,ts\n%0200d,b,1\n", 7);
    CHECK(parse_fails(longid, "x.csv:2: learner"));

    /* Good input: BOM, CRLF, quotes, empty score, blank lines. */
    const char *good = "\xEF\xBB\xBFlearner,item,ts,score\r\n\"a,1\",\"say "
                       "\"\"hi\"\"\",5,\r\n\r\nb,x,-3,0.25\nb,x,4\n";
    node_rec_log *log = NULL;
    cs_err err = {0};
    REQUIRE(node_rec_log_new(&log, &err) == 0);
    CHECK(node_rec_log_parse(log, good, strlen(good), "g.csv", 1, &err) == 0);
    CHECK_EQ_INT(node_rec_log_rows(log), 3);
    CHECK_EQ_INT(node_rec_log_learners(log), 2);
    CHECK_STR(node_rec_log_learner_id(log, 0), "a,1");
    CHECK_STR(node_rec_log_item_id(log, 0), "say \"hi\"");
    const char *items =
        "item,subject,grades,unit,prerequisites,extra\nx,math,3;4,2,say \"\"hi\"\",whatever\n";
    CHECK(node_rec_log_parse_items(log, items, strlen(items), "i.csv", &err) !=
          0); /* quote inside */
    items = "item,subject,grades,unit,prerequisites,extra\nx,math,3;4,2,a;b,whatever\n";
    CHECK(node_rec_log_parse_items(log, items, strlen(items), "i.csv", &err) == 0);
    CHECK_STR(node_rec_log_item_subject(log, 1), "math");
    items = "item,grades\nx,40\n";
    CHECK(node_rec_log_parse_items(log, items, strlen(items), "i.csv", &err) != 0 &&
          strstr(err.msg, "i.csv:2:"));
    node_rec_log_free(log);
}

/* Over 1000 items the neighbours are built by two threads (rec_build_knn):
 * the same answer as the one-thread build of a school, and a run that
 * tests/tsan.sh watches for races. */
static void test_knn_threads(void)
{
    node_rec_model *m = NULL;
    REQUIRE(node_rec_model_new(&m, NULL, NULL) == 0);
    char id[32], lid[32];
    for (int i = 0; i < 1500; i++) {
        snprintf(id, sizeof id, "big-%04d", i);
        REQUIRE(add_item(m, id, "math", 1u << 3, NULL, -1, NULL, NULL, NULL) == 0);
    }
    /* 40 learners walk big-0000 .. big-0019 in order: big-0001 follows big-0000. */
    for (int l = 0; l < 40; l++) {
        snprintf(lid, sizeof lid, "walker-%d", l);
        for (int j = 0; j < 20; j++) {
            snprintf(id, sizeof id, "big-%04d", j);
            CHECK(add_ev(m, lid, id, 1000 + l * 100 + j, -1) == 0);
        }
    }
    node_rec_index *ix = NULL;
    REQUIRE(node_rec_model_build(m, &ix, NULL) == 0);
    node_rec_hist h = {"big-0000", NODE_REC_OPEN, -1};
    node_rec_request req;
    node_rec_request_init(&req);
    req.method = NODE_REC_ITEMKNN;
    node_rec_result r[5];
    size_t n = 0;
    CHECK(node_rec_index_recommend(ix, &h, 1, &req, r, 5, &n, NULL) == 0);
    CHECK(n > 0);
    int found = 0;
    for (size_t i = 0; i < n; i++)
        found |= strcmp(r[i].id, "big-0001") == 0;
    CHECK(found);
    node_rec_index_free(ix);
    node_rec_model_free(m);
}

int main(void)
{
    RUN(test_counterfactual);
    RUN(test_relabel_model);
    RUN(test_metrics_known);
    RUN(test_relabel_metrics);
    RUN(test_cold_start);
    RUN(test_mastery);
    RUN(test_clone_and_limits);
    RUN(test_shared_strings);
    RUN(test_snapshot);
    RUN(test_csv);
    RUN(test_knn_threads);
    return TEST_SUMMARY();
}
