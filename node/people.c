/*
 * people.c - accounts, sessions, classes, lessons, learner events, feedback,
 * audit and the outbox in DATA/people.db.  See people.h and docs/accounts.md.
 */
#include "node/people.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "platform/crypto.h"
#include "platform/file.h"
#include "platform/time.h"

#define PEOPLE_BUSY_MS 5000
#define SALT_LEN 16
#define HASH_LEN 32

struct node_people {
    sqlite3 *db;
    pthread_mutex_t lock;
    uint8_t name_key[CS_AEAD_KEY]; /* seals names */
    uint8_t index_key[32];         /* blind index of names */
};

static const char schema[] =
    "PRAGMA foreign_keys = ON;"
    "CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);"
    "CREATE TABLE IF NOT EXISTS classes(id INTEGER PRIMARY KEY, name TEXT NOT NULL, code TEXT NOT NULL UNIQUE,"
    "  teacher INTEGER, created INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS users(id INTEGER PRIMARY KEY, role INTEGER NOT NULL, login BLOB NOT NULL UNIQUE,"
    "  name BLOB NOT NULL, secret TEXT NOT NULL, class INTEGER REFERENCES classes(id) ON DELETE CASCADE,"
    "  learner TEXT UNIQUE, consent INTEGER NOT NULL DEFAULT 0, created INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS sessions(token BLOB PRIMARY KEY, user INTEGER NOT NULL REFERENCES users(id)"
    "  ON DELETE CASCADE, csrf TEXT NOT NULL, created INTEGER NOT NULL, seen INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS lessons(id INTEGER PRIMARY KEY, class INTEGER NOT NULL REFERENCES classes(id)"
    "  ON DELETE CASCADE, title TEXT NOT NULL, created INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS lesson_items(lesson INTEGER NOT NULL REFERENCES lessons(id) ON DELETE CASCADE,"
    "  pos INTEGER NOT NULL, resource TEXT NOT NULL, PRIMARY KEY(lesson, pos));"
    "CREATE TABLE IF NOT EXISTS events(id INTEGER PRIMARY KEY, learner TEXT NOT NULL, resource TEXT NOT NULL,"
    "  kind INTEGER NOT NULL, value REAL, ts INTEGER NOT NULL);"
    "CREATE INDEX IF NOT EXISTS events_learner ON events(learner, ts);"
    "CREATE INDEX IF NOT EXISTS events_ts ON events(ts);"
    "CREATE TABLE IF NOT EXISTS feedback(id INTEGER PRIMARY KEY, resource TEXT NOT NULL, rating INTEGER,"
    "  report TEXT, comment TEXT, role INTEGER NOT NULL, ts INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS audit(id INTEGER PRIMARY KEY, ts INTEGER NOT NULL, actor TEXT NOT NULL,"
    "  action TEXT NOT NULL, subject TEXT NOT NULL);"
    "CREATE TABLE IF NOT EXISTS outbox(seq INTEGER PRIMARY KEY AUTOINCREMENT, uuid TEXT NOT NULL UNIQUE,"
    "  kind TEXT NOT NULL, created INTEGER NOT NULL, body TEXT NOT NULL);";

/* ---- small helpers ---- */

static int db_err(node_people *p, cs_err *err, const char *what)
{
    int code = sqlite3_errcode(p->db);
    if (code == SQLITE_FULL)
        return cs_err_set(err, CS_ENOSPC, "people.db: %s: disk full", what);
    if (code == SQLITE_BUSY || code == SQLITE_LOCKED)
        return cs_err_set(err, CS_EBUSY, "people.db: %s: busy", what);
    return cs_err_set(err, CS_EDB, "people.db: %s: %s", what, sqlite3_errmsg(p->db));
}

static int prep(node_people *p, const char *sql, sqlite3_stmt **st, cs_err *err)
{
    if (sqlite3_prepare_v2(p->db, sql, -1, st, NULL) != SQLITE_OK)
        return db_err(p, err, "prepare");
    return 0;
}

/* Step a statement that returns no row, then finalize it. */
static int run(node_people *p, sqlite3_stmt *st, cs_err *err, const char *what)
{
    int rc = sqlite3_step(st);
    int out = 0;
    if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
        if (sqlite3_extended_errcode(p->db) == SQLITE_CONSTRAINT_UNIQUE ||
            sqlite3_extended_errcode(p->db) == SQLITE_CONSTRAINT_PRIMARYKEY)
            out = cs_err_set(err, CS_EEXIST, "%s: already exists", what);
        else
            out = db_err(p, err, what);
    }
    sqlite3_finalize(st);
    return out;
}

static int exec(node_people *p, const char *sql, cs_err *err)
{
    char *msg = NULL;
    if (sqlite3_exec(p->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        int rc = db_err(p, err, msg ? msg : sql);
        sqlite3_free(msg);
        return rc;
    }
    return 0;
}

static int begin(node_people *p, cs_err *err)
{
    return exec(p, "BEGIN IMMEDIATE", err);
}

static int end(node_people *p, int rc, cs_err *err)
{
    if (rc == 0 && (rc = exec(p, "COMMIT", err)) == 0)
        return 0;
    exec(p, "ROLLBACK", NULL);
    return rc;
}

static void lock(node_people *p)
{
    pthread_mutex_lock(&p->lock);
}

static void unlock(node_people *p)
{
    pthread_mutex_unlock(&p->lock);
}

const char *node_role_name(int role)
{
    switch (role) {
    case NODE_STUDENT:
        return "student";
    case NODE_TEACHER:
        return "teacher";
    case NODE_ADMIN:
        return "admin";
    default:
        return "guest";
    }
}

int node_role_parse(const char *s)
{
    static const char *names[] = {"guest", "student", "teacher", "admin"};
    for (int i = 0; s && i < 4; i++)
        if (strcmp(s, names[i]) == 0)
            return i;
    return -1;
}

static const char *kind_names[] = {NULL, "open", "progress", "complete", "score"};

int node_event_kind_parse(const char *s)
{
    for (int i = 1; s && i < 5; i++)
        if (strcmp(s, kind_names[i]) == 0)
            return i;
    return -1;
}

const char *node_event_kind_name(int kind)
{
    return kind >= 1 && kind <= 4 ? kind_names[kind] : "unknown";
}

static int utf8_ok(const char *s)
{
    json_t *probe = json_string(s); /* jansson checks UTF-8 */
    json_decref(probe);
    return probe != NULL;
}

/* A name must be 1..NODE_NAME_MAX bytes of valid UTF-8 with no control
 * characters; it is kept exactly as typed (rendering escapes it). */
static int name_ok(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (n == 0 || n > NODE_NAME_MAX)
        return 0;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
            return 0;
    return utf8_ok(s);
}

/* Blind index: HMAC(index key, scope NUL name with ASCII folded and trimmed). */
static void login_index(node_people *p, int64_t class_id, const char *name, uint8_t out[32])
{
    char buf[NODE_NAME_MAX + 64];
    int n = class_id ? snprintf(buf, sizeof buf, "class:%lld", (long long)class_id) : snprintf(buf, sizeof buf, "staff");
    size_t at = (size_t)n + 1;
    buf[n] = 0;
    while (*name == ' ')
        name++;
    size_t len = strlen(name);
    while (len && name[len - 1] == ' ')
        len--;
    for (size_t i = 0; i < len && at < sizeof buf; i++)
        buf[at++] = (char)tolower((unsigned char)name[i]);
    cs_hmac_sha256(p->index_key, sizeof p->index_key, buf, at, out);
    cs_wipe(buf, sizeof buf);
}

static int seal_name(node_people *p, const char *name, uint8_t *out, size_t *out_len, cs_err *err)
{
    size_t n = strlen(name);
    int rc = cs_aead_seal(p->name_key, "name", 4, name, n, out, err);
    *out_len = n + CS_AEAD_OVERHEAD;
    return rc;
}

static void open_name(node_people *p, const void *box, int len, char out[NODE_NAME_MAX + 1])
{
    out[0] = 0;
    if (len < CS_AEAD_OVERHEAD || len > NODE_NAME_MAX + CS_AEAD_OVERHEAD ||
        cs_aead_open(p->name_key, "name", 4, box, (size_t)len, (uint8_t *)out, NULL) != 0) {
        snprintf(out, NODE_NAME_MAX + 1, "?");
        return;
    }
    out[len - CS_AEAD_OVERHEAD] = 0;
}

/* "pbkdf2-sha256$iter$salt$hash" of secret (slow: call without the lock). */
static int secret_hash(const char *secret, char *out, size_t cap, cs_err *err)
{
    uint8_t salt[SALT_LEN], hash[HASH_LEN];
    char salt_hex[2 * SALT_LEN + 1], hash_hex[2 * HASH_LEN + 1];
    int rc;
    if ((rc = cs_random(salt, sizeof salt, err)) != 0 ||
        (rc = cs_pbkdf2_sha256(secret, strlen(secret), salt, sizeof salt, NODE_PBKDF2_ITERATIONS, hash, sizeof hash,
                               err)) != 0)
        return rc;
    cs_hex_encode(salt, sizeof salt, salt_hex);
    cs_hex_encode(hash, sizeof hash, hash_hex);
    snprintf(out, cap, "pbkdf2-sha256$%u$%s$%s", NODE_PBKDF2_ITERATIONS, salt_hex, hash_hex);
    cs_wipe(hash, sizeof hash);
    return 0;
}

/* 0 when secret matches the stored hash; CS_EAUTH otherwise. */
static int secret_check(const char *stored, const char *secret)
{
    unsigned iter = 0;
    char salt_hex[2 * SALT_LEN + 1], hash_hex[2 * HASH_LEN + 1];
    uint8_t salt[SALT_LEN], want[HASH_LEN], got[HASH_LEN];
    if (sscanf(stored, "pbkdf2-sha256$%u$%32[0-9a-f]$%64[0-9a-f]", &iter, salt_hex, hash_hex) != 3 ||
        iter < 1000 || iter > 10000000 || cs_hex_decode(salt_hex, salt, sizeof salt) != 0 ||
        cs_hex_decode(hash_hex, want, sizeof want) != 0)
        return CS_EAUTH;
    if (cs_pbkdf2_sha256(secret, strlen(secret), salt, sizeof salt, iter, got, sizeof got, NULL) != 0)
        return CS_EAUTH;
    unsigned diff = 0;
    for (size_t i = 0; i < HASH_LEN; i++)
        diff |= (unsigned)(got[i] ^ want[i]);
    cs_wipe(got, sizeof got);
    return diff ? CS_EAUTH : 0;
}

static int random_hex(char *out, size_t bytes, cs_err *err)
{
    uint8_t b[32];
    int rc;
    if (bytes > sizeof b)
        bytes = sizeof b;
    if ((rc = cs_random(b, bytes, err)) != 0)
        return rc;
    cs_hex_encode(b, bytes, out);
    return 0;
}

static void uuid_v4(char out[37])
{
    uint8_t b[16];
    cs_random(b, sizeof b, NULL);
    b[6] = (uint8_t)((b[6] & 0x0f) | 0x40);
    b[8] = (uint8_t)((b[8] & 0x3f) | 0x80);
    snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1], b[2],
             b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
}

