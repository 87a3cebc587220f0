/*
 * store.c - the node's packed, content-addressed object store (store.h,
 * docs/store.md).
 *
 * Layout of dir/: pack-NNNNNN.pack files (16-byte header, then encoded
 * objects back to back), index.db (SQLite, WAL) and lock (flock'd by the one
 * writer).  The index is the truth: a pack's bytes past packs.committed_end
 * are garbage left by a crash and are cut off by the next writable open, and
 * pack files with no packs row are deleted then.
 *
 * Write path: an object is appended at the current pack's tail and recorded
 * as a pending row (kept in memory, with a small hash set for dedupe).
 * content_store_flush fsyncs every pack written since the last flush, then
 * commits all pending rows and the packs' new committed ends in one SQLite
 * transaction (synchronous=FULL: durable when the flush returns, so a caller
 * may then commit a catalogue that names the objects).  If anything fails
 * the pending rows are dropped and the tails cut back to the last committed
 * end, so the store on disk is always the one described by the last commit.
 *
 * A store handle is not thread-safe: use one per thread.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <lz4.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "content/object.h"
#include "content/store.h"
#include "platform/buf.h"
#include "platform/crypto.h"
#include "platform/error.h"
#include "platform/file.h"
#include "store_int.h"

#define STORE_PATH_MAX 4096
#define STORE_PAGE 256              /* rows per page when walking the index */
#define STORE_TABLE_CHUNK 4096      /* table entries read at once when streaming */
#define STORE_COPY_BUF (1u << 20)   /* copy buffer for gc and streamed imports */
#define STORE_SMALL_FILE (4u << 20) /* put_file reads files up to this into memory */
#define STORE_BUSY_MS 5000

typedef struct store_pack {
    uint32_t id;
    int fd;                 /* -1 until opened (readers open lazily) */
    uint64_t committed_end; /* writer: end recorded in index.db; 0 = not registered yet */
    uint64_t tail;          /* writer: where the next object goes */
    int dirty;              /* written since the last flush */
    int fresh;              /* created since the last flush (directory needs an fsync) */
    int unusable;           /* file missing or shorter than committed_end: no appends */
} store_pack;

typedef struct store_row {
    uint8_t id[32];
    uint32_t pack;
    uint32_t block_size;
    uint64_t off;
    uint64_t raw_len;
    uint64_t enc_len;
} store_row;

struct content_store {
    char *dir;
    int rdonly;
    int lock_fd;
    sqlite3 *db;
    sqlite3_stmt *q_get;  /* committed row by id */
    sqlite3_stmt *q_ins;  /* insert a row */
    sqlite3_stmt *q_pack; /* register / advance a pack */
    sqlite3_stmt *q_del;  /* delete a row */

    store_pack *packs;
    size_t npacks, packs_cap;
    uint32_t cur;       /* writer: id of the pack taking appends, 0 = none yet */
    uint32_t next_pack; /* writer: id of the next pack to create (never reused) */

    store_row *pend; /* pending rows: written to a pack, not committed */
    size_t npend, pend_cap;
    uint32_t *pend_ix; /* open addressing over pend: index + 1, 0 = empty */
    size_t pend_ix_cap;
    uint64_t pend_bytes;

    /* One decoded block (and the buffer streaming verify decodes into). */
    uint8_t cache_id[32];
    uint32_t cache_block;
    int cache_valid;
    uint8_t *block;
    size_t block_cap;
    uint8_t *stored; /* a block's stored bytes */
    size_t stored_cap;

    content_store_phase_cb gc_progress; /* NULL: gc reports nothing */
    void *gc_pctx;
};

/* ---- small helpers ---------------------------------------------------- */

static int db_fail(content_store *s, cs_err *err, const char *what)
{
    int ec = sqlite3_extended_errcode(s->db);
    int code = CS_EDB;
    if ((ec & 0xff) == SQLITE_FULL)
        code = CS_ENOSPC;
    else if ((ec & 0xff) == SQLITE_BUSY || (ec & 0xff) == SQLITE_LOCKED)
        code = CS_EBUSY;
    else if ((ec & 0xff) == SQLITE_NOMEM)
        code = CS_ENOMEM;
    return cs_err_set(err, code, "%s: index.db: %s", what, sqlite3_errmsg(s->db));
}

static int db_exec(content_store *s, const char *sql, cs_err *err)
{
    if (sqlite3_exec(s->db, sql, NULL, NULL, NULL) != SQLITE_OK)
        return db_fail(s, err, sql);
    return 0;
}

/* One number from a query of one row and one column (a count, a sum). */
static int db_u64(content_store *s, const char *sql, const char *what, uint64_t *out, cs_err *err)
{
    sqlite3_stmt *q = NULL;
    *out = 0;
    if (sqlite3_prepare_v2(s->db, sql, -1, &q, NULL) != SQLITE_OK)
        return db_fail(s, err, what);
    if (sqlite3_step(q) == SQLITE_ROW)
        *out = (uint64_t)sqlite3_column_int64(q, 0);
    sqlite3_finalize(q);
    return 0;
}

static void db_rollback(content_store *s)
{
    if (!sqlite3_get_autocommit(s->db))
        sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
}

static void id_hex(const uint8_t id[32], char out[CS_SHA256_HEX])
{
    cs_hex_encode(id, 32, out);
}

static void pack_path(const content_store *s, uint32_t id, char *buf, size_t cap)
{
    snprintf(buf, cap, "%s/pack-%06u.pack", s->dir, id);
}

/* Parse "pack-NNNNNN.pack" (at least 6 digits); 0 if the name is not a pack. */
static uint32_t pack_name_id(const char *name)
{
    if (strncmp(name, "pack-", 5) != 0)
        return 0;
    const char *p = name + 5;
    uint64_t v = 0;
    size_t nd = 0;
    while (*p >= '0' && *p <= '9' && nd < 10) {
        v = v * 10 + (uint64_t)(*p - '0');
        p++;
        nd++;
    }
    if (nd < 6 || strcmp(p, ".pack") != 0 || v == 0 || v > UINT32_MAX)
        return 0;
    return (uint32_t)v;
}

static int ensure_cap(uint8_t **buf, size_t *cap, size_t need, cs_err *err)
{
    if (*cap >= need)
        return 0;
    uint8_t *nb = realloc(*buf, need);
    if (!nb)
        return cs_err_set(err, CS_ENOMEM, "no memory for a %zu-byte buffer", need);
    *buf = nb;
    *cap = need;
    return 0;
}

/* Room to decode one block of block_size and to hold its stored bytes. */
static int store_bufs(content_store *s, uint32_t block_size, cs_err *err)
{
    int rc = ensure_cap(&s->block, &s->block_cap, block_size, err);
    if (rc == 0)
        rc =
            ensure_cap(&s->stored, &s->stored_cap, (size_t)LZ4_compressBound((int)block_size), err);
    return rc;
}

/* Header fields implied by an index row (rows are written by us, but check
 * the block size anyway before dividing by it). */
static int row_header(const store_row *r, content_obj_header *h, cs_err *err)
{
    uint32_t bs = r->block_size;
    if (bs < 4096 || bs > (4u << 20) || (bs & (bs - 1)) != 0 || r->raw_len > CONTENT_OBJ_MAX_RAW)
        return cs_err_set(err, CS_ECORRUPT, "index row has block size %u", bs);
    h->block_size = bs;
    h->raw_len = r->raw_len;
    h->nblocks = (uint32_t)((r->raw_len + bs - 1) / bs);
    memcpy(h->id, r->id, 32);
    return 0;
}

/* ---- pending rows ------------------------------------------------------ */

static size_t pend_hash(const uint8_t id[32], size_t cap)
{
    uint64_t h;
    memcpy(&h, id, sizeof h);
    return (size_t)h & (cap - 1);
}

static long pend_find(const content_store *s, const uint8_t id[32])
{
    if (!s->pend_ix_cap)
        return -1;
    for (size_t i = pend_hash(id, s->pend_ix_cap);; i = (i + 1) & (s->pend_ix_cap - 1)) {
        uint32_t v = s->pend_ix[i];
        if (v == 0)
            return -1;
        if (memcmp(s->pend[v - 1].id, id, 32) == 0)
            return (long)(v - 1);
    }
}

static int pend_reindex(content_store *s, size_t cap, cs_err *err)
{
    uint32_t *ix = calloc(cap, sizeof *ix);
    if (!ix)
        return cs_err_set(err, CS_ENOMEM, "no memory for the pending index");
    for (size_t k = 0; k < s->npend; k++) {
        size_t i = pend_hash(s->pend[k].id, cap);
        while (ix[i])
            i = (i + 1) & (cap - 1);
        ix[i] = (uint32_t)(k + 1);
    }
    free(s->pend_ix);
    s->pend_ix = ix;
    s->pend_ix_cap = cap;
    return 0;
}

