/*
 * csvcat.c - catalog.csv: a spreadsheet of resources (see csvcat.h).
 */
#include "sync/csvcat.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "content/resource.h"

static void col_name(size_t i, char out[8]);

/* ---- RFC 4180 records ---- */

typedef struct csv_reader {
    const char *p, *end;
    size_t row; /* 1-based row number of the record last read */
    char *field;
    size_t flen, fcap;
} csv_reader;

static int field_put(csv_reader *r, char c, cs_err *err)
{
    if (r->flen + 1 >= SYNC_CSV_MAX_FIELD)
        return cs_err_set(err, CS_ETOOBIG, "catalog.csv row %zu: a cell over %u bytes", r->row, SYNC_CSV_MAX_FIELD);
    if (r->flen + 1 >= r->fcap) {
        size_t cap = r->fcap ? r->fcap * 2 : 256;
        char *f = realloc(r->field, cap);
        if (!f)
            return cs_err_set(err, CS_ENOMEM, "out of memory");
        r->field = f;
        r->fcap = cap;
    }
    r->field[r->flen++] = c;
    r->field[r->flen] = 0;
    return 0;
}

/* One record into cells (a JSON array of strings); *done at the end. */
static int csv_record(csv_reader *r, json_t **cells, int *done, cs_err *err)
{
    json_t *row = json_array();
    int rc = 0;
    *done = r->p >= r->end;
    if (*done) {
        json_decref(row);
        return 0;
    }
    r->row++;
    for (;;) {
        int quoted = 0;
        r->flen = 0;
        if (r->field)
            r->field[0] = 0;
        if (r->p < r->end && *r->p == '"') {
            quoted = 1;
            r->p++;
        }
        while (r->p < r->end) {
            char c = *r->p;
            if (quoted) {
                if (c == '"') {
                    if (r->p + 1 < r->end && r->p[1] == '"') {
                        r->p += 2;
                        if ((rc = field_put(r, '"', err)) != 0)
                            goto out;
                        continue;
                    }
                    r->p++;
                    quoted = 0;
                    if (r->p < r->end && *r->p != ',' && *r->p != '\n' && *r->p != '\r') {
                        char col[8];
                        col_name(json_array_size(row), col);
                        rc = cs_err_set(err, CS_EFORMAT, "catalog.csv row %zu, column %s: text after a closing quote",
                                        r->row, col);
                        goto out;
                    }
                    continue;
                }
                r->p++;
                if ((rc = field_put(r, c, err)) != 0)
                    goto out;
                continue;
            }
            if (c == ',' || c == '\n' || c == '\r')
                break;
            if (c == '"') {
                char col[8];
                col_name(json_array_size(row), col);
                rc = cs_err_set(err, CS_EFORMAT, "catalog.csv row %zu, column %s: a quote inside an unquoted cell",
                                r->row, col);
                goto out;
            }
            r->p++;
            if ((rc = field_put(r, c, err)) != 0)
                goto out;
        }
        if (quoted) {
            rc = cs_err_set(err, CS_EFORMAT, "catalog.csv row %zu: a quoted cell is never closed", r->row);
            goto out;
        }
        json_t *cell = json_stringn(r->field ? r->field : "", r->flen);
        if (!cell) {
            char col[8];
            col_name(json_array_size(row), col);
            rc = cs_err_set(err, CS_EFORMAT, "catalog.csv row %zu, column %s: not UTF-8 text", r->row, col);
            goto out;
        }
        if (json_array_size(row) >= SYNC_CSV_MAX_COLUMNS) {
            json_decref(cell);
            rc = cs_err_set(err, CS_ETOOBIG, "catalog.csv row %zu: more than %d columns", r->row, SYNC_CSV_MAX_COLUMNS);
            goto out;
        }
        json_array_append_new(row, cell);
        if (r->p >= r->end)
            break;
        if (*r->p == ',') {
            r->p++;
            continue;
        }
        /* end of line: \n, \r\n or \r */
        if (*r->p == '\r')
            r->p++;
        if (r->p < r->end && *r->p == '\n')
            r->p++;
        break;
    }
    *cells = row;
    return 0;
out:
    json_decref(row);
    return rc;
}

/* ---- cells to resource.json fields ---- */

static void col_name(size_t i, char out[8])
{
    /* A, B, ..., Z, AA, AB, ... as a spreadsheet shows them */
    char tmp[8];
    int n = 0;
    i++;
    while (i > 0 && n < 7) {
        i--;
        tmp[n++] = (char)('A' + i % 26);
        i /= 26;
    }
    for (int k = 0; k < n; k++)
        out[k] = tmp[n - 1 - k];
    out[n] = 0;
}

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
        s[--n] = 0;
    return s;
}

static int all_digits(const char *s)
{
    if (!*s || strlen(s) > 9)
        return 0;
    for (; *s; s++)
        if (!isdigit((unsigned char)*s))
            return 0;
    return 1;
}

