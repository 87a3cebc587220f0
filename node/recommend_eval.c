/*
 * recommend_eval.c - interaction logs from CSV, the offline evaluation
 * protocols and metrics, and the ASSISTments converter.
 */
#include "node/recommend_eval.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define EV_NONE 0xFFFFFFFFu

/* ------------------------------------------------------------------ */
/* strings -> ids                                                      */

typedef struct ev_names {
    char **s;
    uint32_t n, cap;
    uint32_t *slot; /* index + 1 */
    uint32_t mask;
} ev_names;

static uint64_t ev_hash(const char *s)
{
    uint64_t h = 1469598103934665603ULL;
    for (; *s; s++)
        h = (h ^ (uint8_t)*s) * 1099511628211ULL;
    return h ^ (h >> 29);
}

static int64_t ev_names_find(const ev_names *nm, const char *s)
{
    if (!nm->slot)
        return -1;
    for (uint64_t i = ev_hash(s) & nm->mask;; i = (i + 1) & nm->mask) {
        if (!nm->slot[i])
            return -1;
        if (strcmp(nm->s[nm->slot[i] - 1], s) == 0)
            return nm->slot[i] - 1;
    }
}

/* *id of s, added when new (then *added = 1) unless max is reached. */
static int ev_names_intern(ev_names *nm, const char *s, uint32_t max, uint32_t *id, int *added)
{
    *added = 0;
    int64_t f = ev_names_find(nm, s);
    if (f >= 0) {
        *id = (uint32_t)f;
        return 0;
    }
    if (nm->n >= max)
        return CS_ETOOBIG;
    if (!nm->slot || (uint64_t)(nm->n + 1) * 2 > (uint64_t)nm->mask + 1) {
        uint32_t cap = nm->slot ? (nm->mask + 1) * 2 : 1024;
        uint32_t *ns = calloc(cap, sizeof *ns);
        if (!ns)
            return CS_ENOMEM;
        for (uint32_t i = 0; i < nm->n; i++) {
            uint64_t j = ev_hash(nm->s[i]) & (cap - 1);
            while (ns[j])
                j = (j + 1) & (cap - 1);
            ns[j] = i + 1;
        }
        free(nm->slot);
        nm->slot = ns;
        nm->mask = cap - 1;
    }
    if (nm->n == nm->cap) {
        uint32_t nc = nm->cap ? nm->cap * 2 : 1024;
        char **nn = realloc(nm->s, (size_t)nc * sizeof *nn);
        if (!nn)
            return CS_ENOMEM;
        nm->s = nn;
        nm->cap = nc;
    }
    char *c = strdup(s);
    if (!c)
        return CS_ENOMEM;
    nm->s[nm->n] = c;
    uint64_t j = ev_hash(c) & nm->mask;
    while (nm->slot[j])
        j = (j + 1) & nm->mask;
    nm->slot[j] = nm->n + 1;
    *id = nm->n++;
    *added = 1;
    return 0;
}

static void ev_names_free(ev_names *nm)
{
    for (uint32_t i = 0; i < nm->n; i++)
        free(nm->s[i]);
    free(nm->s);
    free(nm->slot);
}

/* ------------------------------------------------------------------ */
/* the log                                                             */

typedef struct ev_row {
    uint32_t learner, item;
    int64_t ts;
    float score; /* < 0: none */
    uint32_t pad;
} ev_row;

typedef struct ev_meta {
    char *subject, *language, *edition, *volume, *skill, *prereqs; /* prereqs: ';'-separated */
    uint32_t grades;
    int32_t unit;
} ev_meta;

struct node_rec_log {
    ev_names learners, items, groups;
    uint8_t *eval;   /* per learner */
    uint32_t *group; /* per learner, EV_NONE */
    uint32_t lcap;
    ev_meta *meta; /* per item */
    uint32_t mcap;
    ev_row *rows;
    uint64_t nrows, rcap;
};

int node_rec_log_new(node_rec_log **out, cs_err *err)
{
    node_rec_log *l = calloc(1, sizeof *l);
    if (!l)
        return cs_err_set(err, CS_ENOMEM, "out of memory");
    *out = l;
    return 0;
}

static void ev_meta_clear(ev_meta *m)
{
    free(m->subject);
    free(m->language);
    free(m->edition);
    free(m->volume);
    free(m->skill);
    free(m->prereqs);
    memset(m, 0, sizeof *m);
    m->unit = -1;
}

void node_rec_log_free(node_rec_log *log)
{
    if (!log)
        return;
    ev_names_free(&log->learners);
    ev_names_free(&log->items);
    ev_names_free(&log->groups);
    free(log->eval);
    free(log->group);
    for (uint32_t i = 0; i < log->items.n && log->meta; i++)
        ev_meta_clear(&log->meta[i]);
    free(log->meta);
    free(log->rows);
    free(log);
}

