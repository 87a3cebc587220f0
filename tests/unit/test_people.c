/*
 * test_people.c - people.db: sealed names, secrets, sessions, consent, the
 * outbox's acknowledgements, and the differential-privacy aggregates and
 * their noise (statistics under a fixed seed).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "node/people.h"
#include "platform/file.h"
#include "test.h"

static char dir[] = "/tmp/cistern-people-XXXXXX";

static node_people *fresh(void)
{
    char cmd[128];
    node_people *p = NULL;
    snprintf(cmd, sizeof cmd, "rm -f %s/people.db* %s/secret.key", dir, dir);
    if (system(cmd) != 0)
        return NULL;
    return node_people_open(&p, dir, NULL) == 0 ? p : NULL;
}

/* 1 if needle occurs in any people.db* file. */
static int in_db_files(const char *needle)
{
    static const char *names[] = {"people.db", "people.db-wal"};
    for (size_t i = 0; i < 2; i++) {
        char path[256], *buf = NULL;
        size_t len = 0;
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        if (cs_file_read_all(path, 64 << 20, &buf, &len, NULL) != 0)
            continue;
        int found = memmem(buf, len, needle, strlen(needle)) != NULL;
        free(buf);
        if (found)
            return 1;
    }
    return 0;
}

static void test_users_and_sessions(void)
{
    node_people *p = fresh();
    REQUIRE(p);
    int64_t t = 0, cid = 0, sid = 0;
    char code[8], tok[NODE_TOKEN_HEX], csrf[NODE_TOKEN_HEX], csrf2[NODE_TOKEN_HEX];
    node_user u;
    cs_err err = {0};
    CHECK(node_people_user_add(p, NODE_TEACHER, "Wang Fang", "correct horse", 0, &t, &err) == 0);
    CHECK(node_people_user_add(p, NODE_TEACHER, " wang fang ", "another one", 0, NULL, &err) == CS_EEXIST);
    CHECK(node_people_user_add(p, NODE_TEACHER, "Short", "1234", 0, NULL, &err) == CS_EINVAL);
    CHECK(node_people_user_add(p, NODE_TEACHER, "bad\nname", "long enough", 0, NULL, &err) == CS_EINVAL);
    CHECK(node_people_user_add(p, NODE_STUDENT, "Kid", "1234", 0, NULL, &err) == CS_EINVAL); /* no class */
    CHECK(node_people_class_add(p, "Class 1", t, &cid, code, &err) == 0);
    CHECK(strlen(code) == 6);
    CHECK(node_people_user_add(p, NODE_STUDENT, "Liu Yang", "1234", cid, &sid, &err) == 0);
    CHECK(node_people_user_add(p, NODE_STUDENT, "Liu Yang", "5678", cid, NULL, &err) == CS_EEXIST);
    CHECK(node_people_user_add(p, NODE_STUDENT, "Kid", "1234", 999, NULL, &err) != 0);

    CHECK(node_people_login(p, NULL, "Wang Fang", "correct horse", &u, tok, csrf, &err) == 0);
    CHECK(u.id == t && u.role == NODE_TEACHER && strcmp(u.name, "Wang Fang") == 0);
    CHECK(node_people_login(p, NULL, "Wang Fang", "wrong horse", &u, tok, csrf, &err) == CS_EAUTH);
    CHECK(node_people_login(p, NULL, "Nobody", "correct horse", &u, tok, csrf, &err) == CS_EAUTH);
    /* A student needs the class code, and staff must not use one. */
    CHECK(node_people_login(p, NULL, "Liu Yang", "1234", &u, tok, csrf, &err) == CS_EAUTH);
    char lower[8];
    for (int i = 0; i < 7; i++)
        lower[i] = (char)(code[i] >= 'A' && code[i] <= 'Z' ? code[i] + 32 : code[i]);
    CHECK(node_people_login(p, lower, "liu yang", "1234", &u, tok, csrf, &err) == 0);
    CHECK(u.role == NODE_STUDENT && u.class_id == cid && strlen(u.learner) == 32);
    node_user back;
    CHECK(node_people_session(p, tok, 100, 1000, &back, csrf2, &err) == 0);
    CHECK(back.id == u.id && strcmp(csrf, csrf2) == 0);
    CHECK(node_people_session(p, "00", 100, 1000, &back, csrf2, &err) == CS_EAUTH);
    /* Time passes beyond the idle limit: the session is gone for good. */
    char later[32];
    snprintf(later, sizeof later, "%lld", (long long)time(NULL) + 200);
    setenv("CISTERN_FAKE_NOW", later, 1);
    CHECK(node_people_session(p, tok, 100, 1000, &back, csrf2, &err) == CS_EAUTH);
    unsetenv("CISTERN_FAKE_NOW");
    CHECK(node_people_session(p, tok, 100, 1000, &back, csrf2, &err) == CS_EAUTH);
    /* A new password ends the sessions. */
    CHECK(node_people_login(p, NULL, "Wang Fang", "correct horse", &u, tok, csrf, &err) == 0);
    CHECK(node_people_user_passwd(p, t, "battery staple", &err) == 0);
    CHECK(node_people_session(p, tok, 100, 1000, &back, csrf2, &err) == CS_EAUTH);
    CHECK(node_people_login(p, NULL, "Wang Fang", "battery staple", &u, tok, csrf, &err) == 0);
    CHECK(node_people_logout(p, tok, &err) == 0);
    CHECK(node_people_session(p, tok, 100, 1000, &back, csrf2, &err) == CS_EAUTH);

    node_people_close(p);
    CHECK(!in_db_files("Wang Fang"));
    CHECK(!in_db_files("Liu Yang"));
    CHECK(!in_db_files("liu yang"));
    CHECK(!in_db_files("correct horse"));
    CHECK(in_db_files("Class 1")); /* the probe does find plain text */
}