/* ---- open / close ---- */

static int load_secret(const char *data_dir, uint8_t master[32], cs_err *err)
{
    char path[4200];
    char *buf = NULL;
    size_t len = 0;
    int rc;
    snprintf(path, sizeof path, "%s/secret.key", data_dir);
    rc = cs_file_read_all(path, 64, &buf, &len, NULL);
    if (rc == 0 && len == 32) {
        memcpy(master, buf, 32);
        cs_wipe(buf, len);
        free(buf);
        return 0;
    }
    if (rc == 0) {
        cs_wipe(buf, len);
        free(buf);
        return cs_err_set(err, CS_ECORRUPT, "%s: not a 32-byte key", path);
    }
    if ((rc = cs_random(master, 32, err)) != 0)
        return rc;
    if ((rc = cs_file_write_atomic(path, master, 32, 0600, err)) != 0)
        return rc;
    return 0;
}

int node_people_open(node_people **out, const char *data_dir, cs_err *err)
{
    char path[4200];
    uint8_t master[32];
    int rc;
    node_people *p = calloc(1, sizeof *p);
    if (!p)
        return cs_err_set(err, CS_ENOMEM, "out of memory");
    pthread_mutex_init(&p->lock, NULL);
    if ((rc = load_secret(data_dir, master, err)) != 0)
        goto fail;
    cs_hmac_sha256(master, 32, "cistern name encryption v1", 26, p->name_key);
    cs_hmac_sha256(master, 32, "cistern name index v1", 21, p->index_key);
    cs_wipe(master, sizeof master);
    snprintf(path, sizeof path, "%s/people.db", data_dir);
    mode_t old = umask(077); /* people.db, -wal and -shm: 0600 */
    int orc = sqlite3_open_v2(path, &p->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
    umask(old);
    if (orc != SQLITE_OK) {
        rc = cs_err_set(err, CS_EDB, "%s: %s", path, p->db ? sqlite3_errmsg(p->db) : "cannot open");
        goto fail;
    }
    sqlite3_busy_timeout(p->db, PEOPLE_BUSY_MS);
    /* FULL: a commit is on disk when it returns.  With NORMAL a power cut
     * could take back the last commits, outbox sequence numbers included,
     * after a batch holding them had left for the hub. */
    if ((rc = exec(p, "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA secure_delete = ON", err)) != 0 ||
        (rc = exec(p, schema, err)) != 0)
        goto fail;
    *out = p;
    return 0;
fail:
    node_people_close(p);
    return rc;
}

void node_people_close(node_people *p)
{
    if (!p)
        return;
    if (p->db)
        sqlite3_close_v2(p->db);
    cs_wipe(p->name_key, sizeof p->name_key);
    cs_wipe(p->index_key, sizeof p->index_key);
    pthread_mutex_destroy(&p->lock);
    free(p);
}

/* {"key": arr} into *out on success; arr is consumed either way. */
static int list_out(int rc, json_t **out, const char *key, json_t *arr)
{
    if (rc == 0)
        *out = json_pack("{s:o}", key, arr);
    else
        json_decref(arr);
    return rc;
}

/* ---- users ---- */

static int user_row(node_people *p, sqlite3_stmt *st, node_user *u)
{
    memset(u, 0, sizeof *u);
    u->id = sqlite3_column_int64(st, 0);
    u->role = sqlite3_column_int(st, 1);
    open_name(p, sqlite3_column_blob(st, 2), sqlite3_column_bytes(st, 2), u->name);
    u->class_id = sqlite3_column_int64(st, 3);
    const unsigned char *l = sqlite3_column_text(st, 4);
    snprintf(u->learner, sizeof u->learner, "%s", l ? (const char *)l : "");
    u->consent = sqlite3_column_int(st, 5);
    return 0;
}

#define USER_COLS "id, role, name, coalesce(class, 0), learner, consent"

int node_people_user_add(node_people *p, int role, const char *name, const char *secret, int64_t class_id,
                         int64_t *id, cs_err *err)
{
    char hash[160], learner[NODE_LEARNER_HEX] = "";
    uint8_t idx[32], box[NODE_NAME_MAX + CS_AEAD_OVERHEAD];
    size_t box_len = 0;
    sqlite3_stmt *st = NULL;
    int rc;
    if (role < NODE_STUDENT || role > NODE_ADMIN)
        return cs_err_set(err, CS_EINVAL, "unknown role");
    if (!name_ok(name))
        return cs_err_set(err, CS_EINVAL, "a name is 1 to %d bytes of text without control characters", NODE_NAME_MAX);
    if (!secret || strlen(secret) < (role == NODE_STUDENT ? 4u : 8u) || strlen(secret) > NODE_SECRET_MAX)
        return cs_err_set(err, CS_EINVAL, role == NODE_STUDENT ? "a PIN or picture password needs at least 4 characters"
                                                                : "a password needs 8 to %d characters",
                          NODE_SECRET_MAX);
    if ((role == NODE_STUDENT) != (class_id > 0))
        return cs_err_set(err, CS_EINVAL, "students, and only students, belong to a class");
    if ((rc = secret_hash(secret, hash, sizeof hash, err)) != 0)
        return rc;
    if (role == NODE_STUDENT && (rc = random_hex(learner, 16, err)) != 0)
        return rc;
    lock(p);
    login_index(p, class_id, name, idx);
    if ((rc = seal_name(p, name, box, &box_len, err)) != 0 ||
        (rc = prep(p, "INSERT INTO users(role, login, name, secret, class, learner, created) VALUES(?,?,?,?,?,?,?)",
                   &st, err)) != 0)
        goto out;
    sqlite3_bind_int(st, 1, role);
    sqlite3_bind_blob(st, 2, idx, 32, SQLITE_TRANSIENT);
    sqlite3_bind_blob(st, 3, box, (int)box_len, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 4, hash, -1, SQLITE_TRANSIENT);
    if (class_id > 0)
        sqlite3_bind_int64(st, 5, class_id);
    if (learner[0])
        sqlite3_bind_text(st, 6, learner, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 7, (sqlite3_int64)cs_time_now());
    rc = run(p, st, err, "user");
    if (rc == CS_EEXIST)
        cs_err_set(err, CS_EEXIST, class_id ? "that name is already taken in this class" : "that name is already taken");
    else if (rc == 0 && id)
        *id = sqlite3_last_insert_rowid(p->db);
    if (rc == 0 && sqlite3_changes(p->db) == 0)
        rc = cs_err_set(err, CS_ENOENT, "no such class");
out:
    unlock(p);
    return rc;
}

static int user_query(node_people *p, const char *where, int64_t num, const void *blob, int blob_len,
                      const char *text, node_user *out, char *secret, size_t secret_cap, cs_err *err)
{
    char sql[256];
    sqlite3_stmt *st = NULL;
    int rc;
    snprintf(sql, sizeof sql, "SELECT " USER_COLS ", secret FROM users WHERE %s", where);
    if ((rc = prep(p, sql, &st, err)) != 0)
        return rc;
    if (blob)
        sqlite3_bind_blob(st, 1, blob, blob_len, SQLITE_TRANSIENT);
    else if (text)
        sqlite3_bind_text(st, 1, text, -1, SQLITE_TRANSIENT);
    else
        sqlite3_bind_int64(st, 1, num);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        user_row(p, st, out);
        if (secret)
            snprintf(secret, secret_cap, "%s", (const char *)sqlite3_column_text(st, 6));
        rc = 0;
    } else if (rc == SQLITE_DONE) {
        rc = cs_err_set(err, CS_ENOENT, "no such user");
    } else {
        rc = db_err(p, err, "user");
    }
    sqlite3_finalize(st);
    return rc;
}

