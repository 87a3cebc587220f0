/*
 * client.c - network sync (see client.h).
 */
#include "sync/client.h"

#include <curl/curl.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "apply_int.h"
#include "content/object.h"
#include "platform/buf.h"
#include "platform/crypto.h"
#include "platform/file.h"
#include "platform/time.h"
#include "sync/catfile.h"
#include "sync/delta.h"

#define CATALOG_MAX (1ULL << 30)
/* Verified objects are flushed (made durable) at the end of every request,
 * before the next is sent; within one batch answer also at least every
 * FLUSH_BYTES and every FLUSH_MS, so a kill -9 mid-answer costs at most
 * that much verified transfer (docs/sync.md). */
#define FLUSH_BYTES (1ULL << 20)
#define FLUSH_MS 1000
/* An object cut off in a batch answer with at least this much of it in is
 * kept as a part file and resumed alone with Range; less is fetched again
 * (an extra request costs a round trip, ~600 ms on a satellite link). */
#define BATCH_PART_MIN (64u << 10)
#define MAX_KEPT 64 /* fetched metadata files kept for the mirror copy */

void sync_client_options_default(sync_client_options *o)
{
    memset(o, 0, sizeof *o);
    o->stall_s = 60;
    o->connect_timeout_s = 30;
    o->retries = 6;
    o->backoff_base_ms = 1000;
    o->backoff_cap_ms = 60000;
    o->batch_bytes = 8ULL << 20;
    o->large_object = 4ULL << 20;
    o->apply.now = cs_time_now();
}

typedef struct kept {
    char name[256];
    uint8_t *data;
    size_t len;
} kept;

typedef struct http {
    CURL *curl;
    const sync_client_options *opt;
    char base[2048];
    sync_client_stats *st;
    kept keep[MAX_KEPT];
    int nkeep;
    /* verified progress: retries and backoff count only attempts without it */
    uint64_t part_bytes; /* bytes added to part files of large objects */
    int bad_data;        /* bytes failed verification in this attempt */
    /* progress: both only grow within one run, across retries and passes */
    sync_progress_cb progress;
    void *pctx;
    uint64_t done, total;
} http;

static int xfer_cancel(void *ud, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
    const http *h = ud;
    return h->opt->cancel && atomic_load(h->opt->cancel) ? 1 : 0;
}

static void http_setup(http *h, const char *url)
{
    CURL *c = h->curl;
    curl_easy_reset(c); /* keeps the connection cache: keep-alive across requests */
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(c, CURLOPT_MAXREDIRS, 3L);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, h->opt->connect_timeout_s);
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, h->opt->stall_s);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "cistern-node/1");
    if (h->opt->max_rate)
        curl_easy_setopt(c, CURLOPT_MAX_RECV_SPEED_LARGE, (curl_off_t)h->opt->max_rate);
    if (h->opt->cancel) {
        curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
        curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, xfer_cancel);
        curl_easy_setopt(c, CURLOPT_XFERINFODATA, h);
    }
}

static void url_of(const http *h, const char *path, char *buf, size_t cap)
{
    snprintf(buf, cap, "%s/%s", h->base, path);
}

/* Bodies of error responses (a static server's 404 page) are not data. */
static int status_ok(CURL *c)
{
    long code = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
    return code == 200 || code == 206;
}

typedef struct bufsink {
    cs_buf b;
    uint64_t max;
    int over;
    http *h;
} bufsink;

static size_t buf_write(char *p, size_t sz, size_t n, void *ud)
{
    bufsink *s = ud;
    size_t len = sz * n;
    if (!status_ok(s->h->curl))
        return len;
    if (s->b.len + len > s->max) {
        s->over = 1;
        return 0;
    }
    if (cs_buf_append(&s->b, p, len) != 0)
        return 0;
    s->h->st->bytes_received += len;
    return len;
}

/* Turn a finished transfer into a code; CS_ENET is the retryable kind. */
static int http_result(http *h, CURLcode cc, int over, uint64_t max, const char *what, cs_err *err)
{
    long code = 0;
    curl_easy_getinfo(h->curl, CURLINFO_RESPONSE_CODE, &code);
    h->st->requests++;
    if (cc == CURLE_WRITE_ERROR && over)
        return cs_err_set(err, CS_ETOOBIG, "%s: the hub sent more than the %llu bytes signed metadata allows",
                          what, (unsigned long long)max);
    if (cc == CURLE_ABORTED_BY_CALLBACK)
        return cs_err_set(err, CS_EINTERRUPTED, "%s: sync stopped", what);
    if (cc == CURLE_OPERATION_TIMEDOUT)
        return cs_err_set(err, CS_ENET, "%s: transfer stalled (nothing received for %ld s)", what,
                          h->opt->stall_s);
    if (cc != CURLE_OK)
        return cs_err_set(err, CS_ENET, "%s: %s", what, curl_easy_strerror(cc));
    if (code == 404 || code == 410 || code == 403) /* static stores answer 403 for missing names */
        return cs_err_set(err, CS_ENOENT, "%s: not on the hub (HTTP %ld)", what, code);
    if (code != 200 && code != 206)
        return cs_err_set(err, CS_ENET, "%s: the hub answered HTTP %ld", what, code);
    return 0;
}

static int http_get(http *h, const char *path, uint64_t max, uint8_t **out, size_t *len, cs_err *err)
{
    char url[4096];
    url_of(h, path, url, sizeof url);
    bufsink s;
    cs_buf_init(&s.b, max < SIZE_MAX ? (size_t)max : SIZE_MAX);
    s.max = max;
    s.over = 0;
    s.h = h;
    http_setup(h, url);
    curl_easy_setopt(h->curl, CURLOPT_WRITEFUNCTION, buf_write);
    curl_easy_setopt(h->curl, CURLOPT_WRITEDATA, &s);
    curl_easy_setopt(h->curl, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)max);
    CURLcode cc = curl_easy_perform(h->curl);
    int rc = http_result(h, cc, s.over || cc == CURLE_FILESIZE_EXCEEDED, max, path, err);
    if (cc == CURLE_FILESIZE_EXCEEDED)
        rc = cs_err_set(err, CS_ETOOBIG, "%s: the hub announces more than the %llu bytes allowed", path,
                        (unsigned long long)max);
    if (rc) {
        cs_buf_free(&s.b);
        return rc;
    }
    *len = s.b.len;
    *out = s.b.data ? cs_buf_steal(&s.b, NULL) : calloc(1, 1);
    return *out ? 0 : cs_err_set(err, CS_ENOMEM, "out of memory");
}