static int pend_add(content_store *s, const store_row *r, cs_err *err)
{
    if (s->npend == s->pend_cap) {
        size_t nc = s->pend_cap ? s->pend_cap * 2 : 64;
        store_row *np = realloc(s->pend, nc * sizeof *np);
        if (!np)
            return cs_err_set(err, CS_ENOMEM, "no memory for pending rows");
        s->pend = np;
        s->pend_cap = nc;
    }
    if ((s->npend + 1) * 2 > s->pend_ix_cap) {
        int rc = pend_reindex(s, s->pend_ix_cap ? s->pend_ix_cap * 2 : 128, err);
        if (rc)
            return rc;
    }
    s->pend[s->npend++] = *r;
    size_t i = pend_hash(r->id, s->pend_ix_cap);
    while (s->pend_ix[i])
        i = (i + 1) & (s->pend_ix_cap - 1);
    s->pend_ix[i] = (uint32_t)s->npend;
    s->pend_bytes += r->enc_len;
    return 0;
}

static void pend_clear(content_store *s)
{
    s->npend = 0;
    s->pend_bytes = 0;
    if (s->pend_ix)
        memset(s->pend_ix, 0, s->pend_ix_cap * sizeof *s->pend_ix);
}

/* ---- packs -------------------------------------------------------------- */

static long pack_find(const content_store *s, uint32_t id)
{
    for (size_t i = 0; i < s->npacks; i++)
        if (s->packs[i].id == id)
            return (long)i;
    return -1;
}

static int pack_add(content_store *s, const store_pack *p, cs_err *err)
{
    if (s->npacks == s->packs_cap) {
        size_t nc = s->packs_cap ? s->packs_cap * 2 : 8;
        store_pack *np = realloc(s->packs, nc * sizeof *np);
        if (!np)
            return cs_err_set(err, CS_ENOMEM, "no memory for the pack list");
        s->packs = np;
        s->packs_cap = nc;
    }
    s->packs[s->npacks++] = *p;
    return 0;
}

static void pack_remove(content_store *s, size_t i)
{
    if (s->packs[i].fd >= 0)
        close(s->packs[i].fd);
    s->packs[i] = s->packs[--s->npacks];
}

static int pack_check_header(int fd, uint32_t id, cs_err *err)
{
    uint8_t h[CONTENT_PACK_HDR];
    int rc = cs_pread_full(fd, h, sizeof h, 0, err);
    if (rc == CS_EFORMAT)
        return cs_err_set(err, CS_ECORRUPT, "pack %06u: header truncated", id);
    if (rc)
        return rc;
    if (memcmp(h, CONTENT_PACK_MAGIC, 4) != 0)
        return cs_err_set(err, CS_ECORRUPT, "pack %06u: bad magic", id);
    if (cs_get_u32(h + 4) != CONTENT_PACK_VERSION)
        return cs_err_set(err, CS_EUNSUPPORTED, "pack %06u: version %u not supported", id,
                          cs_get_u32(h + 4));
    return 0;
}

/* Readers: close packs that gc has removed from the index (their files are
 * unlinked; an open fd would keep the space allocated). */
static void pack_prune_readers(content_store *s)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(s->db, "SELECT 1 FROM packs WHERE id = ?1", -1, &st, NULL) != SQLITE_OK)
        return;
    for (size_t i = 0; i < s->npacks;) {
        sqlite3_bind_int64(st, 1, s->packs[i].id);
        int r = sqlite3_step(st);
        sqlite3_reset(st);
        if (r == SQLITE_DONE)
            pack_remove(s, i);
        else
            i++;
    }
    sqlite3_finalize(st);
}

/* fd of pack id for reading; readers open packs lazily and keep them open. */
static int pack_fd(content_store *s, uint32_t id, int *fd_out, cs_err *err)
{
    long i = pack_find(s, id);
    if (i >= 0 && s->packs[i].fd >= 0) {
        *fd_out = s->packs[i].fd;
        return 0;
    }
    if (!s->rdonly) {
        if (i < 0)
            return cs_err_set(err, CS_ECORRUPT, "index names pack %06u, which is not registered",
                              id);
        return cs_err_set(err, CS_ECORRUPT, "pack %06u is missing", id);
    }
    char path[STORE_PATH_MAX];
    pack_path(s, id, path, sizeof path);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return cs_err_errno(err, path);
    int rc = pack_check_header(fd, id, err);
    if (rc == 0) {
        pack_prune_readers(s);
        store_pack p = {.id = id, .fd = fd};
        rc = pack_add(s, &p, err);
    }
    if (rc) {
        close(fd);
        return rc;
    }
    *fd_out = fd;
    return 0;
}

/* Create the next pack file with its header; it becomes the current pack. */
static int pack_create(content_store *s, uint32_t *id_out, cs_err *err)
{
    char path[STORE_PATH_MAX];
    uint32_t id = s->next_pack;
    if (id == 0 || id > 999999999u)
        return cs_err_set(err, CS_ETOOBIG, "pack ids exhausted");
    pack_path(s, id, path, sizeof path);
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return cs_err_errno(err, path);
    uint8_t h[CONTENT_PACK_HDR] = {0};
    memcpy(h, CONTENT_PACK_MAGIC, 4);
    cs_put_u32(h + 4, CONTENT_PACK_VERSION);
    int rc = cs_pwrite_full(fd, h, sizeof h, 0, err);
    if (rc == 0) {
        store_pack p = {.id = id, .fd = fd, .tail = CONTENT_PACK_HDR, .dirty = 1, .fresh = 1};
        rc = pack_add(s, &p, err);
    }
    if (rc) {
        close(fd);
        unlink(path);
        return rc;
    }
    s->next_pack = id + 1;
    *id_out = id;
    return 0;
}

/* Pick the pack an object of up to need bytes is appended to, rolling to a
 * new pack when the current one would pass CONTENT_PACK_ROLL. */
static int tail_reserve(content_store *s, uint64_t need, store_pack **out, cs_err *err)
{
    long i = s->cur ? pack_find(s, s->cur) : -1;
    if (i >= 0) {
        store_pack *p = &s->packs[i];
        if (p->unusable || (p->tail > CONTENT_PACK_HDR && p->tail + need > CONTENT_PACK_ROLL))
            i = -1;
    }
    if (i < 0) {
        uint32_t id;
        int rc = pack_create(s, &id, err);
        if (rc)
            return rc;
        s->cur = id;
        i = pack_find(s, id);
    }
    *out = &s->packs[i];
    return 0;
}

/* Forget bytes written at or after `to` (a failed put). */
static void tail_cut(store_pack *p, uint64_t to)
{
    p->tail = to;
    if (ftruncate(p->fd, (off_t)to) != 0) {
        /* Harmless: bytes past the tail are overwritten by the next put or
         * cut at the next open. */
    }
}

/* ---- lookups ------------------------------------------------------------ */

/* 0 and *out if id is present (pending or committed), CS_ENOENT if not. */
static int store_lookup(content_store *s, const uint8_t id[32], store_row *out, cs_err *err)
{
    long k = pend_find(s, id);
    if (k >= 0) {
        *out = s->pend[k];
        return 0;
    }
    sqlite3_stmt *q = s->q_get;
    sqlite3_bind_blob(q, 1, id, 32, SQLITE_STATIC);
    int r = sqlite3_step(q);
    int rc;
    if (r == SQLITE_ROW) {
        memcpy(out->id, id, 32);
        out->pack = (uint32_t)sqlite3_column_int64(q, 0);
        out->off = (uint64_t)sqlite3_column_int64(q, 1);
        out->raw_len = (uint64_t)sqlite3_column_int64(q, 2);
        out->enc_len = (uint64_t)sqlite3_column_int64(q, 3);
        out->block_size = (uint32_t)sqlite3_column_int64(q, 4);
        rc = 0;
    } else if (r == SQLITE_DONE) {
        char hex[CS_SHA256_HEX];
        id_hex(id, hex);
        rc = cs_err_set(err, CS_ENOENT, "object %s not in the store", hex);
    } else {
        rc = db_fail(s, err, "looking up an object");
    }
    sqlite3_reset(q);
    sqlite3_clear_bindings(q);
    return rc;
}

/* Row and pack fd of an object.  A reader may race with gc moving the
 * object to a new pack and unlinking the old: look it up once more then. */
static int store_locate(content_store *s, const uint8_t id[32], store_row *r, int *fd, cs_err *err)
{
    int rc = store_lookup(s, id, r, err);
    if (rc == 0)
        rc = pack_fd(s, r->pack, fd, err);
    if (rc == CS_ENOENT && s->rdonly) {
        rc = store_lookup(s, id, r, err);
        if (rc == 0)
            rc = pack_fd(s, r->pack, fd, err);
    }
    return rc;
}

/* ---- open / free -------------------------------------------------------- */

static const char *const schema_sql =
    "CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS packs(id INTEGER PRIMARY KEY, committed_end INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS objects(id BLOB PRIMARY KEY, pack INTEGER NOT NULL,"
    " off INTEGER NOT NULL, raw_len INTEGER NOT NULL, enc_len INTEGER NOT NULL,"
    " block_size INTEGER NOT NULL) WITHOUT ROWID;"
    "CREATE INDEX IF NOT EXISTS objects_loc ON objects(pack, off);"
    "INSERT OR IGNORE INTO meta(key, value) VALUES('format', '1');"
    "INSERT OR IGNORE INTO meta(key, value) VALUES('next_pack', '1');";

