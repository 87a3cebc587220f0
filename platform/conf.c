/*
 * conf.c - `key = value` configuration files.
 */
#include "platform/conf.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "platform/buf.h"
#include "platform/file.h"

typedef struct conf_entry {
    char *key;
    char *value;
} conf_entry;

struct cs_conf {
    conf_entry *items;
    size_t n;
};

int cs_conf_new(cs_conf **out)
{
    cs_conf *c = calloc(1, sizeof *c);
    if (!c)
        return CS_ENOMEM;
    *out = c;
    return 0;
}

void cs_conf_free(cs_conf *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->n; i++) {
        free(c->items[i].key);
        free(c->items[i].value);
    }
    free(c->items);
    free(c);
}

static int key_valid(const char *k, size_t n)
{
    if (n == 0 || n > 128)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char ch = k[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '_' || ch == '.' ||
              ch == '-'))
            return 0;
    }
    return 1;
}

static conf_entry *conf_find(const cs_conf *c, const char *key)
{
    for (size_t i = 0; i < c->n; i++)
        if (strcmp(c->items[i].key, key) == 0)
            return &c->items[i];
    return NULL;
}

void cs_conf_unset(cs_conf *c, const char *key)
{
    conf_entry *e = conf_find(c, key);
    if (!e)
        return;
    free(e->key);
    free(e->value);
    size_t i = (size_t)(e - c->items);
    memmove(&c->items[i], &c->items[i + 1], (c->n - i - 1) * sizeof *e);
    c->n--;
}

int cs_conf_set(cs_conf *c, const char *key, const char *value, cs_err *err)
{
    if (!key_valid(key, strlen(key)))
        return cs_err_set(err, CS_ECONFIG, "invalid configuration key \"%s\"", key);
    if (strlen(value) >= CS_CONF_MAX_LINE || strchr(value, '\n'))
        return cs_err_set(err, CS_ECONFIG, "value of \"%s\" is too long or has a newline", key);
    conf_entry *e = conf_find(c, key);
    char *v = strdup(value);
    if (!v)
        return cs_err_set(err, CS_ENOMEM, "out of memory");
    if (e) {
        free(e->value);
        e->value = v;
        return 0;
    }
    if (c->n >= CS_CONF_MAX_KEYS) {
        free(v);
        return cs_err_set(err, CS_ETOOBIG, "more than %d configuration keys", CS_CONF_MAX_KEYS);
    }
    conf_entry *items = realloc(c->items, (c->n + 1) * sizeof *items);
    char *k = strdup(key);
    if (!items || !k) {
        if (items)
            c->items = items;
        free(k);
        free(v);
        return cs_err_set(err, CS_ENOMEM, "out of memory");
    }
    c->items = items;
    c->items[c->n].key = k;
    c->items[c->n].value = v;
    c->n++;
    return 0;
}