/* The metadata getter for sync_verify_metadata; keeps a copy for mirrors. */
static int meta_get(void *ctx, const char *name, uint64_t max, uint8_t **out, size_t *len, cs_err *err)
{
    http *h = ctx;
    int rc = http_get(h, name, max, out, len, err);
    if (rc == 0 && h->opt->mirror && h->nkeep < MAX_KEPT && (h->keep[h->nkeep].data = malloc(*len ? *len : 1))) {
        snprintf(h->keep[h->nkeep].name, sizeof h->keep[h->nkeep].name, "%s", name);
        memcpy(h->keep[h->nkeep].data, *out, *len);
        h->keep[h->nkeep].len = *len;
        h->nkeep++;
    }
    return rc;
}

static void report(http *h)
{
    if (h->progress)
        h->progress(h->pctx, "downloading", h->done, h->total);
}

/* ---- objects ---- */

typedef struct fetch {
    http *h;
    content_store *store;
    sync_objset *need;
    int64_t last_flush_ms;
    cs_err *err;
    int rc;
} fetch;

/* Make every verified object durable: called at the end of each request
 * (before the next is sent) and, within a batch answer, by stored_one. */
static int flush_now(fetch *f)
{
    f->last_flush_ms = cs_time_mono_ms();
    if (content_store_pending(f->store) == 0)
        return 0;
    return content_store_flush(f->store, f->err);
}

/* An object verified and put: e its entry, wire the bytes it took on the
 * wire (its delta's length when rebuilt from one). */
static int stored_one(fetch *f, const sync_objent *e, uint64_t wire, int from_delta)
{
    sync_client_stats *st = f->h->st;
    st->objects_fetched++;
    if (from_delta) {
        st->deltas_applied++;
        st->delta_bytes += wire;
        if (e && e->enc_len > wire)
            st->bytes_saved += e->enc_len - wire;
    } else {
        st->whole_bytes += wire;
    }
    f->h->done += wire;
    if (f->h->done > f->h->total)
        f->h->total = f->h->done;
    report(f->h);
    if (content_store_pending(f->store) >= FLUSH_BYTES ||
        cs_time_mono_ms() - f->last_flush_ms >= FLUSH_MS)
        return flush_now(f);
    return 0;
}

/* Rebuild an object from a delta against a base the store holds; the
 * result is hashed before it is stored.  Failure marks the delta unusable
 * (the whole object is fetched instead). */
static int apply_delta(fetch *f, const sync_objent *e, const uint8_t base[32], const uint8_t *delta, size_t dlen)
{
    content_obj_info bi;
    cs_err tmp;
    uint8_t *old = NULL, *raw = NULL;
    int rc = content_store_stat(f->store, base, &bi, &tmp);
    if (rc == 0 && (bi.raw_len > SYNC_DELTA_MAX_RAW || e->raw_len > SYNC_DELTA_MAX_RAW))
        rc = CS_ETOOBIG;
    size_t got = 0;
    if (rc == 0) {
        old = malloc(bi.raw_len ? bi.raw_len : 1);
        raw = malloc(e->raw_len ? e->raw_len : 1);
        if (!old || !raw)
            rc = CS_ENOMEM;
    }
    if (rc == 0 && (rc = content_store_read(f->store, base, 0, old, bi.raw_len, &got, &tmp)) == 0 && got != bi.raw_len)
        rc = CS_ECORRUPT;
    if (rc == 0 && (rc = sync_delta_apply(raw, e->raw_len, e->id, old, bi.raw_len, delta, dlen, &tmp)) == 0) {
        uint8_t id[32];
        rc = content_store_put_buf(f->store, raw, e->raw_len, id, f->err);
    }
    free(old);
    free(raw);
    return rc;
}

/* Batch response: records of [object id 32][base id 32, zero for a whole
 * object][length u64 LE][encoded object, or zstd delta from the base]. */
typedef struct batch_rx {
    fetch *f;
    uint8_t hdr[72];
    size_t hdr_have;
    uint8_t *obj;
    uint64_t obj_len, obj_have;
    const sync_objent *ent;
    int is_delta;
    int failed;
} batch_rx;

static const uint8_t zero_id[32];

static size_t batch_write(char *p, size_t sz, size_t n, void *ud)
{
    batch_rx *b = ud;
    fetch *f = b->f;
    size_t len = sz * n, used = 0;
    f->h->st->bytes_received += len;
    if (!status_ok(f->h->curl))
        return len; /* no batch endpoint here: judged by the status afterwards */
    while (used < len) {
        if (b->hdr_have < sizeof b->hdr) {
            size_t take = sizeof b->hdr - b->hdr_have < len - used ? sizeof b->hdr - b->hdr_have : len - used;
            memcpy(b->hdr + b->hdr_have, p + used, take);
            b->hdr_have += take;
            used += take;
            if (b->hdr_have < sizeof b->hdr)
                break;
            b->ent = sync_objset_get(f->need, b->hdr);
            b->obj_len = cs_get_u64(b->hdr + 64);
            b->is_delta = memcmp(b->hdr + 32, zero_id, 32) != 0;
            int len_ok = 0;
            if (b->ent && !b->is_delta)
                len_ok = b->obj_len == b->ent->enc_len;
            for (int k = 0; b->ent && b->is_delta && k < b->ent->ndeltas; k++)
                len_ok |= memcmp(b->ent->delta_base[k], b->hdr + 32, 32) == 0 && b->obj_len == b->ent->delta_len[k];
            if (!b->ent || !len_ok) {
                char hex[CS_SHA256_HEX];
                cs_hex_encode(b->hdr, 32, hex);
                f->rc = cs_err_set(f->err, CS_EHASH,
                                   b->ent ? "hub sent %s %.16s… with a length the signed catalogue does not give"
                                          : "hub sent %s %.16s…, which the signed catalogue does not name",
                                   b->is_delta ? "a delta for" : "object", hex);
                b->failed = 1;
                return 0;
            }
            b->obj = malloc(b->obj_len ? b->obj_len : 1);
            b->obj_have = 0;
            if (!b->obj) {
                f->rc = cs_err_set(f->err, CS_ENOMEM, "out of memory");
                b->failed = 1;
                return 0;
            }
        }
        size_t take = b->obj_len - b->obj_have < len - used ? (size_t)(b->obj_len - b->obj_have) : len - used;
        memcpy(b->obj + b->obj_have, p + used, take);
        b->obj_have += take;
        used += take;
        if (b->obj_have == b->obj_len) {
            int rc = 0;
            char hex[CS_SHA256_HEX];
            cs_hex_encode(b->hdr, 32, hex);
            int present = content_store_has(f->store, b->hdr);
            if (present) {
                rc = 0;
            } else if (b->is_delta) {
                if (apply_delta(f, b->ent, b->hdr + 32, b->obj, b->obj_len) != 0) {
                    /* A bad delta: drop it; the whole object comes next round. */
                    sync_objent *e = sync_objset_find(f->need, b->hdr);
                    if (e)
                        e->ndeltas = 0;
                    rc = cs_err_set(f->err, CS_EHASH, "delta for object %.16s… did not rebuild it", hex);
                }
            } else if ((rc = content_store_put_encoded(f->store, b->hdr, b->obj, b->obj_len, f->err)) != 0) {
                cs_err_wrap(f->err, "object %.16s… from the hub failed verification", hex);
            }
            free(b->obj);
            b->obj = NULL;
            if (rc == 0 && !present)
                rc = stored_one(f, b->ent, b->obj_len, b->is_delta);
            if (rc) {
                f->rc = rc;
                b->failed = 1;
                return 0;
            }
            b->hdr_have = 0;
        }
    }
    return len;
}