static int meta_get_int(content_store *s, const char *key, int64_t *out, cs_err *err)
{
    sqlite3_stmt *st = NULL;
    int rc = 0;
    if (sqlite3_prepare_v2(s->db, "SELECT value FROM meta WHERE key = ?1", -1, &st, NULL) !=
        SQLITE_OK)
        return db_fail(s, err, "reading meta");
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    int r = sqlite3_step(st);
    if (r == SQLITE_ROW)
        *out = sqlite3_column_int64(st, 0);
    else if (r == SQLITE_DONE)
        rc = cs_err_set(err, CS_ECORRUPT, "index.db: meta key '%s' missing", key);
    else
        rc = db_fail(s, err, "reading meta");
    sqlite3_finalize(st);
    return rc;
}

static int check_format(content_store *s, cs_err *err)
{
    int64_t v = 0;
    int rc = meta_get_int(s, "format", &v, err);
    if (rc)
        return rc;
    if (v != CONTENT_STORE_FORMAT)
        return cs_err_set(err, CS_EUNSUPPORTED, "index.db format %lld, this build reads %d",
                          (long long)v, CONTENT_STORE_FORMAT);
    return 0;
}

/* Writer: load the packs table, cut torn tails, delete unregistered files. */
static int open_packs(content_store *s, cs_err *err)
{
    sqlite3_stmt *st = NULL;
    DIR *d = NULL;
    int rc = 0, removed = 0;
    char path[STORE_PATH_MAX];
    int64_t next = 1;
    uint32_t max_id = 0;

    if ((rc = meta_get_int(s, "next_pack", &next, err)) != 0)
        goto out;
    if (sqlite3_prepare_v2(s->db, "SELECT id, committed_end FROM packs ORDER BY id", -1, &st,
                           NULL) != SQLITE_OK) {
        rc = db_fail(s, err, "reading packs");
        goto out;
    }
    int r;
    while ((r = sqlite3_step(st)) == SQLITE_ROW) {
        store_pack p = {.fd = -1};
        int64_t id = sqlite3_column_int64(st, 0);
        p.committed_end = (uint64_t)sqlite3_column_int64(st, 1);
        if (id <= 0 || id > UINT32_MAX || p.committed_end < CONTENT_PACK_HDR) {
            rc = cs_err_set(err, CS_ECORRUPT, "index.db: bad packs row %lld", (long long)id);
            goto out;
        }
        p.id = (uint32_t)id;
        p.tail = p.committed_end;
        if (p.id > max_id)
            max_id = p.id;
        pack_path(s, p.id, path, sizeof path);
        p.fd = open(path, O_RDWR | O_CLOEXEC);
        struct stat sb;
        if (p.fd < 0) {
            if (errno != ENOENT) {
                rc = cs_err_errno(err, path);
                goto out;
            }
            p.unusable = 1; /* reads report it; verify lists the objects */
        } else if ((rc = pack_check_header(p.fd, p.id, err)) != 0) {
            close(p.fd);
            goto out;
        } else if (fstat(p.fd, &sb) != 0) {
            rc = cs_err_errno(err, path);
            close(p.fd);
            goto out;
        } else if ((uint64_t)sb.st_size > p.committed_end) {
            /* A torn or uncommitted tail from a crash: cut it. */
            if (ftruncate(p.fd, (off_t)p.committed_end) != 0 || fsync(p.fd) != 0) {
                rc = cs_err_errno(err, path);
                close(p.fd);
                goto out;
            }
        } else if ((uint64_t)sb.st_size < p.committed_end) {
            p.unusable = 1; /* lost committed bytes: never append here */
        }
        if ((rc = pack_add(s, &p, err)) != 0) {
            if (p.fd >= 0)
                close(p.fd);
            goto out;
        }
    }
    if (r != SQLITE_DONE) {
        rc = db_fail(s, err, "reading packs");
        goto out;
    }
    d = opendir(s->dir);
    if (!d) {
        rc = cs_err_errno(err, s->dir);
        goto out;
    }
    struct dirent *e;
    // cppcheck-suppress readdirCalled ; a DIR of our own: readdir is safe, readdir_r deprecated
    while ((e = readdir(d)) != NULL) {
        uint32_t id = pack_name_id(e->d_name);
        if (id == 0)
            continue;
        if (id > max_id)
            max_id = id;
        if (pack_find(s, id) >= 0)
            continue;
        pack_path(s, id, path, sizeof path);
        if (unlink(path) != 0 && errno != ENOENT) {
            rc = cs_err_errno(err, path);
            goto out;
        }
        removed = 1;
    }
    if (removed && (rc = cs_fsync_dir(s->dir, err)) != 0)
        goto out;
    if (next < 1 || next > UINT32_MAX)
        next = 1;
    s->next_pack = (uint32_t)next > max_id ? (uint32_t)next : max_id + 1;
    /* Keep appending to the newest pack if it has room. */
    for (size_t i = 0; i < s->npacks; i++) {
        store_pack *p = &s->packs[i];
        if (p->unusable || p->tail >= CONTENT_PACK_ROLL)
            continue;
        if (s->cur == 0 || p->id > s->cur)
            s->cur = p->id;
    }
out:
    sqlite3_finalize(st);
    if (d)
        closedir(d);
    return rc;
}

static int open_db(content_store *s, cs_err *err)
{
    char path[STORE_PATH_MAX];
    int rc;
    if ((rc = cs_path_join(path, sizeof path, s->dir, "index.db")) != 0)
        return cs_err_set(err, rc, "store path too long");
    if (s->rdonly && !cs_path_exists(path))
        return cs_err_set(err, CS_ENOENT, "%s: no store here", path);
    /* Readers open read-write when they can, so SQLite may create the WAL
     * index (-shm); they never write. */
    int fl = s->rdonly ? SQLITE_OPEN_READWRITE : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
    int r = sqlite3_open_v2(path, &s->db, fl, NULL);
    if (r != SQLITE_OK && s->rdonly) {
        sqlite3_close(s->db);
        s->db = NULL;
        r = sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READONLY, NULL);
    }
    if (r != SQLITE_OK) {
        rc = cs_err_set(err, CS_EDB, "%s: %s", path, s->db ? sqlite3_errmsg(s->db) : "cannot open");
        return rc;
    }
    sqlite3_busy_timeout(s->db, STORE_BUSY_MS);
    if (!s->rdonly) {
        /* FULL, not NORMAL: in WAL mode NORMAL fsyncs the WAL only at
         * checkpoints, so a power cut could lose a committed flush while
         * catalog.db (FULL) keeps the version that names its objects, and the
         * next open would cut those objects off the packs.  FULL makes
         * content_store_flush durable when it returns (one fsync of the WAL
         * per flush; imports flush every 16 MiB). */
        if ((rc = db_exec(s, "PRAGMA journal_mode=WAL", err)) != 0 ||
            (rc = db_exec(s, "PRAGMA synchronous=FULL", err)) != 0 ||
            (rc = db_exec(s, "BEGIN IMMEDIATE", err)) != 0)
            return rc;
        if ((rc = db_exec(s, schema_sql, err)) != 0 || (rc = db_exec(s, "COMMIT", err)) != 0) {
            db_rollback(s);
            return rc;
        }
    }
    if ((rc = check_format(s, err)) != 0)
        return rc;
    static const char *const sql[4] = {
        "SELECT pack, off, raw_len, enc_len, block_size FROM objects WHERE id = ?1",
        ("INSERT OR IGNORE INTO objects(id, pack, off, raw_len, enc_len, block_size)"
         " VALUES(?1, ?2, ?3, ?4, ?5, ?6)"), /* one string: parentheses say so */
        "INSERT OR REPLACE INTO packs(id, committed_end) VALUES(?1, ?2)",
        "DELETE FROM objects WHERE id = ?1"};
    sqlite3_stmt **st[4] = {&s->q_get, &s->q_ins, &s->q_pack, &s->q_del};
    for (int i = 0; i < 4; i++)
        if (sqlite3_prepare_v3(s->db, sql[i], -1, SQLITE_PREPARE_PERSISTENT, st[i], NULL) !=
            SQLITE_OK)
            return db_fail(s, err, "preparing statements");
    return 0;
}

int content_store_open(content_store **out, const char *dir, int flags, cs_err *err)
{
    int rc = 0;
    content_store *s = calloc(1, sizeof *s);
    if (!s)
        return cs_err_set(err, CS_ENOMEM, "no memory for a store");
    s->lock_fd = -1;
    s->rdonly = (flags & CONTENT_STORE_RDONLY) != 0;
    s->dir = strdup(dir ? dir : "");
    if (!s->dir) {
        rc = cs_err_set(err, CS_ENOMEM, "no memory for a store");
        goto out;
    }
    if (!dir || !*dir || strlen(dir) > STORE_PATH_MAX - 32) {
        rc = cs_err_set(err, CS_EINVAL, "bad store directory");
        goto out;
    }
    if (!s->rdonly) {
        char lock[STORE_PATH_MAX];
        if ((rc = cs_mkdirs(dir, 0755, err)) != 0)
            goto out;
        snprintf(lock, sizeof lock, "%s/lock", dir);
        s->lock_fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
        if (s->lock_fd < 0) {
            rc = cs_err_errno(err, lock);
            goto out;
        }
        if (flock(s->lock_fd, LOCK_EX | LOCK_NB) != 0) {
            if (errno == EWOULDBLOCK)
                rc = cs_err_set(err, CS_EBUSY, "%s: another process is writing this store", lock);
            else
                rc = cs_err_errno(err, lock);
            goto out;
        }
    }
    if ((rc = open_db(s, err)) != 0)
        goto out;
    if (!s->rdonly && (rc = open_packs(s, err)) != 0)
        goto out;
    *out = s;
    s = NULL;
out:
    content_store_free(s);
    return rc;
}

