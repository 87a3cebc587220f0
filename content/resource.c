/*
 * resource.c - resource.json parsing and validation, ids, paths, MIME types.
 *
 * Everything here reads outside bytes: sizes are checked before parsing and
 * every array and string has a cap (see resource.h).  Messages name the
 * field and the reason, e.g. `field "grades": element 2 is not an integer in
 * 0..13` (elements are counted from 0).
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "content/resource.h"

#define LANGS_MAX 64
#define TITLE_MAX 4096
#define DESCRIPTION_MAX (64 * 1024)
#define KEYWORDS_MAX 256
#define KEYWORD_MAX 1024
#define PREREQS_MAX 256
#define GRADES_MAX 64
#define SHORT_MAX 1024 /* subject, license, publisher, edition, volume, unit */
#define LANGTAG_MAX 35

static const char *const resource_types[] = {"video", "audio",    "document",
                                             "html",  "exercise", "image"};

/* 1 if s[0..n) is well-formed UTF-8 with no control characters. */
static int utf8_clean(const unsigned char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        unsigned c = s[i];
        size_t len;
        unsigned long v, min;
        if (c < 0x80) {
            if (c < 0x20 || c == 0x7f)
                return 0;
            i++;
            continue;
        }
        if ((c & 0xE0) == 0xC0) {
            len = 2, v = c & 0x1F, min = 0x80;
        } else if ((c & 0xF0) == 0xE0) {
            len = 3, v = c & 0x0F, min = 0x800;
        } else if ((c & 0xF8) == 0xF0) {
            len = 4, v = c & 0x07, min = 0x10000;
        } else {
            return 0;
        }
        if (len > n - i)
            return 0;
        for (size_t k = 1; k < len; k++) {
            if ((s[i + k] & 0xC0) != 0x80)
                return 0;
            v = (v << 6) | (s[i + k] & 0x3F);
        }
        if (v < min || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF) || (v >= 0x80 && v < 0xA0))
            return 0;
        i += len;
    }
    return 1;
}

int content_id_valid(const char *s)
{
    size_t n;
    if (!s || !s[0] || s[0] == '.')
        return 0;
    for (n = 0; s[n]; n++) {
        char c = s[n];
        if (n >= CONTENT_ID_MAX)
            return 0;
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-'))
            return 0;
    }
    return 1;
}

int content_path_valid(const char *s)
{
    size_t n, seg = 0;
    if (!s || !s[0] || s[0] == '/')
        return 0;
    n = strnlen(s, CONTENT_PATH_MAX + 1);
    if (n > CONTENT_PATH_MAX)
        return 0;
    if (memchr(s, '\\', n) || !utf8_clean((const unsigned char *)s, n))
        return 0;
    for (size_t i = 0; i <= n; i++) {
        if (i < n && s[i] != '/')
            continue;
        size_t len = i - seg;
        if (len == 0)
            return 0; /* "a//b" or a trailing '/' */
        if (s[seg] == '.' && (len == 1 || (len == 2 && s[seg + 1] == '.')))
            return 0;
        seg = i + 1;
    }
    return 1;
}

static const struct {
    const char *ext;
    const char *mime;
} mime_table[] = {
    {"html", "text/html; charset=utf-8"},
    {"htm", "text/html; charset=utf-8"},
    {"css", "text/css; charset=utf-8"},
    {"js", "text/javascript; charset=utf-8"},
    {"mjs", "text/javascript; charset=utf-8"},
    {"json", "application/json"},
    {"svg", "image/svg+xml"},
    {"png", "image/png"},
    {"jpg", "image/jpeg"},
    {"jpeg", "image/jpeg"},
    {"gif", "image/gif"},
    {"webp", "image/webp"},
    {"ico", "image/vnd.microsoft.icon"},
    {"pdf", "application/pdf"},
    {"mp3", "audio/mpeg"},
    {"ogg", "audio/ogg"},
    {"oga", "audio/ogg"},
    {"opus", "audio/ogg"},
    {"wav", "audio/wav"},
    {"m4a", "audio/mp4"},
    {"mp4", "video/mp4"},
    {"m4v", "video/mp4"},
    {"webm", "video/webm"},
    {"ogv", "video/ogg"},
    {"txt", "text/plain; charset=utf-8"},
    {"xml", "application/xml"},
    {"epub", "application/epub+zip"},
    {"zip", "application/zip"},
    {"woff", "font/woff"},
    {"woff2", "font/woff2"},
    {"ttf", "font/ttf"},
    {"vtt", "text/vtt; charset=utf-8"},
    {"csv", "text/csv; charset=utf-8"},
};

const char *content_mime_guess(const char *path)
{
    const char *slash, *dot;
    if (!path)
        return "application/octet-stream";
    slash = strrchr(path, '/');
    dot = strrchr(slash ? slash + 1 : path, '.');
    if (dot && dot[1]) {
        for (size_t i = 0; i < sizeof mime_table / sizeof mime_table[0]; i++)
            if (strcasecmp(dot + 1, mime_table[i].ext) == 0)
                return mime_table[i].mime;
    }
    return "application/octet-stream";
}