/* "3;4", "3-5", "3,4" into [3,4,5]. */
static json_t *grades_of(const char *cell)
{
    json_t *a = json_array();
    char buf[512];
    snprintf(buf, sizeof buf, "%s", cell);
    for (char *save = NULL, *t = strtok_r(buf, ";,", &save); t; t = strtok_r(NULL, ";,", &save)) {
        t = trim(t);
        char *dash = strchr(t, '-');
        if (dash) {
            *dash = 0;
            char *a1 = trim(t), *b1 = trim(dash + 1);
            if (!all_digits(a1) || !all_digits(b1) || atoi(a1) > atoi(b1) || atoi(b1) - atoi(a1) > 20) {
                json_decref(a);
                return NULL;
            }
            for (int g = atoi(a1); g <= atoi(b1); g++)
                json_array_append_new(a, json_integer(g));
        } else if (all_digits(t)) {
            json_array_append_new(a, json_integer(atoi(t)));
        } else {
            json_decref(a);
            return NULL;
        }
    }
    if (json_array_size(a) == 0) {
        json_decref(a);
        return NULL;
    }
    return a;
}

static json_t *list_of(const char *cell)
{
    json_t *a = json_array();
    size_t n = strlen(cell);
    char *buf = malloc(n + 1);
    if (!buf) {
        json_decref(a);
        return NULL;
    }
    memcpy(buf, cell, n + 1);
    for (char *save = NULL, *t = strtok_r(buf, ";", &save); t; t = strtok_r(NULL, ";", &save)) {
        t = trim(t);
        if (*t)
            json_array_append_new(a, json_string(t));
    }
    free(buf);
    return a;
}

/* The column of a field, for an error message about it. */
static void field_col(const json_t *header, const char *field, char out[48])
{
    size_t i;
    json_t *h;
    snprintf(out, 48, "?");
    json_array_foreach(header, i, h)
    {
        const char *name = json_string_value(h);
        size_t fl = strlen(field);
        if (strcmp(name, field) == 0 || (strncmp(name, field, fl) == 0 && name[fl] == '.')) {
            char c[8];
            col_name(i, c);
            snprintf(out, 48, "%s (%s)", c, name);
            return;
        }
    }
}

static int row_meta(const json_t *header, const json_t *cells, size_t row, json_t **out_meta, char *folder,
                    size_t fcap, cs_err *err)
{
    json_t *meta = json_object();
    size_t i;
    json_t *h;
    int rc = 0;
    folder[0] = 0;
    const char *lang = NULL;
    /* The row's language first: plain "title"/"description" are in it. */
    json_array_foreach(header, i, h) if (strcmp(json_string_value(h), "language") == 0 && i < json_array_size(cells))
        lang = json_string_value(json_array_get(cells, i));
    json_array_foreach(header, i, h)
    {
        const char *name = json_string_value(h);
        char col[8];
        col_name(i, col);
        const char *raw = i < json_array_size(cells) ? json_string_value(json_array_get(cells, i)) : "";
        char *cellbuf = strdup(raw);
        if (!cellbuf) {
            rc = cs_err_set(err, CS_ENOMEM, "out of memory");
            break;
        }
        char *cell = trim(cellbuf);
        if (!*cell) {
            free(cellbuf);
            continue;
        }
        const char *dot = strchr(name, '.');
        if (strcmp(name, "folder") == 0) {
            snprintf(folder, fcap, "%s", cell);
        } else if (dot && (strncmp(name, "title.", 6) == 0 || strncmp(name, "description.", 12) == 0)) {
            char field[16];
            snprintf(field, sizeof field, "%.*s", (int)(dot - name), name);
            json_t *o = json_object_get(meta, field);
            if (!o) {
                o = json_object();
                json_object_set_new(meta, field, o);
            }
            json_object_set_new(o, dot + 1, json_string(cell));
        } else if (strcmp(name, "title") == 0 || strcmp(name, "description") == 0) {
            json_t *o = json_object_get(meta, name);
            if (!o) {
                o = json_object();
                json_object_set_new(meta, name, o);
            }
            json_object_set_new(o, lang && *lang ? lang : "und", json_string(cell));
        } else if (strcmp(name, "grades") == 0) {
            json_t *g = grades_of(cell);
            if (!g) {
                rc = cs_err_set(err, CS_EFORMAT,
                                "catalog.csv row %zu, column %s (grades): \"%s\" is not a list of grades (3;4 or 3-5)",
                                row, col, cell);
                free(cellbuf);
                break;
            }
            json_object_set_new(meta, "grades", g);
        } else if (strcmp(name, "keywords") == 0 || strcmp(name, "prerequisites") == 0) {
            json_object_set_new(meta, name, list_of(cell));
        } else if ((strcmp(name, "unit") == 0 || strcmp(name, "volume") == 0 || strcmp(name, "edition") == 0) &&
                   all_digits(cell)) {
            json_object_set_new(meta, name, json_integer(atoi(cell)));
        } else {
            json_object_set_new(meta, name, json_string(cell));
        }
        free(cellbuf);
    }
    if (rc == 0 && (rc = content_resource_validate(meta, err)) != 0) {
        /* Which column: the field's name leads the validator's message. */
        char col[48], field[64] = "";
        if (sscanf(err->msg, "field \"%63[^\"]\"", field) == 1)
            field_col(header, field, col);
        else
            snprintf(col, sizeof col, "?");
        char msg[CS_ERR_MSG_MAX];
        snprintf(msg, sizeof msg, "%s", err->msg);
        cs_err_set(err, rc, "catalog.csv row %zu, column %s: %s", row, col, msg);
    }
    if (rc == 0 && !folder[0])
        snprintf(folder, fcap, "%s", json_string_value(json_object_get(meta, "id")));
    if (rc != 0) {
        json_decref(meta);
        return rc;
    }
    *out_meta = meta;
    return 0;
}