void content_store_free(content_store *s)
{
    if (!s)
        return;
    sqlite3_finalize(s->q_get);
    sqlite3_finalize(s->q_ins);
    sqlite3_finalize(s->q_pack);
    sqlite3_finalize(s->q_del);
    sqlite3_close(s->db);
    for (size_t i = 0; i < s->npacks; i++)
        if (s->packs[i].fd >= 0)
            close(s->packs[i].fd);
    if (s->lock_fd >= 0)
        close(s->lock_fd); /* releases the flock */
    free(s->packs);
    free(s->pend);
    free(s->pend_ix);
    free(s->block);
    free(s->stored);
    free(s->dir);
    free(s);
}

/* ---- queries ------------------------------------------------------------ */

int content_store_has(content_store *s, const uint8_t id[32])
{
    store_row r;
    return s && store_lookup(s, id, &r, NULL) == 0;
}

int content_store_stat(content_store *s, const uint8_t id[32], content_obj_info *out, cs_err *err)
{
    store_row r;
    int rc = store_lookup(s, id, &r, err);
    if (rc)
        return rc;
    out->raw_len = r.raw_len;
    out->enc_len = r.enc_len;
    return 0;
}

uint64_t content_store_pending(const content_store *s)
{
    return s ? s->pend_bytes : 0;
}

/* ---- writes ------------------------------------------------------------- */

static int need_writer(const content_store *s, cs_err *err)
{
    if (s->rdonly)
        return cs_err_set(err, CS_EINVAL, "store opened read-only");
    return 0;
}

/* Append a complete encoded object and record it as pending. */
static int append_object(content_store *s, const content_obj_header *h, const uint8_t *enc,
                         size_t enc_len, cs_err *err)
{
    store_pack *p;
    int rc = tail_reserve(s, enc_len, &p, err);
    if (rc)
        return rc;
    uint64_t at = p->tail;
    p->dirty = 1;
    rc = cs_pwrite_full(p->fd, enc, enc_len, at, err);
    store_row r = {.pack = p->id,
                   .block_size = h->block_size,
                   .off = at,
                   .raw_len = h->raw_len,
                   .enc_len = enc_len};
    memcpy(r.id, h->id, 32);
    if (rc == 0)
        rc = pend_add(s, &r, err);
    if (rc) {
        tail_cut(p, at);
        cs_err_wrap(err, "storing an object");
        return rc;
    }
    p->tail = at + enc_len;
    return 0;
}

int content_store_put_buf(content_store *s, const void *raw, size_t len, uint8_t id[32],
                          cs_err *err)
{
    int rc;
    uint8_t h[32];
    uint8_t *enc = NULL;
    size_t enc_len = 0;
    if ((rc = need_writer(s, err)) != 0)
        return rc;
    if (!raw && len)
        return cs_err_set(err, CS_EINVAL, "NULL buffer");
    cs_sha256_buf(len ? raw : "", len, h);
    if (content_store_has(s, h)) {
        memcpy(id, h, 32); /* already stored */
        return 0;
    }
    if ((rc = content_obj_encode_buf_id(raw, len, h, &enc, &enc_len, err)) != 0)
        goto out;
    content_obj_header hdr;
    if ((rc = content_obj_header_parse(&hdr, enc, enc_len, err)) != 0)
        goto out;
    if ((rc = append_object(s, &hdr, enc, enc_len, err)) != 0)
        goto out;
    memcpy(id, h, 32);
out:
    free(enc);
    return rc;
}

int content_store_put_encoded(content_store *s, const uint8_t expect_id[32], const uint8_t *enc,
                              size_t enc_len, cs_err *err)
{
    int rc;
    content_obj_header h;
    if ((rc = need_writer(s, err)) != 0)
        return rc;
    if (!expect_id || (!enc && enc_len))
        return cs_err_set(err, CS_EINVAL, "NULL id or buffer");
    if (content_store_has(s, expect_id))
        return 0;
    if ((rc = content_obj_verify_buf(enc, enc_len, expect_id, NULL, 0, err)) != 0) {
        cs_err_wrap(err, "refusing encoded object");
        return rc;
    }
    if ((rc = content_obj_header_parse(&h, enc, enc_len, err)) != 0)
        return rc;
    return append_object(s, &h, enc, enc_len, err);
}

/* Read block i's table entries [end[i-1], end[i]) of the object whose
 * header+table start at base in fd, using a chunked table cache. */
typedef struct table_cursor {
    uint8_t buf[8 * STORE_TABLE_CHUNK];
    uint32_t first; /* index of the first entry in buf */
    uint32_t count; /* entries in buf */
} table_cursor;

static int table_entry(int fd, uint64_t base, const content_obj_header *h, table_cursor *tc,
                       uint32_t i, uint64_t *out, cs_err *err)
{
    if (i < tc->first || i >= tc->first + tc->count) {
        uint32_t n = h->nblocks - i < STORE_TABLE_CHUNK ? h->nblocks - i : STORE_TABLE_CHUNK;
        int rc = cs_pread_full(fd, tc->buf, 8ULL * n, base + CONTENT_OBJ_HDR + 8ULL * i, err);
        if (rc)
            return rc;
        tc->first = i;
        tc->count = n;
    }
    *out = cs_get_u64(tc->buf + 8ULL * (i - tc->first));
    return 0;
}

/* Verify the encoded object at src[off .. off+enc_len) block by block,
 * optionally copying it to dst_fd at dst_off as it goes.  Memory use is
 * bounded by one block whatever the object's size. */
static int obj_stream(content_store *s, int src, uint64_t off, uint64_t enc_len,
                      const uint8_t expect_id[32], int dst, uint64_t dst_off,
                      content_obj_header *hout, cs_err *err)
{
    int rc;
    uint8_t hb[CONTENT_OBJ_HDR];
    content_obj_header h;
    cs_sha256 *sha = NULL;
    table_cursor *tc = NULL;
    uint8_t *copy = NULL;

    if (enc_len < CONTENT_OBJ_HDR)
        return cs_err_set(err, CS_EFORMAT, "encoded object of %llu bytes is truncated",
                          (unsigned long long)enc_len);
    if ((rc = cs_pread_full(src, hb, sizeof hb, off, err)) != 0)
        return rc;
    if ((rc = content_obj_header_parse(&h, hb, sizeof hb, err)) != 0)
        return rc;
    if (memcmp(h.id, expect_id, 32) != 0)
        return cs_err_set(err, CS_EHASH, "object header names a different id");
    uint64_t tend = content_obj_table_end(&h);
    if (tend > enc_len)
        return cs_err_set(err, CS_EFORMAT, "object block table truncated");
    if ((rc = store_bufs(s, h.block_size, err)) != 0)
        return rc;
    s->cache_valid = 0; /* s->block is our decode buffer now */
    tc = calloc(1, sizeof *tc);
    if (!tc) {
        rc = cs_err_set(err, CS_ENOMEM, "no memory for a table cursor");
        goto out;
    }
    uint64_t last = 0;
    if (h.nblocks && (rc = table_entry(src, off, &h, tc, h.nblocks - 1, &last, err)) != 0)
        goto out;
    if (last > enc_len - tend || tend + last != enc_len) {
        rc = cs_err_set(err, CS_EFORMAT, "object length %llu, table says %llu",
                        (unsigned long long)enc_len, (unsigned long long)(tend + last));
        goto out;
    }
    if (dst >= 0) { /* header and table first */
        copy = malloc(STORE_COPY_BUF);
        if (!copy) {
            rc = cs_err_set(err, CS_ENOMEM, "no memory for a copy buffer");
            goto out;
        }
        for (uint64_t o = 0; o < tend;) {
            size_t n = tend - o < STORE_COPY_BUF ? (size_t)(tend - o) : STORE_COPY_BUF;
            if ((rc = cs_pread_full(src, copy, n, off + o, err)) != 0 ||
                (rc = cs_pwrite_full(dst, copy, n, dst_off + o, err)) != 0)
                goto out;
            o += n;
        }
    }
    if ((rc = cs_sha256_new(&sha)) != 0) {
        cs_err_set(err, rc, "cannot create a SHA-256 context");
        goto out;
    }
    uint64_t prev = 0;
    for (uint32_t i = 0; i < h.nblocks; i++) {
        uint64_t e;
        if ((rc = table_entry(src, off, &h, tc, i, &e, err)) != 0 ||
            (rc = content_obj_block_check(&h, i, prev, e, err)) != 0)
            goto out;
        if (e > last) {
            rc = cs_err_set(err, CS_EFORMAT, "object block %u runs past the end", i);
            goto out;
        }
        size_t sl = (size_t)(e - prev);
        if ((rc = cs_pread_full(src, s->stored, sl, off + tend + prev, err)) != 0 ||
            (rc = content_obj_block_decode(&h, i, s->stored, sl, s->block, err)) != 0)
            goto out;
        cs_sha256_update(sha, s->block, content_obj_block_len(&h, i));
        if (dst >= 0 && (rc = cs_pwrite_full(dst, s->stored, sl, dst_off + tend + prev, err)) != 0)
            goto out;
        prev = e;
    }
    uint8_t got[32];
    cs_sha256_final(sha, got);
    if (memcmp(got, h.id, 32) != 0) {
        rc = cs_err_set(err, CS_EHASH, "object content does not hash to its id");
        goto out;
    }
    *hout = h;
out:
    cs_sha256_free(sha);
    free(tc);
    free(copy);
    return rc;
}