uint64_t node_rec_log_rows(const node_rec_log *log)
{
    return log->nrows;
}
uint32_t node_rec_log_learners(const node_rec_log *log)
{
    return log->learners.n;
}
uint32_t node_rec_log_items(const node_rec_log *log)
{
    return log->items.n;
}
const char *node_rec_log_learner_id(const node_rec_log *log, uint32_t l)
{
    return l < log->learners.n ? log->learners.s[l] : NULL;
}
const char *node_rec_log_item_id(const node_rec_log *log, uint32_t i)
{
    return i < log->items.n ? log->items.s[i] : NULL;
}
const char *node_rec_log_item_subject(const node_rec_log *log, uint32_t i)
{
    return i < log->items.n ? log->meta[i].subject : NULL;
}
const char *node_rec_log_learner_group(const node_rec_log *log, uint32_t l)
{
    return l < log->learners.n && log->group[l] != EV_NONE ? log->groups.s[log->group[l]] : NULL;
}
uint32_t node_rec_log_groups(const node_rec_log *log)
{
    return log->groups.n;
}
int64_t node_rec_log_learner_group_index(const node_rec_log *log, uint32_t l)
{
    return l < log->learners.n && log->group[l] != EV_NONE ? (int64_t)log->group[l] : -1;
}
const char *node_rec_log_group_name(const node_rec_log *log, uint32_t g)
{
    return g < log->groups.n ? log->groups.s[g] : NULL;
}
void node_rec_log_item_counts(const node_rec_log *log, uint64_t *counts)
{
    memset(counts, 0, (size_t)log->items.n * sizeof *counts);
    for (uint64_t i = 0; i < log->nrows; i++)
        counts[log->rows[i].item]++;
}

static int ev_learner(node_rec_log *log, const char *id, int eval, uint32_t *out)
{
    int added;
    int rc = ev_names_intern(&log->learners, id, NODE_REC_LOG_LEARNERS_MAX, out, &added);
    if (rc)
        return rc;
    if (added) {
        if (log->learners.n > log->lcap) {
            uint32_t nc = log->lcap ? log->lcap * 2 : 1024;
            uint8_t *ne = realloc(log->eval, nc);
            if (ne)
                log->eval = ne;
            uint32_t *ng = realloc(log->group, (size_t)nc * sizeof *ng);
            if (ng)
                log->group = ng;
            if (!ne || !ng)
                return CS_ENOMEM;
            log->lcap = nc;
        }
        log->eval[*out] = 0;
        log->group[*out] = EV_NONE;
    }
    if (eval)
        log->eval[*out] = 1;
    return 0;
}

static int ev_item(node_rec_log *log, const char *id, uint32_t *out)
{
    int added;
    int rc = ev_names_intern(&log->items, id, NODE_REC_LOG_ITEMS_MAX, out, &added);
    if (rc)
        return rc;
    if (added) {
        if (log->items.n > log->mcap) {
            uint32_t nc = log->mcap ? log->mcap * 2 : 1024;
            ev_meta *nm = realloc(log->meta, (size_t)nc * sizeof *nm);
            if (!nm)
                return CS_ENOMEM;
            log->meta = nm;
            log->mcap = nc;
        }
        memset(&log->meta[*out], 0, sizeof log->meta[*out]);
        log->meta[*out].unit = -1;
    }
    return 0;
}

/* ------------------------------------------------------------------ */
/* CSV                                                                 */

/* Lines from memory or a file; a line longer than `max` is an error. */
typedef struct ev_reader {
    FILE *f;
    const char *mem;
    size_t memlen, mempos;
    char *buf;
    size_t cap, len, pos;
    size_t max;
    int eof;
    uint64_t lineno;
} ev_reader;

/* 1 with a line (NUL-terminated copy in r->buf for files, or a pointer
 * into memory: the caller copies), 0 at the end, <0 on error. */
static int ev_reader_next(ev_reader *r, const char **line, size_t *len)
{
    if (r->mem) {
        if (r->mempos >= r->memlen)
            return 0;
        const char *s = r->mem + r->mempos;
        const char *nl = memchr(s, '\n', r->memlen - r->mempos);
        size_t l = nl ? (size_t)(nl - s) : r->memlen - r->mempos;
        r->mempos += l + (nl ? 1 : 0);
        r->lineno++;
        if (l > r->max)
            return CS_ETOOBIG;
        *line = s;
        *len = l;
        return 1;
    }
    for (;;) {
        char *nl = r->len > r->pos ? memchr(r->buf + r->pos, '\n', r->len - r->pos) : NULL;
        if (nl || (r->eof && r->len > r->pos)) {
            size_t l = nl ? (size_t)(nl - (r->buf + r->pos)) : r->len - r->pos;
            *line = r->buf + r->pos;
            *len = l;
            r->pos += l + (nl ? 1 : 0);
            r->lineno++;
            if (l > r->max)
                return CS_ETOOBIG;
            return 1;
        }
        if (r->eof)
            return 0;
        if (r->len - r->pos > r->max) {
            r->lineno++;
            return CS_ETOOBIG;
        }
        memmove(r->buf, r->buf + r->pos, r->len - r->pos);
        r->len -= r->pos;
        r->pos = 0;
        size_t got = fread(r->buf + r->len, 1, r->cap - r->len, r->f);
        r->len += got;
        if (got == 0) {
            if (ferror(r->f))
                return CS_EIO;
            r->eof = 1;
        }
    }
}

/* Split a line (copied into buf, NUL-free) into fields in place; quotes
 * per RFC 4180.  Returns 0 or a message. */
static const char *ev_csv_split(char *s, size_t len, char **f, size_t max, size_t *nf)
{
    if (len && s[len - 1] == '\r')
        s[--len] = '\0';
    if (memchr(s, '\0', len))
        return "NUL byte in line";
    size_t n = 0, i = 0;
    for (;;) {
        if (n == max)
            return "too many columns";
        char *w = s + i;
        f[n++] = w;
        if (i < len && s[i] == '"') {
            i++;
            for (;;) {
                if (i >= len)
                    return "unterminated quoted field";
                if (s[i] == '"') {
                    if (i + 1 < len && s[i + 1] == '"') {
                        *w++ = '"';
                        i += 2;
                        continue;
                    }
                    i++;
                    break;
                }
                *w++ = s[i++];
            }
            if (i < len && s[i] != ',')
                return "text after a closing quote";
        } else {
            while (i < len && s[i] != ',') {
                if (s[i] == '"')
                    return "quote inside an unquoted field";
                *w++ = s[i++];
            }
        }
        int more = i < len && s[i] == ',';
        *w = '\0';
        if (!more)
            break;
        i++;
    }
    *nf = n;
    return NULL;
}