/* The delta to use for an object: the smallest whose base the store holds
 * and that is smaller than the whole object; -1 if none. */
static int pick_delta(fetch *f, const sync_objent *e)
{
    int best = -1;
    for (int k = 0; k < e->ndeltas; k++)
        if (e->delta_len[k] < e->enc_len && (best < 0 || e->delta_len[k] < e->delta_len[best]) &&
            content_store_has(f->store, e->delta_base[k]))
            best = k;
    return best;
}

/* Bytes an object takes on the wire: its smallest usable delta, else the
 * whole encoded object. */
static uint64_t wire_len(fetch *f, const sync_objent *e)
{
    int k = pick_delta(f, e);
    return k >= 0 ? e->delta_len[k] : e->enc_len;
}

/* What is over sync.large_object travels alone, resumable with Range (a
 * whole object, or a delta that large); a large file with a small delta
 * travels in a batch as that delta. */
static int travels_alone(fetch *f, const sync_objent *e)
{
    return e->has_part || wire_len(f, e) > f->h->opt->large_object;
}

static void part_progress(http *h, sync_objent *e, uint64_t pos);

/* A batch answer cut in the middle of an object: keep what came as the
 * part file fetch_large resumes from (incoming/<id>.part, or for a delta
 * incoming/<base>-<id>.zst.part), so a cut on a slow link costs at most
 * BATCH_PART_MIN of it, whatever the object's size. */