int content_store_put_encoded_fd(content_store *s, const uint8_t expect_id[32], int fd,
                                 uint64_t off, uint64_t enc_len, cs_err *err)
{
    int rc;
    store_pack *p;
    content_obj_header h;
    if ((rc = need_writer(s, err)) != 0)
        return rc;
    if (!expect_id)
        return cs_err_set(err, CS_EINVAL, "NULL id");
    if (content_store_has(s, expect_id))
        return 0;
    if (enc_len > 2 * CONTENT_OBJ_MAX_RAW)
        return cs_err_set(err, CS_ETOOBIG, "encoded object of %llu bytes over the cap",
                          (unsigned long long)enc_len);
    if ((rc = tail_reserve(s, enc_len, &p, err)) != 0)
        return rc;
    uint32_t pid = p->id;
    uint64_t at = p->tail;
    int pfd = p->fd;
    p->dirty = 1;
    rc = obj_stream(s, fd, off, enc_len, expect_id, pfd, at, &h, err);
    p = &s->packs[pack_find(s, pid)];
    store_row r = {.pack = pid,
                   .block_size = h.block_size,
                   .off = at,
                   .raw_len = h.raw_len,
                   .enc_len = enc_len};
    memcpy(r.id, expect_id, 32);
    if (rc == 0)
        rc = pend_add(s, &r, err);
    if (rc) {
        tail_cut(p, at);
        cs_err_wrap(err, "refusing encoded object");
        return rc;
    }
    p->tail = at + enc_len;
    return 0;
}

typedef struct pack_sink {
    int fd;
    uint64_t pos;
} pack_sink;

static int pack_sink_write(void *ctx, const void *data, size_t len, cs_err *err)
{
    pack_sink *ps = ctx;
    int rc = cs_pwrite_full(ps->fd, data, len, ps->pos, err);
    if (rc == 0)
        ps->pos += len;
    return rc;
}

int content_store_put_file(content_store *s, const char *path, uint8_t id[32], uint64_t *raw_len,
                           cs_err *err)
{
    int rc, fd = -1;
    uint8_t *buf = NULL, *hdr = NULL;
    size_t hl = 0;
    uint64_t enc_len = 0;
    uint8_t h[32];
    struct stat sb;
    if ((rc = need_writer(s, err)) != 0)
        return rc;
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return cs_err_errno(err, path);
    if (fstat(fd, &sb) != 0) {
        rc = cs_err_errno(err, path);
        goto out;
    }
    if (!S_ISREG(sb.st_mode)) {
        rc = cs_err_set(err, CS_EINVAL, "%s: not a regular file", path);
        goto out;
    }
    uint64_t size = (uint64_t)sb.st_size;
    if (size > CONTENT_OBJ_MAX_RAW) {
        rc = cs_err_set(err, CS_ETOOBIG, "%s: %llu bytes, over the object cap", path,
                        (unsigned long long)size);
        goto out;
    }
    if (size <= STORE_SMALL_FILE) {
        buf = malloc(size ? size : 1);
        if (!buf) {
            rc = cs_err_set(err, CS_ENOMEM, "no memory to read %s", path);
            goto out;
        }
        if ((rc = cs_pread_full(fd, buf, size, 0, err)) != 0 ||
            (rc = content_store_put_buf(s, buf, size, h, err)) != 0) {
            cs_err_wrap(err, "storing %s", path);
            goto out;
        }
    } else {
        store_pack *p;
        if ((rc = tail_reserve(s, content_obj_bound(size), &p, err)) != 0)
            goto out;
        uint64_t at = p->tail;
        p->dirty = 1;
        pack_sink ps = {.fd = p->fd, .pos = at};
        rc = content_obj_encode_fd(fd, size, pack_sink_write, &ps, h, &hdr, &hl, &enc_len, err);
        if (rc == 0 && content_store_has(s, h)) {
            tail_cut(p, at); /* a duplicate: forget the copy */
            goto done;
        }
        if (rc == 0)
            rc = cs_pwrite_full(p->fd, hdr, hl, at, err);
        store_row r = {.pack = p->id,
                       .block_size = CONTENT_OBJ_BLOCK,
                       .off = at,
                       .raw_len = size,
                       .enc_len = enc_len};
        memcpy(r.id, h, 32);
        if (rc == 0)
            rc = pend_add(s, &r, err);
        if (rc) {
            tail_cut(p, at);
            cs_err_wrap(err, "storing %s", path);
            goto out;
        }
        p->tail = at + enc_len;
    }
done:
    memcpy(id, h, 32);
    if (raw_len)
        *raw_len = size;
out:
    free(buf);
    free(hdr);
    close(fd);
    return rc;
}

/* Throw away everything since the last commit (after a failed flush). */
static void discard_pending(content_store *s)
{
    pend_clear(s);
    s->cache_valid = 0;
    for (size_t i = 0; i < s->npacks; i++) {
        store_pack *p = &s->packs[i];
        if (!p->dirty || p->fd < 0)
            continue;
        tail_cut(p, p->committed_end ? p->committed_end : CONTENT_PACK_HDR);
        p->dirty = p->fresh; /* a fresh pack still has to be registered */
    }
}

static int meta_set_next_pack(content_store *s, cs_err *err)
{
    char sql[96];
    snprintf(sql, sizeof sql, "UPDATE meta SET value = '%u' WHERE key = 'next_pack'", s->next_pack);
    return db_exec(s, sql, err);
}

static int pack_register(content_store *s, const store_pack *p, cs_err *err)
{
    sqlite3_bind_int64(s->q_pack, 1, p->id);
    sqlite3_bind_int64(s->q_pack, 2, (sqlite3_int64)p->tail);
    int r = sqlite3_step(s->q_pack);
    sqlite3_reset(s->q_pack);
    return r == SQLITE_DONE ? 0 : db_fail(s, err, "registering a pack");
}

int content_store_flush(content_store *s, cs_err *err)
{
    int rc, fresh = 0, dirty = 0;
    if ((rc = need_writer(s, err)) != 0)
        return rc;
    for (size_t i = 0; i < s->npacks; i++) {
        store_pack *p = &s->packs[i];
        if (!p->dirty)
            continue;
        dirty = 1;
        fresh |= p->fresh;
        if ((rc = cs_fsync(p->fd, err)) != 0)
            goto out;
    }
    if (!dirty && s->npend == 0)
        return 0;
    if (fresh && (rc = cs_fsync_dir(s->dir, err)) != 0)
        goto out;
    if ((rc = db_exec(s, "BEGIN IMMEDIATE", err)) != 0)
        goto out;
    for (size_t k = 0; k < s->npend; k++) {
        const store_row *r = &s->pend[k];
        sqlite3_stmt *q = s->q_ins;
        sqlite3_bind_blob(q, 1, r->id, 32, SQLITE_STATIC);
        sqlite3_bind_int64(q, 2, r->pack);
        sqlite3_bind_int64(q, 3, (sqlite3_int64)r->off);
        sqlite3_bind_int64(q, 4, (sqlite3_int64)r->raw_len);
        sqlite3_bind_int64(q, 5, (sqlite3_int64)r->enc_len);
        sqlite3_bind_int64(q, 6, r->block_size);
        int st = sqlite3_step(q);
        sqlite3_reset(q);
        sqlite3_clear_bindings(q);
        if (st != SQLITE_DONE) {
            rc = db_fail(s, err, "committing objects");
            goto out;
        }
    }
    for (size_t i = 0; i < s->npacks; i++)
        if (s->packs[i].dirty && (rc = pack_register(s, &s->packs[i], err)) != 0)
            goto out;
    if ((rc = meta_set_next_pack(s, err)) != 0 || (rc = db_exec(s, "COMMIT", err)) != 0)
        goto out;
    for (size_t i = 0; i < s->npacks; i++) {
        store_pack *p = &s->packs[i];
        if (p->dirty)
            p->committed_end = p->tail;
        p->dirty = p->fresh = 0;
    }
    pend_clear(s);
out:
    if (rc) {
        db_rollback(s);
        discard_pending(s);
        cs_err_wrap(err, "flushing the store (uncommitted objects discarded)");
    }
    return rc;
}

/* ---- reads -------------------------------------------------------------- */