static int ev_id_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n >= NODE_REC_ID_MAX)
        return 0;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
            return 0;
    return 1;
}

static int ev_parse_i64(const char *s, int64_t *out)
{
    if (!*s || strlen(s) > 20)
        return -1;
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || *end || end == s)
        return -1;
    *out = v;
    return 0;
}

static int ev_parse_score(const char *s, float *out)
{
    if (!*s) {
        *out = -1.0f;
        return 0;
    }
    if (strlen(s) > 32)
        return -1;
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || *end || end == s || !(v >= 0.0 && v <= 1.0))
        return -1;
    *out = (float)v;
    return 0;
}

typedef int (*ev_row_fn)(node_rec_log *log, char **f, size_t nf, const char **why, void *ctx);

/* Read lines: the header (check_header), then rows (row). */
static int ev_read_csv(node_rec_log *log, ev_reader *r, const char *name,
                       const char *(*check_header)(char **f, size_t nf, void *ctx), ev_row_fn row,
                       void *ctx, cs_err *err)
{
    char line[NODE_REC_CSV_LINE_MAX + 1];
    char *f[NODE_REC_CSV_FIELDS_MAX];
    size_t nf = 0;
    int have_header = 0;
    uint64_t rows = 0;
    for (;;) {
        const char *s;
        size_t len;
        int rc = ev_reader_next(r, &s, &len);
        if (rc == 0)
            break;
        if (rc == CS_ETOOBIG)
            return cs_err_set(err, CS_EFORMAT, "%s:%llu: line longer than %d bytes", name,
                              (unsigned long long)r->lineno, NODE_REC_CSV_LINE_MAX);
        if (rc < 0)
            return cs_err_set(err, rc, "%s:%llu: read error", name, (unsigned long long)r->lineno);
        memcpy(line, s, len);
        line[len] = '\0';
        char *p = line;
        if (!have_header && r->lineno == 1 && len >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0) {
            p += 3;
            len -= 3;
        }
        if (len == 0 || (len == 1 && p[0] == '\r'))
            continue;
        const char *why = ev_csv_split(p, len, f, NODE_REC_CSV_FIELDS_MAX, &nf);
        if (why)
            return cs_err_set(err, CS_EFORMAT, "%s:%llu: %s", name, (unsigned long long)r->lineno,
                              why);
        if (!have_header) {
            why = check_header(f, nf, ctx);
            if (why)
                return cs_err_set(err, CS_EFORMAT, "%s:%llu: %s", name,
                                  (unsigned long long)r->lineno, why);
            have_header = 1;
            continue;
        }
        if (++rows > NODE_REC_CSV_ROWS_MAX)
            return cs_err_set(err, CS_ETOOBIG, "%s:%llu: more than %llu rows", name,
                              (unsigned long long)r->lineno, NODE_REC_CSV_ROWS_MAX);
        why = NULL;
        rc = row(log, f, nf, &why, ctx);
        if (rc)
            return cs_err_set(err, rc, "%s:%llu: %s", name, (unsigned long long)r->lineno,
                              why ? why : cs_err_text(rc));
    }
    if (!have_header)
        return cs_err_set(err, CS_EFORMAT, "%s: empty file (no header line)", name);
    return 0;
}

/* --- interactions --- */

typedef struct ev_inter_ctx {
    size_t ncols;
    int eval;
} ev_inter_ctx;

static const char *ev_inter_header(char **f, size_t nf, void *ctx)
{
    ev_inter_ctx *c = ctx;
    if ((nf == 3 || nf == 4) && strcmp(f[0], "learner") == 0 && strcmp(f[1], "item") == 0 &&
        strcmp(f[2], "ts") == 0 && (nf == 3 || strcmp(f[3], "score") == 0)) {
        c->ncols = nf;
        return NULL;
    }
    return "header must be learner,item,ts or learner,item,ts,score";
}

static int ev_inter_row(node_rec_log *log, char **f, size_t nf, const char **why, void *ctx)
{
    ev_inter_ctx *c = ctx;
    if (nf != c->ncols && !(c->ncols == 4 && nf == 3)) {
        *why = nf < c->ncols ? "too few columns" : "too many columns";
        return CS_EFORMAT;
    }
    if (!ev_id_ok(f[0])) {
        *why = "learner empty, longer than 127 bytes or with control bytes";
        return CS_EFORMAT;
    }
    if (!ev_id_ok(f[1])) {
        *why = "item empty, longer than 127 bytes or with control bytes";
        return CS_EFORMAT;
    }
    ev_row r;
    memset(&r, 0, sizeof r);
    if (ev_parse_i64(f[2], &r.ts)) {
        *why = "ts is not an integer";
        return CS_EFORMAT;
    }
    if (ev_parse_score(nf == 4 ? f[3] : "", &r.score)) {
        *why = "score is not empty or a number in [0, 1]";
        return CS_EFORMAT;
    }
    if (log->nrows == log->rcap) {
        uint64_t nc = log->rcap ? log->rcap * 2 : 4096;
        ev_row *nr = realloc(log->rows, nc * sizeof *nr);
        if (!nr)
            return CS_ENOMEM;
        log->rows = nr;
        log->rcap = nc;
    }
    int rc = ev_learner(log, f[0], c->eval, &r.learner);
    if (rc == CS_ETOOBIG)
        *why = "too many learners";
    if (!rc) {
        rc = ev_item(log, f[1], &r.item);
        if (rc == CS_ETOOBIG)
            *why = "too many items";
    }
    if (rc)
        return rc;
    log->rows[log->nrows++] = r;
    return 0;
}