int node_people_user_get(node_people *p, int64_t id, node_user *out, cs_err *err)
{
    lock(p);
    int rc = user_query(p, "id = ?", id, NULL, 0, NULL, out, NULL, 0, err);
    unlock(p);
    return rc;
}

int node_people_user_find(node_people *p, const char *name, int64_t class_id, node_user *out, cs_err *err)
{
    uint8_t idx[32];
    if (!name_ok(name))
        return cs_err_set(err, CS_ENOENT, "no such user");
    lock(p);
    login_index(p, class_id, name, idx);
    int rc = user_query(p, "login = ?", 0, idx, 32, NULL, out, NULL, 0, err);
    unlock(p);
    return rc;
}

int node_people_user_by_learner(node_people *p, const char *learner, node_user *out, cs_err *err)
{
    lock(p);
    int rc = user_query(p, "learner = ?", 0, NULL, 0, learner ? learner : "", out, NULL, 0, err);
    unlock(p);
    return rc;
}

int node_people_user_passwd(node_people *p, int64_t id, const char *secret, cs_err *err)
{
    node_user u;
    char hash[160];
    sqlite3_stmt *st = NULL;
    int rc;
    if ((rc = node_people_user_get(p, id, &u, err)) != 0)
        return rc;
    if (!secret || strlen(secret) < (u.role == NODE_STUDENT ? 4u : 8u) || strlen(secret) > NODE_SECRET_MAX)
        return cs_err_set(err, CS_EINVAL, "a password needs 8 to %d characters (a PIN at least 4)", NODE_SECRET_MAX);
    if ((rc = secret_hash(secret, hash, sizeof hash, err)) != 0)
        return rc;
    lock(p);
    if ((rc = begin(p, err)) == 0) {
        if ((rc = prep(p, "UPDATE users SET secret = ? WHERE id = ?", &st, err)) == 0) {
            sqlite3_bind_text(st, 1, hash, -1, SQLITE_TRANSIENT);
            sqlite3_bind_int64(st, 2, id);
            rc = run(p, st, err, "password");
        }
        /* A new password ends every session of that user. */
        if (rc == 0 && (rc = prep(p, "DELETE FROM sessions WHERE user = ?", &st, err)) == 0) {
            sqlite3_bind_int64(st, 1, id);
            rc = run(p, st, err, "sessions");
        }
        rc = end(p, rc, err);
    }
    unlock(p);
    return rc;
}

static int delete_learner_rows(node_people *p, const char *learner, cs_err *err)
{
    sqlite3_stmt *st = NULL;
    int rc;
    if (!learner || !learner[0])
        return 0;
    if ((rc = prep(p, "DELETE FROM events WHERE learner = ?", &st, err)) != 0)
        return rc;
    sqlite3_bind_text(st, 1, learner, -1, SQLITE_TRANSIENT);
    return run(p, st, err, "events");
}

int node_people_user_remove(node_people *p, int64_t id, cs_err *err)
{
    node_user u;
    sqlite3_stmt *st = NULL;
    int rc;
    lock(p);
    if ((rc = user_query(p, "id = ?", id, NULL, 0, NULL, &u, NULL, 0, err)) != 0)
        goto out;
    if ((rc = begin(p, err)) != 0)
        goto out;
    rc = delete_learner_rows(p, u.learner, err);
    if (rc == 0 && (rc = prep(p, "DELETE FROM users WHERE id = ?", &st, err)) == 0) {
        sqlite3_bind_int64(st, 1, id);
        rc = run(p, st, err, "user");
    }
    if (rc == 0 && (rc = prep(p, "UPDATE classes SET teacher = NULL WHERE teacher = ?", &st, err)) == 0) {
        sqlite3_bind_int64(st, 1, id);
        rc = run(p, st, err, "classes");
    }
    rc = end(p, rc, err);
out:
    unlock(p);
    return rc;
}

int node_people_user_list(node_people *p, int role, int64_t class_id, json_t **out, cs_err *err)
{
    sqlite3_stmt *st = NULL;
    int rc;
    json_t *arr = json_array();
    lock(p);
    if ((rc = prep(p,
                   "SELECT " USER_COLS " FROM users WHERE (?1 < 0 OR role = ?1) AND (?2 < 0 OR coalesce(class, 0) = ?2)"
                   " ORDER BY id",
                   &st, err)) != 0)
        goto out;
    sqlite3_bind_int(st, 1, role);
    sqlite3_bind_int64(st, 2, class_id);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        node_user u;
        user_row(p, st, &u);
        json_t *o = json_pack("{s:I,s:s,s:s}", "id", (json_int_t)u.id, "name", u.name, "role", node_role_name(u.role));
        if (u.class_id)
            json_object_set_new(o, "class", json_integer(u.class_id));
        else
            json_object_set_new(o, "class", json_null());
        json_array_append_new(arr, o);
    }
    rc = rc == SQLITE_DONE ? 0 : db_err(p, err, "users");
    sqlite3_finalize(st);
out:
    unlock(p);
    return list_out(rc, out, "users", arr);
}