int sync_csv_catalog_parse(const char *text, size_t len, json_t **out, cs_err *err)
{
    csv_reader r;
    json_t *header = NULL, *cells = NULL, *by_folder = json_object();
    int done = 0, rc;
    memset(&r, 0, sizeof r);
    if (len > SYNC_CSV_MAX_BYTES) {
        json_decref(by_folder);
        return cs_err_set(err, CS_ETOOBIG, "catalog.csv: over %u bytes", SYNC_CSV_MAX_BYTES);
    }
    r.p = text;
    r.end = text + len;
    if (len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0)
        r.p += 3;
    if ((rc = csv_record(&r, &header, &done, err)) != 0)
        goto out;
    if (done || !header) {
        rc = cs_err_set(err, CS_EFORMAT, "catalog.csv: empty (the first row names the columns)");
        goto out;
    }
    /* Column names: known, unique, and an id. */
    size_t i, j;
    json_t *h, *h2;
    int have_id = 0;
    json_array_foreach(header, i, h)
    {
        char *name = strdup(json_string_value(h)), *t = trim(name);
        json_array_set_new(header, i, json_string(t));
        free(name);
        const char *n = json_string_value(json_array_get(header, i));
        char col[8];
        col_name(i, col);
        if (!*n) {
            rc = cs_err_set(err, CS_EFORMAT, "catalog.csv row 1, column %s: a column without a name", col);
            goto out;
        }
        have_id |= strcmp(n, "id") == 0;
        json_array_foreach(header, j, h2) if (j < i && strcmp(json_string_value(h2), n) == 0)
        {
            rc = cs_err_set(err, CS_EFORMAT, "catalog.csv row 1, column %s: \"%s\" twice", col, n);
            goto out;
        }
    }
    if (!have_id) {
        rc = cs_err_set(err, CS_EFORMAT, "catalog.csv row 1: no \"id\" column");
        goto out;
    }
    for (;;) {
        if ((rc = csv_record(&r, &cells, &done, err)) != 0)
            goto out;
        if (done)
            break;
        size_t row = r.row;
        /* A blank line is no resource. */
        int blank = 1;
        json_array_foreach(cells, i, h) if (json_string_length(h))
            blank = 0;
        if (blank) {
            json_decref(cells);
            cells = NULL;
            continue;
        }
        if (json_object_size(by_folder) >= SYNC_CSV_MAX_ROWS) {
            rc = cs_err_set(err, CS_ETOOBIG, "catalog.csv: more than %d rows", SYNC_CSV_MAX_ROWS);
            goto out;
        }
        if (json_array_size(cells) > json_array_size(header)) {
            char col[8];
            col_name(json_array_size(header), col);
            rc = cs_err_set(err, CS_EFORMAT, "catalog.csv row %zu, column %s: more cells than the header names", row,
                            col);
            goto out;
        }
        json_t *meta = NULL;
        char folder[256];
        if ((rc = row_meta(header, cells, row, &meta, folder, sizeof folder, err)) != 0)
            goto out;
        json_decref(cells);
        cells = NULL;
        json_t *prev = json_object_get(by_folder, folder);
        if (prev) {
            char col[48];
            field_col(header, "id", col);
            rc = cs_err_set(err, CS_EFORMAT, "catalog.csv row %zu, column %s: \"%s\" is also row %lld", row, col,
                            folder, (long long)json_integer_value(json_object_get(prev, "row")));
            json_decref(meta);
            goto out;
        }
        json_object_set_new(by_folder, folder, json_pack("{s:I,s:o}", "row", (json_int_t)row, "meta", meta));
    }
    *out = by_folder;
    by_folder = NULL;
out:
    json_decref(header);
    json_decref(cells);
    json_decref(by_folder);
    free(r.field);
    return rc;
}