static int ev_open(ev_reader *r, const char *path, size_t max, cs_err *err)
{
    memset(r, 0, sizeof *r);
    r->f = fopen(path, "rb");
    if (!r->f)
        return cs_err_set(err, cs_err_from_errno(errno), "%s: %s", path, strerror(errno));
    r->cap = max * 2 + 65536;
    r->buf = malloc(r->cap);
    r->max = max;
    if (!r->buf) {
        fclose(r->f);
        return cs_err_set(err, CS_ENOMEM, "out of memory");
    }
    return 0;
}

static void ev_close(ev_reader *r)
{
    if (r->f)
        fclose(r->f);
    free(r->buf);
}

static void ev_mem(ev_reader *r, const char *data, size_t len, size_t max)
{
    memset(r, 0, sizeof *r);
    r->mem = data ? data : "";
    r->memlen = data ? len : 0;
    r->max = max;
}

int node_rec_log_parse(node_rec_log *log, const char *data, size_t len, const char *name, int eval,
                       cs_err *err)
{
    ev_reader r;
    ev_mem(&r, data, len, NODE_REC_CSV_LINE_MAX);
    ev_inter_ctx c = {0, eval};
    return ev_read_csv(log, &r, name, ev_inter_header, ev_inter_row, &c, err);
}

int node_rec_log_load(node_rec_log *log, const char *path, int eval, cs_err *err)
{
    ev_reader r;
    int rc = ev_open(&r, path, NODE_REC_CSV_LINE_MAX, err);
    if (rc)
        return rc;
    ev_inter_ctx c = {0, eval};
    rc = ev_read_csv(log, &r, path, ev_inter_header, ev_inter_row, &c, err);
    ev_close(&r);
    return rc;
}

/* --- item metadata --- */

enum {
    MC_ITEM,
    MC_SUBJECT,
    MC_LANGUAGE,
    MC_GRADES,
    MC_EDITION,
    MC_VOLUME,
    MC_UNIT,
    MC_PREREQ,
    MC_SKILL,
    MC_N
};

typedef struct ev_items_ctx {
    int col[MC_N]; /* column of each known field, -1 */
} ev_items_ctx;

static const char *ev_items_header(char **f, size_t nf, void *ctx)
{
    static const char *names[MC_N] = {"item",   "subject", "language",      "grades", "edition",
                                      "volume", "unit",    "prerequisites", "skill"};
    ev_items_ctx *c = ctx;
    for (int i = 0; i < MC_N; i++)
        c->col[i] = -1;
    for (size_t j = 0; j < nf; j++)
        for (int i = 0; i < MC_N; i++)
            if (strcmp(f[j], names[i]) == 0) {
                if (c->col[i] >= 0)
                    return "a column is named twice";
                c->col[i] = (int)j;
            }
    return c->col[MC_ITEM] < 0 ? "header must name an item column" : NULL;
}

static int ev_set_str(char **dst, const char *s, size_t max, const char **why)
{
    if (strlen(s) >= max) {
        *why = "a metadata field is too long";
        return CS_EFORMAT;
    }
    for (const char *p = s; *p; p++)
        if ((unsigned char)*p < 0x20) {
            *why = "control byte in a metadata field";
            return CS_EFORMAT;
        }
    free(*dst);
    *dst = NULL;
    if (!*s)
        return 0;
    *dst = strdup(s);
    return *dst ? 0 : CS_ENOMEM;
}