/* ---- sessions ---- */

static void token_key(const char *token, uint8_t out[32])
{
    cs_sha256_buf(token, strlen(token), out);
}

int node_people_login(node_people *p, const char *class_code, const char *name, const char *secret,
                      node_user *user, char token[NODE_TOKEN_HEX], char csrf[NODE_TOKEN_HEX], cs_err *err)
{
    static const char dummy[] = "pbkdf2-sha256$200000$00000000000000000000000000000000$"
                                "0000000000000000000000000000000000000000000000000000000000000000";
    char stored[160] = "";
    uint8_t idx[32], key[32];
    node_user u;
    int64_t class_id = 0;
    sqlite3_stmt *st = NULL;
    int rc, found = 0;
    if (!secret || strlen(secret) > NODE_SECRET_MAX)
        return cs_err_set(err, CS_EAUTH, "wrong name or password");
    if (class_code && node_people_class_by_code(p, class_code, &class_id, NULL) != 0)
        class_id = -1;
    if (class_id >= 0 && name_ok(name)) {
        lock(p);
        login_index(p, class_id, name, idx);
        found = user_query(p, "login = ?", 0, idx, 32, NULL, &u, stored, sizeof stored, NULL) == 0;
        unlock(p);
    }
    /* The same KDF work whether or not the name exists. */
    rc = secret_check(found ? stored : dummy, secret);
    if (!found || rc != 0 || (class_code == NULL) != (u.role != NODE_STUDENT))
        return cs_err_set(err, CS_EAUTH, "wrong name or password");
    char tok[NODE_TOKEN_HEX], cs[NODE_TOKEN_HEX];
    if ((rc = random_hex(tok, 32, err)) != 0 || (rc = random_hex(cs, 32, err)) != 0)
        return rc;
    token_key(tok, key);
    int64_t now = cs_time_now();
    lock(p);
    if ((rc = prep(p, "INSERT INTO sessions(token, user, csrf, created, seen) VALUES(?,?,?,?,?)", &st, err)) == 0) {
        sqlite3_bind_blob(st, 1, key, 32, SQLITE_TRANSIENT);
        sqlite3_bind_int64(st, 2, u.id);
        sqlite3_bind_text(st, 3, cs, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(st, 4, now);
        sqlite3_bind_int64(st, 5, now);
        rc = run(p, st, err, "session");
    }
    /* Sessions long expired go at each sign-in. */
    if (rc == 0 && prep(p, "DELETE FROM sessions WHERE seen < ?", &st, NULL) == 0) {
        sqlite3_bind_int64(st, 1, now - 30 * 86400);
        run(p, st, NULL, "sessions");
    }
    unlock(p);
    if (rc == 0) {
        *user = u;
        memcpy(token, tok, NODE_TOKEN_HEX);
        memcpy(csrf, cs, NODE_TOKEN_HEX);
    }
    cs_wipe(tok, sizeof tok);
    return rc;
}

int node_people_session(node_people *p, const char *token, int64_t idle_s, int64_t max_s, node_user *user,
                        char csrf[NODE_TOKEN_HEX], cs_err *err)
{
    uint8_t key[32];
    sqlite3_stmt *st = NULL;
    int rc;
    int64_t uid = 0, now = cs_time_now();
    if (!token || strlen(token) != 64)
        return cs_err_set(err, CS_EAUTH, "no session");
    token_key(token, key);
    lock(p);
    if ((rc = prep(p, "SELECT user, csrf, created, seen FROM sessions WHERE token = ?", &st, err)) != 0)
        goto out;
    sqlite3_bind_blob(st, 1, key, 32, SQLITE_TRANSIENT);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        uid = sqlite3_column_int64(st, 0);
        snprintf(csrf, NODE_TOKEN_HEX, "%s", (const char *)sqlite3_column_text(st, 1));
        int64_t created = sqlite3_column_int64(st, 2), seen = sqlite3_column_int64(st, 3);
        rc = (now - seen > idle_s || now - created > max_s) ? CS_EAUTH : 0;
    } else {
        rc = CS_EAUTH;
    }
    sqlite3_finalize(st);
    if (rc != 0) {
        if (prep(p, "DELETE FROM sessions WHERE token = ?", &st, NULL) == 0) {
            sqlite3_bind_blob(st, 1, key, 32, SQLITE_TRANSIENT);
            run(p, st, NULL, "session");
        }
        rc = cs_err_set(err, CS_EAUTH, "session expired or unknown");
        goto out;
    }
    if ((rc = user_query(p, "id = ?", uid, NULL, 0, NULL, user, NULL, 0, err)) != 0) {
        rc = cs_err_set(err, CS_EAUTH, "session user is gone");
        goto out;
    }
    /* Touch at most once a minute: reads stay reads. */
    if (prep(p, "UPDATE sessions SET seen = ?2 WHERE token = ?1 AND seen < ?2 - 60", &st, NULL) == 0) {
        sqlite3_bind_blob(st, 1, key, 32, SQLITE_TRANSIENT);
        sqlite3_bind_int64(st, 2, now);
        run(p, st, NULL, "session");
    }
out:
    unlock(p);
    return rc;
}

int node_people_logout(node_people *p, const char *token, cs_err *err)
{
    uint8_t key[32];
    sqlite3_stmt *st = NULL;
    int rc;
    if (!token)
        return 0;
    token_key(token, key);
    lock(p);
    if ((rc = prep(p, "DELETE FROM sessions WHERE token = ?", &st, err)) == 0) {
        sqlite3_bind_blob(st, 1, key, 32, SQLITE_TRANSIENT);
        rc = run(p, st, err, "session");
    }
    unlock(p);
    return rc;
}

/* ---- classes ---- */

int node_people_class_add(node_people *p, const char *name, int64_t teacher, int64_t *id, char code[8], cs_err *err)
{
    static const char alphabet[] = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"; /* no I, O, 0, 1 */
    sqlite3_stmt *st = NULL;
    int rc = 0;
    if (!name_ok(name))
        return cs_err_set(err, CS_EINVAL, "a class name is 1 to %d bytes of text", NODE_NAME_MAX);
    lock(p);
    for (int attempt = 0; attempt < 8; attempt++) {
        uint8_t r[6];
        if ((rc = cs_random(r, sizeof r, err)) != 0)
            break;
        for (int i = 0; i < 6; i++)
            code[i] = alphabet[r[i] % 32];
        code[6] = 0;
        if ((rc = prep(p, "INSERT INTO classes(name, code, teacher, created) VALUES(?,?,?,?)", &st, err)) != 0)
            break;
        sqlite3_bind_text(st, 1, name, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 2, code, -1, SQLITE_TRANSIENT);
        if (teacher > 0)
            sqlite3_bind_int64(st, 3, teacher);
        sqlite3_bind_int64(st, 4, (sqlite3_int64)cs_time_now());
        rc = run(p, st, err, "class");
        if (rc != CS_EEXIST)
            break;
    }
    if (rc == 0)
        *id = sqlite3_last_insert_rowid(p->db);
    unlock(p);
    return rc;
}

int node_people_class_list(node_people *p, int64_t teacher, int64_t only_id, int with_code, json_t **out,
                           cs_err *err)
{
    sqlite3_stmt *st = NULL;
    int rc;
    json_t *arr = json_array();
    lock(p);
    if ((rc = prep(p,
                   "SELECT c.id, c.name, c.code, coalesce(c.teacher, 0),"
                   " (SELECT count(*) FROM users u WHERE u.class = c.id) FROM classes c"
                   " WHERE (?1 = 0 OR c.teacher = ?1) AND (?2 = 0 OR c.id = ?2) ORDER BY c.id",
                   &st, err)) != 0)
        goto out;
    sqlite3_bind_int64(st, 1, teacher);
    sqlite3_bind_int64(st, 2, only_id);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        json_t *o = json_pack("{s:I,s:s,s:I,s:I}", "id", (json_int_t)sqlite3_column_int64(st, 0), "name",
                              (const char *)sqlite3_column_text(st, 1), "teacher",
                              (json_int_t)sqlite3_column_int64(st, 3), "students",
                              (json_int_t)sqlite3_column_int64(st, 4));
        if (with_code)
            json_object_set_new(o, "code", json_string((const char *)sqlite3_column_text(st, 2)));
        json_array_append_new(arr, o);
    }
    rc = rc == SQLITE_DONE ? 0 : db_err(p, err, "classes");
    sqlite3_finalize(st);
