/*
 * people.h - accounts, classes, lessons, learner events, feedback, the audit
 * log and the outbox: DATA/people.db (docs/accounts.md, docs/outbox.md).
 *
 * Names are sealed with AES-256-GCM under a key derived from DATA/secret.key
 * and found at sign-in through a keyed blind index; secrets (passwords, PINs,
 * picture sequences) are PBKDF2-HMAC-SHA256 hashes; learner events carry a
 * pseudonymous learner id only.  A node_people handle is safe to share
 * between threads: every call takes its lock, and the slow KDF runs outside it.
 */
#ifndef NODE_PEOPLE_H
#define NODE_PEOPLE_H

#include <jansson.h>
#include <stdint.h>

#include "platform/error.h"

typedef struct node_people node_people;

enum node_role { NODE_GUEST = 0, NODE_STUDENT = 1, NODE_TEACHER = 2, NODE_ADMIN = 3 };
const char *node_role_name(int role);
int node_role_parse(const char *s); /* -1 when unknown */

enum node_event_kind { NODE_EV_OPEN = 1, NODE_EV_PROGRESS = 2, NODE_EV_COMPLETE = 3, NODE_EV_SCORE = 4 };
int node_event_kind_parse(const char *s); /* -1 when unknown */
const char *node_event_kind_name(int kind);

#define NODE_NAME_MAX 128    /* bytes of a person's or class's name */
#define NODE_SECRET_MAX 256  /* bytes of a password */
#define NODE_LEARNER_HEX 33  /* pseudonymous learner id: 32 hex digits + NUL */
#define NODE_TOKEN_HEX 65
#define NODE_PBKDF2_ITERATIONS 200000u

typedef struct node_user {
    int64_t id;
    int role;
    char name[NODE_NAME_MAX + 1];
    int64_t class_id; /* students: their class; 0 otherwise */
    char learner[NODE_LEARNER_HEX];
    int consent;
} node_user;

/* Open (creating when absent) DATA/people.db and DATA/secret.key. */
int node_people_open(node_people **out, const char *data_dir, cs_err *err);
void node_people_close(node_people *p); /* NULL ok */

/* Users.  Staff have class_id 0; students belong to a class.  CS_EEXIST when
 * the name is taken in that scope. */
int node_people_user_add(node_people *p, int role, const char *name, const char *secret, int64_t class_id,
                         int64_t *id, cs_err *err);
int node_people_user_get(node_people *p, int64_t id, node_user *out, cs_err *err);
/* Staff (class_id 0) or a class's student by name (case-insensitive ASCII). */
int node_people_user_find(node_people *p, const char *name, int64_t class_id, node_user *out, cs_err *err);
int node_people_user_by_learner(node_people *p, const char *learner, node_user *out, cs_err *err);
int node_people_user_passwd(node_people *p, int64_t id, const char *secret, cs_err *err);
/* Remove a user; for a student also every event recorded about them. */
int node_people_user_remove(node_people *p, int64_t id, cs_err *err);
/* {"users":[{"id","name","role","class"}]}; role < 0 = all, class_id < 0 = any. */
int node_people_user_list(node_people *p, int role, int64_t class_id, json_t **out, cs_err *err);

/* Sessions.  Sign in: CS_EAUTH for an unknown name or a wrong secret (the
 * same answer, after the same KDF work).  class_code NULL = staff. */
int node_people_login(node_people *p, const char *class_code, const char *name, const char *secret,
                      node_user *user, char token[NODE_TOKEN_HEX], char csrf[NODE_TOKEN_HEX], cs_err *err);
/* The session's user and CSRF token; CS_EAUTH when unknown or expired
 * (idle_s since last use, max_s since sign-in). */
int node_people_session(node_people *p, const char *token, int64_t idle_s, int64_t max_s, node_user *user,
                        char csrf[NODE_TOKEN_HEX], cs_err *err);
int node_people_logout(node_people *p, const char *token, cs_err *err);

/* Classes.  A class code is 6 characters from an unambiguous alphabet. */
int node_people_class_add(node_people *p, const char *name, int64_t teacher, int64_t *id, char code[8], cs_err *err);
/* teacher 0 = every class; with_code adds the join codes. */
int node_people_class_list(node_people *p, int64_t teacher, int64_t only_id, int with_code, json_t **out,
                           cs_err *err);
/* The class's teacher id (CS_ENOENT when no such class). */
int node_people_class_teacher(node_people *p, int64_t class_id, int64_t *teacher, cs_err *err);
int node_people_class_by_code(node_people *p, const char *code, int64_t *id, cs_err *err);
int node_people_class_students(node_people *p, int64_t class_id, json_t **out, cs_err *err);
int node_people_consent_set(node_people *p, int64_t student, int consent, cs_err *err);