static int ev_items_row(node_rec_log *log, char **f, size_t nf, const char **why, void *ctx)
{
    ev_items_ctx *c = ctx;
    const char *v[MC_N];
    for (int i = 0; i < MC_N; i++)
        v[i] = c->col[i] >= 0 && (size_t)c->col[i] < nf ? f[c->col[i]] : "";
    if (!ev_id_ok(v[MC_ITEM])) {
        *why = "item empty, longer than 127 bytes or with control bytes";
        return CS_EFORMAT;
    }
    uint32_t grades = 0;
    int64_t unit = -1;
    if (*v[MC_GRADES]) {
        const char *p = v[MC_GRADES];
        while (*p) {
            char *end;
            long g = strtol(p, &end, 10);
            if (end == p || g < 0 || g > NODE_REC_GRADE_MAX || (*end && *end != ';')) {
                *why = "grades must be integers 0..31 separated by ';'";
                return CS_EFORMAT;
            }
            grades |= 1u << g;
            p = *end ? end + 1 : end;
        }
    }
    if (*v[MC_UNIT] && (ev_parse_i64(v[MC_UNIT], &unit) || unit < 0 || unit > 1000000)) {
        *why = "unit must be an integer 0..1000000";
        return CS_EFORMAT;
    }
    size_t npre = 0;
    for (const char *p = v[MC_PREREQ]; *p; p++)
        npre += *p == ';';
    if (*v[MC_PREREQ] && npre + 1 > NODE_REC_PREREQ_MAX) {
        *why = "more than 16 prerequisites";
        return CS_EFORMAT;
    }
    uint32_t id;
    int rc = ev_item(log, v[MC_ITEM], &id);
    if (rc) {
        if (rc == CS_ETOOBIG)
            *why = "too many items";
        return rc;
    }
    ev_meta *m = &log->meta[id];
    m->grades = grades;
    m->unit = (int32_t)unit;
    if ((rc = ev_set_str(&m->subject, v[MC_SUBJECT], NODE_REC_META_MAX, why)) ||
        (rc = ev_set_str(&m->language, v[MC_LANGUAGE], NODE_REC_META_MAX, why)) ||
        (rc = ev_set_str(&m->edition, v[MC_EDITION], NODE_REC_META_MAX, why)) ||
        (rc = ev_set_str(&m->volume, v[MC_VOLUME], NODE_REC_META_MAX, why)) ||
        (rc = ev_set_str(&m->skill, v[MC_SKILL], NODE_REC_META_MAX, why)) ||
        (rc = ev_set_str(&m->prereqs, v[MC_PREREQ], NODE_REC_CSV_LINE_MAX, why)))
        return rc;
    /* each prerequisite id must be a valid id */
    if (m->prereqs) {
        char tmp[NODE_REC_CSV_LINE_MAX + 1];
        snprintf(tmp, sizeof tmp, "%s", m->prereqs);
        for (char *save = NULL, *t = strtok_r(tmp, ";", &save); t; t = strtok_r(NULL, ";", &save))
            if (!ev_id_ok(t)) {
                *why = "bad prerequisite id";
                return CS_EFORMAT;
            }
    }
    return 0;
}

int node_rec_log_parse_items(node_rec_log *log, const char *data, size_t len, const char *name,
                             cs_err *err)
{
    ev_reader r;
    ev_mem(&r, data, len, NODE_REC_CSV_LINE_MAX);
    ev_items_ctx c;
    return ev_read_csv(log, &r, name, ev_items_header, ev_items_row, &c, err);
}

int node_rec_log_load_items(node_rec_log *log, const char *path, cs_err *err)
{
    ev_reader r;
    int rc = ev_open(&r, path, NODE_REC_CSV_LINE_MAX, err);
    if (rc)
        return rc;
    ev_items_ctx c;
    rc = ev_read_csv(log, &r, path, ev_items_header, ev_items_row, &c, err);
    ev_close(&r);
    return rc;
}

/* --- groups --- */

static const char *ev_groups_header(char **f, size_t nf, void *ctx)
{
    (void)ctx;
    return nf == 2 && strcmp(f[0], "learner") == 0 && strcmp(f[1], "group") == 0
               ? NULL
               : "header must be learner,group";
}

static int ev_groups_row(node_rec_log *log, char **f, size_t nf, const char **why, void *ctx)
{
    (void)ctx;
    if (nf != 2) {
        *why = "expected 2 columns";
        return CS_EFORMAT;
    }
    if (!ev_id_ok(f[0]) || !ev_id_ok(f[1])) {
        *why = "learner or group empty, longer than 127 bytes or with control bytes";
        return CS_EFORMAT;
    }
    int64_t l = ev_names_find(&log->learners, f[0]);
    if (l < 0)
        return 0; /* a learner without interactions */
    uint32_t g;
    int added;
    int rc = ev_names_intern(&log->groups, f[1], 100000, &g, &added);
    if (rc == CS_ETOOBIG)
        *why = "more than 100000 groups";
    if (rc)
        return rc;
    log->group[l] = g;
    return 0;
}

int node_rec_log_load_groups(node_rec_log *log, const char *path, cs_err *err)
{
    ev_reader r;
    int rc = ev_open(&r, path, NODE_REC_CSV_LINE_MAX, err);
    if (rc)
        return rc;
    rc = ev_read_csv(log, &r, path, ev_groups_header, ev_groups_row, NULL, err);
    ev_close(&r);
    return rc;
}

/* ------------------------------------------------------------------ */
/* evaluation                                                          */

void node_rec_eval_opts_default(node_rec_eval_opts *o)
{
    memset(o, 0, sizeof *o);
    o->protocol = NODE_REC_NEXT_NEW;
    o->k = 10;
    o->holdout = 1;
    o->methods = ((1u << NODE_REC_NMETHODS) - 1) & ~(1u << NODE_REC_CURRICULUM);
    node_rec_limits_default(&o->limits);
    o->limits.history = NODE_REC_HISTORY_MAX;
    o->limits.half_life_s = 0;
    node_rec_weights_default(&o->weights);
}

void node_rec_eval_case_metrics(const uint32_t *list, size_t n, const uint32_t *held, size_t nheld,
                                unsigned k, double *hit, double *ndcg, double *recall)
{
    double dcg = 0, idcg = 0;
    size_t hits = 0;
    if (n > k)
        n = k;
    for (size_t r = 0; r < n; r++)
        for (size_t j = 0; j < nheld; j++)
            if (list[r] == held[j]) {
                hits++;
                dcg += 1.0 / log2((double)r + 2.0);
                break;
            }
    for (size_t r = 0; r < nheld && r < k; r++)
        idcg += 1.0 / log2((double)r + 2.0);
    *hit = hits ? 1.0 : 0.0;
    *ndcg = idcg > 0 ? dcg / idcg : 0.0;
    *recall = nheld ? (double)hits / (double)nheld : 0.0;
}

/* Rows of each learner, ordered by (ts, row order). */
typedef struct ev_key {
    int64_t ts;
    uint64_t row;
} ev_key;