static void batch_keep_part(fetch *f, const batch_rx *b)
{
    if (b->failed || !b->obj || !b->ent || b->obj_have < BATCH_PART_MIN ||
        b->obj_have >= b->obj_len)
        return;
    sync_objent *me = sync_objset_find(f->need, b->ent->id);
    char hex[CS_SHA256_HEX], base[CS_SHA256_HEX], part[PATH_MAX];
    cs_hex_encode(b->ent->id, 32, hex);
    snprintf(part, sizeof part, "%s/incoming", f->h->opt->work_dir);
    if (!me || cs_mkdirs(part, 0700, NULL) != 0)
        return;
    if (b->is_delta) {
        cs_hex_encode(b->hdr + 32, 32, base);
        snprintf(part, sizeof part, "%s/incoming/%s-%s.zst.part", f->h->opt->work_dir, base, hex);
    } else {
        snprintf(part, sizeof part, "%s/incoming/%s.part", f->h->opt->work_dir, hex);
    }
    int fd = open(part, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        return;
    int ok = cs_write_full(fd, b->obj, (size_t)b->obj_have, NULL) == 0 && fdatasync(fd) == 0;
    close(fd);
    if (!ok) {
        unlink(part);
        return;
    }
    me->has_part = 1;
    part_progress(f->h, me, b->obj_have);
}

/* Part files an earlier run left in incoming/ for objects still needed:
 * those travel alone, so the resume uses them.  A part file of an object
 * this version no longer needs is removed: nothing would ever resume it.
 * (Files in incoming/ not named as part files are left alone.) */
static void mark_parts(fetch *f)
{
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s/incoming", f->h->opt->work_dir);
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *de;
    // cppcheck-suppress readdirCalled ; a DIR of our own: readdir is safe, readdir_r deprecated
    while ((de = readdir(d)) != NULL) {
        size_t n = strlen(de->d_name);
        const char *hex = NULL;
        if (n == 64 + 5 && strcmp(de->d_name + 64, ".part") == 0)
            hex = de->d_name;
        else if (n == 129 + 9 && de->d_name[64] == '-' &&
                 strcmp(de->d_name + 129, ".zst.part") == 0)
            hex = de->d_name + 65;
        char h64[65];
        uint8_t id[32];
        sync_objent *e;
        if (!hex)
            continue;
        memcpy(h64, hex, 64);
        h64[64] = 0;
        if (cs_hex_decode(h64, id, 32) != 0)
            continue;
        if ((e = sync_objset_find(f->need, id)) != NULL) {
            e->has_part = 1;
        } else {
            char p[PATH_MAX];
            snprintf(p, sizeof p, "%s/%s", dir, de->d_name);
            unlink(p);
        }
    }
    closedir(d);
}

/* Wire bytes still to come for e: a part file's bytes are already done. */
static uint64_t wire_left(fetch *f, const sync_objent *e)
{
    uint64_t w = wire_len(f, e);
    if (travels_alone(f, e))
        w -= e->part_max < w ? e->part_max : w;
    return w;
}

/* One batch request for ids[0..n).  CS_EUNSUPPORTED if the hub has no
 * batch endpoint (a static server). */
static int fetch_batch(fetch *f, const sync_objent *const *ids, size_t n)
{
    http *h = f->h;
    cs_buf body;
    cs_buf_init(&body, 16 << 20);
    for (size_t i = 0; i < n; i++) {
        char hex[CS_SHA256_HEX], base[CS_SHA256_HEX];
        cs_hex_encode(ids[i]->id, 32, hex);
        int k = pick_delta(f, ids[i]);
        if (k >= 0) {
            cs_hex_encode(ids[i]->delta_base[k], 32, base);
            cs_buf_printf(&body, "%s:%s\n", base, hex);
        } else {
            cs_buf_printf(&body, "%s\n", hex);
        }
    }
    char url[4096];
    url_of(h, "batch", url, sizeof url);
    batch_rx b;
    memset(&b, 0, sizeof b);
    b.f = f;
    f->rc = 0;
    http_setup(h, url);
    curl_easy_setopt(h->curl, CURLOPT_POST, 1L);
    curl_easy_setopt(h->curl, CURLOPT_POSTFIELDS, body.data ? (char *)body.data : "");
    curl_easy_setopt(h->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body.len);
    curl_easy_setopt(h->curl, CURLOPT_WRITEFUNCTION, batch_write);
    curl_easy_setopt(h->curl, CURLOPT_WRITEDATA, &b);
    struct curl_slist *hd = curl_slist_append(NULL, "Content-Type: text/plain");
    curl_easy_setopt(h->curl, CURLOPT_HTTPHEADER, hd);
    CURLcode cc = curl_easy_perform(h->curl);
    curl_slist_free_all(hd);
    cs_buf_free(&body);
    if (cc != CURLE_OK)
        batch_keep_part(f, &b);
    free(b.obj);
    long code = 0;
    curl_easy_getinfo(h->curl, CURLINFO_RESPONSE_CODE, &code);
    if (b.failed)
        return f->rc;
    if (cc == CURLE_OK && (code == 404 || code == 405 || code == 501 || code == 403))
        return CS_EUNSUPPORTED;
    int rc = http_result(h, cc, 0, 0, "batch of objects", f->err);
    if (rc == 0 && b.hdr_have != 0)
        rc = cs_err_set(f->err, CS_ENET, "batch of objects: response cut short");
    return rc;
}

/* One object by a plain GET (static servers), as a delta if one fits. */
static int fetch_single(fetch *f, const sync_objent *e)
{
    char hex[CS_SHA256_HEX], path[256];
    cs_hex_encode(e->id, 32, hex);
    int k = pick_delta(f, e);
    if (k >= 0) {
        char base[CS_SHA256_HEX];
        cs_hex_encode(e->delta_base[k], 32, base);
        snprintf(path, sizeof path, "deltas/%.2s/%s-%s.zst", hex, base, hex);
        uint8_t *d = NULL;
        size_t dl = 0;
        int rc = http_get(f->h, path, e->delta_len[k], &d, &dl, f->err);
        if (rc == 0 && dl == e->delta_len[k] && apply_delta(f, e, e->delta_base[k], d, dl) == 0) {
            free(d);
            return stored_one(f, e, dl, 1);
        }
        free(d);
        if (rc == CS_ENET)
            return rc;
        sync_objent *me = sync_objset_find(f->need, e->id);
        if (me)
            me->ndeltas = 0; /* missing or bad delta: the whole object instead */
    }
    snprintf(path, sizeof path, "objects/%.2s/%s", hex, hex);
    uint8_t *data = NULL;
    size_t len = 0;
    int rc = http_get(f->h, path, e->enc_len, &data, &len, f->err);
    if (rc == 0 && len != e->enc_len)
        rc = cs_err_set(f->err, CS_ENET, "%s: %zu of %llu bytes received", path, len, (unsigned long long)e->enc_len);
    if (rc == 0 && (rc = content_store_put_encoded(f->store, e->id, data, len, f->err)) != 0)
        cs_err_wrap(f->err, "object %.16s… from the hub failed verification", hex);
    free(data);
    if (rc == 0)
        rc = stored_one(f, e, len, 0);
    return rc;
}

typedef struct file_sink {
    int fd;
    uint64_t have, max;
    http *h;
    int over;
    int64_t last_sync_ms;
    sync_objent *ent; /* its part_max: bytes of this object already counted as done */
    int resume;       /* a Range request: a 200 answer is the whole object, not the rest */
    int norange;      /* ... and that happened: nothing written */
} file_sink;

/* Progress of a part file that reached pos: only bytes past the furthest
 * it reached before count, so done never goes back after a cut. */
static void part_progress(http *h, sync_objent *e, uint64_t pos)
{
    if (!e || pos <= e->part_max)
        return;
    h->part_bytes += pos - e->part_max;
    h->done += pos - e->part_max;
    if (h->done > h->total)
        h->total = h->done;
    e->part_max = pos;
}

static size_t file_write(char *p, size_t sz, size_t n, void *ud)
{
    file_sink *s = ud;
    size_t len = sz * n;
    if (!status_ok(s->h->curl))
        return len;
    long code = 0;
    curl_easy_getinfo(s->h->curl, CURLINFO_RESPONSE_CODE, &code);
    if (s->resume && code == 200) {
        s->norange = 1; /* the server ignored the Range: these bytes start at 0 */
        return 0;
    }
    if (s->have + len > s->max) {
        s->over = 1;
        return 0;
    }
    if (cs_write_full(s->fd, p, len, NULL) != 0)
        return 0;
    s->have += len;
    s->h->st->bytes_received += len;
    part_progress(s->h, s->ent, s->have);
    int64_t now = cs_time_mono_ms();
    if (now - s->last_sync_ms >= FLUSH_MS) {
        /* A kill -9 loses nothing written; this bounds what a power cut
         * loses to the last second of the part file. */
        fdatasync(s->fd);
        s->last_sync_ms = now;
        report(s->h);
    }
    return len;
}

/* Download path (len bytes, signed) into the part file, resuming with Range
 * from what it holds; returns the open file, complete, in *out_fd. */
static int fetch_part(fetch *f, sync_objent *me, const char *path, const char *part, uint64_t len,
                      int *out_fd)
{
    char url[4096];
    int fd = open(part, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0)
        return cs_err_errno(f->err, part);
    struct stat st;
    fstat(fd, &st);
    uint64_t have = (uint64_t)st.st_size;
    int rc = 0;
    if (have > len) {
        if (ftruncate(fd, 0) != 0) {
            close(fd);
            return cs_err_errno(f->err, part);
        }
        have = 0;
    }
    /* Progress (what keeps the retries going) is bytes past the furthest
     * this part file has reached.  Counting every byte written let a server
     * that sends a little, then ignores the Range so it is dropped, keep a
     * sync retrying forever (found by fuzz_client).  A part file left by an
     * earlier run counts as done, not as progress of this attempt. */
    if (me && have > me->part_max) {
        f->h->done += have - me->part_max;
        if (f->h->done > f->h->total)
            f->h->total = f->h->done;
        me->part_max = have;
    }
    if (have < len) {
        lseek(fd, (off_t)have, SEEK_SET);
        file_sink s = {fd, have, len, f->h, 0, cs_time_mono_ms(), me, have > 0, 0};
        url_of(f->h, path, url, sizeof url);
        http_setup(f->h, url);
        curl_easy_setopt(f->h->curl, CURLOPT_WRITEFUNCTION, file_write);
        curl_easy_setopt(f->h->curl, CURLOPT_WRITEDATA, &s);
        if (have)
            curl_easy_setopt(f->h->curl, CURLOPT_RESUME_FROM_LARGE, (curl_off_t)have);
        CURLcode cc = curl_easy_perform(f->h->curl);
        long code = 0;
        curl_easy_getinfo(f->h->curl, CURLINFO_RESPONSE_CODE, &code);
        if (s.norange || (cc == CURLE_OK && have && code == 200)) {
            /* The server ignored the range: what it sent starts at 0. */
            f->h->st->requests++;
            rc = cs_err_set(f->err, CS_ENET, "%s: the server does not resume (no Range support)",
                            path);
            if (ftruncate(fd, 0) != 0)
                rc = cs_err_errno(f->err, part);
        } else {
            rc = http_result(f->h, cc, s.over, len, path, f->err);
            part_progress(f->h, me, s.have);
        }
        fdatasync(fd); /* what a cut leaves is on disk for the resume */
        if (rc) {
            close(fd);
            return rc;
        }
        have = s.have;
    }
    if (have != len) {
        close(fd);
        return cs_err_set(f->err, CS_ENET, "%s: %llu of %llu bytes received", path,
                          (unsigned long long)have, (unsigned long long)len);
    }
    *out_fd = fd;
    return 0;
}

/* A delta too large for a batch, alone and resumable like a large object
 * (incoming/<base>-<id>.zst.part); applied when complete.  CS_ENOENT: the
 * server has no such delta (the whole object is fetched instead). */
static int fetch_large_delta(fetch *f, sync_objent *me, int k)
{
    char hex[CS_SHA256_HEX], base[CS_SHA256_HEX], path[256], part[PATH_MAX];
    cs_hex_encode(me->id, 32, hex);
    cs_hex_encode(me->delta_base[k], 32, base);
    uint64_t len = me->delta_len[k];
    snprintf(path, sizeof path, "deltas/%.2s/%s-%s.zst", hex, base, hex);
    snprintf(part, sizeof part, "%s/incoming/%s-%s.zst.part", f->h->opt->work_dir, base, hex);
    int fd = -1;
    int rc = fetch_part(f, me, path, part, len, &fd);
    if (rc) {
        if (rc == CS_ENOENT)
            unlink(part);
        return rc;
    }
    uint8_t *d = malloc(len ? len : 1);
    size_t got = 0;
    if (!d)
        rc = cs_err_set(f->err, CS_ENOMEM, "out of memory");
    else if (pread(fd, d, len, 0) != (ssize_t)len)
        rc = cs_err_errno(f->err, part);
    else
        got = len;
    close(fd);
    if (rc == 0 && apply_delta(f, me, me->delta_base[k], d, got) != 0)
        rc = cs_err_set(f->err, CS_EHASH, "delta for object %.16s… did not rebuild it", hex);
    free(d);
    if (rc == 0 && (rc = flush_now(f)) == 0) {
        unlink(part);
        sync_client_stats *st = f->h->st;
        st->objects_fetched++;
        st->deltas_applied++;
        st->delta_bytes += len;
        if (me->enc_len > len)
            st->bytes_saved += me->enc_len - len;
        report(f->h);
    } else if (rc == CS_EHASH) {
        unlink(part); /* a bad delta: the whole object next round */
        me->ndeltas = 0;
        me->part_max = 0;
        f->h->bad_data = 1;
    }
    return rc;
}

/* A large object alone, into DATA/incoming/<id>.part, resumed by Range
 * (or its delta, when one is listed and the store holds the base). */
static int fetch_large(fetch *f, const sync_objent *e)
{
    char hex[CS_SHA256_HEX], path[128], part[PATH_MAX];
    cs_hex_encode(e->id, 32, hex);
    snprintf(path, sizeof path, "objects/%.2s/%s", hex, hex);
    snprintf(part, sizeof part, "%s/incoming", f->h->opt->work_dir);
    int rc = cs_mkdirs(part, 0700, f->err);
    if (rc)
        return rc;
    sync_objent *me = sync_objset_find(f->need, e->id);
    int k = me ? pick_delta(f, me) : -1;
    if (k >= 0) {
        rc = fetch_large_delta(f, me, k);
        if (rc != CS_ENOENT)
            return rc;
        me->ndeltas = 0; /* not on this server: the whole object */
        me->part_max = 0;
        cs_err_clear(f->err);
    }
    snprintf(part, sizeof part, "%s/incoming/%s.part", f->h->opt->work_dir, hex);
    int fd = -1;
    if ((rc = fetch_part(f, me, path, part, e->enc_len, &fd)) != 0)
        return rc;
    rc = content_store_put_encoded_fd(f->store, e->id, fd, 0, e->enc_len, f->err);
    if (rc)
        cs_err_wrap(f->err, "object %.16s… from the hub failed verification", hex);
    close(fd);
    if (rc == 0 && (rc = flush_now(f)) == 0) {
        unlink(part);
        f->h->st->objects_fetched++;
        f->h->st->whole_bytes += e->enc_len;
        report(f->h);
    } else if (rc == CS_EHASH || rc == CS_EFORMAT || rc == CS_ECORRUPT) {
        unlink(part); /* bad bytes: fetch it again from scratch */
        f->h->bad_data = 1;
    }
    return rc;
}

static int retryable(int rc)
{
    return rc == CS_ENET || rc == CS_EHASH || rc == CS_EFORMAT || rc == CS_ECORRUPT || rc == CS_ETOOBIG;
}

static void backoff_sleep(const sync_client_options *o, int attempt)
{
    long cap = o->backoff_base_ms;
    for (int i = 0; i < attempt && cap < o->backoff_cap_ms; i++)
        cap *= 2;
    if (cap > o->backoff_cap_ms)
        cap = o->backoff_cap_ms;
    uint32_t r = 0;
    cs_random(&r, sizeof r, NULL);
    long ms = cap > 0 ? (long)(r % (uint32_t)cap) : 0; /* full jitter: uniform in [0, cap) */
    /* Sleep in slices so a stop request is seen within 100 ms. */
    while (ms > 0 && !(o->cancel && atomic_load(o->cancel))) {
        long slice = ms > 100 ? 100 : ms;
        struct timespec ts = {0, slice * 1000000L};
        nanosleep(&ts, NULL);
        ms -= slice;
    }
}

static int fetch_objects(http *h, content_store *store, sync_objset *need, cs_err *err)
{
    fetch f = {h, store, need, cs_time_mono_ms(), err, 0};
    // NOLINTNEXTLINE(bugprone-sizeof-expression): an array of pointers
    const sync_objent **todo = malloc((need->n ? need->n : 1) * sizeof *todo);
    if (!todo)
        return cs_err_set(err, CS_ENOMEM, "out of memory");
    mark_parts(&f);
    int use_batch = 1, rc = 0, stale = 0;
    for (int attempt = 0;; attempt++) {
        uint64_t before = h->st->objects_fetched + h->part_bytes;
        h->bad_data = 0;
        size_t n = 0;
        uint64_t left = 0;
        for (size_t i = 0; i < need->cap; i++) {
            const sync_objent *e = &need->slots[i];
            if (!e->used)
                continue;
            if (content_store_has(store, e->id)) {
                if (attempt == 0)
                    h->st->objects_present++;
                continue;
            }
            todo[n++] = e;
            left += wire_left(&f, e);
        }
        /* Progress never goes back: a retry (or a second pass) adds to
         * what is done; the total only grows (a dropped delta). */
        if (attempt == 0)
            h->total += left;
        if (h->done + left > h->total)
            h->total = h->done + left;
        if (attempt == 0)
            h->st->objects_needed = need->n;
        if (n == 0) {
            rc = 0;
            break;
        }
        report(h);
        rc = 0;
        size_t i = 0;
        while (i < n && rc == 0) {
            uint64_t fetched = h->st->objects_fetched;
            size_t j = i + 1;
            if (travels_alone(&f, todo[i])) {
                rc = fetch_large(&f, todo[i]);
            } else if (!use_batch) {
                rc = fetch_single(&f, todo[i]);
            } else {
                uint64_t bytes = wire_len(&f, todo[i]);
                while (j < n && !travels_alone(&f, todo[j]) &&
                       bytes + wire_len(&f, todo[j]) <= h->opt->batch_bytes && j - i < 4096)
                    bytes += wire_len(&f, todo[j++]);
                rc = fetch_batch(&f, todo + i, j - i);
                if (rc == CS_EUNSUPPORTED) {
                    use_batch = 0; /* a static server: one GET per object */
                    rc = 0;
                    continue;
                }
                /* Deltas the server did not have (mirrors keep none): whole
                 * objects next round. */
                for (size_t k = i; rc == 0 && k < j; k++)
                    if (!content_store_has(store, todo[k]->id) && pick_delta(&f, todo[k]) >= 0) {
                        sync_objent *me = sync_objset_find(need, todo[k]->id);
                        if (me)
                            me->ndeltas = 0;
                    }
                h->st->used_batch = 1;
            }
            /* Durable before the next request: a kill from here on never
             * costs what this request verified. */
            cs_err ferr;
            int frc =
                content_store_pending(store) ? content_store_flush(store, rc ? &ferr : err) : 0;
            if (frc && rc == 0)
                rc = frc;
            if (frc == 0 && h->st->objects_fetched > fetched)
                sync_test_kill_point("after-request");
            i = j;
        }
        cs_err ferr;
        if (content_store_flush(store, rc ? &ferr : err) != 0 && rc == 0)
            rc = err->code;
        if (rc == 0) {
            /* A server may leave out what it does not have: incomplete. */
            size_t missing = 0;
            for (size_t k = 0; k < n; k++)
                missing += !content_store_has(store, todo[k]->id);
            if (missing)
                rc = cs_err_set(err, CS_ENET, "the hub did not send %zu of the objects asked for", missing);
        }
        if (rc == 0 || !retryable(rc))
            break;
        /* A cut after progress starts the count again: only attempts that
         * verified nothing new use up retries and lengthen the backoff. */
        if (h->st->objects_fetched + h->part_bytes > before && !h->bad_data && rc != CS_EHASH)
            stale = 0;
        else
            stale++;
        if (stale > h->opt->retries)
            break;
        h->st->retries++;
        if (h->progress)
            h->progress(h->pctx, "retrying", h->done, h->total); /* bytes, never backwards */
        backoff_sleep(h->opt, stale > 0 ? stale - 1 : 0);
    }
    free(todo);
    return rc;
}


/* ---- what to keep ---- */

typedef struct cand_obj {
    uint8_t id[32];
    uint64_t raw, enc;
} cand_obj;

typedef struct cand {
    int prio;
    char *id;
    uint64_t bytes; /* encoded bytes the store lacks */
    json_t *rec;    /* the catalogue record (update) or NULL (fill) */
    cand_obj *objs; /* fill: the resource's objects */
    size_t nobjs;
    int chosen;
} cand;

typedef struct candlist {
    cand *v;
    size_t n, cap;
    const sync_select *sel;
    content_store *store;
    int fill; /* only resources not cached yet */
    uint64_t skipped;
} candlist;

static void candlist_free(candlist *cl)
{
    for (size_t i = 0; i < cl->n; i++) {
        free(cl->v[i].id);
        json_decref(cl->v[i].rec);
        free(cl->v[i].objs);
    }
    free(cl->v);
    cl->v = NULL;
    cl->n = cl->cap = 0;
}

static int cand_cmp(const void *a, const void *b)
{
    const cand *x = a, *y = b;
    if (x->prio != y->prio)
        return x->prio > y->prio ? -1 : 1;
    return strcmp(x->id, y->id);
}

/* Consider one resource: skipped if not kept, else a candidate. */
static int cand_add(candlist *cl, const content_resource *r, json_t *rec, cs_err *err)
{
    const sync_select *sel = cl->sel;
    if (sel && sel->keep && !sel->keep(sel->ctx, r)) {
        cl->skipped++;
        return 0;
    }
    if (cl->n == cl->cap) {
        cl->cap = cl->cap ? cl->cap * 2 : 256;
        cand *nv = realloc(cl->v, cl->cap * sizeof *nv);
        if (!nv)
            return cs_err_set(err, CS_ENOMEM, "out of memory");
        cl->v = nv;
    }
    cand *c = &cl->v[cl->n];
    memset(c, 0, sizeof *c);
    c->prio = sel && sel->priority ? sel->priority(sel->ctx, r) : 0;
    c->id = strdup(r->id);
    c->objs = calloc(r->nfiles ? r->nfiles : 1, sizeof *c->objs);
    if (!c->id || !c->objs) {
        free(c->id);
        free(c->objs);
        return cs_err_set(err, CS_ENOMEM, "out of memory");
    }
    for (size_t i = 0; i < r->nfiles; i++) {
        memcpy(c->objs[i].id, r->files[i].object, 32);
        c->objs[i].raw = r->files[i].size;
        c->objs[i].enc = r->files[i].enc_len;
        if (!content_store_has(cl->store, r->files[i].object))
            c->bytes += r->files[i].enc_len;
    }
    c->nobjs = r->nfiles;
    c->rec = rec ? json_incref(rec) : NULL;
    cl->n++;
    return 0;
}

static int cand_record(void *vctx, json_t *rec, cs_err *err)
{
    const char *op = json_string_value(json_object_get(rec, "op"));
    if (!op || strcmp(op, "put") != 0)
        return 0;
    content_resource *r = NULL;
    int rc = sync_record_to_resource(rec, &r, err);
    if (rc == 0)
        rc = cand_add(vctx, r, rec, err);
    content_resource_free(r);
    return rc;
}

static int cand_resource(void *vctx, const content_resource *r)
{
    candlist *cl = vctx;
    if (r->cached)
        return 0;
    return cand_add(cl, r, NULL, NULL) ? 1 : 0;
}

/* Highest priority first, while the quota lasts; the objects of the chosen
 * go into need. */
static int cand_choose(candlist *cl, sync_objset *need, cs_err *err)
{
    uint64_t budget = UINT64_MAX;
    if (cl->sel && cl->sel->quota) {
        content_store_stats ss;
        if (content_store_stats_get(cl->store, &ss, err) != 0)
            return err ? err->code : CS_EIO;
        budget = ss.enc_bytes >= cl->sel->quota ? 0 : cl->sel->quota - ss.enc_bytes;
    }
    if (cl->n)
        qsort(cl->v, cl->n, sizeof *cl->v, cand_cmp);
    for (size_t i = 0; i < cl->n; i++) {
        cand *c = &cl->v[i];
        if (c->bytes > budget) {
            cl->skipped++;
            continue;
        }
        budget -= c->bytes;
        c->chosen = 1;
        int rc = 0;
        if (c->rec)
            rc = sync_collect_record(need, c->rec, err);
        else
            for (size_t k = 0; k < c->nobjs && rc == 0; k++)
                if (sync_objset_add(need, c->objs[k].id, c->objs[k].raw, c->objs[k].enc) != 0)
                    rc = cs_err_set(err, CS_ENOMEM, "out of memory");
        if (rc)
            return rc;
    }
    return 0;
}

/* ---- mirror copy ---- */

static void keep_write(http *h, const char *name, const uint8_t *data, size_t len)
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/repo/%s", h->opt->work_dir, name);
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash) {
        *slash = '\0';
        cs_mkdirs(dir, 0755, NULL);
    }
    cs_file_write_atomic(path, data, len, 0644, NULL);
}