out:
    unlock(p);
    return list_out(rc, out, "classes", arr);
}

static int one_int(node_people *p, const char *sql, int64_t arg, const char *text, int64_t *out, cs_err *err,
                   const char *missing)
{
    sqlite3_stmt *st = NULL;
    int rc;
    if ((rc = prep(p, sql, &st, err)) != 0)
        return rc;
    if (text)
        sqlite3_bind_text(st, 1, text, -1, SQLITE_TRANSIENT);
    else
        sqlite3_bind_int64(st, 1, arg);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        *out = sqlite3_column_int64(st, 0);
        rc = 0;
    } else {
        rc = rc == SQLITE_DONE ? cs_err_set(err, CS_ENOENT, "%s", missing) : db_err(p, err, missing);
    }
    sqlite3_finalize(st);
    return rc;
}

int node_people_class_teacher(node_people *p, int64_t class_id, int64_t *teacher, cs_err *err)
{
    lock(p);
    int rc = one_int(p, "SELECT coalesce(teacher, 0) FROM classes WHERE id = ?", class_id, NULL, teacher, err,
                     "no such class");
    unlock(p);
    return rc;
}

int node_people_class_by_code(node_people *p, const char *code, int64_t *id, cs_err *err)
{
    char up[8];
    size_t n = code ? strlen(code) : 0;
    if (n == 0 || n > 6)
        return cs_err_set(err, CS_ENOENT, "no class with that code");
    for (size_t i = 0; i <= n; i++)
        up[i] = (char)toupper((unsigned char)code[i]);
    lock(p);
    int rc = one_int(p, "SELECT id FROM classes WHERE code = ?", 0, up, id, err, "no class with that code");
    unlock(p);
    return rc;
}

int node_people_class_students(node_people *p, int64_t class_id, json_t **out, cs_err *err)
{
    sqlite3_stmt *st = NULL;
    int rc;
    json_t *arr = json_array();
    lock(p);
    if ((rc = prep(p, "SELECT " USER_COLS " FROM users WHERE class = ? AND role = 1 ORDER BY id", &st, err)) != 0)
        goto out;
    sqlite3_bind_int64(st, 1, class_id);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        node_user u;
        user_row(p, st, &u);
        json_array_append_new(arr, json_pack("{s:I,s:s,s:s,s:b}", "id", (json_int_t)u.id, "name", u.name,
                                             "learner", u.learner, "consent", u.consent));
    }
    rc = rc == SQLITE_DONE ? 0 : db_err(p, err, "students");
    sqlite3_finalize(st);
out:
    unlock(p);
    return list_out(rc, out, "students", arr);
}

int node_people_consent_set(node_people *p, int64_t student, int consent, cs_err *err)
{
    sqlite3_stmt *st = NULL;
    int rc;
    lock(p);
    if ((rc = prep(p, "UPDATE users SET consent = ? WHERE id = ? AND role = 1", &st, err)) == 0) {
        sqlite3_bind_int(st, 1, consent ? 1 : 0);
        sqlite3_bind_int64(st, 2, student);
        rc = run(p, st, err, "consent");
        if (rc == 0 && sqlite3_changes(p->db) == 0)
            rc = cs_err_set(err, CS_ENOENT, "no such student");
    }
    unlock(p);
    return rc;
}

/* ---- lessons ---- */

int node_people_lesson_add(node_people *p, int64_t class_id, const char *title, const json_t *resources,
                           int64_t *id, cs_err *err)
{
    sqlite3_stmt *st = NULL;
    int rc;
    size_t i;
    json_t *v;
    if (!name_ok(title))
        return cs_err_set(err, CS_EINVAL, "a lesson title is 1 to %d bytes of text", NODE_NAME_MAX);
    if (!json_is_array(resources) || json_array_size(resources) == 0 || json_array_size(resources) > 200)
        return cs_err_set(err, CS_EINVAL, "a lesson lists 1 to 200 resources");
    json_array_foreach(resources, i, v) if (!json_is_string(v) || json_string_length(v) > 128)
        return cs_err_set(err, CS_EINVAL, "resources are resource ids");
    lock(p);
    if ((rc = begin(p, err)) != 0)
        goto out;
    if ((rc = prep(p, "INSERT INTO lessons(class, title, created) VALUES(?,?,?)", &st, err)) == 0) {
        sqlite3_bind_int64(st, 1, class_id);
        sqlite3_bind_text(st, 2, title, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(st, 3, (sqlite3_int64)cs_time_now());
        rc = run(p, st, err, "lesson");
    }
    int64_t lid = sqlite3_last_insert_rowid(p->db);
    json_array_foreach(resources, i, v)
    {
        if (rc != 0 || (rc = prep(p, "INSERT INTO lesson_items(lesson, pos, resource) VALUES(?,?,?)", &st, err)) != 0)
            break;
        sqlite3_bind_int64(st, 1, lid);
        sqlite3_bind_int64(st, 2, (sqlite3_int64)i);
        sqlite3_bind_text(st, 3, json_string_value(v), -1, SQLITE_TRANSIENT);
        rc = run(p, st, err, "lesson item");
    }
    if ((rc = end(p, rc, err)) == 0)
        *id = lid;
out:
    unlock(p);
    return rc;
}

int node_people_lesson_class(node_people *p, int64_t lesson, int64_t *class_id, cs_err *err)
{
    lock(p);
    int rc = one_int(p, "SELECT class FROM lessons WHERE id = ?", lesson, NULL, class_id, err, "no such lesson");
    unlock(p);
    return rc;
}

int node_people_lesson_remove(node_people *p, int64_t lesson, cs_err *err)
{
    sqlite3_stmt *st = NULL;
    int rc;
    lock(p);
    if ((rc = prep(p, "DELETE FROM lessons WHERE id = ?", &st, err)) == 0) {
        sqlite3_bind_int64(st, 1, lesson);
        rc = run(p, st, err, "lesson");
    }
    unlock(p);
    return rc;
}

int node_people_lesson_list(node_people *p, int64_t class_id, json_t **out, cs_err *err)
{
    sqlite3_stmt *st = NULL;
    int rc;
    json_t *arr = json_array(), *cur = NULL;
    int64_t cur_id = 0;
    lock(p);
    if ((rc = prep(p,
                   "SELECT l.id, l.title, i.resource FROM lessons l JOIN lesson_items i ON i.lesson = l.id"
                   " WHERE l.class = ? ORDER BY l.id, i.pos",
                   &st, err)) != 0)
        goto out;
    sqlite3_bind_int64(st, 1, class_id);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        int64_t lid = sqlite3_column_int64(st, 0);
        if (!cur || lid != cur_id) {
            cur = json_pack("{s:I,s:s,s:[]}", "id", (json_int_t)lid, "title", (const char *)sqlite3_column_text(st, 1),
                            "resources");
            json_array_append_new(arr, cur);
            cur_id = lid;
        }
        json_array_append_new(json_object_get(cur, "resources"), json_string((const char *)sqlite3_column_text(st, 2)));
    }
    rc = rc == SQLITE_DONE ? 0 : db_err(p, err, "lessons");
    sqlite3_finalize(st);
out:
    unlock(p);
    return list_out(rc, out, "lessons", arr);
}

/* ---- events and reports ---- */