typedef struct ev_order {
    uint64_t *off; /* per learner + 1 */
    ev_key *key;
} ev_order;

static int ev_cmp_key(const void *a, const void *b)
{
    const ev_key *x = a, *y = b;
    if (x->ts != y->ts)
        return x->ts < y->ts ? -1 : 1;
    return x->row < y->row ? -1 : x->row > y->row;
}

static int ev_order_build(const node_rec_log *log, ev_order *o)
{
    uint32_t nl = log->learners.n;
    o->off = calloc((size_t)nl + 1, sizeof *o->off);
    o->key = malloc((log->nrows ? log->nrows : 1) * sizeof *o->key);
    uint64_t *fill = malloc(((size_t)nl + 1) * sizeof *fill);
    if (!o->off || !o->key || !fill) {
        free(fill);
        return CS_ENOMEM;
    }
    for (uint64_t i = 0; i < log->nrows; i++)
        o->off[log->rows[i].learner + 1]++;
    for (uint32_t l = 0; l < nl; l++)
        o->off[l + 1] += o->off[l];
    memcpy(fill, o->off, ((size_t)nl + 1) * sizeof *fill);
    for (uint64_t i = 0; i < log->nrows; i++) {
        ev_key *k = &o->key[fill[log->rows[i].learner]++];
        k->ts = log->rows[i].ts;
        k->row = i;
    }
    free(fill);
    for (uint32_t l = 0; l < nl; l++)
        qsort(o->key + o->off[l], o->off[l + 1] - o->off[l], sizeof *o->key, ev_cmp_key);
    return 0;
}

static int ev_add_items(const node_rec_log *log, node_rec_model *m, cs_err *err)
{
    const char *pre[NODE_REC_PREREQ_MAX];
    char tmp[NODE_REC_CSV_LINE_MAX + 1];
    for (uint32_t i = 0; i < log->items.n; i++) {
        const ev_meta *md = &log->meta[i];
        node_rec_item it;
        memset(&it, 0, sizeof it);
        it.id = log->items.s[i];
        it.subject = md->subject;
        it.language = md->language;
        it.grades = md->grades;
        it.edition = md->edition;
        it.volume = md->volume;
        it.unit = md->unit;
        it.skill = md->skill;
        if (md->prereqs) {
            snprintf(tmp, sizeof tmp, "%s", md->prereqs);
            for (char *save = NULL, *t = strtok_r(tmp, ";", &save);
                 t && it.nprereqs < NODE_REC_PREREQ_MAX; t = strtok_r(NULL, ";", &save))
                pre[it.nprereqs++] = t;
            it.prereqs = pre;
        }
        int rc = node_rec_model_item_add(m, &it, err);
        if (rc)
            return rc;
    }
    return 0;
}