/* Listed-only resources that are kept or requested: fetch, mark cached. */
static int fill(http *h, content_catalog *cat, content_store *store, cs_err *err)
{
    candlist cl = {NULL, 0, 0, h->opt->select, store, 1, 0};
    sync_objset need = {0};
    int rc = content_catalog_foreach_resource(cat, cand_resource, &cl, err);
    if (rc == 0)
        rc = cand_choose(&cl, &need, err);
    size_t chosen = 0;
    for (size_t i = 0; i < cl.n; i++)
        chosen += cl.v[i].chosen;
    if (rc == 0 && chosen) {
        if (h->progress)
            h->progress(h->pctx, "fetching listed resources", h->done, h->total);
        rc = fetch_objects(h, store, &need, err);
    }
    if (rc == 0 && chosen && (rc = content_catalog_begin(cat, err)) == 0) {
        for (size_t i = 0; i < cl.n && rc == 0; i++) {
            int all = cl.v[i].chosen;
            for (size_t k = 0; all && k < cl.v[i].nobjs; k++)
                all = content_store_has(store, cl.v[i].objs[k].id);
            if (all) {
                rc = content_catalog_set_cached(cat, cl.v[i].id, 1, err);
                h->st->resources_filled++;
            }
        }
        if (rc == 0)
            rc = content_catalog_commit(cat, err);
        else
            content_catalog_rollback(cat);
    }
    free(need.slots);
    candlist_free(&cl);
    return rc;
}