void content_mime_lower(char *mime)
{
    for (char *p = mime; p && *p && *p != ';'; p++)
        if (*p >= 'A' && *p <= 'Z')
            *p = (char)(*p - 'A' + 'a');
}

/* A BCP-47-shaped tag: 1..35 of [A-Za-z0-9-], starting with a letter. */
static int langtag_valid(const char *s)
{
    size_t n;
    if (!s || !((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z')))
        return 0;
    for (n = 0; s[n]; n++) {
        char c = s[n];
        if (n >= LANGTAG_MAX)
            return 0;
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '-'))
            return 0;
    }
    return 1;
}

/* The string value of v if it is a string without embedded NUL, else NULL. */
static const char *str_of(const json_t *v)
{
    if (!json_is_string(v))
        return NULL;
    const char *s = json_string_value(v);
    if (strlen(s) != json_string_length(v))
        return NULL;
    return s;
}

static int check_string(const json_t *meta, const char *field, int required, size_t max,
                        cs_err *err)
{
    const json_t *v = json_object_get(meta, field);
    if (!v)
        return required ? cs_err_set(err, CS_EFORMAT, "field \"%s\": missing", field) : 0;
    if (!str_of(v))
        return cs_err_set(err, CS_EFORMAT, "field \"%s\": not a string", field);
    if (json_string_length(v) > max)
        return cs_err_set(err, CS_EFORMAT, "field \"%s\": longer than %zu bytes", field, max);
    return 0;
}

static int check_string_or_int(const json_t *meta, const char *field, cs_err *err)
{
    const json_t *v = json_object_get(meta, field);
    if (!v || json_is_integer(v))
        return 0;
    if (!str_of(v))
        return cs_err_set(err, CS_EFORMAT, "field \"%s\": not a string or an integer", field);
    if (json_string_length(v) > SHORT_MAX)
        return cs_err_set(err, CS_EFORMAT, "field \"%s\": longer than %d bytes", field, SHORT_MAX);
    return 0;
}

static int check_multilingual(const json_t *meta, const char *field, int required, size_t max,
                              cs_err *err)
{
    const json_t *v = json_object_get(meta, field);
    const char *lang;
    json_t *text;
    if (!v)
        return required ? cs_err_set(err, CS_EFORMAT, "field \"%s\": missing", field) : 0;
    if (!json_is_object(v))
        return cs_err_set(err, CS_EFORMAT, "field \"%s\": not an object of language to text",
                          field);
    if (required && json_object_size(v) == 0)
        return cs_err_set(err, CS_EFORMAT, "field \"%s\": has no language", field);
    if (json_object_size(v) > LANGS_MAX)
        return cs_err_set(err, CS_EFORMAT, "field \"%s\": more than %d languages", field,
                          LANGS_MAX);
    json_object_foreach((json_t *)v, lang, text)
    {
        if (!langtag_valid(lang))
            return cs_err_set(err, CS_EFORMAT, "field \"%s\": \"%.40s\" is not a language tag",
                              field, lang);
        if (!str_of(text))
            return cs_err_set(err, CS_EFORMAT, "field \"%s\": \"%s\" is not a string", field, lang);
        if (json_string_length(text) > max)
            return cs_err_set(err, CS_EFORMAT, "field \"%s\": \"%s\" is longer than %zu bytes",
                              field, lang, max);
    }
    return 0;
}

static int check_grades(const json_t *meta, cs_err *err)
{
    const json_t *v = json_object_get(meta, "grades");
    size_t i;
    json_t *g;
    if (!v)
        return 0;
    if (!json_is_array(v))
        return cs_err_set(err, CS_EFORMAT, "field \"grades\": not an array");
    if (json_array_size(v) > GRADES_MAX)
        return cs_err_set(err, CS_EFORMAT, "field \"grades\": more than %d elements", GRADES_MAX);
    json_array_foreach(v, i, g)
    {
        if (!json_is_integer(g) || json_integer_value(g) < 0 || json_integer_value(g) > 13)
            return cs_err_set(err, CS_EFORMAT,
                              "field \"grades\": element %zu is not an integer in 0..13", i);
    }
    return 0;
}

static int check_keywords(const json_t *meta, cs_err *err)
{
    const json_t *v = json_object_get(meta, "keywords");
    size_t i;
    json_t *k;
    if (!v)
        return 0;
    if (!json_is_array(v))
        return cs_err_set(err, CS_EFORMAT, "field \"keywords\": not an array");
    if (json_array_size(v) > KEYWORDS_MAX)
        return cs_err_set(err, CS_EFORMAT, "field \"keywords\": more than %d elements",
                          KEYWORDS_MAX);
    json_array_foreach(v, i, k)
    {
        if (!str_of(k))
            return cs_err_set(err, CS_EFORMAT, "field \"keywords\": element %zu is not a string",
                              i);
        if (json_string_length(k) > KEYWORD_MAX)
            return cs_err_set(err, CS_EFORMAT,
                              "field \"keywords\": element %zu is longer than %d bytes", i,
                              KEYWORD_MAX);
    }
    return 0;
}

static int check_prerequisites(const json_t *meta, cs_err *err)
{
    const json_t *v = json_object_get(meta, "prerequisites");
    size_t i;
    json_t *p;
    if (!v)
        return 0;
    if (!json_is_array(v))
        return cs_err_set(err, CS_EFORMAT, "field \"prerequisites\": not an array");
    if (json_array_size(v) > PREREQS_MAX)
        return cs_err_set(err, CS_EFORMAT, "field \"prerequisites\": more than %d elements",
                          PREREQS_MAX);
    json_array_foreach(v, i, p)
    {
        if (!content_id_valid(str_of(p)))
            return cs_err_set(err, CS_EFORMAT,
                              "field \"prerequisites\": element %zu is not a resource id", i);
    }
    return 0;
}

int content_resource_validate(const json_t *meta, cs_err *err)
{
    const json_t *v;
    const char *s;
    int rc;

    if (!json_is_object(meta))
        return cs_err_set(err, CS_EFORMAT, "resource.json: not a JSON object");

    v = json_object_get(meta, "id");
    if (!v)
        return cs_err_set(err, CS_EFORMAT, "field \"id\": missing");
    if (!content_id_valid(str_of(v)))
        return cs_err_set(err, CS_EFORMAT,
                          "field \"id\": not 1..%d characters of [A-Za-z0-9._-] "
                          "not starting with '.'",
                          CONTENT_ID_MAX);

    if ((rc = check_multilingual(meta, "title", 1, TITLE_MAX, err)) != 0 ||
        (rc = check_multilingual(meta, "description", 0, DESCRIPTION_MAX, err)) != 0)
        return rc;

    v = json_object_get(meta, "language");
    if (!v)
        return cs_err_set(err, CS_EFORMAT, "field \"language\": missing");
    if (!langtag_valid(str_of(v)))
        return cs_err_set(err, CS_EFORMAT, "field \"language\": not a language tag");

    if ((rc = check_string(meta, "subject", 0, SHORT_MAX, err)) != 0 ||
        (rc = check_grades(meta, err)) != 0 ||
        (rc = check_string_or_int(meta, "edition", err)) != 0 ||
        (rc = check_string_or_int(meta, "volume", err)) != 0 ||
        (rc = check_string_or_int(meta, "unit", err)) != 0)
        return rc;

    v = json_object_get(meta, "type");
    if (!v)
        return cs_err_set(err, CS_EFORMAT, "field \"type\": missing");
    s = str_of(v);
    rc = CS_EFORMAT;
    for (size_t i = 0; s && i < sizeof resource_types / sizeof resource_types[0]; i++)
        if (strcmp(s, resource_types[i]) == 0)
            rc = 0;
    if (rc != 0)
        return cs_err_set(err, CS_EFORMAT,
                          "field \"type\": not one of video, audio, document, html, exercise, "
                          "image");

    v = json_object_get(meta, "entry");
    if (!v)
        return cs_err_set(err, CS_EFORMAT, "field \"entry\": missing");
    if (!content_path_valid(str_of(v)))
        return cs_err_set(err, CS_EFORMAT, "field \"entry\": not a safe relative path");

    if ((rc = check_string(meta, "license", 0, SHORT_MAX, err)) != 0 ||
        (rc = check_string(meta, "publisher", 0, SHORT_MAX, err)) != 0 ||
        (rc = check_keywords(meta, err)) != 0 || (rc = check_prerequisites(meta, err)) != 0)
        return rc;
    return 0;
}

int content_resource_parse_json(json_t **out, const char *text, size_t len, cs_err *err)
{
    json_error_t jerr;
    json_t *root = NULL;
    int rc;

    if (!out || (!text && len))
        return cs_err_set(err, CS_EINVAL, "resource.json: no input");
    if (len > CONTENT_RESOURCE_JSON_MAX)
        return cs_err_set(err, CS_ETOOBIG, "resource.json: %zu bytes, more than the %d allowed",
                          len, CONTENT_RESOURCE_JSON_MAX);
    root = json_loadb(text ? text : "", len, JSON_REJECT_DUPLICATES, &jerr);
    if (!root) {
        rc = cs_err_set(err, CS_EFORMAT, "resource.json: line %d column %d: %s", jerr.line,
                        jerr.column, jerr.text);
        goto out;
    }
    if (!json_is_object(root)) {
        rc = cs_err_set(err, CS_EFORMAT, "resource.json: top level is not an object");
        goto out;
    }
    rc = content_resource_validate(root, err);
    if (rc != 0)
        goto out;
    *out = root;
    root = NULL;
out:
    json_decref(root);
    return rc;
}

void content_file_clear(content_file *f)
{
    if (!f)
        return;
    free(f->path);
    free(f->mime);
    f->path = NULL;
    f->mime = NULL;
}

void content_resource_free(content_resource *r)
{
    if (!r)
        return;
    for (size_t i = 0; r->files && i < r->nfiles; i++)
        content_file_clear(&r->files[i]);
    free(r->files);
    free(r->id);
    json_decref(r->meta);
    free(r);
}