int node_people_event_add(node_people *p, const node_user *u, const char *resource, int kind, double value,
                          int64_t now, int *recorded, cs_err *err)
{
    sqlite3_stmt *st = NULL;
    int rc;
    *recorded = 0;
    if (kind < NODE_EV_OPEN || kind > NODE_EV_SCORE)
        return cs_err_set(err, CS_EINVAL, "unknown event kind");
    if (!isnan(value) && (value < 0 || value > 1))
        return cs_err_set(err, CS_EINVAL, "an event's value is between 0 and 1");
    if (!u || u->role != NODE_STUDENT || !u->learner[0])
        return 0; /* guests and staff: nothing recorded */
    lock(p);
    /* Consent is read now, not from the session: withdrawing it takes effect at once. */
    int64_t consent = 0;
    rc = one_int(p, "SELECT consent FROM users WHERE id = ?", u->id, NULL, &consent, err, "no such user");
    if (rc == 0 && consent && (rc = prep(p, "INSERT INTO events(learner, resource, kind, value, ts) VALUES(?,?,?,?,?)",
                                         &st, err)) == 0) {
        sqlite3_bind_text(st, 1, u->learner, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 2, resource, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int(st, 3, kind);
        if (isnan(value))
            sqlite3_bind_null(st, 4);
        else
            sqlite3_bind_double(st, 4, value);
        sqlite3_bind_int64(st, 5, now);
        if ((rc = run(p, st, err, "event")) == 0)
            *recorded = 1;
    }
    unlock(p);
    return rc;
}

int node_people_class_report(node_people *p, int64_t class_id, json_t **out, cs_err *err)
{
    sqlite3_stmt *st = NULL;
    int rc;
    int64_t students = 0, consenting = 0;
    json_t *arr = json_array();
    lock(p);
    if ((rc = one_int(p, "SELECT count(*) FROM users WHERE class = ? AND role = 1", class_id, NULL, &students, err,
                      "students")) != 0 ||
        (rc = one_int(p, "SELECT count(*) FROM users WHERE class = ? AND role = 1 AND consent", class_id, NULL,
                      &consenting, err, "students")) != 0)
        goto out;
    if ((rc = prep(p,
                   "SELECT e.resource, count(DISTINCT e.learner),"
                   " count(DISTINCT CASE WHEN e.kind = 3 THEN e.learner END)"
                   " FROM events e JOIN users u ON u.learner = e.learner WHERE u.class = ?"
                   " GROUP BY e.resource ORDER BY 2 DESC, e.resource LIMIT 500",
                   &st, err)) != 0)
        goto out;
    sqlite3_bind_int64(st, 1, class_id);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        json_array_append_new(arr, json_pack("{s:s,s:I,s:I}", "id", (const char *)sqlite3_column_text(st, 0), "opened",
                                             (json_int_t)sqlite3_column_int64(st, 1), "completed",
                                             (json_int_t)sqlite3_column_int64(st, 2)));
    rc = rc == SQLITE_DONE ? 0 : db_err(p, err, "report");
    sqlite3_finalize(st);
out:
    unlock(p);
    if (rc == 0)
        *out = json_pack("{s:I,s:I,s:I,s:o}", "class", (json_int_t)class_id, "students", (json_int_t)students,
                         "consenting", (json_int_t)consenting, "resources", arr);
    else
        json_decref(arr);
    return rc;
}

int node_people_event_foreach(node_people *p, size_t max, node_event_cb cb, void *ctx, cs_err *err)
{
    sqlite3_stmt *st = NULL;
    int rc;
    lock(p);
    if ((rc = prep(p,
                   "SELECT learner, resource, kind, value, ts FROM (SELECT * FROM events ORDER BY id DESC LIMIT ?)"
                   " ORDER BY id",
                   &st, err)) == 0) {
        sqlite3_bind_int64(st, 1, (sqlite3_int64)max);
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
            double v = sqlite3_column_type(st, 3) == SQLITE_NULL ? NAN : sqlite3_column_double(st, 3);
            if (cb(ctx, (const char *)sqlite3_column_text(st, 0), (const char *)sqlite3_column_text(st, 1),
                   sqlite3_column_int(st, 2), v, sqlite3_column_int64(st, 4)) != 0) {
                rc = SQLITE_DONE;
                break;
            }
        }
        rc = rc == SQLITE_DONE ? 0 : db_err(p, err, "events");
        sqlite3_finalize(st);
    }
    unlock(p);
    return rc;
}

int node_people_learner_recent(node_people *p, const char *learner, size_t max, json_t **out, cs_err *err)
{
    sqlite3_stmt *st = NULL;
    int rc;
    json_t *arr = json_array();
    lock(p);
    if ((rc = prep(p,
                   "SELECT resource, max(ts) AS t, max(kind = 3) FROM events WHERE learner = ? GROUP BY resource"
                   " ORDER BY t DESC, resource LIMIT ?",
                   &st, err)) == 0) {
        sqlite3_bind_text(st, 1, learner, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(st, 2, (sqlite3_int64)max);
        while ((rc = sqlite3_step(st)) == SQLITE_ROW)
            json_array_append_new(arr, json_pack("{s:s,s:I,s:b}", "resource", (const char *)sqlite3_column_text(st, 0),
                                                 "ts", (json_int_t)sqlite3_column_int64(st, 1), "completed",
                                                 sqlite3_column_int(st, 2)));
        rc = rc == SQLITE_DONE ? 0 : db_err(p, err, "events");
        sqlite3_finalize(st);
    }
    unlock(p);
    if (rc == 0)
        *out = arr;
    else
        json_decref(arr);
    return rc;
}

/* ---- outbox ---- */

static int outbox_add_locked(node_people *p, const char *kind, const json_t *body, int64_t now, cs_err *err)
{
    sqlite3_stmt *st = NULL;
    char uuid[37];
    char *text = json_dumps(body, JSON_COMPACT | JSON_SORT_KEYS);
    int rc;
    if (!text)
        return cs_err_set(err, CS_ENOMEM, "out of memory");
    uuid_v4(uuid);
    if ((rc = prep(p, "INSERT INTO outbox(uuid, kind, created, body) VALUES(?,?,?,?)", &st, err)) == 0) {
        sqlite3_bind_text(st, 1, uuid, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 2, kind, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(st, 3, now);
        sqlite3_bind_text(st, 4, text, -1, SQLITE_TRANSIENT);
        rc = run(p, st, err, "outbox");
    }
    free(text);
    return rc;
}

int node_people_outbox_add(node_people *p, const char *kind, const json_t *body, int64_t now, cs_err *err)
{
    int rc;
    lock(p);
    if ((rc = begin(p, err)) == 0)
        rc = end(p, outbox_add_locked(p, kind, body, now, err), err);
    unlock(p);
    return rc;
}

int node_people_feedback_add(node_people *p, int role, const char *resource, int rating, const char *report,
                             const char *comment, int64_t now, cs_err *err)
{
    static const char *reports[] = {"broken", "wrong-grade", "content-error", "other"};
    sqlite3_stmt *st = NULL;
    int rc, ok = report == NULL;
    for (size_t i = 0; !ok && i < 4; i++)
        ok = strcmp(report, reports[i]) == 0;
    if (!ok)
        return cs_err_set(err, CS_EINVAL, "report is one of broken, wrong-grade, content-error, other");
    if (rating < 0 || rating > 5 || (rating == 0 && !report))
        return cs_err_set(err, CS_EINVAL, "feedback needs a rating from 1 to 5 or a report");
    if (comment && (strlen(comment) > 2000 || !utf8_ok(comment)))
        return cs_err_set(err, CS_EINVAL, "a comment is at most 2000 bytes of text");
    json_t *body = json_pack("{s:s,s:s}", "resource", resource, "role", node_role_name(role));
    if (rating)
        json_object_set_new(body, "rating", json_integer(rating));
    if (report)
        json_object_set_new(body, "report", json_string(report));
    if (comment && *comment)
        json_object_set_new(body, "comment", json_string(comment));
    lock(p);
    if ((rc = begin(p, err)) == 0) {
        if ((rc = prep(p, "INSERT INTO feedback(resource, rating, report, comment, role, ts) VALUES(?,?,?,?,?,?)",
                       &st, err)) == 0) {
            sqlite3_bind_text(st, 1, resource, -1, SQLITE_TRANSIENT);
            if (rating)
                sqlite3_bind_int(st, 2, rating);
            if (report)
                sqlite3_bind_text(st, 3, report, -1, SQLITE_TRANSIENT);
            if (comment)
                sqlite3_bind_text(st, 4, comment, -1, SQLITE_TRANSIENT);
            sqlite3_bind_int(st, 5, role);
            sqlite3_bind_int64(st, 6, now);
            rc = run(p, st, err, "feedback");
        }
        if (rc == 0)
            rc = outbox_add_locked(p, "feedback", body, now, err);
        rc = end(p, rc, err);
    }
    unlock(p);
    json_decref(body);
    return rc;
}

static int meta_get_int(node_people *p, const char *key, int64_t def, int64_t *out)
{
    sqlite3_stmt *st = NULL;
    *out = def;
    if (prep(p, "SELECT value FROM meta WHERE key = ?", &st, NULL) != 0)
        return CS_EDB;
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_ROW)
        *out = strtoll((const char *)sqlite3_column_text(st, 0), NULL, 10);
    sqlite3_finalize(st);
    return 0;
}

static int meta_set_int(node_people *p, const char *key, int64_t v, cs_err *err)
{
    sqlite3_stmt *st = NULL;
    int rc;
    char buf[32];
    snprintf(buf, sizeof buf, "%lld", (long long)v);
    if ((rc = prep(p, "INSERT OR REPLACE INTO meta(key, value) VALUES(?, ?)", &st, err)) != 0)
        return rc;
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, buf, -1, SQLITE_TRANSIENT);
    return run(p, st, err, "meta");
}

