/*
 * http_filecache.c - the files a classroom asks for again and again, kept
 * as finished responses.
 *
 * Forty devices open the same lesson in the same minute.  Each of those
 * requests would look the file up in the catalogue, the object up in the
 * store's index, read its block and decode it: three SQLite lookups, a pread
 * and an LZ4 decode for the same bytes every time.  A small file (up to
 * SRV_FCACHE_MAX_FILE) served whole with 200 is kept here as the MHD
 * response that answered it, headers and all; the next plain GET for the
 * same /r/{id}/{path} queues that response again (MHD counts references to
 * a response, so one may go out on many connections at once).
 *
 * What is not answered here takes the long way, which is always right:
 * HEAD, Range, If-None-Match, If-Range, a response that would set a cookie,
 * and any entry that may be stale.  An entry is fresh while all hold:
 *   - it was made from the catalogue version and generation that requests
 *     see now (srv.seen_version, srv.generation): an import or a local
 *     write makes every older entry stale, and reads stay monotonic (no
 *     request is answered from a version older than one already served);
 *   - it was made or confirmed by the long way within SNAPSHOT_MS, the age
 *     the pooled read snapshots are allowed: an import not yet seen by any
 *     request shows as soon as it would have without the cache.
 * A stale entry is replaced by the long way's answer.
 *
 * Memory: the cache holds at most serve.file_cache bytes of bodies (8 MiB by
 * default; 0 turns it off) in SRV_FCACHE_SLOTS direct-mapped slots; over the
 * budget, a clock hand drops entries until the new one fits.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "platform/time.h"
#include "server_int.h"

#define FC_KEY_MAX (CONTENT_ID_MAX + CONTENT_PATH_MAX + 2)

typedef struct fc_entry {
    char *key; /* "id/path"; NULL = empty slot */
    uint64_t hash;
    int64_t version, gen;         /* catalogue the answer came from */
    int64_t checked_ms;           /* when the long way last made or confirmed it */
    char hex[65];                 /* object id: ETag and the ?v= check */
    size_t len;                   /* body bytes */
    struct MHD_Response *resp[2]; /* [versioned]: the 200 answers, or NULL */
} fc_entry;

struct srv_fcache {
    pthread_mutex_t lock;
    size_t budget, bytes;
    uint32_t hand;
    _Atomic uint64_t hits, misses;
    fc_entry slot[SRV_FCACHE_SLOTS];
};

static uint64_t fc_hash(const char *key)
{
    uint64_t h = 1469598103934665603ULL;
    for (const char *p = key; *p; p++)
        h = (h ^ (unsigned char)*p) * 1099511628211ULL;
    return h ^ (h >> 31);
}

static int fc_key(char *buf, size_t cap, const char *id, const char *path)
{
    int n = snprintf(buf, cap, "%s/%s", id, path);
    return n > 0 && (size_t)n < cap;
}

static size_t fc_cost(const fc_entry *e)
{
    /* The body once per response, plus what the headers and records take. */
    size_t n = (e->resp[0] != NULL) + (e->resp[1] != NULL);
    return n * (e->len + 512) + strlen(e->key) + sizeof *e;
}

static void fc_drop(srv_fcache *fc, fc_entry *e)
{
    if (!e->key)
        return;
    fc->bytes -= fc_cost(e);
    for (int i = 0; i < 2; i++)
        if (e->resp[i])
            MHD_destroy_response(e->resp[i]); /* the cache's reference; queued copies live on */
    free(e->key);
    memset(e, 0, sizeof *e);
}

int srv_fcache_new(srv_fcache **out, size_t budget)
{
    *out = NULL;
    if (budget == 0)
        return 0;
    srv_fcache *fc = calloc(1, sizeof *fc);
    if (!fc)
        return CS_ENOMEM;
    pthread_mutex_init(&fc->lock, NULL);
    fc->budget = budget;
    *out = fc;
    return 0;
}

void srv_fcache_free(srv_fcache *fc)
{
    if (!fc)
        return;
    for (size_t i = 0; i < SRV_FCACHE_SLOTS; i++)
        fc_drop(fc, &fc->slot[i]);
    pthread_mutex_destroy(&fc->lock);
    free(fc);
}

void srv_fcache_stats(srv_fcache *fc, uint64_t *hits, uint64_t *misses, size_t *bytes)
{
    *hits = *misses = 0;
    *bytes = 0;
    if (!fc)
        return;
    *hits = atomic_load(&fc->hits);
    *misses = atomic_load(&fc->misses);
    pthread_mutex_lock(&fc->lock);
    *bytes = fc->bytes;
    pthread_mutex_unlock(&fc->lock);
}