/* Decode block i of the object in row r (pack fd) into dst. */
static int block_load_buf(uint8_t *stored, int fd, const store_row *r, const content_obj_header *h,
                          uint32_t i, uint8_t *dst, cs_err *err)
{
    uint8_t t[16];
    uint64_t start = 0, end;
    uint64_t tpos = r->off + CONTENT_OBJ_HDR + 8ULL * i;
    int rc;
    if (i > 0)
        rc = cs_pread_full(fd, t, 16, tpos - 8, err);
    else
        rc = cs_pread_full(fd, t + 8, 8, tpos, err);
    if (rc)
        goto out;
    if (i > 0)
        start = cs_get_u64(t);
    end = cs_get_u64(t + 8);
    uint64_t tend = content_obj_table_end(h);
    if ((rc = content_obj_block_check(h, i, start, end, err)) != 0)
        goto out;
    if (tend > r->enc_len || end > r->enc_len - tend) {
        rc = cs_err_set(err, CS_EFORMAT, "block %u runs past the object's end", i);
        goto out;
    }
    size_t sl = (size_t)(end - start);
    if ((rc = cs_pread_full(fd, stored, sl, r->off + tend + start, err)) != 0 ||
        (rc = content_obj_block_decode(h, i, stored, sl, dst, err)) != 0)
        goto out;
out:
    if (rc == CS_EFORMAT) {
        char hex[CS_SHA256_HEX];
        id_hex(r->id, hex);
        cs_err_wrap(err, "object %s in pack %06u damaged", hex, r->pack);
        rc = CS_ECORRUPT;
        if (err)
            err->code = CS_ECORRUPT;
    }
    return rc;
}

static int block_load(content_store *s, int fd, const store_row *r, const content_obj_header *h,
                      uint32_t i, uint8_t *dst, cs_err *err)
{
    return block_load_buf(s->stored, fd, r, h, i, dst, err);
}

int content_store_read(content_store *s, const uint8_t id[32], uint64_t off, void *dst, size_t len,
                       size_t *out_n, cs_err *err)
{
    store_row r;
    content_obj_header h;
    int fd = -1;
    int rc = store_locate(s, id, &r, &fd, err);
    if (rc)
        return rc;
    if (off >= r.raw_len || len == 0) {
        *out_n = 0;
        return 0;
    }
    if ((rc = row_header(&r, &h, err)) != 0 || (rc = store_bufs(s, h.block_size, err)) != 0)
        return rc;
    size_t n = r.raw_len - off < len ? (size_t)(r.raw_len - off) : len;
    uint8_t *out = dst;
    size_t done = 0;
    while (done < n) {
        uint64_t pos = off + done;
        uint32_t i = (uint32_t)(pos / h.block_size);
        size_t in = (size_t)(pos % h.block_size);
        uint32_t blen = content_obj_block_len(&h, i);
        size_t take = blen - in < n - done ? blen - in : n - done;
        int hit = s->cache_valid && s->cache_block == i && memcmp(s->cache_id, id, 32) == 0;
        if (!hit && in == 0 && take == blen) {
            if ((rc = block_load(s, fd, &r, &h, i, out + done, err)) != 0)
                return rc;
        } else {
            if (!hit) {
                s->cache_valid = 0;
                if ((rc = block_load(s, fd, &r, &h, i, s->block, err)) != 0)
                    return rc;
                memcpy(s->cache_id, id, 32);
                s->cache_block = i;
                s->cache_valid = 1;
            }
            memcpy(out + done, s->block + in, take);
        }
        done += take;
    }
    *out_n = n;
    return 0;
}

int content_store_read_encoded(content_store *s, const uint8_t id[32], uint64_t off, void *dst,
                               size_t len, size_t *out_n, cs_err *err)
{
    store_row r;
    int fd = -1;
    int rc = store_locate(s, id, &r, &fd, err);
    if (rc)
        return rc;
    if (off >= r.enc_len || len == 0) {
        *out_n = 0;
        return 0;
    }
    size_t n = r.enc_len - off < len ? (size_t)(r.enc_len - off) : len;
    if ((rc = cs_pread_full(fd, dst, n, r.off + off, err)) != 0) {
        if (rc == CS_EFORMAT) {
            cs_err_wrap(err, "pack %06u shorter than the index says", r.pack);
            rc = CS_ECORRUPT;
            if (err)
                err->code = rc;
        }
        return rc;
    }
    *out_n = n;
    return 0;
}

/* ---- readers ------------------------------------------------------------- */

struct content_reader {
    store_row row;
    content_obj_header h;
    int fd;          /* our own descriptor of the pack: survives gc unlinking it */
    uint8_t *block;  /* one decoded block */
    uint8_t *stored; /* one block's stored bytes */
    uint32_t cached; /* index of the block in `block`, UINT32_MAX = none */
};

int content_store_reader_open(content_store *s, const uint8_t id[32], content_reader **out,
                              cs_err *err)
{
    store_row r;
    int fd = -1;
    int rc = store_locate(s, id, &r, &fd, err);
    if (rc)
        return rc;
    content_reader *rd = calloc(1, sizeof *rd);
    if (!rd)
        return cs_err_set(err, CS_ENOMEM, "out of memory");
    rd->row = r;
    rd->cached = UINT32_MAX;
    rd->fd = -1;
    if ((rc = row_header(&r, &rd->h, err)) != 0)
        goto fail;
    rd->block = malloc(rd->h.block_size ? rd->h.block_size : 1);
    rd->stored = malloc(LZ4_compressBound((int)(rd->h.block_size ? rd->h.block_size : 1)));
    if (!rd->block || !rd->stored) {
        rc = cs_err_set(err, CS_ENOMEM, "out of memory");
        goto fail;
    }
    rd->fd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
    if (rd->fd < 0) {
        rc = cs_err_errno(err, "dup pack descriptor");
        goto fail;
    }
    *out = rd;
    return 0;
fail:
    content_reader_free(rd);
    return rc;
}

uint64_t content_reader_size(const content_reader *rd)
{
    return rd->row.raw_len;
}

int content_reader_read(content_reader *rd, uint64_t off, void *dst, size_t len, size_t *out_n,
                        cs_err *err)
{
    const content_obj_header *h = &rd->h;
    if (off >= rd->row.raw_len || len == 0) {
        *out_n = 0;
        return 0;
    }
    size_t n = rd->row.raw_len - off < len ? (size_t)(rd->row.raw_len - off) : len;
    uint8_t *out = dst;
    size_t done = 0;
    int rc;
    while (done < n) {
        uint64_t pos = off + done;
        uint32_t i = (uint32_t)(pos / h->block_size);
        size_t in = (size_t)(pos % h->block_size);
        uint32_t blen = content_obj_block_len(h, i);
        size_t take = blen - in < n - done ? blen - in : n - done;
        if (rd->cached != i && in == 0 && take == blen) {
            if ((rc = block_load_buf(rd->stored, rd->fd, &rd->row, h, i, out + done, err)) != 0)
                return rc;
        } else {
            if (rd->cached != i) {
                rd->cached = UINT32_MAX;
                if ((rc = block_load_buf(rd->stored, rd->fd, &rd->row, h, i, rd->block, err)) != 0)
                    return rc;
                rd->cached = i;
            }
            memcpy(out + done, rd->block + in, take);
        }
        done += take;
    }
    *out_n = n;
    return 0;
}

void content_reader_free(content_reader *rd)
{
    if (!rd)
        return;
    if (rd->fd >= 0)
        close(rd->fd);
    free(rd->block);
    free(rd->stored);
    free(rd);
}

/* ---- verify / forget ---------------------------------------------------- */

/* Up to STORE_PAGE committed rows after (pack, off), in pack order. */
static int rows_page(content_store *s, sqlite3_stmt *q, store_row *rows, size_t *n, cs_err *err)
{
    size_t k = 0;
    int r;
    while ((r = sqlite3_step(q)) == SQLITE_ROW) {
        store_row *w = &rows[k++];
        const void *b = sqlite3_column_blob(q, 0);
        memset(w->id, 0, 32);
        if (b && sqlite3_column_bytes(q, 0) == 32)
            memcpy(w->id, b, 32);
        w->pack = (uint32_t)sqlite3_column_int64(q, 1);
        w->off = (uint64_t)sqlite3_column_int64(q, 2);
        w->raw_len = (uint64_t)sqlite3_column_int64(q, 3);
        w->enc_len = (uint64_t)sqlite3_column_int64(q, 4);
        w->block_size = (uint32_t)sqlite3_column_int64(q, 5);
    }
    int rc = r == SQLITE_DONE ? 0 : db_fail(s, err, "walking the index");
    sqlite3_reset(q);
    *n = k;
    return rc;
}

/* Check one committed object; 0 if sound, else the reason in err. */
static int verify_one(content_store *s, const store_row *r, cs_err *err)
{
    int fd, rc;
    content_obj_header h;
    if ((rc = pack_fd(s, r->pack, &fd, err)) != 0)
        return rc;
    if ((rc = obj_stream(s, fd, r->off, r->enc_len, r->id, -1, 0, &h, err)) != 0)
        return rc;
    if (h.raw_len != r->raw_len || h.block_size != r->block_size)
        return cs_err_set(err, CS_ECORRUPT, "object header disagrees with the index");
    return 0;
}

