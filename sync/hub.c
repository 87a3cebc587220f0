/*
 * hub.c - the hub's repository: init, open, publish, and version metadata.
 */
#include "sync/hub.h"
#include "sync/csvcat.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "content/object.h"
#include "content/resource.h"
#include "hub_int.h"
#include "platform/buf.h"
#include "platform/file.h"
#include "platform/time.h"
#include "sync/catfile.h"

#define HUB_DB_FORMAT 1
#define HUB_MAX_RESOURCES 2000000
#define HUB_MAX_DEPTH 32

static const char *hub_schema =
    "CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value);"
    "CREATE TABLE IF NOT EXISTS versions(version INTEGER PRIMARY KEY, created INTEGER NOT NULL,"
    "  resources INTEGER NOT NULL);"
    /* A record is valid for versions [first, last]; last NULL = still current. */
    "CREATE TABLE IF NOT EXISTS records(id TEXT NOT NULL, first INTEGER NOT NULL, last INTEGER,"
    "  digest BLOB NOT NULL, record TEXT NOT NULL, PRIMARY KEY(id, first));"
    "CREATE INDEX IF NOT EXISTS records_last ON records(last);"
    "CREATE TABLE IF NOT EXISTS objects(id BLOB PRIMARY KEY, raw_len INTEGER NOT NULL,"
    "  enc_len INTEGER NOT NULL) WITHOUT ROWID;";

void sync_hub_options_default(sync_hub_options *o)
{
    o->delta_depth = 4;
    o->expire_root = 365LL * 86400;
    o->expire_targets = 180LL * 86400;
    o->expire_snapshot = 30LL * 86400;
    o->expire_timestamp = 86400;
}

int sync_hub_set_delta_depth(sync_hub *h, int k, cs_err *err)
{
    if (k < 0 || k > SYNC_HUB_DELTA_DEPTH_MAX)
        return cs_err_set(err, CS_EINVAL, "delta depth %d is out of range (0-%d)", k,
                          SYNC_HUB_DELTA_DEPTH_MAX);
    h->opt.delta_depth = k;
    return 0;
}

int hub_sql(sqlite3 *db, const char *sql, cs_err *err)
{
    char *msg = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        int full = sqlite3_errcode(db) == SQLITE_FULL;
        cs_err_set(err, full ? CS_ENOSPC : CS_EDB, "hub database: %s", msg ? msg : "error");
        sqlite3_free(msg);
        return err ? err->code : CS_EDB;
    }
    return 0;
}

static int db_err(sqlite3 *db, cs_err *err, const char *what)
{
    int c = sqlite3_errcode(db);
    return cs_err_set(err, c == SQLITE_FULL ? CS_ENOSPC : CS_EDB, "hub database (%s): %s", what,
                      sqlite3_errmsg(db));
}