static void test_consent_and_report(void)
{
    node_people *p = fresh();
    REQUIRE(p);
    int64_t t = 0, cid = 0, a = 0, b = 0;
    char code[8];
    int rec = 0;
    node_user ua, ub;
    json_t *rep = NULL;
    cs_err err = {0};
    REQUIRE(node_people_user_add(p, NODE_TEACHER, "T", "teacher pw", 0, &t, &err) == 0);
    REQUIRE(node_people_class_add(p, "C", t, &cid, code, &err) == 0);
    REQUIRE(node_people_user_add(p, NODE_STUDENT, "A", "1111", cid, &a, &err) == 0);
    REQUIRE(node_people_user_add(p, NODE_STUDENT, "B", "2222", cid, &b, &err) == 0);
    node_people_user_get(p, a, &ua, &err);
    node_people_user_get(p, b, &ub, &err);
    CHECK(node_people_event_add(p, &ua, "r1", NODE_EV_OPEN, NAN, 1000, &rec, &err) == 0 && rec == 0);
    CHECK(node_people_consent_set(p, a, 1, &err) == 0);
    CHECK(node_people_event_add(p, &ua, "r1", NODE_EV_OPEN, NAN, 1000, &rec, &err) == 0 && rec == 1);
    CHECK(node_people_event_add(p, &ua, "r1", NODE_EV_COMPLETE, NAN, 1001, &rec, &err) == 0 && rec == 1);
    CHECK(node_people_event_add(p, &ub, "r1", NODE_EV_OPEN, NAN, 1002, &rec, &err) == 0 && rec == 0);
    CHECK(node_people_event_add(p, &ua, "r1", NODE_EV_SCORE, 1.5, 1003, &rec, &err) == CS_EINVAL);
    CHECK(node_people_event_add(p, NULL, "r1", NODE_EV_OPEN, NAN, 1003, &rec, &err) == 0 && rec == 0);
    /* Withdrawn consent takes effect at once, even with the old user record. */
    CHECK(node_people_consent_set(p, a, 0, &err) == 0);
    CHECK(node_people_event_add(p, &ua, "r2", NODE_EV_OPEN, NAN, 1004, &rec, &err) == 0 && rec == 0);
    REQUIRE(node_people_class_report(p, cid, &rep, &err) == 0);
    json_t *r0 = json_array_get(json_object_get(rep, "resources"), 0);
    CHECK(json_array_size(json_object_get(rep, "resources")) == 1);
    CHECK_STR(json_string_value(json_object_get(r0, "id")), "r1");
    CHECK(json_integer_value(json_object_get(r0, "opened")) == 1);
    CHECK(json_integer_value(json_object_get(r0, "completed")) == 1);
    CHECK(json_integer_value(json_object_get(rep, "students")) == 2);
    json_decref(rep);
    /* Retention and deletion. */
    int64_t removed = 0;
    CHECK(node_people_purge(p, 1001 + 86400, 1, &removed, &err) == 0 && removed == 1);
    CHECK(node_people_learner_delete(p, ua.learner, "test", 5000, &err) == 0);
    CHECK(node_people_user_get(p, a, &ua, &err) == CS_ENOENT);
    json_t *aud = NULL;
    CHECK(node_people_audit_list(p, &aud, &err) == 0 && json_array_size(json_object_get(aud, "audit")) == 1);
    json_decref(aud);
    node_people_close(p);
}