int node_rec_eval_run(const node_rec_log *log, const node_rec_eval_opts *o,
                      node_rec_metrics out[NODE_REC_NMETHODS], cs_err *err)
{
    int rc = CS_ENOMEM;
    ev_order ord = {0};
    node_rec_model *m = NULL;
    node_rec_index *ix = NULL;
    uint32_t *stamp = NULL, *seq = NULL, *list = NULL;
    uint64_t *seqrow = NULL;
    uint8_t *covered = NULL;
    node_rec_hist *hist = NULL;
    node_rec_result *res = NULL;
    uint64_t *split = NULL; /* per learner: sequence length used for training */
    double sum[NODE_REC_NMETHODS][3];
    memset(sum, 0, sizeof sum);
    memset(out, 0, NODE_REC_NMETHODS * sizeof *out);
    if (o->k == 0 || o->k > NODE_REC_K_MAX || o->holdout == 0 || o->holdout > 1000 ||
        (o->protocol != NODE_REC_NEXT_NEW && o->protocol != NODE_REC_LEAVE_LAST_OUT))
        return cs_err_set(err, CS_EINVAL, "evaluation options out of range");
    uint32_t nl = log->learners.n, ni = log->items.n;
    if (log->nrows == 0 || ni == 0)
        return cs_err_set(err, CS_ENOENT, "no interactions to evaluate");
    if ((rc = ev_order_build(log, &ord)) != 0)
        goto fail;
    rc = CS_ENOMEM;
    stamp = calloc(ni, sizeof *stamp);
    seq = malloc((log->nrows ? log->nrows : 1) * sizeof *seq);
    seqrow = malloc((log->nrows ? log->nrows : 1) * sizeof *seqrow);
    split = malloc(((size_t)nl + 1) * sizeof *split);
    covered = calloc((size_t)ni * NODE_REC_NMETHODS, 1);
    hist = malloc(NODE_REC_HISTORY_MAX * sizeof *hist);
    res = malloc(o->k * sizeof *res);
    list = malloc(o->k * sizeof *list);
    uint64_t *seqoff = calloc((size_t)nl + 1, sizeof *seqoff);
    if (!stamp || !seq || !seqrow || !split || !covered || !hist || !res || !list || !seqoff) {
        free(seqoff);
        goto fail;
    }
    /* Each learner's sequence under the protocol, and where training stops. */
    uint64_t ns = 0, ncases = 0;
    for (uint32_t l = 0; l < nl; l++) {
        seqoff[l] = ns;
        for (uint64_t a = ord.off[l]; a < ord.off[l + 1]; a++) {
            const ev_row *r = &log->rows[ord.key[a].row];
            if (o->protocol == NODE_REC_NEXT_NEW) {
                if (stamp[r->item] == l + 1)
                    continue;
                stamp[r->item] = l + 1;
            }
            seq[ns] = r->item;
            seqrow[ns] = ord.key[a].row;
            ns++;
        }
        uint64_t len = ns - seqoff[l];
        split[l] = len;
        if (log->eval[l] && len >= (uint64_t)o->holdout + 1) {
            split[l] = len - o->holdout;
            ncases++;
        }
    }
    seqoff[nl] = ns;
    if (ncases == 0) {
        free(seqoff);
        rc = cs_err_set(err, CS_ENOENT, "no learner has more than %u interaction%s to hold out",
                        o->holdout, o->holdout == 1 ? "" : "s");
        goto out;
    }
    /* Train one model on everything not held out. */
    node_rec_limits lim = o->limits;
    if (lim.max_items < ni)
        lim.max_items = ni;
    if (lim.max_learners < nl)
        lim.max_learners = nl;
    if ((rc = node_rec_model_new(&m, &lim, err)) != 0 || (rc = ev_add_items(log, m, err)) != 0) {
        free(seqoff);
        goto out;
    }
    for (uint32_t l = 0; l < nl; l++) {
        for (uint64_t a = seqoff[l]; a < seqoff[l] + split[l]; a++) {
            const ev_row *r = &log->rows[seqrow[a]];
            node_rec_event ev = {log->learners.s[l], log->items.s[r->item], r->ts,
                                 r->score >= 0 ? NODE_REC_SCORE : NODE_REC_OPEN, r->score};
            if ((rc = node_rec_model_event_add(m, &ev, err)) != 0) {
                free(seqoff);
                goto out;
            }
        }
        if (o->progress && (l % 1024 == 0 || l + 1 == nl))
            o->progress(o->progress_ctx, "training", l + 1, nl);
    }
    if (o->progress)
        o->progress(o->progress_ctx, "building", 0, 1);
    if ((rc = node_rec_model_build(m, &ix, err)) != 0) {
        free(seqoff);
        goto out;
    }
    node_rec_request req;
    node_rec_request_init(&req);
    req.include_seen = o->protocol == NODE_REC_LEAVE_LAST_OUT;
    req.weights = &o->weights;
    uint64_t done = 0;
    uint32_t held[1000];
    for (uint32_t l = 0; l < nl; l++) {
        uint64_t len = seqoff[l + 1] - seqoff[l];
        if (!log->eval[l] || split[l] == len)
            continue;
        uint64_t b = seqoff[l], e = seqoff[l] + split[l];
        size_t nh = 0, nheld = 0;
        uint64_t hb = e - b > NODE_REC_HISTORY_MAX ? e - NODE_REC_HISTORY_MAX : b;
        for (uint64_t a = hb; a < e; a++) {
            const ev_row *r = &log->rows[seqrow[a]];
            hist[nh].item = log->items.s[r->item];
            hist[nh].kind = r->score >= 0 ? NODE_REC_SCORE : NODE_REC_OPEN;
            hist[nh].score = r->score;
            nh++;
        }
        for (uint64_t a = e; a < seqoff[l + 1]; a++) {
            size_t j;
            for (j = 0; j < nheld && held[j] != seq[a]; j++)
                ;
            if (j == nheld)
                held[nheld++] = seq[a];
        }
        for (int meth = 0; meth < NODE_REC_NMETHODS; meth++) {
            if (!(o->methods & (1u << meth)) ||
                (meth == NODE_REC_EASE && !node_rec_index_has_ease(ix)))
                continue;
            req.method = meth;
            size_t nr = 0;
            if ((rc = node_rec_index_recommend(ix, hist, nh, &req, res, o->k, &nr, err)) != 0) {
                free(seqoff);
                goto out;
            }
            for (size_t a = 0; a < nr; a++) {
                list[a] = res[a].item; /* the model's items are the log's, in order */
                covered[(size_t)list[a] * NODE_REC_NMETHODS + meth] = 1;
            }
            double hit, ndcg, recall;
            node_rec_eval_case_metrics(list, nr, held, nheld, o->k, &hit, &ndcg, &recall);
            sum[meth][0] += hit;
            sum[meth][1] += ndcg;
            sum[meth][2] += recall;
            out[meth].cases++;
            if (o->on_case) {
                node_rec_case c = {meth, l,    list,  nr, held, nheld, seq + hb, (size_t)(e - hb),
                                   hit,  ndcg, recall};
                o->on_case(o->case_ctx, &c);
            }
        }
        done++;
        if (o->progress && (done % 256 == 0 || done == ncases))
            o->progress(o->progress_ctx, "evaluating", done, ncases);
    }
    free(seqoff);
    for (int meth = 0; meth < NODE_REC_NMETHODS; meth++) {
        if (!out[meth].cases)
            continue;
        double c = (double)out[meth].cases;
        out[meth].hr = sum[meth][0] / c;
        out[meth].ndcg = sum[meth][1] / c;
        out[meth].recall = sum[meth][2] / c;
        uint64_t cov = 0;
        for (uint32_t i = 0; i < ni; i++)
            cov += covered[(size_t)i * NODE_REC_NMETHODS + meth];
        out[meth].coverage = (double)cov / (double)ni;
    }
    rc = 0;
    goto out;
fail:
    rc = cs_err_set(err, rc, "evaluation: %s", cs_err_text(rc));
out:
    free(ord.off);
    free(ord.key);
    free(stamp);
    free(seq);
    free(seqrow);
    free(split);
    free(covered);
    free(hist);
    free(res);
    free(list);
    node_rec_index_free(ix);
    node_rec_model_free(m);
    return rc;
}