static int hub_path(const sync_hub *h, char *buf, size_t cap, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int hub_path(const sync_hub *h, char *buf, size_t cap, const char *fmt, ...)
{
    char rel[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(rel, sizeof rel, fmt, ap);
    va_end(ap);
    return cs_path_join(buf, cap, h->dir, rel);
}

json_t *key_json(cs_key *k, cs_err *err)
{
    char pem[1024];
    if (cs_key_write_public_pem(k, pem, sizeof pem, err) != 0)
        return NULL;
    return json_pack("{s:s,s:s}", "keytype", "ecdsa-p256", "public", pem);
}

static void expires_str(int64_t now, int64_t secs, char *buf)
{
    cs_time_format(now + secs, buf, 32);
}

int sync_hub_init(const char *dir, const sync_hub_options *opt, cs_err *err)
{
    sync_hub_options defaults;
    if (!opt) {
        sync_hub_options_default(&defaults);
        opt = &defaults;
    }
    char p[PATH_MAX];
    cs_key *keys[SYNC_NROLES] = {0};
    json_t *signed_root = NULL;
    char *text = NULL;
    size_t len = 0;
    sqlite3 *db = NULL;
    int rc = cs_mkdirs(dir, 0755, err);
    if (rc)
        return rc;
    if (cs_path_join(p, sizeof p, dir, "root.json") == 0 && cs_path_exists(p))
        return cs_err_set(err, CS_EEXIST, "%s already holds a repository (root.json exists)", dir);
    static const char *subdirs[] = {"catalog", "objects", "keys"};
    for (int i = 0; i < 3; i++) {
        cs_path_join(p, sizeof p, dir, subdirs[i]);
        if ((rc = cs_mkdirs(p, i == 2 ? 0700 : 0755, err)) != 0)
            return rc;
    }
    json_t *jkeys = json_object(), *roles = json_object();
    for (int r = 0; r < SYNC_NROLES; r++) {
        char kid[CS_KEYID_HEX], pem[2048];
        if ((rc = cs_key_generate(&keys[r], err)) != 0 || (rc = cs_key_id(keys[r], kid, err)) != 0 ||
            (rc = cs_key_write_private_pem(keys[r], pem, sizeof pem, err)) != 0)
            goto out;
        snprintf(p, sizeof p, "%s/keys/%s.key", dir, sync_role_name((sync_role)r));
        rc = cs_file_write_atomic(p, pem, strlen(pem), 0600, err);
        cs_wipe(pem, sizeof pem);
        if (rc)
            goto out;
        json_t *kj = key_json(keys[r], err);
        if (!kj) {
            rc = err ? err->code : CS_ECRYPTO;
            goto out;
        }
        json_object_set_new(jkeys, kid, kj);
        json_object_set_new(roles, sync_role_name((sync_role)r),
                            json_pack("{s:[s],s:i}", "keyids", kid, "threshold", 1));
    }
    char exp[32];
    expires_str(cs_time_now(), opt->expire_root, exp);
    signed_root = json_pack("{s:s,s:s,s:i,s:s,s:o,s:o}", "_type", "root", "spec", SYNC_SPEC,
                            "version", 1, "expires", exp, "keys", jkeys, "roles", roles);
    jkeys = roles = NULL;
    if ((rc = sync_meta_sign(signed_root, &keys[SYNC_ROOT], 1, &text, &len, err)) != 0)
        goto out;
    cs_path_join(p, sizeof p, dir, "1.root.json");
    if ((rc = cs_file_write_atomic(p, text, len, 0644, err)) != 0)
        goto out;
    cs_path_join(p, sizeof p, dir, "hub.db");
    if (sqlite3_open(p, &db) != SQLITE_OK) {
        rc = cs_err_set(err, CS_EDB, "cannot create %s", p);
        goto out;
    }
    if ((rc = hub_sql(db, "PRAGMA journal_mode=WAL", err)) != 0 ||
        (rc = hub_sql(db, hub_schema, err)) != 0 ||
        (rc = hub_sql(db, "INSERT OR REPLACE INTO meta VALUES('format', 1)", err)) != 0)
        goto out;
    /* root.json last: its presence marks a complete repository. */
    cs_path_join(p, sizeof p, dir, "root.json");
    rc = cs_file_write_atomic(p, text, len, 0644, err);
out:
    json_decref(jkeys);
    json_decref(roles);
    json_decref(signed_root);
    free(text);
    sqlite3_close(db);
    for (int r = 0; r < SYNC_NROLES; r++)
        cs_key_free(keys[r]);
    return rc;
}

int64_t sync_hub_version(const sync_hub *h)
{
    return h->version;
}

void sync_hub_free(sync_hub *h)
{
    if (!h)
        return;
    for (int r = 0; r < SYNC_NROLES; r++)
        cs_key_free(h->keys[r]);
    sqlite3_close(h->db);
    if (h->lock_fd >= 0)
        close(h->lock_fd);
    free(h);
}

static int hub_latest_version(sqlite3 *db, int64_t *out)
{
    sqlite3_stmt *st = NULL;
    *out = 0;
    if (sqlite3_prepare_v2(db, "SELECT max(version) FROM versions", -1, &st, NULL) != SQLITE_OK)
        return CS_EDB;
    if (sqlite3_step(st) == SQLITE_ROW)
        *out = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return 0;
}

/* Version of the snapshot timestamp.json points at (0 if none). */
static int64_t hub_timestamp_points_to(const sync_hub *h)
{
    char p[PATH_MAX], *text = NULL;
    size_t len = 0;
    int64_t v = 0;
    if (hub_path(h, p, sizeof p, "timestamp.json") != 0 ||
        cs_file_read_all(p, SYNC_META_MAX, &text, &len, NULL) != 0)
        return 0;
    json_t *j = json_loadb(text, len, 0, NULL);
    json_t *m = json_object_get(json_object_get(json_object_get(j, "signed"), "meta"), "snapshot.json");
    if (json_is_integer(json_object_get(m, "version")))
        v = json_integer_value(json_object_get(m, "version"));
    json_decref(j);
    free(text);
    return v;
}

int sync_hub_open(sync_hub **out, const char *dir, cs_err *err)
{
    char p[PATH_MAX];
    int rc = 0;
    sync_hub *h = calloc(1, sizeof *h);
    if (!h)
        return cs_err_set(err, CS_ENOMEM, "out of memory");
    h->lock_fd = -1;
    sync_hub_options_default(&h->opt);
    if (strlen(dir) >= sizeof h->dir) {
        rc = cs_err_set(err, CS_ETOOBIG, "repository path too long");
        goto fail;
    }
    snprintf(h->dir, sizeof h->dir, "%s", dir);
    hub_path(h, p, sizeof p, "root.json");
    if (!cs_path_exists(p)) {
        rc = cs_err_set(err, CS_ENOENT, "%s is not a repository (no root.json; run `cistern hub init`)", dir);
        goto fail;
    }
    hub_path(h, p, sizeof p, "lock");
    h->lock_fd = open(p, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (h->lock_fd < 0) {
        rc = cs_err_errno(err, p);
        goto fail;
    }
    if (flock(h->lock_fd, LOCK_EX | LOCK_NB) != 0) {
        rc = cs_err_set(err, CS_EBUSY, "repository %s is in use by another cistern command", dir);
        goto fail;
    }
    hub_path(h, p, sizeof p, "hub.db");
    if (sqlite3_open_v2(p, &h->db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) {
        rc = cs_err_set(err, CS_EDB, "cannot open %s", p);
        goto fail;
    }
    sqlite3_busy_timeout(h->db, 5000);
    if ((rc = hub_sql(h->db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL", err)) != 0 ||
        (rc = hub_sql(h->db, hub_schema, err)) != 0)
        goto fail;
    for (int r = 0; r < SYNC_NROLES; r++) {
        snprintf(p, sizeof p, "%s/keys/%s.key", dir, sync_role_name((sync_role)r));
        if (cs_path_exists(p) && (rc = cs_key_load_private(&h->keys[r], p, err)) != 0)
            goto fail;
    }
    hub_latest_version(h->db, &h->version);
    /* A publish that committed but died before writing all its metadata is
     * finished now, so the repository always ends on a complete version. */
    if (h->version > 0 && hub_timestamp_points_to(h) != h->version &&
        (rc = hub_finish_version(h, h->version, err)) != 0)
        goto fail;
    *out = h;
    return 0;
fail:
    sync_hub_free(h);
    return rc;
}

/* ---- publish: pass 1, validate the source tree ---- */

typedef struct src_file {
    char *path; /* relative to the resource folder */
    uint64_t size;
    char *mime, *disk; /* from a manifest (resource.files); NULL when walked */
} src_file;

typedef struct src_resource {
    char *id;
    json_t *meta;
    src_file *files;
    size_t nfiles, cap;
} src_resource;

typedef struct src_tree {
    src_resource *res;
    size_t n, cap;
    uint64_t files, bytes;
} src_tree;

static void src_tree_free(src_tree *t)
{
    for (size_t i = 0; i < t->n; i++) {
        src_resource *r = &t->res[i];
        free(r->id);
        json_decref(r->meta);
        for (size_t j = 0; j < r->nfiles; j++) {
            free(r->files[j].path);
            free(r->files[j].mime);
            free(r->files[j].disk);
        }
        free(r->files);
    }
    free(t->res);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int cmp_file(const void *a, const void *b)
{
    return strcmp(((const src_file *)a)->path, ((const src_file *)b)->path);
}

/* Sorted names in a directory, dotfiles skipped. */
static int list_dir(const char *dir, char ***out, size_t *n, cs_err *err)
{
    DIR *d = opendir(dir);
    if (!d)
        return cs_err_errno(err, dir);
    char **names = NULL;
    size_t cnt = 0, cap = 0;
    struct dirent *e;
    int rc = 0;
    // cppcheck-suppress readdirCalled ; a DIR of our own: readdir is safe, readdir_r deprecated
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        if (cnt == cap) {
            cap = cap ? cap * 2 : 64;
            char **nn = realloc(names, cap * sizeof *nn);
            if (!nn) {
                rc = cs_err_set(err, CS_ENOMEM, "out of memory");
                break;
            }
            names = nn;
        }
        if (!(names[cnt] = strdup(e->d_name))) {
            rc = cs_err_set(err, CS_ENOMEM, "out of memory");
            break;
        }
        cnt++;
    }
    closedir(d);
    if (rc) {
        for (size_t i = 0; i < cnt; i++)
            free(names[i]);
        free(names);
        return rc;
    }
    if (cnt)
        qsort(names, cnt, sizeof *names, cmp_str);
    *out = names;
    *n = cnt;
    return 0;
}

static void free_names(char **names, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
}

static int walk_files(src_resource *r, const char *root, const char *rel, int depth, cs_err *err)
{
    char dir[PATH_MAX];
    if (depth > HUB_MAX_DEPTH)
        return cs_err_set(err, CS_ETOOBIG, "%s/%s: folders nested deeper than %d", root, rel, HUB_MAX_DEPTH);
    if (snprintf(dir, sizeof dir, "%s%s%s", root, *rel ? "/" : "", rel) >= (int)sizeof dir)
        return cs_err_set(err, CS_ETOOBIG, "path too long under %s", root);
    char **names = NULL;
    size_t n = 0;
    int rc = list_dir(dir, &names, &n, err);
    if (rc)
        return rc;
    for (size_t i = 0; i < n && rc == 0; i++) {
        char sub[PATH_MAX], full[PATH_MAX];
        snprintf(sub, sizeof sub, "%s%s%s", rel, *rel ? "/" : "", names[i]);
        snprintf(full, sizeof full, "%s/%s", dir, names[i]);
        if (depth == 0 && strcmp(names[i], "resource.json") == 0)
            continue;
        struct stat st;
        if (lstat(full, &st) != 0) {
            rc = cs_err_errno(err, full);
        } else if (S_ISDIR(st.st_mode)) {
            rc = walk_files(r, root, sub, depth + 1, err);
        } else if (!S_ISREG(st.st_mode)) {
            rc = cs_err_set(err, CS_EINVAL, "%s: not a regular file (symbolic links and devices are refused)", full);
        } else if (!content_path_valid(sub)) {
            rc = cs_err_set(err, CS_EINVAL, "%s: file name is not allowed in a resource", full);
        } else {
            if (r->nfiles >= CONTENT_RESOURCE_MAX_FILES) {
                rc = cs_err_set(err, CS_ETOOBIG, "%s: more than %d files", root, CONTENT_RESOURCE_MAX_FILES);
                break;
            }
            if (r->nfiles == r->cap) {
                r->cap = r->cap ? r->cap * 2 : 16;
                src_file *nf = realloc(r->files, r->cap * sizeof *nf);
                if (!nf) {
                    rc = cs_err_set(err, CS_ENOMEM, "out of memory");
                    break;
                }
                r->files = nf;
            }
            memset(&r->files[r->nfiles], 0, sizeof r->files[r->nfiles]);
            r->files[r->nfiles].path = strdup(sub);
            r->files[r->nfiles].size = (uint64_t)st.st_size;
            if (!r->files[r->nfiles].path) {
                rc = cs_err_set(err, CS_ENOMEM, "out of memory");
                break;
            }
            r->nfiles++;
        }
    }
    free_names(names, n);
    return rc;
}

/* The files of a resource folder: its manifest (resource.files) if it has
 * one, else every file under it. */
static int source_files(src_resource *r, const char *dir, cs_err *err)
{
    hub_mfile *m = NULL;
    size_t n = 0;
    int rc = hub_manifest_read(dir, &m, &n, err);
    if (rc == CS_ENOENT)
        return walk_files(r, dir, "", 0, err);
    if (rc)
        return rc;
    r->files = calloc(n ? n : 1, sizeof *r->files);
    if (!r->files) {
        hub_manifest_free(m, n);
        return cs_err_set(err, CS_ENOMEM, "out of memory");
    }
    for (size_t i = 0; i < n; i++) {
        src_file *f = &r->files[r->nfiles++];
        f->path = m[i].path, f->mime = m[i].mime, f->disk = m[i].disk, f->size = m[i].size;
        m[i].path = m[i].mime = m[i].disk = NULL;
    }
    r->cap = n;
    hub_manifest_free(m, n);
    return 0;
}

static int scan_source(const char *src, src_tree *t, sync_progress_cb progress, void *pctx, cs_err *err)
{
    char **names = NULL;
    size_t n = 0;
    struct stat st;
    if (stat(src, &st) != 0)
        return cs_err_errno(err, src);
    if (!S_ISDIR(st.st_mode))
        return cs_err_set(err, CS_EINVAL, "%s: not a folder", src);
    /* A spreadsheet beside the folders describes those without resource.json. */
    json_t *csv = NULL;
    char cpath[PATH_MAX];
    snprintf(cpath, sizeof cpath, "%s/catalog.csv", src);
    if (cs_path_exists(cpath)) {
        char *ctext = NULL;
        size_t clen = 0;
        int crc = cs_file_read_all(cpath, SYNC_CSV_MAX_BYTES, &ctext, &clen, err);
        if (crc == 0)
            crc = sync_csv_catalog_parse(ctext, clen, &csv, err);
        free(ctext);
        if (crc != 0)
            return crc;
    }
    int rc = list_dir(src, &names, &n, err);
    if (rc) {
        json_decref(csv);
        return rc;
    }
    for (size_t i = 0; i < n && rc == 0; i++) {
        char dir[PATH_MAX], jpath[PATH_MAX];
        snprintf(dir, sizeof dir, "%s/%s", src, names[i]);
        if (stat(dir, &st) != 0) {
            rc = cs_err_errno(err, dir);
            break;
        }
        if (!S_ISDIR(st.st_mode))
            continue; /* loose files beside the resource folders are not resources */
        if (t->n >= HUB_MAX_RESOURCES) {
            rc = cs_err_set(err, CS_ETOOBIG, "%s: more than %d resources", src, HUB_MAX_RESOURCES);
            break;
        }
        snprintf(jpath, sizeof jpath, "%s/resource.json", dir);
        char *text = NULL;
        size_t len = 0;
        json_t *meta = NULL, *row = json_object_get(csv, names[i]);
        if ((rc = cs_file_read_all(jpath, CONTENT_RESOURCE_JSON_MAX, &text, &len, err)) != 0) {
            if (rc == CS_ENOENT && row) {
                /* described by catalog.csv */
                rc = 0;
                meta = json_incref(json_object_get(row, "meta"));
                json_object_set_new(row, "used", json_true());
                snprintf(jpath, sizeof jpath, "%s row %lld", cpath, (long long)json_integer_value(json_object_get(row, "row")));
            } else {
                if (rc == CS_ENOENT)
                    cs_err_set(err, CS_EINVAL, "%s: missing (every resource folder needs one, or a row in catalog.csv)",
                               jpath);
                break;
            }
        } else if (row) {
            free(text);
            rc = cs_err_set(err, CS_EINVAL, "%s: described twice: by its resource.json and by catalog.csv row %lld", dir,
                            (long long)json_integer_value(json_object_get(row, "row")));
            break;
        } else {
            rc = content_resource_parse_json(&meta, text, len, err);
            free(text);
            if (rc) {
                cs_err_wrap(err, "%s", jpath);
                break;
            }
        }
        const char *id = json_string_value(json_object_get(meta, "id"));
        if (!id || (!row && strcmp(id, names[i]) != 0)) {
            rc = cs_err_set(err, CS_EINVAL, "%s: \"id\" is \"%s\" but the folder is named \"%s\"", jpath,
                            id ? id : "", names[i]);
            json_decref(meta);
            break;
        }
        if (strncmp(id, "local-", 6) == 0) {
            rc = cs_err_set(err, CS_EINVAL, "%s: ids starting with \"local-\" belong to schools' own resources", jpath);
            json_decref(meta);
            break;
        }
        if (t->n == t->cap) {
            t->cap = t->cap ? t->cap * 2 : 64;
            src_resource *nr = realloc(t->res, t->cap * sizeof *nr);
            if (!nr) {
                json_decref(meta);
                rc = cs_err_set(err, CS_ENOMEM, "out of memory");
                break;
            }
            t->res = nr;
        }
        src_resource *r = &t->res[t->n++];
        memset(r, 0, sizeof *r);
        r->meta = meta;
        r->id = strdup(id);
        if ((rc = source_files(r, dir, err)) != 0)
            break;
        if (r->nfiles)
            qsort(r->files, r->nfiles, sizeof *r->files, cmp_file);
        const char *entry = json_string_value(json_object_get(meta, "entry"));
        int found = 0;
        for (size_t j = 0; j < r->nfiles && entry; j++) {
            if (strcmp(r->files[j].path, entry) == 0)
                found = 1;
        }
        if (!found) {
            rc = cs_err_set(err, CS_EINVAL, "%s: \"entry\" names \"%s\", which is not a file of the resource",
                            jpath, entry ? entry : "");
            break;
        }
        for (size_t j = 0; j < r->nfiles; j++)
            t->bytes += r->files[j].size;
        t->files += r->nfiles;
        if (progress)
            progress(pctx, "checking", i + 1, n);
    }
    free_names(names, n);
    /* Every row of the spreadsheet must have found its folder. */
    const char *folder;
    json_t *row;
    json_object_foreach(csv, folder, row)
    {
        if (rc == 0 && !json_is_true(json_object_get(row, "used")))
            rc = cs_err_set(err, CS_EINVAL, "%s row %lld: no folder \"%s\" beside it with the resource's files", cpath,
                            (long long)json_integer_value(json_object_get(row, "row")), folder);
    }
    json_decref(csv);
    return rc;
}

/* ---- publish: pass 2, store objects ---- */

typedef struct fd_sink {
    int fd;
    uint64_t written;
} fd_sink;

static int fd_sink_write(void *ctx, const void *data, size_t len, cs_err *err)
{
    fd_sink *s = ctx;
    int rc = cs_write_full(s->fd, data, len, err);
    if (rc == 0)
        s->written += len;
    return rc;
}

static int hub_has_object(sync_hub *h, const uint8_t id[32], uint64_t *enc_len)
{
    sqlite3_stmt *st = NULL;
    int found = 0;
    if (sqlite3_prepare_v2(h->db, "SELECT enc_len FROM objects WHERE id=?", -1, &st, NULL) != SQLITE_OK)
        return 0;
    sqlite3_bind_blob(st, 1, id, 32, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_ROW) {
        found = 1;
        if (enc_len)
            *enc_len = (uint64_t)sqlite3_column_int64(st, 0);
    }
    sqlite3_finalize(st);
    return found;
}

/* Encode one file into objects/ (if new).  Fills object id and enc_len. */
static int store_file(sync_hub *h, const char *path, uint64_t size, content_file *cf, int *is_new,
                      cs_err *err)
{
    char tmp[PATH_MAX], final[PATH_MAX], hex[CS_SHA256_HEX];
    uint8_t *hdr = NULL;
    size_t hdr_len = 0;
    uint64_t enc_len = 0;
    int in = -1, rc = 0;
    fd_sink sink = {-1, 0};
    *is_new = 0;
    in = open(path, O_RDONLY | O_CLOEXEC);
    if (in < 0)
        return cs_err_errno(err, path);
    hub_path(h, tmp, sizeof tmp, "objects/.tmp-%d-XXXXXX", (int)getpid());
    sink.fd = mkstemp(tmp);
    if (sink.fd < 0) {
        rc = cs_err_errno(err, tmp);
        goto out;
    }
    if ((rc = content_obj_encode_fd(in, size, fd_sink_write, &sink, cf->object, &hdr, &hdr_len,
                                    &enc_len, err)) != 0) {
        cs_err_wrap(err, "%s", path);
        goto out;
    }
    uint64_t known = 0;
    if (hub_has_object(h, cf->object, &known)) {
        cf->enc_len = known;
        goto out; /* already in the repository */
    }
    if ((rc = cs_pwrite_full(sink.fd, hdr, hdr_len, 0, err)) != 0)
        goto out;
    cs_hex_encode(cf->object, 32, hex);
    char sub[PATH_MAX];
    hub_path(h, sub, sizeof sub, "objects/%.2s", hex);
    if ((rc = cs_mkdirs(sub, 0755, err)) != 0)
        goto out;
    hub_path(h, final, sizeof final, "objects/%.2s/%s", hex, hex);
    if (fchmod(sink.fd, 0644) != 0 || rename(tmp, final) != 0) {
        rc = cs_err_errno(err, final);
        goto out;
    }
    tmp[0] = '\0';
    cf->enc_len = enc_len;
    *is_new = 1;
out:
    free(hdr);
    if (sink.fd >= 0)
        close(sink.fd);
    if (tmp[0] && sink.fd >= 0)
        unlink(tmp);
    if (in >= 0)
        close(in);
    return rc;
}

typedef struct new_obj {
    uint8_t id[32];
    uint64_t raw_len, enc_len;
} new_obj;

static int digest_cmp(sqlite3_stmt *st, const uint8_t digest[32])
{
    const void *d = sqlite3_column_blob(st, 0);
    return d && sqlite3_column_bytes(st, 0) == 32 && memcmp(d, digest, 32) == 0;
}

int sync_hub_publish(sync_hub *h, const char *src, sync_progress_cb progress, void *pctx,
                     sync_publish_stats *stats, cs_err *err)
{
    src_tree t;
    memset(&t, 0, sizeof t);
    sync_publish_stats s;
    memset(&s, 0, sizeof s);
    new_obj *news = NULL;
    size_t nnew = 0, newcap = 0;
    content_resource *res = NULL;
    char **records = NULL;
    sqlite3_stmt *get = NULL, *ins = NULL, *close_st = NULL;
    int in_tx = 0;
    int rc = scan_source(src, &t, progress, pctx, err);
    if (rc)
        goto out;
    if (!h->keys[SYNC_TARGETS] || !h->keys[SYNC_SNAPSHOT] || !h->keys[SYNC_TIMESTAMP]) {
        rc = cs_err_set(err, CS_ECRYPTO, "%s/keys/ lacks the targets, snapshot or timestamp key", h->dir);
        goto out;
    }
    res = calloc(t.n ? t.n : 1, sizeof *res);
    records = calloc(t.n ? t.n : 1, sizeof *records);
    if (!res || !records) {
        rc = cs_err_set(err, CS_ENOMEM, "out of memory");
        goto out;
    }
    /* Pass 2: objects. */
    uint64_t done_bytes = 0;
    for (size_t i = 0; i < t.n && rc == 0; i++) {
        src_resource *sr = &t.res[i];
        content_resource *r = &res[i];
        r->id = sr->id;
        r->meta = sr->meta;
        r->files = calloc(sr->nfiles ? sr->nfiles : 1, sizeof *r->files);
        if (!r->files) {
            rc = cs_err_set(err, CS_ENOMEM, "out of memory");
            break;
        }
        for (size_t j = 0; j < sr->nfiles; j++) {
            char path[PATH_MAX];
            const src_file *sf = &sr->files[j];
            snprintf(path, sizeof path, "%s/%s/%s", src, sr->id, sf->disk ? sf->disk : sf->path);
            content_file *cf = &r->files[r->nfiles];
            cf->path = sf->path;
            cf->size = sf->size;
            cf->mime = sf->mime ? sf->mime : (char *)content_mime_guess(cf->path);
            int is_new = 0;
            if ((rc = store_file(h, path, cf->size, cf, &is_new, err)) != 0)
                break;
            r->nfiles++;
            if (is_new) {
                if (nnew == newcap) {
                    newcap = newcap ? newcap * 2 : 256;
                    new_obj *nn = realloc(news, newcap * sizeof *nn);
                    if (!nn) {
                        rc = cs_err_set(err, CS_ENOMEM, "out of memory");
                        break;
                    }
                    news = nn;
                }
                memcpy(news[nnew].id, cf->object, 32);
                news[nnew].raw_len = cf->size;
                news[nnew].enc_len = cf->enc_len;
                nnew++;
            }
            done_bytes += cf->size;
            if (progress)
                progress(pctx, "storing", done_bytes, t.bytes);
        }
    }
    if (rc)
        goto out;
    /* Objects are durable before any metadata can name them. */
    char odir[PATH_MAX];
    hub_path(h, odir, sizeof odir, "objects");
    int dfd = open(odir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0 || syncfs(dfd) != 0) {
        rc = cs_err_errno(err, odir);
        if (dfd >= 0)
            close(dfd);
        goto out;
    }
    close(dfd);

    int64_t v = h->version + 1;
    if ((rc = hub_sql(h->db, "BEGIN IMMEDIATE", err)) != 0)
        goto out;
    in_tx = 1;
    if (sqlite3_prepare_v2(h->db, "INSERT OR IGNORE INTO objects VALUES(?,?,?)", -1, &ins, NULL) != SQLITE_OK) {
        rc = db_err(h->db, err, "prepare");
        goto out;
    }
    for (size_t i = 0; i < nnew; i++) {
        sqlite3_bind_blob(ins, 1, news[i].id, 32, SQLITE_STATIC);
        sqlite3_bind_int64(ins, 2, (sqlite3_int64)news[i].raw_len);
        sqlite3_bind_int64(ins, 3, (sqlite3_int64)news[i].enc_len);
        if (sqlite3_step(ins) != SQLITE_DONE) {
            rc = db_err(h->db, err, "objects");
            goto out;
        }
        if (sqlite3_changes(h->db) > 0) {
            s.objects_new++;
            s.bytes_new_encoded += news[i].enc_len;
        }
        sqlite3_reset(ins);
    }
    sqlite3_finalize(ins);
    ins = NULL;
    /* Records: compare each resource with the current one. */
    if (sqlite3_prepare_v2(h->db, "SELECT digest FROM records WHERE id=? AND last IS NULL", -1, &get, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(h->db, "INSERT INTO records(id, first, last, digest, record) VALUES(?,?,NULL,?,?)", -1, &ins, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(h->db, "UPDATE records SET last=? WHERE id=? AND last IS NULL", -1, &close_st, NULL) != SQLITE_OK) {
        rc = db_err(h->db, err, "prepare");
        goto out;
    }
    /* Temp table of the ids in this publish, to find deletions. */
    if ((rc = hub_sql(h->db, "CREATE TEMP TABLE IF NOT EXISTS seen(id TEXT PRIMARY KEY); DELETE FROM seen", err)) != 0)
        goto out;
    sqlite3_stmt *seen = NULL;
    if (sqlite3_prepare_v2(h->db, "INSERT INTO seen VALUES(?)", -1, &seen, NULL) != SQLITE_OK) {
        rc = db_err(h->db, err, "prepare");
        goto out;
    }
    for (size_t i = 0; i < t.n; i++) {
        size_t len = 0;
        uint8_t digest[32];
        if ((rc = sync_resource_to_record(&res[i], &records[i], &len, err)) != 0)
            break;
        cs_sha256_buf(records[i], len, digest);
        s.files += res[i].nfiles;
        for (size_t j = 0; j < res[i].nfiles; j++)
            s.bytes_raw += res[i].files[j].size;
        sqlite3_bind_text(seen, 1, res[i].id, -1, SQLITE_STATIC);
        sqlite3_step(seen);
        sqlite3_reset(seen);
        sqlite3_bind_text(get, 1, res[i].id, -1, SQLITE_STATIC);
        int step = sqlite3_step(get);
        int same = step == SQLITE_ROW && digest_cmp(get, digest);
        int existed = step == SQLITE_ROW;
        sqlite3_reset(get);
        if (same)
            continue;
        /* Changed or (re)added: deltas against what its files were lately.
         * The digest stays that of the record without deltas. */
        json_t *deltas = NULL;
        if ((rc = hub_deltas_for(h, v, &res[i], src, &deltas, err)) != 0)
            break;
        if (deltas) {
            free(records[i]);
            records[i] = NULL;
            rc = sync_resource_to_record_ex(&res[i], deltas, &records[i], &len, err);
            json_decref(deltas);
            if (rc)
                break;
            s.deltas++;
        }
        if (existed) {
            sqlite3_bind_int64(close_st, 1, v - 1);
            sqlite3_bind_text(close_st, 2, res[i].id, -1, SQLITE_STATIC);
            if (sqlite3_step(close_st) != SQLITE_DONE) {
                rc = db_err(h->db, err, "records");
                break;
            }
            sqlite3_reset(close_st);
            s.changed++;
        } else {
            s.added++;
        }
        sqlite3_bind_text(ins, 1, res[i].id, -1, SQLITE_STATIC);
        sqlite3_bind_int64(ins, 2, v);
        sqlite3_bind_blob(ins, 3, digest, 32, SQLITE_STATIC);
        sqlite3_bind_text(ins, 4, records[i], (int)len, SQLITE_STATIC);
        if (sqlite3_step(ins) != SQLITE_DONE) {
            rc = db_err(h->db, err, "records");
            break;
        }
        sqlite3_reset(ins);
    }
    sqlite3_finalize(seen);
    if (rc)
        goto out;
    {
        char sql[256];
        snprintf(sql, sizeof sql,
                 "UPDATE records SET last=%lld WHERE last IS NULL AND id NOT IN (SELECT id FROM seen)",
                 (long long)(v - 1));
        if ((rc = hub_sql(h->db, sql, err)) != 0)
            goto out;
        s.removed = (uint64_t)sqlite3_changes(h->db);
    }
    s.resources = t.n;
    if (s.added == 0 && s.changed == 0 && s.removed == 0) {
        /* Nothing changed: no new version. */
        hub_sql(h->db, "ROLLBACK", NULL);
        in_tx = 0;
        s.version = h->version;
        goto done;
    }
    {
        char sql[256];
        snprintf(sql, sizeof sql, "INSERT INTO versions VALUES(%lld, %lld, %zu)", (long long)v,
                 (long long)cs_time_now(), t.n);
        if ((rc = hub_sql(h->db, sql, err)) != 0)
            goto out;
    }
    if ((rc = hub_sql(h->db, "COMMIT", err)) != 0)
        goto out;
    in_tx = 0;
    h->version = v;
    s.version = v;
    if (progress)
        progress(pctx, "signing", 0, 0);
    if ((rc = hub_finish_version(h, v, err)) != 0)
        goto out;
done:
    if (stats)
        *stats = s;
out:
    if (in_tx)
        hub_sql(h->db, "ROLLBACK", NULL);
    sqlite3_finalize(get);
    sqlite3_finalize(ins);
    sqlite3_finalize(close_st);
    if (res) {
        for (size_t i = 0; i < t.n; i++) {
            free(res[i].files); /* strings are borrowed from t */
            free(records[i]);
        }
    }
    free(res);
    free(records);
    free(news);
    src_tree_free(&t);
    return rc;
}

int sync_hub_foreach_current(sync_hub *h, int (*cb)(void *ctx, const content_resource *r), void *ctx, cs_err *err)
{
    sqlite3_stmt *st = NULL;
    int rc = 0;
    if (sqlite3_prepare_v2(h->db, "SELECT record FROM records WHERE last IS NULL ORDER BY id", -1, &st, NULL) !=
        SQLITE_OK)
        return cs_err_set(err, CS_EDB, "hub.db: %s", sqlite3_errmsg(h->db));
    while (rc == 0 && sqlite3_step(st) == SQLITE_ROW) {
        json_t *rec = json_loads((const char *)sqlite3_column_text(st, 0), 0, NULL);
        content_resource *r = NULL;
        if (!rec) {
            rc = cs_err_set(err, CS_ECORRUPT, "hub.db: a record is not JSON");
            break;
        }
        rc = sync_record_to_resource(rec, &r, err);
        json_decref(rec);
        if (rc == 0)
            rc = cb(ctx, r);
        content_resource_free(r);
    }
    sqlite3_finalize(st);
    return rc;
}
