/*
 * zimsource.c - a ZIM archive as a resource folder of a source tree
 * (sync/include/sync/zimsource.h).
 */
#include "sync/zimsource.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "content/resource.h"
#include "content/zim.h"
#include "platform/crypto.h"
#include "platform/file.h"

#define CHUNK (1u << 20)
#define MAX_KEYWORDS 256

/* One file of the resource. */
typedef struct zrec {
    char *path; /* resource path */
    char *mime;
    char hex[CS_SHA256_HEX]; /* blob */
    uint64_t size;
    size_t order; /* archive order, to keep the first of colliding paths */
} zrec;

/* One searchable title. */
typedef struct ztitle {
    char *path;  /* resource path of the page */
    char *title; /* cleaned */
    char *final; /* ZIM path of the page shown (a redirect's target) */
    int redirect;
} ztitle;

typedef struct zctx {
    char dir[PATH_MAX]; /* the folder being built */
    cs_sha256 *sha;
    uint8_t *buf;
    zrec *recs;
    size_t n, cap;
    ztitle *titles;
    size_t nt, ct;
    sync_zim_stats *st;
    sync_progress_cb progress;
    void *pctx;
    uint64_t total;
    cs_err *err;
    /* the blob being written */
    int fd;
    char tmp[PATH_MAX];
    uint64_t written;
} zctx;

/* ---- small helpers ------------------------------------------------------ */

static int rm_one(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb, (void)flag, (void)ftw;
    return remove(p);
}