/* ------------------------------------------------------------------ */
/* ASSISTments                                                         */

/* Comma-separated non-negative integers into v (at most max); count. */
static int ev_ints(char *s, long *v, size_t max, size_t *n)
{
    size_t k = 0;
    size_t len = strlen(s);
    while (len && (s[len - 1] == '\r' || s[len - 1] == ' '))
        s[--len] = '\0';
    if (len && s[len - 1] == ',') /* some copies end lines with a comma */
        s[--len] = '\0';
    char *p = s;
    while (*p) {
        char *end;
        errno = 0;
        long x = strtol(p, &end, 10);
        if (end == p || errno || x < 0 || x > 100000000 || (*end && *end != ','))
            return -1;
        if (k == max)
            return -1;
        v[k++] = x;
        p = *end ? end + 1 : end;
    }
    *n = k;
    return 0;
}

int node_rec_assist_convert(FILE *in, const char *name, FILE *out, const char *prefix, int header,
                            uint64_t *students, uint64_t *rows, cs_err *err)
{
    int rc = CS_ENOMEM;
    ev_reader r;
    memset(&r, 0, sizeof r);
    r.f = in;
    r.max = NODE_REC_ASSIST_LINE_MAX;
    r.cap = r.max * 2 + 65536;
    r.buf = malloc(r.cap);
    size_t vmax = NODE_REC_ASSIST_LINE_MAX / 2 + 1;
    long *sk = malloc(vmax * sizeof *sk), *ok = malloc(vmax * sizeof *ok);
    char *line = malloc(NODE_REC_ASSIST_LINE_MAX + 1);
    uint64_t nst = 0, nrow = 0;
    if (!r.buf || !sk || !ok || !line) {
        rc = cs_err_set(err, CS_ENOMEM, "out of memory");
        goto out;
    }
    if (strlen(prefix) > 64) {
        rc = cs_err_set(err, CS_EINVAL, "prefix longer than 64 bytes");
        goto out;
    }
    if (header && fputs("learner,item,ts,score\n", out) < 0) {
        rc = cs_err_set(err, CS_EIO, "write error");
        goto out;
    }
    int part = 0;
    long count = 0;
    size_t nsk = 0, nok = 0;
    for (;;) {
        const char *s;
        size_t len;
        rc = ev_reader_next(&r, &s, &len);
        if (rc == 0)
            break;
        if (rc < 0) {
            rc = cs_err_set(err, rc == CS_ETOOBIG ? CS_EFORMAT : rc, "%s:%llu: %s", name,
                            (unsigned long long)r.lineno,
                            rc == CS_ETOOBIG ? "line longer than 4 MiB" : "read error");
            goto out;
        }
        memcpy(line, s, len);
        line[len] = '\0';
        if (part == 0 && (len == 0 || (len == 1 && line[0] == '\r')))
            continue; /* blank line between students */
        if (memchr(line, '\0', len)) {
            rc = cs_err_set(err, CS_EFORMAT, "%s:%llu: NUL byte", name,
                            (unsigned long long)r.lineno);
            goto out;
        }
        size_t nv;
        if (part == 0) {
            if (ev_ints(line, sk, 1, &nv) || nv != 1 || sk[0] < 1) {
                rc = cs_err_set(err, CS_EFORMAT, "%s:%llu: expected a count of answers", name,
                                (unsigned long long)r.lineno);
                goto out;
            }
            count = sk[0];
        } else if (part == 1) {
            if (ev_ints(line, sk, vmax, &nsk) || (long)nsk != count) {
                rc = cs_err_set(err, CS_EFORMAT, "%s:%llu: expected %ld comma-separated skill ids",
                                name, (unsigned long long)r.lineno, count);
                goto out;
            }
        } else {
            if (ev_ints(line, ok, vmax, &nok) || (long)nok != count) {
                rc =
                    cs_err_set(err, CS_EFORMAT, "%s:%llu: expected %ld comma-separated 0/1 answers",
                               name, (unsigned long long)r.lineno, count);
                goto out;
            }
            nst++;
            for (size_t i = 0; i < nok; i++) {
                if (ok[i] > 1) {
                    rc = cs_err_set(err, CS_EFORMAT, "%s:%llu: correctness must be 0 or 1", name,
                                    (unsigned long long)r.lineno);
                    goto out;
                }
                if (fprintf(out, "%s%llu,skill-%ld,%zu,%ld\n", prefix, (unsigned long long)nst,
                            sk[i], i, ok[i]) < 0) {
                    rc = cs_err_set(err, CS_EIO, "write error");
                    goto out;
                }
                nrow++;
            }
            if (nrow > NODE_REC_CSV_ROWS_MAX) {
                rc = cs_err_set(err, CS_ETOOBIG, "%s: more than %llu answers", name,
                                NODE_REC_CSV_ROWS_MAX);
                goto out;
            }
        }
        part = (part + 1) % 3;
    }
    if (part != 0) {
        rc = cs_err_set(err, CS_EFORMAT, "%s:%llu: file ends inside a student's three lines", name,
                        (unsigned long long)r.lineno);
        goto out;
    }
    if (nst == 0) {
        rc = cs_err_set(err, CS_EFORMAT, "%s: no students", name);
        goto out;
    }
    *students = nst;
    *rows = nrow;
    rc = 0;
out:
    free(r.buf);
    free(sk);
    free(ok);
    free(line);
    return rc;
}