int sync_client_run(content_catalog *cat, content_store *store, const sync_client_options *opt,
                    sync_progress_cb progress, void *pctx, sync_client_stats *stats, cs_err *err)
{
    sync_client_stats st;
    memset(&st, 0, sizeof st);
    http h;
    memset(&h, 0, sizeof h);
    h.opt = opt;
    h.st = &st;
    h.progress = progress;
    h.pctx = pctx;
    sync_verified v;
    memset(&v, 0, sizeof v);
    sync_objset need = {0};
    uint8_t *catdata = NULL;
    size_t catlen = 0;
    int rc = 0, have_ref = 0;
    json_t *catj = NULL;
    sync_fileref ref;
    if (!opt->url || !*opt->url)
        return cs_err_set(err, CS_ECONFIG, "no hub URL (set hub.url in node.conf or pass --hub URL)");
    size_t ul = strlen(opt->url);
    if (ul >= sizeof h.base || (strncmp(opt->url, "http://", 7) != 0 && strncmp(opt->url, "https://", 8) != 0))
        return cs_err_set(err, CS_ECONFIG, "hub URL \"%s\" must start with http:// or https://", opt->url);
    memcpy(h.base, opt->url, ul + 1);
    while (ul > 0 && h.base[ul - 1] == '/')
        h.base[--ul] = '\0';
    h.curl = curl_easy_init();
    if (!h.curl)
        return cs_err_set(err, CS_ENOMEM, "cannot start libcurl");
    if (progress)
        progress(pctx, "checking the hub", 0, 0);
    int64_t cur = 0;
    if ((rc = content_catalog_version(cat, &cur, err)) != 0)
        goto out;
    st.from_version = st.to_version = cur;
    /* Metadata: retried on transient failures like everything else. */
    for (int attempt = 0;; attempt++) {
        sync_verified_clear(&v);
        for (int i = 0; i < h.nkeep; i++)
            free(h.keep[i].data);
        h.nkeep = 0;
        rc = sync_verify_metadata(cat, meta_get, &h, &opt->apply, &v, err);
        if (rc == 0 || rc != CS_ENET || attempt >= opt->retries)
            break;
        st.retries++;
        backoff_sleep(opt, attempt);
    }
    if (rc)
        goto out;
    if (v.targets_version < cur) {
        rc = cs_err_set(err, CS_EROLLBACK, "the hub offers version %lld, older than this node's %lld: refused",
                        (long long)v.targets_version, (long long)cur);
        goto out;
    }
    st.to_version = v.targets_version;
    if (v.targets_version == cur) {
        /* Current: still record the newer timestamp (freeze protection). */
        char num[32];
        snprintf(num, sizeof num, "%lld", (long long)v.ts_version);
        if (content_catalog_begin(cat, err) == 0) {
            if (content_catalog_state_set(cat, "trust.timestamp_version", num, err) == 0 &&
                sync_trust_time_note(cat, &v, err) == 0 &&
                (!v.root_text || content_catalog_state_set(cat, "trust.root", v.root_text, err) == 0))
                rc = content_catalog_commit(cat, err);
            else
                content_catalog_rollback(cat);
        }
        if (rc == 0 && opt->select)
            rc = fill(&h, cat, store, err);
        if (rc == 0 && opt->mirror) {
            have_ref = 0;
            catj = NULL;
            goto mirror; /* a fresh timestamp (and any new root) for downstream nodes */
        }
        goto out;
    }
    /* The catalogue: the delta from our version if the hub has one. */
    catj = json_object_get(v.targets, "catalog");
    if (cur > 0) {
        char key[32];
        snprintf(key, sizeof key, "%lld", (long long)cur);
        json_t *d = json_object_get(json_object_get(catj, "deltas"), key);
        have_ref = d && sync_fileref_parse(d, &ref, NULL) == 0;
    }
    if (!have_ref && (rc = sync_fileref_parse(json_object_get(catj, "full"), &ref, err)) != 0)
        goto out;
    if (ref.length > CATALOG_MAX) {
        rc = cs_err_set(err, CS_ETOOBIG, "catalogue file of %llu bytes is over the limit", (unsigned long long)ref.length);
        goto out;
    }
    for (int attempt = 0;; attempt++) {
        rc = meta_get(&h, ref.path, ref.length, &catdata, &catlen, err);
        if (rc == CS_ENOENT && have_ref) {
            /* A mirror may hold only the full catalogue. */
            have_ref = 0;
            if ((rc = sync_fileref_parse(json_object_get(catj, "full"), &ref, err)) == 0)
                rc = meta_get(&h, ref.path, ref.length, &catdata, &catlen, err);
        }
        if (rc == 0)
            rc = sync_fileref_check(&ref, catdata, catlen, err);
        if (rc == 0 || !retryable(rc) || attempt >= opt->retries)
            break;
        free(catdata);
        catdata = NULL;
        st.retries++;
        backoff_sleep(opt, attempt);
    }
    if (rc)
        goto out;
    st.catalog_bytes = catlen;
    st.catalog_delta = have_ref;
    if (opt->select) {
        candlist cl = {NULL, 0, 0, opt->select, store, 0, 0};
        rc = sync_catfile_read(catdata, catlen, NULL, cand_record, &cl, err);
        if (rc == 0)
            rc = cand_choose(&cl, &need, err);
        st.resources_skipped = cl.skipped;
        candlist_free(&cl);
    } else {
        rc = sync_collect_objects(catdata, catlen, &need, err);
    }
    if (rc) {
        cs_err_wrap(err, "hub catalogue");
        goto out;
    }
    if ((rc = fetch_objects(&h, store, &need, err)) != 0)
        goto out;
    if (progress)
        progress(pctx, "applying", h.done, h.total);
    if ((rc = sync_commit_version(cat, store, catdata, catlen, &v, err)) != 0)
        goto out;
    sync_test_kill_point("after-commit");
    /* Kept or requested resources still listed only (a changed filter, a
     * teacher's request, a quota freed): fetched now. */
    if (opt->select && (rc = fill(&h, cat, store, err)) != 0)
        goto out;
mirror:
    if (opt->mirror) {
        /* Nodes downstream of this one need the full catalogue too. */
        sync_fileref full;
        if (have_ref && sync_fileref_parse(json_object_get(catj, "full"), &full, NULL) == 0) {
            uint8_t *fd = NULL;
            size_t fl = 0;
            int before = h.nkeep;
            if (meta_get(&h, full.path, full.length, &fd, &fl, NULL) == 0 &&
                sync_fileref_check(&full, fd, fl, NULL) != 0 && h.nkeep > before) {
                free(h.keep[h.nkeep - 1].data); /* not what targets names: not kept */
                h.nkeep = before;
            }
            free(fd);
        }
        /* Everything but the timestamp first: it must never name missing files. */
        for (int i = 0; i < h.nkeep; i++)
            if (strcmp(h.keep[i].name, "timestamp.json") != 0)
                keep_write(&h, h.keep[i].name, h.keep[i].data, h.keep[i].len);
        for (int i = 0; i < h.nkeep; i++)
            if (strcmp(h.keep[i].name, "timestamp.json") == 0)
                keep_write(&h, h.keep[i].name, h.keep[i].data, h.keep[i].len);
    }
out:
    if (stats)
        *stats = st;
    for (int i = 0; i < h.nkeep; i++)
        free(h.keep[i].data);
    free(need.slots);
    free(catdata);
    sync_verified_clear(&v);
    curl_easy_cleanup(h.curl);
    return rc;
}