int node_people_outbox_pending(node_people *p, size_t max_records, size_t max_bytes, json_t **out,
                               int64_t *count, cs_err *err)
{
    sqlite3_stmt *st = NULL;
    int rc;
    size_t bytes = 0;
    json_t *arr = json_array();
    lock(p);
    if (count && (rc = one_int(p, "SELECT count(*) FROM outbox WHERE ?1 = ?1", 0, NULL, count, err, "outbox")) != 0)
        goto out;
    if ((rc = prep(p, "SELECT seq, uuid, kind, created, body FROM outbox ORDER BY seq LIMIT ?", &st, err)) != 0)
        goto out;
    sqlite3_bind_int64(st, 1, (sqlite3_int64)max_records);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        size_t n = (size_t)sqlite3_column_bytes(st, 4);
        if (json_array_size(arr) > 0 && bytes + n > max_bytes)
            break;
        bytes += n;
        json_t *body = json_loads((const char *)sqlite3_column_text(st, 4), 0, NULL);
        json_array_append_new(arr, json_pack("{s:I,s:s,s:s,s:I,s:o}", "seq", (json_int_t)sqlite3_column_int64(st, 0),
                                             "uuid", (const char *)sqlite3_column_text(st, 1), "kind",
                                             (const char *)sqlite3_column_text(st, 2), "created",
                                             (json_int_t)sqlite3_column_int64(st, 3), "body",
                                             body ? body : json_object()));
    }
    rc = (rc == SQLITE_DONE || rc == SQLITE_ROW) ? 0 : db_err(p, err, "outbox");
    sqlite3_finalize(st);
out:
    unlock(p);
    if (rc == 0)
        *out = arr;
    else
        json_decref(arr);
    return rc;
}

int node_people_outbox_ack(node_people *p, int64_t seq, cs_err *err)
{
    sqlite3_stmt *st = NULL;
    int rc;
    int64_t acked = 0;
    lock(p);
    meta_get_int(p, "outbox.acked", 0, &acked);
    if (seq <= acked) {
        unlock(p);
        return 0;
    }
    if ((rc = begin(p, err)) == 0) {
        if ((rc = prep(p, "DELETE FROM outbox WHERE seq <= ?", &st, err)) == 0) {
            sqlite3_bind_int64(st, 1, seq);
            rc = run(p, st, err, "outbox");
        }
        if (rc == 0)
            rc = meta_set_int(p, "outbox.acked", seq, err);
        rc = end(p, rc, err);
    }
    unlock(p);
    return rc;
}

int node_people_outbox_state(node_people *p, int64_t *pending, int64_t *acked, cs_err *err)
{
    lock(p);
    int rc = one_int(p, "SELECT count(*) FROM outbox WHERE ?1 = ?1", 0, NULL, pending, err, "outbox");
    meta_get_int(p, "outbox.acked", 0, acked);
    unlock(p);
    return rc;
}

/* ---- audit, export, delete, purge ---- */

static int audit_locked(node_people *p, const char *actor, const char *action, const char *subject, int64_t now,
                        cs_err *err)
{
    sqlite3_stmt *st = NULL;
    int rc;
    if ((rc = prep(p, "INSERT INTO audit(ts, actor, action, subject) VALUES(?,?,?,?)", &st, err)) != 0)
        return rc;
    sqlite3_bind_int64(st, 1, now);
    sqlite3_bind_text(st, 2, actor, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 3, action, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 4, subject, -1, SQLITE_TRANSIENT);
    return run(p, st, err, "audit");
}

int node_people_audit(node_people *p, const char *actor, const char *action, const char *subject, int64_t now,
                      cs_err *err)
{
    lock(p);
    int rc = audit_locked(p, actor, action, subject, now, err);
    unlock(p);
    return rc;
}

int node_people_audit_list(node_people *p, json_t **out, cs_err *err)
{
    sqlite3_stmt *st = NULL;
    int rc;
    json_t *arr = json_array();
    lock(p);
    if ((rc = prep(p, "SELECT ts, actor, action, subject FROM audit ORDER BY id", &st, err)) == 0) {
        while ((rc = sqlite3_step(st)) == SQLITE_ROW)
            json_array_append_new(arr, json_pack("{s:I,s:s,s:s,s:s}", "ts", (json_int_t)sqlite3_column_int64(st, 0),
                                                 "actor", (const char *)sqlite3_column_text(st, 1), "action",
                                                 (const char *)sqlite3_column_text(st, 2), "subject",
                                                 (const char *)sqlite3_column_text(st, 3)));
        rc = rc == SQLITE_DONE ? 0 : db_err(p, err, "audit");
        sqlite3_finalize(st);
    }
    unlock(p);
    return list_out(rc, out, "audit", arr);
}

int node_people_learner_export(node_people *p, const char *learner, const char *actor, int64_t now, json_t **out,
                               cs_err *err)
{
    node_user u;
    sqlite3_stmt *st = NULL;
    int rc;
    char subject[64];
    json_t *events = json_array();
    lock(p);
    if ((rc = user_query(p, "learner = ?", 0, NULL, 0, learner ? learner : "", &u, NULL, 0, err)) != 0)
        goto out;
    if ((rc = prep(p, "SELECT resource, kind, value, ts FROM events WHERE learner = ? ORDER BY ts, id", &st, err)) != 0)
        goto out;
    sqlite3_bind_text(st, 1, u.learner, -1, SQLITE_TRANSIENT);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        json_t *e = json_pack("{s:s,s:s,s:I}", "resource", (const char *)sqlite3_column_text(st, 0), "kind",
                              node_event_kind_name(sqlite3_column_int(st, 1)), "ts",
                              (json_int_t)sqlite3_column_int64(st, 3));
        if (sqlite3_column_type(st, 2) != SQLITE_NULL)
            json_object_set_new(e, "value", json_real(sqlite3_column_double(st, 2)));
        json_array_append_new(events, e);
    }
    rc = rc == SQLITE_DONE ? 0 : db_err(p, err, "events");
    sqlite3_finalize(st);
    snprintf(subject, sizeof subject, "learner:%s", u.learner);
    if (rc == 0)
        rc = audit_locked(p, actor, "export", subject, now, err);
out:
    unlock(p);
    if (rc == 0) {
        *out = json_pack("{s:s,s:s,s:s,s:I,s:b,s:O}", "learner", u.learner, "name", u.name, "role",
                         node_role_name(u.role), "class", (json_int_t)u.class_id, "consent", u.consent, "events",
                         events);
    }
    json_decref(events);
    return rc;
}