int content_store_verify(content_store *s, content_store_damage_cb cb, void *ctx,
                         content_store_progress_cb progress, void *pctx, uint64_t *damaged,
                         cs_err *err)
{
    int rc = 0;
    sqlite3_stmt *q = NULL;
    store_row *rows = NULL;
    uint64_t total = 0, done = 0, bad = 0;
    if ((rc = db_u64(s, "SELECT coalesce(sum(enc_len), 0) FROM objects", "counting objects", &total,
                     err)) != 0)
        goto out;
    if (sqlite3_prepare_v2(s->db,
                           "SELECT id, pack, off, raw_len, enc_len, block_size FROM objects"
                           " WHERE (pack, off) > (?1, ?2) ORDER BY pack, off LIMIT 256",
                           -1, &q, NULL) != SQLITE_OK) {
        rc = db_fail(s, err, "walking the index");
        goto out;
    }
    rows = malloc(STORE_PAGE * sizeof *rows);
    if (!rows) {
        rc = cs_err_set(err, CS_ENOMEM, "no memory for index rows");
        goto out;
    }
    int64_t lp = -1, lo = -1;
    for (;;) {
        size_t n;
        sqlite3_bind_int64(q, 1, lp);
        sqlite3_bind_int64(q, 2, lo);
        if ((rc = rows_page(s, q, rows, &n, err)) != 0)
            goto out;
        if (n == 0)
            break;
        for (size_t k = 0; k < n; k++) {
            cs_err e = {0};
            int vr = verify_one(s, &rows[k], &e);
            if (vr == CS_ENOMEM) {
                rc = cs_err_set(err, vr, "%s", e.msg);
                goto out;
            }
            if (vr) {
                bad++;
                if (cb)
                    cb(ctx, rows[k].id, e.msg);
            }
            done += rows[k].enc_len;
            if (progress)
                progress(pctx, done, total > done ? total : done);
        }
        lp = rows[n - 1].pack;
        lo = (int64_t)rows[n - 1].off;
    }
    if (damaged)
        *damaged = bad;
out:
    sqlite3_finalize(q);
    free(rows);
    return rc;
}

int content_store_forget(content_store *s, const uint8_t id[32], cs_err *err)
{
    int rc;
    if ((rc = need_writer(s, err)) != 0)
        return rc;
    long k = pend_find(s, id);
    if (k >= 0) {
        s->pend_bytes -= s->pend[k].enc_len;
        s->pend[k] = s->pend[--s->npend];
        if ((rc = pend_reindex(s, s->pend_ix_cap, err)) != 0)
            return rc;
    }
    s->cache_valid = 0;
    sqlite3_bind_blob(s->q_del, 1, id, 32, SQLITE_STATIC);
    int r = sqlite3_step(s->q_del);
    sqlite3_reset(s->q_del);
    sqlite3_clear_bindings(s->q_del);
    return r == SQLITE_DONE ? 0 : db_fail(s, err, "forgetting an object");
}

/* ---- gc ----------------------------------------------------------------- */

/* Phase 1: delete the rows of dead objects, in one transaction. */
static int gc_drop(content_store *s, content_store_live_cb is_live, void *ctx, uint64_t *nobj,
                   uint64_t *nbytes, cs_err *err)
{
    int rc;
    sqlite3_stmt *q = NULL;
    store_row *rows = malloc(STORE_PAGE * sizeof *rows);
    uint8_t last[32] = {0};
    int have_last = 0;
    if (!rows)
        return cs_err_set(err, CS_ENOMEM, "no memory for index rows");
    uint64_t total = 0, done = 0;
    if ((rc = db_exec(s, "BEGIN IMMEDIATE", err)) != 0)
        goto out;
    if (s->gc_progress) {
        if ((rc = db_u64(s, "SELECT count(*) FROM objects", "counting objects", &total, err)) != 0)
            goto out;
        s->gc_progress(s->gc_pctx, "checking references", 0, total);
    }
    if (sqlite3_prepare_v2(s->db,
                           "SELECT id, pack, off, raw_len, enc_len, block_size FROM objects"
                           " WHERE id > ?1 ORDER BY id LIMIT 256",
                           -1, &q, NULL) != SQLITE_OK) {
        rc = db_fail(s, err, "walking the index");
        goto out;
    }
    for (;;) {
        size_t n;
        if (have_last)
            sqlite3_bind_blob(q, 1, last, 32, SQLITE_STATIC);
        else
            sqlite3_bind_zeroblob(q, 1, 0); /* sorts before every id */
        if ((rc = rows_page(s, q, rows, &n, err)) != 0)
            goto out;
        if (n == 0)
            break;
        for (size_t k = 0; k < n; k++) {
            if (is_live(ctx, rows[k].id))
                continue;
            sqlite3_bind_blob(s->q_del, 1, rows[k].id, 32, SQLITE_STATIC);
            int r = sqlite3_step(s->q_del);
            sqlite3_reset(s->q_del);
            sqlite3_clear_bindings(s->q_del);
            if (r != SQLITE_DONE) {
                rc = db_fail(s, err, "dropping dead objects");
                goto out;
            }
            (*nobj)++;
            *nbytes += rows[k].enc_len;
        }
        memcpy(last, rows[n - 1].id, 32);
        have_last = 1;
        done += n;
        if (s->gc_progress && done < total)
            s->gc_progress(s->gc_pctx, "checking references", done, total);
    }
    rc = db_exec(s, "COMMIT", err);
    if (rc == 0 && s->gc_progress && total)
        s->gc_progress(s->gc_pctx, "checking references", total, total);
out:
    if (rc)
        db_rollback(s);
    sqlite3_finalize(q);
    free(rows);
    return rc;
}

/* Copy pack src's live objects to the tail of dst, repointing their rows
 * inside the open transaction. */