/* Only a plain GET of the whole file can be answered with a kept response. */
int srv_fcache_eligible(struct MHD_Connection *c, const srv_req *rq)
{
    return !rq->head && !rq->set_cookie[0] &&
           !MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Range") &&
           !MHD_lookup_connection_value(c, MHD_HEADER_KIND, "If-None-Match") &&
           !MHD_lookup_connection_value(c, MHD_HEADER_KIND, "If-Range");
}

/* ?v= names this object: the answer may be cached for a year. */
int srv_content_versioned(const char *v, const char *hex)
{
    size_t n = v ? strlen(v) : 0;
    return n >= 16 && strncmp(v, hex, n > 64 ? 64 : n) == 0;
}

int srv_fcache_serve(srv *s, struct MHD_Connection *c, srv_req *rq, const char *id,
                     const char *path, MHD_RESULT *ret)
{
    srv_fcache *fc = s->fcache;
    char key[FC_KEY_MAX];
    if (!fc || !fc_key(key, sizeof key, id, path) || !srv_fcache_eligible(c, rq))
        return 0;
    uint64_t h = fc_hash(key);
    const char *v = srv_arg(c, "v");
    int64_t now = cs_time_mono_ms();
    int64_t seen = atomic_load(&s->seen_version), gen = atomic_load(&s->generation);
    int served = 0;
    size_t len = 0;
    pthread_mutex_lock(&fc->lock);
    fc_entry *e = &fc->slot[h % SRV_FCACHE_SLOTS];
    if (e->key && e->hash == h && strcmp(e->key, key) == 0 && e->version >= seen && e->gen == gen &&
        now - e->checked_ms <= SNAPSHOT_MS) {
        struct MHD_Response *r = e->resp[srv_content_versioned(v, e->hex)];
        if (r) {
            /* Queued under the lock: an eviction meanwhile would drop the
             * cache's reference before MHD took its own. */
            rq->status = 200;
            *ret = MHD_queue_response(c, 200, r);
            len = e->len;
            served = 1;
        }
    }
    pthread_mutex_unlock(&fc->lock);
    if (!served) {
        atomic_fetch_add_explicit(&fc->misses, 1, memory_order_relaxed);
        return 0;
    }
    atomic_fetch_add_explicit(&fc->hits, 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&s->bytes_sent[rq->route], len, memory_order_relaxed);
    return 1;
}

void srv_fcache_put(srv *s, const char *id, const char *path, int64_t version, int64_t gen,
                    const char *hex, int versioned, size_t len, struct MHD_Response *r)
{
    srv_fcache *fc = s->fcache;
    char key[FC_KEY_MAX];
    if (!fc || len > SRV_FCACHE_MAX_FILE || !fc_key(key, sizeof key, id, path)) {
        MHD_destroy_response(r); /* not kept: the caller's reference ends here */
        return;
    }
    uint64_t h = fc_hash(key);
    int64_t now = cs_time_mono_ms();
    pthread_mutex_lock(&fc->lock);
    fc_entry *e = &fc->slot[h % SRV_FCACHE_SLOTS];
    int same = e->key && e->hash == h && strcmp(e->key, key) == 0 && e->version == version &&
               e->gen == gen && strcmp(e->hex, hex) == 0;
    if (same) {
        /* The long way gave the same answer: confirmed, and the other
         * variant (plain or versioned) joins it. */
        e->checked_ms = now;
        if (!e->resp[versioned]) {
            fc->bytes -= fc_cost(e);
            e->resp[versioned] = r;
            fc->bytes += fc_cost(e);
            r = NULL;
        }
    } else {
        fc_drop(fc, e);
        e->key = strdup(key);
        if (e->key) {
            e->hash = h;
            e->version = version;
            e->gen = gen;
            e->checked_ms = now;
            snprintf(e->hex, sizeof e->hex, "%s", hex);
            e->len = len;
            e->resp[versioned] = r;
            r = NULL;
            fc->bytes += fc_cost(e);
        }
    }
    /* Over the budget: the clock hand drops others until it fits. */
    for (uint32_t n = 0; fc->bytes > fc->budget && n < SRV_FCACHE_SLOTS; n++) {
        fc_entry *x = &fc->slot[fc->hand];
        fc->hand = (fc->hand + 1) % SRV_FCACHE_SLOTS;
        if (x != e)
            fc_drop(fc, x);
    }
    if (fc->bytes > fc->budget)
        fc_drop(fc, e); /* larger than the whole budget */
    pthread_mutex_unlock(&fc->lock);
    if (r)
        MHD_destroy_response(r);
}