static void test_outbox_ack(void)
{
    node_people *p = fresh();
    REQUIRE(p);
    cs_err err = {0};
    json_t *recs = NULL, *body = json_pack("{s:i}", "x", 1);
    int64_t count = 0, pending = 0, acked = 0;
    for (int i = 0; i < 5; i++)
        CHECK(node_people_outbox_add(p, "feedback", body, 100 + i, &err) == 0);
    CHECK(node_people_feedback_add(p, NODE_TEACHER, "r", 9, NULL, NULL, 1, &err) == CS_EINVAL);
    CHECK(node_people_feedback_add(p, NODE_TEACHER, "r", 0, "bogus", NULL, 1, &err) == CS_EINVAL);
    CHECK(node_people_feedback_add(p, NODE_TEACHER, "r", 4, "broken", "<b>", 1, &err) == 0);
    CHECK(node_people_outbox_pending(p, 3, 1 << 20, &recs, &count, &err) == 0);
    CHECK(json_array_size(recs) == 3 && count == 6);
    CHECK(json_integer_value(json_object_get(json_array_get(recs, 0), "seq")) == 1);
    json_decref(recs);
    CHECK(node_people_outbox_ack(p, 4, &err) == 0);
    CHECK(node_people_outbox_state(p, &pending, &acked, &err) == 0 && pending == 2 && acked == 4);
    CHECK(node_people_outbox_ack(p, 2, &err) == 0); /* an older ack changes nothing */
    CHECK(node_people_outbox_state(p, &pending, &acked, &err) == 0 && pending == 2 && acked == 4);
    CHECK(node_people_outbox_pending(p, 10, 1 << 20, &recs, &count, &err) == 0);
    json_t *last = json_array_get(recs, 1);
    CHECK(json_integer_value(json_object_get(last, "seq")) == 6);
    CHECK_STR(json_string_value(json_object_get(json_object_get(last, "body"), "comment")), "<b>");
    json_decref(recs);
    json_decref(body);
    node_people_close(p);
}

static void test_dlaplace_stats(void)
{
    node_rng r, r2;
    const int n = 200000;
    double scale = 4.0, sum = 0, sq = 0;
    long pos = 0, neg = 0;
    node_rng_seed(&r, 42);
    node_rng_seed(&r2, 42);
    int same = 1;
    for (int i = 0; i < n; i++) {
        int64_t x = node_dlaplace(&r, scale);
        same &= x == node_dlaplace(&r2, scale);
        sum += (double)x;
        sq += (double)x * (double)x;
        pos += x > 0;
        neg += x < 0;
    }
    double q = exp(-1.0 / scale), var = 2 * q / ((1 - q) * (1 - q));
    double mean = sum / n, v = sq / n - mean * mean;
    CHECK(same); /* a fixed seed repeats */
    CHECK(fabs(mean) < 0.05);
    CHECK(fabs(v - var) / var < 0.03);
    CHECK(fabs((double)(pos - neg)) / n < 0.01); /* symmetric */
    /* P(0) = (1 - q) / (1 + q) */
    node_rng_seed(&r, 7);
    long zeros = 0;
    for (int i = 0; i < n; i++)
        zeros += node_dlaplace(&r, scale) == 0;
    CHECK(fabs((double)zeros / n - (1 - q) / (1 + q)) < 0.01);
    node_rng_seed(&r, 1);
    CHECK(node_dlaplace(&r, 0) == 0);
}