static int gc_copy_pack(content_store *s, uint32_t src_id, uint32_t dst_id, uint8_t *buf,
                        uint64_t *copied, uint64_t to_copy, cs_err *err)
{
    int rc = 0;
    sqlite3_stmt *q = NULL, *up = NULL;
    store_row *rows = malloc(STORE_PAGE * sizeof *rows);
    if (!rows)
        return cs_err_set(err, CS_ENOMEM, "no memory for index rows");
    if (sqlite3_prepare_v2(s->db,
                           "SELECT id, pack, off, raw_len, enc_len, block_size FROM objects"
                           " WHERE pack = ?1 ORDER BY off LIMIT 256",
                           -1, &q, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(s->db, "UPDATE objects SET pack = ?1, off = ?2 WHERE id = ?3", -1, &up,
                           NULL) != SQLITE_OK) {
        rc = db_fail(s, err, "compacting");
        goto out;
    }
    int sfd;
    if ((rc = pack_fd(s, src_id, &sfd, err)) != 0)
        goto out;
    for (;;) {
        size_t n;
        sqlite3_bind_int64(q, 1, src_id);
        if ((rc = rows_page(s, q, rows, &n, err)) != 0)
            goto out;
        if (n == 0)
            break;
        for (size_t k = 0; k < n; k++) {
            store_pack *d = &s->packs[pack_find(s, dst_id)];
            uint64_t at = d->tail;
            for (uint64_t o = 0; o < rows[k].enc_len;) {
                uint64_t left = rows[k].enc_len - o;
                size_t c = left < STORE_COPY_BUF ? (size_t)left : STORE_COPY_BUF;
                if ((rc = cs_pread_full(sfd, buf, c, rows[k].off + o, err)) != 0 ||
                    (rc = cs_pwrite_full(d->fd, buf, c, at + o, err)) != 0)
                    goto out;
                o += c;
            }
            d->tail = at + rows[k].enc_len;
            *copied += rows[k].enc_len;
            if (s->gc_progress && *copied < to_copy)
                s->gc_progress(s->gc_pctx, "compacting", *copied, to_copy);
            sqlite3_bind_int64(up, 1, dst_id);
            sqlite3_bind_int64(up, 2, (sqlite3_int64)at);
            sqlite3_bind_blob(up, 3, rows[k].id, 32, SQLITE_STATIC);
            int r = sqlite3_step(up);
            sqlite3_reset(up);
            if (r != SQLITE_DONE) {
                rc = db_fail(s, err, "repointing objects");
                goto out;
            }
        }
    }
out:
    sqlite3_finalize(q);
    sqlite3_finalize(up);
    free(rows);
    return rc;
}

/* Commit one compaction batch: dst (if any) is fsynced and registered, the
 * old packs' rows deleted; after the commit the old files are unlinked. */
static int gc_commit(content_store *s, uint32_t dst_id, const uint32_t *olds, size_t nolds,
                     cs_err *err)
{
    int rc;
    char sql[96];
    if (dst_id) {
        store_pack *d = &s->packs[pack_find(s, dst_id)];
        if ((rc = cs_fsync(d->fd, err)) != 0 || (rc = cs_fsync_dir(s->dir, err)) != 0 ||
            (rc = pack_register(s, d, err)) != 0)
            return rc;
    }
    for (size_t i = 0; i < nolds; i++) {
        snprintf(sql, sizeof sql, "DELETE FROM packs WHERE id = %u", olds[i]);
        if ((rc = db_exec(s, sql, err)) != 0)
            return rc;
    }
    if ((rc = meta_set_next_pack(s, err)) != 0 || (rc = db_exec(s, "COMMIT", err)) != 0)
        return rc;
    if (dst_id) {
        store_pack *d = &s->packs[pack_find(s, dst_id)];
        d->committed_end = d->tail;
        d->dirty = d->fresh = 0;
    }
    for (size_t i = 0; i < nolds; i++) {
        char path[STORE_PATH_MAX];
        long k = pack_find(s, olds[i]);
        if (k >= 0)
            pack_remove(s, (size_t)k);
        if (s->cur == olds[i])
            s->cur = 0;
        pack_path(s, olds[i], path, sizeof path);
        unlink(path); /* a leftover would be deleted by the next open */
    }
    if (nolds)
        cs_fsync_dir(s->dir, NULL);
    return 0;
}

/* Phase 2: rewrite packs whose live bytes are under half their size. */
static int gc_compact(content_store *s, cs_err *err)
{
    int rc = 0;
    sqlite3_stmt *q = NULL;
    uint32_t *cand = NULL, *olds = NULL;
    uint64_t *live = NULL;
    size_t ncand = 0, nolds = 0;
    uint32_t dst = 0;
    uint8_t *buf = NULL;
    int in_txn = 0;

    cand = calloc(s->npacks + 1, sizeof *cand);
    olds = calloc(s->npacks + 1, sizeof *olds);
    live = calloc(s->npacks + 1, sizeof *live);
    buf = malloc(STORE_COPY_BUF);
    if (!cand || !olds || !live || !buf) {
        rc = cs_err_set(err, CS_ENOMEM, "no memory for gc");
        goto out;
    }
    if (sqlite3_prepare_v2(s->db, "SELECT coalesce(sum(enc_len), 0) FROM objects WHERE pack = ?1",
                           -1, &q, NULL) != SQLITE_OK) {
        rc = db_fail(s, err, "measuring packs");
        goto out;
    }
    for (size_t i = 0; i < s->npacks; i++) {
        store_pack *p = &s->packs[i];
        sqlite3_bind_int64(q, 1, p->id);
        uint64_t lb = 0;
        if (sqlite3_step(q) == SQLITE_ROW)
            lb = (uint64_t)sqlite3_column_int64(q, 0);
        sqlite3_reset(q);
        if (p->committed_end == 0 || p->dirty)
            continue; /* not registered yet */
        if (p->unusable && lb != 0)
            continue; /* damaged: leave it for verify/forget */
        if (p->committed_end <= CONTENT_PACK_HDR && p->id == s->cur)
            continue; /* the empty pack we are about to fill */
        if (!p->unusable && lb * 2 >= p->committed_end)
            continue; /* mostly live */
        cand[ncand] = p->id;
        live[ncand++] = lb;
    }
    uint64_t to_copy = 0, copied = 0;
    for (size_t c = 0; c < ncand; c++)
        to_copy += live[c];
    if (s->gc_progress && to_copy)
        s->gc_progress(s->gc_pctx, "compacting", 0, to_copy);
    for (size_t c = 0; c < ncand; c++) {
        if (!in_txn) {
            if ((rc = db_exec(s, "BEGIN IMMEDIATE", err)) != 0)
                goto out;
            in_txn = 1;
        }
        if (live[c] > 0) {
            long di = dst ? pack_find(s, dst) : -1;
            if (di >= 0 && s->packs[di].tail + live[c] > CONTENT_PACK_ROLL) {
                if ((rc = gc_commit(s, dst, olds, nolds, err)) != 0)
                    goto out;
                in_txn = 0;
                nolds = 0;
                dst = 0;
                if ((rc = db_exec(s, "BEGIN IMMEDIATE", err)) != 0)
                    goto out;
                in_txn = 1;
            }
            if (!dst && (rc = pack_create(s, &dst, err)) != 0)
                goto out;
            if ((rc = gc_copy_pack(s, cand[c], dst, buf, &copied, to_copy, err)) != 0)
                goto out;
        }
        olds[nolds++] = cand[c];
    }
    if (in_txn) {
        if ((rc = gc_commit(s, dst, olds, nolds, err)) != 0)
            goto out;
        in_txn = 0;
        if (dst && s->cur == 0)
            s->cur = dst;
        dst = 0;
    }
    if (s->gc_progress && to_copy)
        s->gc_progress(s->gc_pctx, "compacting", to_copy, to_copy);
out:
    if (rc) {
        db_rollback(s);
        if (dst) { /* never registered: drop the half-written copy */
            char path[STORE_PATH_MAX];
            long k = pack_find(s, dst);
            if (k >= 0)
                pack_remove(s, (size_t)k);
            pack_path(s, dst, path, sizeof path);
            unlink(path);
        }
        cs_err_wrap(err, "compacting packs");
    }
    sqlite3_finalize(q);
    free(cand);
    free(olds);
    free(live);
    free(buf);
    return rc;
}

void content_store_gc_progress_set(content_store *s, content_store_phase_cb cb, void *ctx)
{
    if (s) {
        s->gc_progress = cb;
        s->gc_pctx = ctx;
    }
}

int content_store_gc(content_store *s, content_store_live_cb is_live, void *ctx,
                     uint64_t *freed_objects, uint64_t *freed_bytes, cs_err *err)
{
    int rc;
    uint64_t nobj = 0, nbytes = 0;
    if ((rc = need_writer(s, err)) != 0)
        return rc;
    if (!is_live)
        return cs_err_set(err, CS_EINVAL, "gc needs a liveness callback");
    if ((rc = content_store_flush(s, err)) != 0)
        return rc;
    s->cache_valid = 0;
    if ((rc = gc_drop(s, is_live, ctx, &nobj, &nbytes, err)) != 0)
        return rc;
    if ((rc = gc_compact(s, err)) != 0)
        return rc;
    if (freed_objects)
        *freed_objects = nobj;
    if (freed_bytes)
        *freed_bytes = nbytes;
    return 0;
}

/* ---- stats -------------------------------------------------------------- */

int content_store_stats_get(content_store *s, content_store_stats *out, cs_err *err)
{
    int rc = 0;
    sqlite3_stmt *q = NULL;
    content_store_stats st = {0};
    char path[STORE_PATH_MAX];
    struct stat sb;
    if (sqlite3_prepare_v2(s->db,
                           "SELECT count(*), coalesce(sum(raw_len), 0), coalesce(sum(enc_len), 0)"
                           " FROM objects",
                           -1, &q, NULL) != SQLITE_OK ||
        sqlite3_step(q) != SQLITE_ROW) {
        rc = db_fail(s, err, "summing objects");
        goto out;
    }
    st.objects = (uint64_t)sqlite3_column_int64(q, 0);
    st.raw_bytes = (uint64_t)sqlite3_column_int64(q, 1);
    st.enc_bytes = (uint64_t)sqlite3_column_int64(q, 2);
    sqlite3_finalize(q);
    if (sqlite3_prepare_v2(s->db, "SELECT id FROM packs", -1, &q, NULL) != SQLITE_OK) {
        rc = db_fail(s, err, "listing packs");
        goto out;
    }
    int r;
    while ((r = sqlite3_step(q)) == SQLITE_ROW) {
        st.packs++;
        pack_path(s, (uint32_t)sqlite3_column_int64(q, 0), path, sizeof path);
        if (stat(path, &sb) == 0)
            st.disk_bytes += (uint64_t)sb.st_size;
    }
    if (r != SQLITE_DONE) {
        rc = db_fail(s, err, "listing packs");
        goto out;
    }
    static const char *const dbfiles[] = {"index.db", "index.db-wal", "index.db-shm"};
    for (size_t i = 0; i < sizeof dbfiles / sizeof dbfiles[0]; i++) {
        snprintf(path, sizeof path, "%s/%s", s->dir, dbfiles[i]);
        if (stat(path, &sb) == 0)
            st.disk_bytes += (uint64_t)sb.st_size;
    }
    *out = st;
out:
    sqlite3_finalize(q);
    return rc;
}

int content_store_snapshot(content_store *s, cs_err *err)
{
    if (!s->rdonly)
        return cs_err_set(err, CS_EINVAL, "store snapshots are for read-only handles");
    content_store_snapshot_end(s);
    int rc = sqlite3_exec(s->db, "BEGIN; SELECT count(*) FROM meta", NULL, NULL, NULL);
    if (rc != SQLITE_OK) {
        content_store_snapshot_end(s);
        return db_fail(s, err, "starting a read snapshot");
    }
    return 0;
}

void content_store_snapshot_end(content_store *s)
{
    if (s && !sqlite3_get_autocommit(s->db))
        sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL);
}

int content_store_integrity(content_store *s, cs_err *err)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(s->db, "PRAGMA integrity_check(5)", -1, &st, NULL) != SQLITE_OK)
        return db_fail(s, err, "integrity check");
    int ret = 0, rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *m = (const char *)sqlite3_column_text(st, 0);
        if (m && strcmp(m, "ok") != 0 && ret == 0)
            ret = cs_err_set(err, CS_ECORRUPT, "store index damaged: %s", m);
    }
    if (ret == 0 && rc != SQLITE_DONE)
        ret = db_fail(s, err, "integrity check");
    sqlite3_finalize(st);
    return ret;
}