/* Lessons: an ordered list of resource ids for a class. */
int node_people_lesson_add(node_people *p, int64_t class_id, const char *title, const json_t *resources,
                           int64_t *id, cs_err *err);
int node_people_lesson_class(node_people *p, int64_t lesson, int64_t *class_id, cs_err *err);
int node_people_lesson_remove(node_people *p, int64_t lesson, cs_err *err);
/* {"lessons":[{"id","title","resources":[ids]}]} */
int node_people_lesson_list(node_people *p, int64_t class_id, json_t **out, cs_err *err);

/* Events: recorded only for a student with guardian consent (*recorded
 * says whether it was).  value is in [0, 1] or NAN. */
int node_people_event_add(node_people *p, const node_user *u, const char *resource, int kind, double value,
                          int64_t now, int *recorded, cs_err *err);
/* The class report: per resource, how many students opened and completed. */
int node_people_class_report(node_people *p, int64_t class_id, json_t **out, cs_err *err);
/* Every recorded event, oldest first (at most the newest max), for the
 * recommender's model; cb returning non-zero stops the walk. */
typedef int (*node_event_cb)(void *ctx, const char *learner, const char *resource, int kind, double value,
                             int64_t ts);
int node_people_event_foreach(node_people *p, size_t max, node_event_cb cb, void *ctx, cs_err *err);
/* Up to max of a learner's most recent distinct resources, newest first. */
int node_people_learner_recent(node_people *p, const char *learner, size_t max, json_t **out, cs_err *err);

/* Feedback (rating 0 = none; report NULL = none) goes to the outbox in the
 * same transaction. */
int node_people_feedback_add(node_people *p, int role, const char *resource, int rating, const char *report,
                             const char *comment, int64_t now, cs_err *err);

/* Audit log: who read learner data.  actor e.g. "user:3" or "cli". */
int node_people_audit(node_people *p, const char *actor, const char *action, const char *subject, int64_t now,
                      cs_err *err);
int node_people_audit_list(node_people *p, json_t **out, cs_err *err);

/* Learner data: everything held about one student (export), or all of it
 * removed (delete).  Both are audited. */
int node_people_learner_export(node_people *p, const char *learner, const char *actor, int64_t now, json_t **out,
                               cs_err *err);
int node_people_learner_delete(node_people *p, const char *learner, const char *actor, int64_t now, cs_err *err);
/* Drop events and audit entries older than days; *removed counts events. */
int node_people_purge(node_people *p, int64_t now, int64_t days, int64_t *removed, cs_err *err);

/* ---- the outbox (docs/outbox.md) ---- */

/* Add a record of kind with a JSON body (not stolen). */
int node_people_outbox_add(node_people *p, const char *kind, const json_t *body, int64_t now, cs_err *err);
/* Records after the acknowledged sequence, oldest first, at most max_records
 * and about max_bytes of bodies: [{"seq","uuid","kind","created","body"}]. */
int node_people_outbox_pending(node_people *p, size_t max_records, size_t max_bytes, json_t **out,
                               int64_t *count, cs_err *err);
/* The hub acknowledged every record up to seq: prune them. */
int node_people_outbox_ack(node_people *p, int64_t seq, cs_err *err);
int node_people_outbox_state(node_people *p, int64_t *pending, int64_t *acked, cs_err *err);

/* Differential privacy for the weekly usage aggregates. */
typedef struct node_privacy {
    double epsilon;        /* per weekly release (outbox.epsilon, default 1.0) */
    int max_resources;     /* resources one learner counts toward per week (default 8) */
    int min_count;         /* noisy counts below this are suppressed (default 5) */
} node_privacy;
void node_privacy_defaults(node_privacy *pv);

/* A small seeded generator (xoshiro256**): the noise is reproducible in
 * tests; the daemon seeds it from cs_random. */
typedef struct node_rng {
    uint64_t s[4];
} node_rng;
void node_rng_seed(node_rng *r, uint64_t seed);
uint64_t node_rng_next(node_rng *r);
/* A draw from the discrete Laplace distribution, P(k) ∝ exp(-|k| / scale). */
int64_t node_dlaplace(node_rng *r, double scale);

/* For every week (Monday 00:00 UTC) that has ended and is not yet
 * aggregated: per resource, distinct learners and completions, each learner
 * counted toward at most max_resources resources, discrete Laplace noise of
 * scale 2 * max_resources / epsilon added, counts below min_count
 * suppressed; one "usage" outbox record per resource-week kept. */
int node_people_aggregate(node_people *p, int64_t now, const node_privacy *pv, node_rng *rng, int *records,
                          cs_err *err);

#endif