static int rm_tree(const char *dir)
{
    if (!cs_path_exists(dir))
        return 0;
    return nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static int is_html(const char *mime)
{
    return mime && strncasecmp(mime, "text/html", 9) == 0 && (mime[9] == '\0' || mime[9] == ';');
}

/* Length of the folder part of a path, including the last '/'. */
static size_t dir_len(const char *p)
{
    const char *s = strrchr(p, '/');
    return s ? (size_t)(s - p) + 1 : 0;
}

static int same_dir(const char *a, const char *b)
{
    size_t la = dir_len(a), lb = dir_len(b);
    return la == lb && memcmp(a, b, la) == 0;
}

static int mime_ok(const char *m)
{
    size_t n = strlen(m);
    if (n == 0 || n > 255)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (m[i] < 0x20 || m[i] > 0x7e)
            return 0;
    return 1;
}

/* Append a URL-escaped path (unreserved characters and '/' kept). */
static size_t url_escape(const char *p, char *out, size_t n, size_t cap)
{
    static const char hexd[] = "0123456789ABCDEF";
    for (const unsigned char *s = (const unsigned char *)p; *s && n + 4 < cap; s++) {
        unsigned c = *s;
        if (c == '/' || c == '-' || c == '.' || c == '_' || c == '~' || (c >= '0' && c <= '9') ||
            ((c | 0x20) >= 'a' && (c | 0x20) <= 'z')) {
            out[n++] = (char)c;
        } else {
            out[n++] = '%';
            out[n++] = hexd[c >> 4];
            out[n++] = hexd[c & 15];
        }
    }
    out[n] = '\0';
    return n;
}

/* The relative URL from the page at `from` to `to` (resource paths). */
static void relative_url(const char *from, const char *to, char *out, size_t cap)
{
    size_t common = 0, i = 0, n = 0;
    /* Common leading folders. */
    while (from[i] && to[i] && from[i] == to[i]) {
        if (from[i] == '/')
            common = i + 1;
        i++;
    }
    for (const char *s = from + common; *s; s++)
        if (*s == '/' && n + 4 < cap) {
            memcpy(out + n, "../", 3);
            n += 3;
        }
    out[n] = '\0';
    url_escape(to + common, out, n, cap);
    if (!out[0])
        snprintf(out, cap, "./");
}

static void html_escape(const char *s, char *out, size_t cap)
{
    size_t n = 0;
    for (; *s && n + 7 < cap; s++) {
        const char *r = *s == '&'   ? "&amp;"
                        : *s == '<' ? "&lt;"
                        : *s == '>' ? "&gt;"
                        : *s == '"' ? "&quot;"
                                    : NULL;
        if (r) {
            memcpy(out + n, r, strlen(r));
            n += strlen(r);
        } else {
            out[n++] = *s;
        }
    }
    out[n] = '\0';
}

/* ---- blobs -------------------------------------------------------------- */

static int blob_begin(zctx *z)
{
    snprintf(z->tmp, sizeof z->tmp, "%s/blobs/.tmp-XXXXXX", z->dir);
    z->fd = mkstemp(z->tmp);
    if (z->fd < 0)
        return cs_err_errno(z->err, z->tmp);
    z->written = 0;
    return 0;
}

static int blob_write(zctx *z, const void *data, size_t len)
{
    cs_sha256_update(z->sha, data, len);
    z->written += len;
    return cs_write_full(z->fd, data, len, z->err);
}

/* Finish the blob: its name is its hash; an identical one is kept. */
static int blob_end(zctx *z, int ok, char hex[CS_SHA256_HEX])
{
    uint8_t id[32];
    char sub[PATH_MAX], final[PATH_MAX];
    int rc = 0;
    cs_sha256_final(z->sha, id);
    if (close(z->fd) != 0 && ok)
        rc = cs_err_errno(z->err, z->tmp);
    z->fd = -1;
    if (!ok || rc) {
        unlink(z->tmp);
        return rc;
    }
    cs_hex_encode(id, 32, hex);
    snprintf(sub, sizeof sub, "%s/blobs/%.2s", z->dir, hex);
    snprintf(final, sizeof final, "%s/%s", sub, hex);
    if (cs_path_exists(final)) {
        unlink(z->tmp);
        return 0;
    }
    if ((rc = cs_mkdirs(sub, 0755, z->err)) != 0) {
        unlink(z->tmp);
        return rc;
    }
    if (chmod(z->tmp, 0644) != 0 || rename(z->tmp, final) != 0) {
        rc = cs_err_errno(z->err, final);
        unlink(z->tmp);
        return rc;
    }
    z->st->blobs++;
    return 0;
}

static int blob_mem(zctx *z, const void *data, size_t len, char hex[CS_SHA256_HEX])
{
    int rc = blob_begin(z);
    if (rc)
        return rc;
    rc = blob_write(z, data, len);
    int rc2 = blob_end(z, rc == 0, hex);
    return rc ? rc : rc2;
}

/* ---- records ------------------------------------------------------------ */

static int add_rec(zctx *z, const char *path, const char *mime, const char hex[CS_SHA256_HEX],
                   uint64_t size)
{
    if (z->n == z->cap) {
        size_t nc = z->cap ? z->cap * 2 : 256;
        zrec *nr = realloc(z->recs, nc * sizeof *nr);
        if (!nr)
            return cs_err_set(z->err, CS_ENOMEM, "out of memory");
        z->recs = nr;
        z->cap = nc;
    }
    zrec *r = &z->recs[z->n];
    r->path = strdup(path);
    r->mime = strdup(mime_ok(mime) ? mime : "application/octet-stream");
    content_mime_lower(r->mime);
    memcpy(r->hex, hex, CS_SHA256_HEX);
    r->size = size;
    r->order = z->n;
    z->n++;
    if (!r->path || !r->mime)
        return cs_err_set(z->err, CS_ENOMEM, "out of memory");
    return 0;
}

static int add_title(zctx *z, const char *path, const char *title, const char *final, int redirect)
{
    if (z->nt == z->ct) {
        size_t nc = z->ct ? z->ct * 2 : 256;
        ztitle *nt = realloc(z->titles, nc * sizeof *nt);
        if (!nt)
            return cs_err_set(z->err, CS_ENOMEM, "out of memory");
        z->titles = nt;
        z->ct = nc;
    }
    ztitle *t = &z->titles[z->nt++];
    t->path = strdup(path);
    t->title = strdup(title);
    t->final = strdup(final);
    t->redirect = redirect;
    if (!t->path || !t->title || !t->final)
        return cs_err_set(z->err, CS_ENOMEM, "out of memory");
    return 0;
}

static void skip(zctx *z, const char *path)
{
    if (z->st->skipped++ == 0)
        snprintf(z->st->first_skipped, sizeof z->st->first_skipped, "%s", path);
}

/* ---- entries ------------------------------------------------------------ */

static int write_entry_bytes(zctx *z, const content_zim_entry *e, char hex[CS_SHA256_HEX])
{
    uint64_t off = 0;
    int rc = blob_begin(z);
    while (rc == 0 && off < e->size) {
        size_t got = 0;
        size_t want = e->size - off < CHUNK ? (size_t)(e->size - off) : CHUNK;
        if ((rc = content_zim_entry_read(e, off, z->buf, want, &got, z->err)) != 0)
            break;
        if (got == 0) {
            rc = cs_err_set(z->err, CS_EFORMAT, "zim: entry \"%s\" is shorter than its size",
                            e->path);
            break;
        }
        rc = blob_write(z, z->buf, got);
        off += got;
    }
    if (z->fd >= 0) {
        int rc2 = blob_end(z, rc == 0, hex);
        if (rc == 0)
            rc = rc2;
    }
    return rc;
}

/* A small page that forwards to the target (a relative URL, so it works
 * wherever the resource is served). */
static int write_forward(zctx *z, const char *path, const char *target, const char *title,
                         char hex[CS_SHA256_HEX], uint64_t *size)
{
    char rel[3 * CONTENT_PATH_MAX + 64], esc[4 * CONTENT_ZIM_TITLE_MAX + 16];
    char page[sizeof rel * 2 + sizeof esc * 2 + 256];
    char clean[CONTENT_ZIM_TITLE_MAX + 1];
    relative_url(path, target, rel, sizeof rel);
    content_zim_title_clean(title, strlen(title), clean, sizeof clean);
    html_escape(clean, esc, sizeof esc);
    int n = snprintf(page, sizeof page,
                     "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">"
                     "<meta http-equiv=\"refresh\" content=\"0;url=%s\"><title>%s</title></head>"
                     "<body><a href=\"%s\">%s</a></body></html>\n",
                     rel, esc, rel, esc);
    if (n < 0 || (size_t)n >= sizeof page)
        return cs_err_set(z->err, CS_ETOOBIG, "redirect page for \"%s\" too long", path);
    *size = (uint64_t)n;
    return blob_mem(z, page, (size_t)n, hex);
}

static int on_entry(void *ctx, const content_zim_entry *e)
{
    zctx *z = ctx;
    char mapped[CONTENT_PATH_MAX + 1], tmapped[CONTENT_PATH_MAX + 1], hex[CS_SHA256_HEX];
    uint64_t size = e->size;
    const char *mime = e->mime;
    int rc;

    z->st->entries++;
    if (z->progress && (z->st->entries % 256 == 0 || z->st->entries == z->total))
        z->progress(z->pctx, "expanding", z->st->entries, z->total);
    if (content_zim_path_map(e->path, mapped, sizeof mapped) != 0) {
        skip(z, e->path);
        return 0;
    }
    if (e->redirect)
        z->st->redirects++;
    if (e->redirect && is_html(e->mime) && !same_dir(e->path, e->target) &&
        content_zim_path_map(e->target, tmapped, sizeof tmapped) == 0) {
        rc = write_forward(z, mapped, tmapped, e->title, hex, &size);
        mime = "text/html";
        z->st->redirect_pages++;
    } else {
        rc = write_entry_bytes(z, e, hex);
    }
    if (rc == 0)
        rc = add_rec(z, mapped, mime, hex, size);
    if (rc == 0 && is_html(e->mime) && strcmp(e->title, e->path) != 0) {
        char clean[CONTENT_ZIM_TITLE_MAX + 1];
        if (content_zim_title_clean(e->title, strlen(e->title), clean, sizeof clean) > 0)
            rc = add_title(z, mapped, clean, e->redirect ? e->target : e->path, e->redirect);
    }
    return rc;
}

static int cmp_rec(const void *a, const void *b)
{
    const zrec *x = a, *y = b;
    int c = strcmp(x->path, y->path);
    return c ? c : (x->order < y->order ? -1 : x->order > y->order);
}

static int cmp_title_dup(const void *a, const void *b)
{
    const ztitle *x = a, *y = b;
    int c = strcmp(x->title, y->title);
    if (!c)
        c = strcmp(x->final, y->final);
    return c ? c : x->redirect - y->redirect;
}

static int cmp_title_path(const void *a, const void *b)
{
    return strcmp(((const ztitle *)a)->path, ((const ztitle *)b)->path);
}

/* 1 if path is a file of the resource (recs sorted). */
static int has_path(const zctx *z, const char *path)
{
    size_t lo = 0, hi = z->n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = strcmp(z->recs[mid].path, path);
        if (c == 0)
            return 1;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return 0;
}

/* The titles file: one line per page title; a redirect whose title is its
 * target's own is left out (the same page twice in results). */
static int write_titles(zctx *z)
{
    size_t keep = 0, len = 0, cap = 4096;
    char *data = NULL, hex[CS_SHA256_HEX];
    int rc = 0;
    if (z->nt == 0)
        return 0;
    qsort(z->titles, z->nt, sizeof *z->titles, cmp_title_dup);
    for (size_t i = 0; i < z->nt; i++) {
        ztitle *t = &z->titles[i];
        if (keep > 0 && strcmp(z->titles[keep - 1].title, t->title) == 0 &&
            strcmp(z->titles[keep - 1].final, t->final) == 0) {
            free(t->path), free(t->title), free(t->final);
            continue;
        }
        z->titles[keep++] = *t;
    }
    z->nt = keep;
    qsort(z->titles, z->nt, sizeof *z->titles, cmp_title_path);
    data = malloc(cap);
    if (!data)
        return cs_err_set(z->err, CS_ENOMEM, "out of memory");
    len = (size_t)snprintf(data, cap, "%s\n", CONTENT_TITLES_MAGIC);
    for (size_t i = 0; i < z->nt; i++) {
        const ztitle *t = &z->titles[i];
        size_t pl = strlen(t->path), tl = strlen(t->title);
        if (!has_path(z, t->path))
            continue; /* its path collided with another and was dropped */
        if (len + pl + tl + 2 > CONTENT_TITLES_MAX)
            break; /* the cap: the remaining titles are not searchable */
        if (len + pl + tl + 2 >= cap) {
            while (len + pl + tl + 2 >= cap)
                cap *= 2;
            char *nd = realloc(data, cap);
            if (!nd) {
                free(data);
                return cs_err_set(z->err, CS_ENOMEM, "out of memory");
            }
            data = nd;
        }
        memcpy(data + len, t->path, pl);
        data[len + pl] = '\t';
        memcpy(data + len + pl + 1, t->title, tl);
        data[len + pl + 1 + tl] = '\n';
        len += pl + tl + 2;
        z->st->titles++;
    }
    rc = blob_mem(z, data, len, hex);
    if (rc == 0)
        rc = add_rec(z, CONTENT_TITLES_PATH, "text/tab-separated-values; charset=utf-8", hex, len);
    free(data);
    return rc;
}

/* ---- metadata ----------------------------------------------------------- */

static char *meta(content_zim *zim, const char *name, cs_err *err, int *rc)
{
    char *v = NULL;
    int r = content_zim_metadata(zim, name, &v, err);
    if (r != 0 && r != CS_ENOENT && *rc == 0)
        *rc = r;
    if (r != 0)
        return NULL;
    char *clean = malloc(CONTENT_ZIM_TITLE_MAX + 1);
    if (clean)
        content_zim_title_clean(v, strlen(v), clean, CONTENT_ZIM_TITLE_MAX + 1);
    free(v);
    if (clean && !clean[0]) {
        free(clean);
        clean = NULL;
    }
    return clean;
}

static const char *const lang_map[][2] = {
    {"ara", "ar"}, {"bel", "be"}, {"ben", "bn"}, {"bod", "bo"}, {"tib", "bo"}, {"ces", "cs"},
    {"cze", "cs"}, {"deu", "de"}, {"ger", "de"}, {"ell", "el"}, {"eng", "en"}, {"epo", "eo"},
    {"spa", "es"}, {"fas", "fa"}, {"per", "fa"}, {"fin", "fi"}, {"fra", "fr"}, {"fre", "fr"},
    {"heb", "he"}, {"hin", "hi"}, {"hun", "hu"}, {"ind", "id"}, {"ita", "it"}, {"jpn", "ja"},
    {"kaz", "kk"}, {"kor", "ko"}, {"kir", "ky"}, {"mon", "mn"}, {"msa", "ms"}, {"nld", "nl"},
    {"dut", "nl"}, {"pol", "pl"}, {"por", "pt"}, {"ron", "ro"}, {"rus", "ru"}, {"swa", "sw"},
    {"tha", "th"}, {"tur", "tr"}, {"uig", "ug"}, {"ukr", "uk"}, {"urd", "ur"}, {"uzb", "uz"},
    {"vie", "vi"}, {"zho", "zh"}, {"chi", "zh"},
};

void sync_zim_language(const char *zim_lang, char *out, size_t cap)
{
    char tag[36];
    size_t n = 0;
    for (const char *s = zim_lang ? zim_lang : ""; *s && *s != ',' && *s != ';' && n < 35; s++)
        if ((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
            *s == '-' || *s == '_')
            tag[n++] = (char)(*s == '_' ? '-' : *s);
    tag[n] = '\0';
    if (n == 0 || !((tag[0] >= 'a' && tag[0] <= 'z') || (tag[0] >= 'A' && tag[0] <= 'Z')))
        snprintf(tag, sizeof tag, "und");
    for (size_t i = 0; i < sizeof lang_map / sizeof lang_map[0]; i++)
        if (strcasecmp(tag, lang_map[i][0]) == 0)
            snprintf(tag, sizeof tag, "%s", lang_map[i][1]);
    snprintf(out, cap, "%s", tag);
}

int sync_zim_default_id(const char *name, const char *file, char *out, size_t cap)
{
    char buf[CONTENT_ID_MAX + 1];
    size_t n = 0;
    const char *src = name && *name ? name : NULL;
    if (!src && file) {
        const char *slash = strrchr(file, '/');
        src = slash ? slash + 1 : file;
    }
    if (!src)
        return CS_EINVAL;
    for (const char *s = src; *s && n < CONTENT_ID_MAX; s++) {
        char c = *s;
        int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                 c == '.' || c == '_' || c == '-';
        buf[n++] = (char)(ok ? c : '-');
    }
    buf[n] = '\0';
    if (src != name) {
        /* A file name: drop ".zim" and a trailing "_YYYY-MM" edition. */
        if (n > 4 && strcmp(buf + n - 4, ".zim") == 0)
            buf[n -= 4] = '\0';
        if (n > 8 && buf[n - 8] == '_' && buf[n - 3] == '-') {
            int digits = 1;
            for (size_t i = n - 7; i < n; i++)
                if (i != n - 3 && (buf[i] < '0' || buf[i] > '9'))
                    digits = 0;
            if (digits)
                buf[n -= 8] = '\0';
        }
    }
    while (buf[0] == '.' || buf[0] == '-')
        memmove(buf, buf + 1, strlen(buf));
    if (strlen(buf) >= 6 && memcmp(buf, "local-", 6) == 0)
        memmove(buf, buf + 6, strlen(buf) - 5);
    if (!buf[0] || !content_id_valid(buf) || strlen(buf) >= cap)
        return CS_EINVAL;
    snprintf(out, cap, "%s", buf);
    return 0;
}

static json_t *build_meta(content_zim *zim, const char *zim_path, const char *id,
                          const sync_zim_options *opt, const char *entry, uint64_t entries,
                          int illustration, cs_err *err, int *rc)
{
    char *title = meta(zim, "Title", err, rc), *desc = meta(zim, "Description", err, rc);
    char *lang = meta(zim, "Language", err, rc), *creator = meta(zim, "Creator", err, rc);
    char *publisher = meta(zim, "Publisher", err, rc), *date = meta(zim, "Date", err, rc);
    char *tags = meta(zim, "Tags", err, rc), *name = meta(zim, "Name", err, rc);
    char *license = meta(zim, "License", err, rc), *flavour = meta(zim, "Flavour", err, rc);
    char tag[36];
    const char *base = strrchr(zim_path, '/');
    json_t *m = NULL;
    base = base ? base + 1 : zim_path;
    if (*rc)
        goto out;
    sync_zim_language(opt->language ? opt->language : lang, tag, sizeof tag);
    m = json_object();
    json_object_set_new(m, "id", json_string(id));
    json_object_set_new(m, "title", json_pack("{s:s}", tag, title ? title : name ? name : base));
    if (desc)
        json_object_set_new(m, "description", json_pack("{s:s}", tag, desc));
    json_object_set_new(m, "language", json_string(tag));
    if (opt->subject)
        json_object_set_new(m, "subject", json_string(opt->subject));
    if (opt->ngrades) {
        json_t *g = json_array();
        for (size_t i = 0; i < opt->ngrades; i++)
            json_array_append_new(g, json_integer(opt->grades[i]));
        json_object_set_new(m, "grades", g);
    }
    if (date)
        json_object_set_new(m, "edition", json_string(date));
    json_object_set_new(m, "type", json_string("html"));
    json_object_set_new(m, "entry", json_string(entry));
    if (license)
        json_object_set_new(m, "license", json_string(license));
    if (publisher)
        json_object_set_new(m, "publisher", json_string(publisher));
    if (creator)
        json_object_set_new(m, "creator", json_string(creator));
    if (tags) {
        json_t *kw = json_array();
        for (char *save = NULL, *t = strtok_r(tags, ";", &save);
             t && json_array_size(kw) < MAX_KEYWORDS; t = strtok_r(NULL, ";", &save)) {
            while (*t == ' ')
                t++;
            if (*t && *t != '_')
                json_array_append_new(kw, json_string(t));
        }
        if (json_array_size(kw))
            json_object_set_new(m, "keywords", kw);
        else
            json_decref(kw);
    }
    if (illustration)
        json_object_set_new(m, "illustration", json_string(".cistern/illustration-48.png"));
    json_t *z = json_pack("{s:s,s:I}", "file", base, "entries", (json_int_t)entries);
    if (name)
        json_object_set_new(z, "name", json_string(name));
    if (date)
        json_object_set_new(z, "date", json_string(date));
    if (flavour)
        json_object_set_new(z, "flavour", json_string(flavour));
    json_object_set_new(m, "zim", z);
out:
    free(title), free(desc), free(lang), free(creator), free(publisher);
    free(date), free(tags), free(name), free(license), free(flavour);
    return m;
}

/* ---- the folder --------------------------------------------------------- */

static int write_manifest(zctx *z)
{
    char p[PATH_MAX];
    snprintf(p, sizeof p, "%s/%s", z->dir, "resource.files");
    FILE *f = fopen(p, "we");
    if (!f)
        return cs_err_errno(z->err, p);
    fprintf(f, "cistern-files 1\n");
    for (size_t i = 0; i < z->n; i++)
        fprintf(f, "%s\t%s\tblobs/%.2s/%s\n", z->recs[i].path, z->recs[i].mime, z->recs[i].hex,
                z->recs[i].hex);
    if (fflush(f) != 0 || ferror(f) || fsync(fileno(f)) != 0) {
        int rc = cs_err_errno(z->err, p);
        fclose(f);
        return rc;
    }
    return fclose(f) == 0 ? 0 : cs_err_errno(z->err, p);
}

/* An existing folder of this id must have been made from an archive. */
static int check_existing(const char *final, cs_err *err)
{
    char p[PATH_MAX], *text = NULL;
    size_t len = 0;
    if (!cs_path_exists(final))
        return 0;
    snprintf(p, sizeof p, "%s/resource.json", final);
    int rc = cs_file_read_all(p, CONTENT_RESOURCE_JSON_MAX, &text, &len, NULL);
    json_t *j = rc == 0 ? json_loadb(text, len, 0, NULL) : NULL;
    int ok = json_is_object(json_object_get(j, "zim"));
    json_decref(j);
    free(text);
    if (!ok)
        return cs_err_set(err, CS_EEXIST,
                          "%s exists and was not made from a ZIM archive: choose another --id",
                          final);
    return 0;
}

int sync_zim_to_source(const char *zim_path, const char *source, const sync_zim_options *opt,
                       sync_progress_cb progress, void *pctx, sync_zim_stats *stats, cs_err *err)
{
    content_zim *zim = NULL;
    zctx z;
    sync_zim_stats st;
    char id[CONTENT_ID_MAX + 1], final[PATH_MAX], p[PATH_MAX];
    char *name = NULL, *main_zim = NULL, *text = NULL;
    uint8_t *ill = NULL;
    size_t ill_len = 0;
    json_t *m = NULL;
    int rc, dfd = -1, built = 0;
    sync_zim_options none = {0};

    memset(&z, 0, sizeof z);
    memset(&st, 0, sizeof st);
    z.fd = -1;
    z.st = &st;
    z.err = err;
    z.progress = progress;
    z.pctx = pctx;
    if (!opt)
        opt = &none;
    for (size_t i = 0; i < opt->ngrades; i++)
        if (opt->grades[i] < 0 || opt->grades[i] > 13)
            return cs_err_set(err, CS_EINVAL, "grade %d is not in 0..13", opt->grades[i]);
    if ((rc = content_zim_open(&zim, zim_path, NULL, err)) != 0)
        return rc;
    if (opt->id) {
        if (!content_id_valid(opt->id) || strncmp(opt->id, "local-", 6) == 0) {
            rc = cs_err_set(err, CS_EINVAL, "\"%s\" is not a usable resource id", opt->id);
            goto out;
        }
        snprintf(id, sizeof id, "%s", opt->id);
    } else {
        int r = content_zim_metadata(zim, "Name", &name, err);
        if (r != 0 && r != CS_ENOENT) {
            rc = r;
            goto out;
        }
        if (sync_zim_default_id(name, zim_path, id, sizeof id) != 0) {
            rc = cs_err_set(err, CS_EINVAL,
                            "%s: no usable resource id from its Name or file name; pass --id",
                            zim_path);
            goto out;
        }
    }
    snprintf(st.id, sizeof st.id, "%s", id);
    if ((rc = cs_mkdirs(source, 0755, err)) != 0)
        goto out;
    if (snprintf(final, sizeof final, "%s/%s", source, id) >= (int)sizeof final ||
        snprintf(z.dir, sizeof z.dir, "%s/.add-zim-%s.tmp", source, id) >= (int)sizeof z.dir) {
        rc = cs_err_set(err, CS_ETOOBIG, "%s: path too long", source);
        goto out;
    }
    if ((rc = check_existing(final, err)) != 0)
        goto out;
    if ((rc = content_zim_count(zim, &z.total, err)) != 0)
        goto out;
    /* Build beside, then swap. */
    if (rm_tree(z.dir) != 0) {
        rc = cs_err_errno(err, z.dir);
        goto out;
    }
    snprintf(p, sizeof p, "%s/blobs", z.dir);
    if ((rc = cs_mkdirs(p, 0755, err)) != 0)
        goto out;
    built = 1;
    if (cs_sha256_new(&z.sha) != 0 || !(z.buf = malloc(CHUNK))) {
        rc = cs_err_set(err, CS_ENOMEM, "out of memory");
        goto out;
    }
    if ((rc = content_zim_foreach(zim, on_entry, &z, err)) != 0)
        goto out;
    /* Colliding paths: the first in archive order stays. */
    if (z.n > 1)
        qsort(z.recs, z.n, sizeof *z.recs, cmp_rec);
    size_t keep = 0;
    for (size_t i = 0; i < z.n; i++) {
        if (keep > 0 && strcmp(z.recs[keep - 1].path, z.recs[i].path) == 0) {
            skip(&z, z.recs[i].path);
            free(z.recs[i].path), free(z.recs[i].mime);
            continue;
        }
        z.recs[keep++] = z.recs[i];
    }
    z.n = keep;
    if ((rc = write_titles(&z)) != 0)
        goto out;
    int r = content_zim_illustration(zim, &ill, &ill_len, err);
    if (r == 0) {
        char hex[CS_SHA256_HEX];
        if ((rc = blob_mem(&z, ill, ill_len, hex)) != 0 ||
            (rc = add_rec(&z, ".cistern/illustration-48.png", "image/png", hex, ill_len)) != 0)
            goto out;
    } else if (r != CS_ENOENT) {
        rc = r;
        goto out;
    }
    qsort(z.recs, z.n, sizeof *z.recs, cmp_rec);
    /* The entry: the main page, else the first HTML page. */
    char entry[CONTENT_PATH_MAX + 1] = "";
    r = content_zim_main_path(zim, &main_zim, err);
    if (r != 0 && r != CS_ENOENT) {
        rc = r;
        goto out;
    }
    if (main_zim &&
        (content_zim_path_map(main_zim, entry, sizeof entry) != 0 || !has_path(&z, entry)))
        entry[0] = '\0';
    for (size_t i = 0; !entry[0] && i < z.n; i++)
        if (is_html(z.recs[i].mime) && strncmp(z.recs[i].path, ".cistern/", 9) != 0)
            snprintf(entry, sizeof entry, "%s", z.recs[i].path);
    if (!entry[0]) {
        rc = cs_err_set(err, CS_EINVAL, "%s: no main page and no HTML page to open", zim_path);
        goto out;
    }
    m = build_meta(zim, zim_path, id, opt, entry, st.entries, ill != NULL, err, &rc);
    if (rc)
        goto out;
    if (!m) {
        rc = cs_err_set(err, CS_ENOMEM, "out of memory");
        goto out;
    }
    if ((rc = content_resource_validate(m, err)) != 0) {
        cs_err_wrap(err, "%s: the archive's metadata", zim_path);
        goto out;
    }
    text = json_dumps(m, JSON_INDENT(1) | JSON_PRESERVE_ORDER);
    snprintf(p, sizeof p, "%s/resource.json", z.dir);
    if (!text) {
        rc = cs_err_set(err, CS_ENOMEM, "out of memory");
        goto out;
    }
    if ((rc = cs_file_write_atomic(p, text, strlen(text), 0644, err)) != 0 ||
        (rc = write_manifest(&z)) != 0)
        goto out;
    for (size_t i = 0; i < z.n; i++) {
        st.files++;
        st.bytes += z.recs[i].size;
    }
    /* Everything on disk before the swap makes it the folder publish reads. */
    dfd = open(z.dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0 || syncfs(dfd) != 0) {
        rc = cs_err_errno(err, z.dir);
        goto out;
    }
    if (cs_path_exists(final)) {
        if (renameat2(AT_FDCWD, z.dir, AT_FDCWD, final, RENAME_EXCHANGE) != 0) {
            rc = cs_err_errno(err, final);
            goto out;
        }
        st.replaced = 1; /* z.dir now holds the old folder: removed below */
    } else if (rename(z.dir, final) != 0) {
        rc = cs_err_errno(err, final);
        goto out;
    } else {
        built = 0;
    }
    rc = cs_fsync_dir(source, err);
out:
    if (z.fd >= 0) {
        close(z.fd);
        unlink(z.tmp);
    }
    if (built)
        rm_tree(z.dir);
    if (dfd >= 0)
        close(dfd);
    for (size_t i = 0; i < z.n; i++)
        free(z.recs[i].path), free(z.recs[i].mime);
    free(z.recs);
    for (size_t i = 0; i < z.nt; i++)
        free(z.titles[i].path), free(z.titles[i].title), free(z.titles[i].final);
    free(z.titles);
    cs_sha256_free(z.sha);
    free(z.buf);
    free(name);
    free(main_zim);
    free(text);
    free(ill);
    json_decref(m);
    content_zim_free(zim);
    if (rc == 0 && stats)
        *stats = st;
    return rc;
}