int cs_conf_parse(cs_conf *c, const char *name, const char *text, size_t len, cs_err *err)
{
    if (len > CS_CONF_MAX_FILE)
        return cs_err_set(err, CS_ETOOBIG, "%s: larger than %d bytes", name, CS_CONF_MAX_FILE);
    size_t pos = 0;
    int lineno = 0;
    char line[CS_CONF_MAX_LINE + 1];
    while (pos < len) {
        lineno++;
        const char *nl = memchr(text + pos, '\n', len - pos);
        size_t ll = nl ? (size_t)(nl - (text + pos)) : len - pos;
        if (ll > CS_CONF_MAX_LINE)
            return cs_err_set(err, CS_ECONFIG, "%s:%d: line longer than %d bytes", name, lineno,
                              CS_CONF_MAX_LINE);
        memcpy(line, text + pos, ll);
        line[ll] = '\0';
        pos += ll + (nl ? 1 : 0);
        if (memchr(line, '\0', ll))
            return cs_err_set(err, CS_ECONFIG, "%s:%d: NUL byte in line", name, lineno);
        char *s = line;
        while (*s == ' ' || *s == '\t')
            s++;
        char *end = s + strlen(s);
        while (end > s && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r'))
            *--end = '\0';
        if (*s == '\0' || *s == '#')
            continue;
        char *eq = strchr(s, '=');
        if (!eq)
            return cs_err_set(err, CS_ECONFIG, "%s:%d: expected \"key = value\"", name, lineno);
        char *kend = eq;
        while (kend > s && (kend[-1] == ' ' || kend[-1] == '\t'))
            kend--;
        *kend = '\0';
        char *v = eq + 1;
        while (*v == ' ' || *v == '\t')
            v++;
        if (!key_valid(s, strlen(s)))
            return cs_err_set(err, CS_ECONFIG, "%s:%d: invalid key \"%s\" (use a-z 0-9 _ . -)",
                              name, lineno, s);
        int rc = cs_conf_set(c, s, v, err);
        if (rc) {
            cs_err_wrap(err, "%s:%d", name, lineno);
            return rc;
        }
    }
    return 0;
}

int cs_conf_load(cs_conf **out, const char *path, cs_err *err)
{
    char *text = NULL;
    size_t len = 0;
    cs_conf *c = NULL;
    int rc = cs_file_read_all(path, CS_CONF_MAX_FILE, &text, &len, err);
    if (rc)
        return rc;
    if (cs_conf_new(&c)) {
        free(text);
        return cs_err_set(err, CS_ENOMEM, "out of memory");
    }
    rc = cs_conf_parse(c, path, text, len, err);
    free(text);
    if (rc) {
        cs_conf_free(c);
        return rc;
    }
    *out = c;
    return 0;
}

int cs_conf_save(const cs_conf *c, const char *path, cs_err *err)
{
    cs_buf b;
    cs_buf_init(&b, CS_CONF_MAX_FILE);
    int rc = cs_buf_printf(&b, "# Cistern node configuration (key = value)\n");
    for (size_t i = 0; rc == 0 && i < c->n; i++)
        rc = cs_buf_printf(&b, "%s = %s\n", c->items[i].key, c->items[i].value);
    if (rc) {
        cs_buf_free(&b);
        return cs_err_set(err, rc, "configuration too large");
    }
    rc = cs_file_write_atomic(path, b.data, b.len, 0600, err);
    cs_buf_free(&b);
    return rc;
}

const char *cs_conf_get(const cs_conf *c, const char *key)
{
    conf_entry *e = c ? conf_find(c, key) : NULL;
    return e ? e->value : NULL;
}

const char *cs_conf_get_str(const cs_conf *c, const char *key, const char *def)
{
    const char *v = cs_conf_get(c, key);
    return v ? v : def;
}

int cs_parse_size(const char *s, uint64_t *out)
{
    if (!s || !isdigit((unsigned char)*s))
        return CS_EINVAL;
    errno = 0;
    char *end;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno)
        return CS_EINVAL;
    unsigned shift = 0;
    switch (*end) {
    case '\0':
        break;
    case 'k':
    case 'K':
        shift = 10;
        end++;
        break;
    case 'm':
    case 'M':
        shift = 20;
        end++;
        break;
    case 'g':
    case 'G':
        shift = 30;
        end++;
        break;
    default:
        return CS_EINVAL;
    }
    if (*end == 'b' || *end == 'B')
        end++;
    if (*end != '\0' || (shift && v > (UINT64_MAX >> shift)))
        return CS_EINVAL;
    *out = (uint64_t)v << shift;
    return 0;
}

int cs_conf_get_size(const cs_conf *c, const char *key, uint64_t def, uint64_t *out, cs_err *err)
{
    const char *v = cs_conf_get(c, key);
    if (!v) {
        *out = def;
        return 0;
    }
    if (cs_parse_size(v, out) != 0)
        return cs_err_set(err, CS_ECONFIG, "%s = %s: expected a size like 256k, 10m or 2g", key, v);
    return 0;
}

int cs_conf_get_int(const cs_conf *c, const char *key, int64_t def, int64_t *out, cs_err *err)
{
    const char *v = cs_conf_get(c, key);
    if (!v) {
        *out = def;
        return 0;
    }
    errno = 0;
    char *end;
    long long x = strtoll(v, &end, 10);
    if (errno || end == v || *end)
        return cs_err_set(err, CS_ECONFIG, "%s = %s: expected an integer", key, v);
    *out = x;
    return 0;
}

size_t cs_conf_count(const cs_conf *c)
{
    return c ? c->n : 0;
}

void cs_conf_at(const cs_conf *c, size_t i, const char **key, const char **value)
{
    *key = c->items[i].key;
    *value = c->items[i].value;
}
