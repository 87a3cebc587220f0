/*
 * zim_map.c - ZIM paths and titles as resource paths and search entries
 * (rules in content/include/content/zim.h).
 */
#include <stdio.h>
#include <string.h>

#include "content/zim.h"

/* Length of the well-formed UTF-8 character at s[0..n) (as content_path_valid
 * and JSON accept it), 0 if malformed. */
static size_t utf8_char(const unsigned char *s, size_t n)
{
    unsigned c = s[0];
    size_t len;
    unsigned long v, min;
    if (c < 0x80)
        return 1;
    if ((c & 0xE0) == 0xC0)
        len = 2, v = c & 0x1F, min = 0x80;
    else if ((c & 0xF0) == 0xE0)
        len = 3, v = c & 0x0F, min = 0x800;
    else if ((c & 0xF8) == 0xF0)
        len = 4, v = c & 0x07, min = 0x10000;
    else
        return 0;
    if (len > n)
        return 0;
    for (size_t k = 1; k < len; k++) {
        if ((s[k] & 0xC0) != 0x80)
            return 0;
        v = (v << 6) | (s[k] & 0x3F);
    }
    if (v < min || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF))
        return 0;
    return len;
}

/* A C1 control character (U+0080..U+009F), refused in paths like C0. */
static int is_c1(const unsigned char *s, size_t len)
{
    return len == 2 && s[0] == 0xC2 && s[1] < 0xA0;
}

typedef struct out_buf {
    char *p;
    size_t n, cap;
    int over;
} out_buf;

static void put(out_buf *o, const void *s, size_t len)
{
    if (o->n + len >= o->cap) {
        o->over = 1;
        return;
    }
    memcpy(o->p + o->n, s, len);
    o->n += len;
}

static void put_escaped(out_buf *o, unsigned char c)
{
    char esc[4];
    snprintf(esc, sizeof esc, "%%%02X", c);
    put(o, esc, 3);
}

int content_zim_path_map(const char *zpath, char *out, size_t cap)
{
    const unsigned char *s = (const unsigned char *)zpath;
    size_t n = zpath ? strlen(zpath) : 0, i = 0;
    out_buf o = {out, 0, cap > CONTENT_PATH_MAX + 1 ? CONTENT_PATH_MAX + 1 : cap, 0};

    if (n == 0 || cap == 0)
        return CS_EINVAL;
    if (s[0] == '/') /* a leading '/' is escaped, not dropped: "/a" and "a" stay apart */
        put_escaped(&o, '/'), i = 1;
    if (n - i >= 9 && memcmp(s + i, ".cistern/", 9) == 0)
        put_escaped(&o, '.'), i++;
    while (i <= n && !o.over) {
        /* One segment: s[i..end). */
        size_t end = i;
        while (end < n && s[end] != '/')
            end++;
        size_t len = end - i;
        if (len == 0)
            put(&o, "%20", 3);
        else if (len == 1 && s[i] == '.')
            put(&o, "%2E", 3);
        else if (len == 2 && s[i] == '.' && s[i + 1] == '.')
            put(&o, "%2E%2E", 6);
        else
            for (size_t k = i; k < end && !o.over;) {
                size_t cl = utf8_char(s + k, end - k);
                if (cl == 0 || (cl == 1 && (s[k] < 0x20 || s[k] == 0x7f || s[k] == '\\')) ||
                    is_c1(s + k, cl)) {
                    put_escaped(&o, s[k]);
                    k++;
                } else {
                    put(&o, s + k, cl);
                    k += cl;
                }
            }
        if (end < n)
            put(&o, "/", 1);
        i = end + 1;
    }
    if (o.over)
        return CS_ETOOBIG;
    out[o.n] = '\0';
    return content_path_valid(out) ? 0 : CS_EINVAL;
}

size_t content_zim_title_clean(const char *in, size_t len, char *out, size_t cap)
{
    const unsigned char *s = (const unsigned char *)in;
    size_t n = 0, i = 0, limit;
    int space = 0;

    if (cap == 0)
        return 0;
    limit = cap - 1 < CONTENT_ZIM_TITLE_MAX ? cap - 1 : CONTENT_ZIM_TITLE_MAX;
    while (i < len) {
        size_t cl = utf8_char(s + i, len - i);
        if (cl == 0) { /* not UTF-8: dropped */
            i++;
            continue;
        }
        if ((cl == 1 && (s[i] <= 0x20 || s[i] == 0x7f)) || is_c1(s + i, cl)) {
            space = n > 0;
            i += cl;
            continue;
        }
        if (n + space + cl > limit)
            break;
        if (space)
            out[n++] = ' ';
        space = 0;
        memcpy(out + n, s + i, cl);
        n += cl;
        i += cl;
    }
    out[n] = '\0';
    return n;
}

int content_titles_parse(const char *data, size_t len, content_titles_cb cb, void *ctx,
                         uint64_t *skipped, cs_err *err)
{
    static const char magic[] = CONTENT_TITLES_MAGIC "\n";
    char path[CONTENT_PATH_MAX + 1], title[CONTENT_ZIM_TITLE_MAX + 1];
    uint64_t lines = 0, bad = 0;
    size_t i;
    int rc = 0;

    if (len > CONTENT_TITLES_MAX)
        return cs_err_set(err, CS_ETOOBIG, "titles file: more than %u bytes", CONTENT_TITLES_MAX);
    if (len < sizeof magic - 1 || memcmp(data, magic, sizeof magic - 1) != 0)
        return cs_err_set(err, CS_EFORMAT, "titles file: no \"%s\" line", CONTENT_TITLES_MAGIC);
    i = sizeof magic - 1;
    while (i < len) {
        const char *line = data + i, *nl = memchr(line, '\n', len - i);
        size_t ll = nl ? (size_t)(nl - line) : len - i;
        const char *tab = memchr(line, '\t', ll);
        i += ll + 1;
        if (ll == 0)
            continue;
        if (++lines > CONTENT_RESOURCE_MAX_FILES) {
            rc = cs_err_set(err, CS_ETOOBIG, "titles file: more than %d lines",
                            CONTENT_RESOURCE_MAX_FILES);
            break;
        }
        size_t pl = tab ? (size_t)(tab - line) : 0, tl = tab ? ll - pl - 1 : 0;
        if (!tab || pl == 0 || pl > CONTENT_PATH_MAX || tl == 0 || tl > CONTENT_ZIM_TITLE_MAX) {
            bad++;
            continue;
        }
        memcpy(path, line, pl);
        path[pl] = '\0';
        memcpy(title, tab + 1, tl);
        title[tl] = '\0';
        /* The title must be clean already: cleaning changes nothing. */
        char clean[CONTENT_ZIM_TITLE_MAX + 1];
        if (!content_path_valid(path) || strlen(title) != tl ||
            content_zim_title_clean(title, tl, clean, sizeof clean) != tl ||
            memcmp(clean, title, tl) != 0) {
            bad++;
            continue;
        }
        if ((rc = cb(ctx, path, title)) != 0)
            break;
    }
    if (skipped)
        *skipped = bad;
    return rc;
}