int node_people_learner_delete(node_people *p, const char *learner, const char *actor, int64_t now, cs_err *err)
{
    node_user u;
    char subject[64];
    int rc;
    if ((rc = node_people_user_by_learner(p, learner, &u, err)) != 0)
        return rc;
    if ((rc = node_people_user_remove(p, u.id, err)) != 0)
        return rc;
    snprintf(subject, sizeof subject, "learner:%s", u.learner);
    return node_people_audit(p, actor, "delete", subject, now, err);
}

int node_people_purge(node_people *p, int64_t now, int64_t days, int64_t *removed, cs_err *err)
{
    sqlite3_stmt *st = NULL;
    int rc;
    *removed = 0;
    if (days <= 0)
        return 0;
    lock(p);
    if ((rc = begin(p, err)) == 0) {
        if ((rc = prep(p, "DELETE FROM events WHERE ts < ?", &st, err)) == 0) {
            sqlite3_bind_int64(st, 1, now - days * 86400);
            rc = run(p, st, err, "purge");
            *removed = sqlite3_changes(p->db);
        }
        if (rc == 0 && (rc = prep(p, "DELETE FROM audit WHERE ts < ?", &st, err)) == 0) {
            sqlite3_bind_int64(st, 1, now - days * 86400);
            rc = run(p, st, err, "purge");
        }
        if (rc == 0 && (rc = prep(p, "DELETE FROM feedback WHERE ts < ?", &st, err)) == 0) {
            sqlite3_bind_int64(st, 1, now - days * 86400);
            rc = run(p, st, err, "purge");
        }
        rc = end(p, rc, err);
    }
    unlock(p);
    return rc;
}

/* ---- differential privacy ---- */

void node_privacy_defaults(node_privacy *pv)
{
    pv->epsilon = 1.0;
    pv->max_resources = 8;
    pv->min_count = 5;
}

static uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

void node_rng_seed(node_rng *r, uint64_t seed)
{
    for (int i = 0; i < 4; i++) { /* splitmix64 */
        uint64_t z = (seed += 0x9e3779b97f4a7c15ULL);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
        r->s[i] = z ^ (z >> 31);
    }
}

uint64_t node_rng_next(node_rng *r)
{
    uint64_t *s = r->s, result = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

/* Uniform in (0, 1). */
static double uniform01(node_rng *r)
{
    return ((double)(node_rng_next(r) >> 11) + 0.5) / 9007199254740992.0;
}

/* Geometric on {0, 1, ...} with P(k) = (1 - q) q^k. */
static int64_t geometric(node_rng *r, double q)
{
    return (int64_t)floor(log(uniform01(r)) / log(q));
}

int64_t node_dlaplace(node_rng *r, double scale)
{
    if (scale <= 0)
        return 0;
    double q = exp(-1.0 / scale);
    return geometric(r, q) - geometric(r, q);
}

#define WEEK 604800
#define WEEK_SHIFT (3 * 86400) /* the epoch was a Thursday: weeks start on Monday */

static int64_t week_of(int64_t t)
{
    int64_t x = t + WEEK_SHIFT;
    return x >= 0 ? x / WEEK : -((-x + WEEK - 1) / WEEK);
}

/* One week's aggregate: rows (learner, resource, completed) ordered by
 * learner then first use, each learner cut at max_resources. */
static int aggregate_week(node_people *p, int64_t week, const node_privacy *pv, node_rng *rng, int64_t now,
                          int *records, cs_err *err)
{
    sqlite3_stmt *st = NULL;
    int rc;
    int64_t from = week * WEEK - WEEK_SHIFT, to = from + WEEK;
    char date[32];
    cs_time_format(from, date, sizeof date);
    date[10] = 0;
    if ((rc = exec(p, "CREATE TEMP TABLE IF NOT EXISTS agg(resource TEXT PRIMARY KEY, learners INTEGER,"
                      " completions INTEGER); DELETE FROM agg",
                   err)) != 0)
        return rc;
    if ((rc = prep(p,
                   "SELECT learner, resource, max(kind = 3), min(ts) AS first FROM events WHERE ts >= ? AND ts < ?"
                   " GROUP BY learner, resource ORDER BY learner, first, resource",
                   &st, err)) != 0)
        return rc;
    sqlite3_bind_int64(st, 1, from);
    sqlite3_bind_int64(st, 2, to);
    char last[NODE_LEARNER_HEX] = "";
    int taken = 0;
    sqlite3_stmt *up = NULL;
    if ((rc = prep(p,
                   "INSERT INTO agg VALUES(?1, 1, ?2) ON CONFLICT(resource) DO UPDATE SET learners = learners + 1,"
                   " completions = completions + ?2",
                   &up, err)) != 0) {
        sqlite3_finalize(st);
        return rc;
    }
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *l = (const char *)sqlite3_column_text(st, 0);
        if (strcmp(l, last) != 0) {
            snprintf(last, sizeof last, "%s", l);
            taken = 0;
        }
        if (taken++ >= pv->max_resources)
            continue; /* this learner's contribution is bounded */
        sqlite3_reset(up);
        sqlite3_bind_text(up, 1, (const char *)sqlite3_column_text(st, 1), -1, SQLITE_TRANSIENT);
        sqlite3_bind_int(up, 2, sqlite3_column_int(st, 2));
        if (sqlite3_step(up) != SQLITE_DONE) {
            rc = db_err(p, err, "aggregate");
            break;
        }
    }
    sqlite3_finalize(up);
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE && rc != 0)
        return rc < 0 ? rc : db_err(p, err, "aggregate");
    /* Each learner changes at most max_resources resources by one learner and
     * one completion: L1 sensitivity 2 * max_resources. */
    double scale = 2.0 * pv->max_resources / (pv->epsilon > 0 ? pv->epsilon : 1.0);
    if ((rc = prep(p, "SELECT resource, learners, completions FROM agg ORDER BY resource", &st, err)) != 0)
        return rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        int64_t l = sqlite3_column_int64(st, 1) + node_dlaplace(rng, scale);
        int64_t c = sqlite3_column_int64(st, 2) + node_dlaplace(rng, scale);
        if (l < pv->min_count)
            continue;
        if (c < pv->min_count)
            c = 0; /* suppressed */
        if (c > l)
            c = l;
        json_t *body = json_pack("{s:s,s:s,s:I,s:I,s:f}", "week", date, "resource",
                                 (const char *)sqlite3_column_text(st, 0), "learners", (json_int_t)l, "completions",
                                 (json_int_t)c, "epsilon", pv->epsilon);
        rc = outbox_add_locked(p, "usage", body, now, err);
        json_decref(body);
        if (rc != 0)
            break;
        (*records)++;
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : (rc < 0 ? rc : db_err(p, err, "aggregate"));
}

int node_people_aggregate(node_people *p, int64_t now, const node_privacy *pv, node_rng *rng, int *records,
                          cs_err *err)
{
    int rc = 0;
    int64_t done = 0, first = 0;
    *records = 0;
    int64_t current = week_of(now);
    lock(p);
    meta_get_int(p, "outbox.week_done", INT64_MIN, &done);
    if (done == INT64_MIN) {
        if (one_int(p, "SELECT coalesce(min(ts), ?1) FROM events", now, NULL, &first, NULL, "events") != 0)
            first = now;
        done = week_of(first) - 1;
    }
    if (current - done > 60)
        done = current - 60; /* a clock jump: nothing older than retention is left anyway */
    /* Each finished week in its own transaction: a cut never half-releases one. */
    for (int64_t w = done + 1; w < current && rc == 0; w++) {
        if ((rc = begin(p, err)) != 0)
            break;
        rc = aggregate_week(p, w, pv, rng, now, records, err);
        if (rc == 0)
            rc = meta_set_int(p, "outbox.week_done", w, err);
        rc = end(p, rc, err);
    }
    unlock(p);
    return rc;
}