static void test_aggregate(void)
{
    node_people *p = fresh();
    REQUIRE(p);
    cs_err err = {0};
    int64_t t = 0, cid = 0;
    char code[8], name[16], res[16];
    int rec = 0, records = 0;
    REQUIRE(node_people_user_add(p, NODE_TEACHER, "T", "teacher pw", 0, &t, &err) == 0);
    REQUIRE(node_people_class_add(p, "C", t, &cid, code, &err) == 0);
    /* Monday 2026-11-09 00:00 UTC = 1794182400: 12 learners in that week.
     * Learner 0 opens 20 resources; the others open r0..r2, half complete r0. */
    int64_t monday = 1794182400;
    for (int l = 0; l < 12; l++) {
        int64_t id = 0;
        node_user u;
        snprintf(name, sizeof name, "L%d", l);
        REQUIRE(node_people_user_add(p, NODE_STUDENT, name, "1234", cid, &id, &err) == 0);
        node_people_consent_set(p, id, 1, &err);
        node_people_user_get(p, id, &u, &err);
        int nres = l == 0 ? 20 : 3;
        for (int k = 0; k < nres; k++) {
            snprintf(res, sizeof res, "r%02d", k);
            node_people_event_add(p, &u, res, NODE_EV_OPEN, NAN, monday + 3600 + k, &rec, &err);
            node_people_event_add(p, &u, res, NODE_EV_OPEN, NAN, monday + 7200 + k, &rec, &err);
        }
        if (l % 2 == 0)
            node_people_event_add(p, &u, "r00", NODE_EV_COMPLETE, NAN, monday + 9000, &rec, &err);
    }
    node_privacy pv;
    node_privacy_defaults(&pv);
    pv.epsilon = 1e9; /* no noise: check the counting */
    pv.max_resources = 8;
    pv.min_count = 2;
    node_rng rng;
    node_rng_seed(&rng, 3);
    /* Still inside the week: nothing released. */
    CHECK(node_people_aggregate(p, monday + 86400, &pv, &rng, &records, &err) == 0 && records == 0);
    CHECK(node_people_aggregate(p, monday + 8 * 86400, &pv, &rng, &records, &err) == 0);
    /* r00..r02: 12 learners; r03..r07: learner 0 alone (1 < min_count: suppressed);
     * r08..r19: beyond learner 0's bound of 8. */
    CHECK(records == 3);
    json_t *recs = NULL;
    int64_t count = 0;
    REQUIRE(node_people_outbox_pending(p, 100, 1 << 20, &recs, &count, &err) == 0);
    size_t i;
    json_t *r;
    json_array_foreach(recs, i, r)
    {
        json_t *b = json_object_get(r, "body");
        const char *id = json_string_value(json_object_get(b, "resource"));
        CHECK_STR(json_string_value(json_object_get(r, "kind")), "usage");
        CHECK_STR(json_string_value(json_object_get(b, "week")), "2026-11-09");
        CHECK(json_integer_value(json_object_get(b, "learners")) == 12);
        CHECK(json_integer_value(json_object_get(b, "completions")) == (strcmp(id, "r00") == 0 ? 6 : 0));
        CHECK(!json_object_get(b, "learner")); /* nothing per learner */
    }
    json_decref(recs);
    /* A week is released once. */
    CHECK(node_people_aggregate(p, monday + 9 * 86400, &pv, &rng, &records, &err) == 0 && records == 0);
    node_people_close(p);
}

int main(void)
{
    if (!mkdtemp(dir))
        return 1;
    RUN(test_users_and_sessions);
    RUN(test_consent_and_report);
    RUN(test_outbox_ack);
    RUN(test_dlaplace_stats);
    RUN(test_aggregate);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "cannot remove %s\n", dir);
    return TEST_SUMMARY();
}
