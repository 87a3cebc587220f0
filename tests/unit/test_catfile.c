/*
 * test_catfile.c - catalogue files (sync/catfile.h): writer/reader round
 * trips, records <-> resources, hostile inputs (truncation at every length,
 * damaged header fields, inconsistent counts, malformed records), and
 * applying full and delta files to a real catalogue.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>

#include "content/catalog.h"
#include "content/object.h"
#include "content/resource.h"
#include "platform/buf.h"
#include "sync/catfile.h"
#include "test.h"

/* ---- building blocks ---- */

typedef struct fspec {
    const char *path;
    uint64_t size;
    uint8_t obj; /* every byte of the object id */
} fspec;

/* A resource whose resource.json carries fields this code does not know. */
static content_resource *mkres(const char *id, const char *title, const char *entry,
                               const fspec *fs, size_t n)
{
    content_resource *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    r->id = strdup(id);
    r->meta =
        json_pack("{s:s,s:{s:s,s:s},s:s,s:s,s:s,s:[i,i],s:{s:[i,s,n,b]},s:s}", "id", id, "title",
                  "en", title, "zh", "标题", "language", "en", "type", "html", "entry", entry,
                  "grades", 3, 4, "x-future", "nested", 1, "two", 1, "x-note", "keep me");
    r->files = calloc(n + 1, sizeof *r->files);
    for (size_t i = 0; i < n; i++) {
        content_file *f = &r->files[i];
        f->path = strdup(fs[i].path);
        f->mime = strdup("text/html; charset=utf-8");
        f->size = fs[i].size;
        memset(f->object, fs[i].obj, 32);
        f->enc_len = content_obj_bound(fs[i].size);
    }
    r->nfiles = n;
    return r;
}

static char *record_of(content_resource *r, size_t *len)
{
    char *line = NULL;
    size_t l = 0;
    cs_err err = {0};
    if (!r || sync_resource_to_record(r, &line, &l, &err) != 0) {
        fprintf(stderr, "record: %s\n", err.msg);
        content_resource_free(r);
        return NULL;
    }
    content_resource_free(r);
    if (len)
        *len = l;
    return line;
}

/* A put record for a one-file resource. */
static char *put_line(const char *id, const char *title, uint8_t obj)
{
    fspec fs[] = {{"index.html", 1000, obj}};
    return record_of(mkres(id, title, "index.html", fs, 1), NULL);
}

static char *del_line(const char *id)
{
    json_t *j = json_pack("{s:s,s:s}", "op", "del", "id", id);
    char *s = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(j);
    return s;
}

/* Catalogue file from lines (NULL-terminated) with the writer. */
static uint8_t *write_cat(uint64_t from, uint64_t to, uint32_t flags, char **lines, size_t *len)
{
    sync_catfile_writer *w = NULL;
    uint8_t *out = NULL;
    cs_err err = {0};
    if (sync_catfile_writer_new(&w, from, to, flags) != 0)
        return NULL;
    for (size_t i = 0; lines[i]; i++)
        if (sync_catfile_writer_add(w, lines[i], strlen(lines[i]), &err) != 0) {
            fprintf(stderr, "writer: %s\n", err.msg);
            sync_catfile_writer_free(w);
            return NULL;
        }
    if (sync_catfile_writer_finish(w, 3, &out, len, &err) != 0)
        fprintf(stderr, "writer: %s\n", err.msg);
    sync_catfile_writer_free(w);
    return out;
}

static void free_lines(char **lines)
{
    for (size_t i = 0; lines[i]; i++)
        free(lines[i]);
}

/* A catalogue file built by hand around any payload; declared_len < 0 means
 * the payload's real length. */
static uint8_t *make_cat(uint64_t from, uint64_t to, uint32_t flags, uint32_t records,
                         int64_t declared_len, const char *payload, size_t plen, size_t *out_len)
{
    size_t bound = ZSTD_compressBound(plen);
    uint8_t *buf = malloc(CATFILE_HDR + bound);
    if (!buf)
        return NULL;
    memcpy(buf, CATFILE_MAGIC, 4);
    cs_put_u32(buf + 4, 1);
    cs_put_u64(buf + 8, from);
    cs_put_u64(buf + 16, to);
    cs_put_u32(buf + 24, records);
    cs_put_u32(buf + 28, flags);
    cs_put_u64(buf + 32, declared_len < 0 ? plen : (uint64_t)declared_len);
    size_t n = ZSTD_compress(buf + CATFILE_HDR, bound, payload, plen, 3);
    if (ZSTD_isError(n)) {
        free(buf);
        return NULL;
    }
    *out_len = CATFILE_HDR + n;
    return buf;
}

typedef struct collect {
    json_t *recs;    /* array of copies */
    int stop_at;     /* return CS_EINTERRUPTED at this record (1-based), 0 = never */
    int to_resource; /* also run sync_record_to_resource on puts */
    int resources_ok;
} collect;

static int collect_cb(void *ctx, json_t *rec, cs_err *err)
{
    collect *c = ctx;
    json_array_append(c->recs, rec);
    if (c->to_resource) {
        const char *op = json_string_value(json_object_get(rec, "op"));
        if (op && strcmp(op, "put") == 0) {
            content_resource *r = NULL;
            if (sync_record_to_resource(rec, &r, NULL) == 0)
                c->resources_ok++;
            content_resource_free(r);
        }
    }
    if (c->stop_at && (int)json_array_size(c->recs) == c->stop_at)
        return cs_err_set(err, CS_EINTERRUPTED, "stop");
    return 0;
}

static int read_count(const uint8_t *data, size_t len, sync_catfile_header *h, cs_err *err,
                      size_t *nrec)
{
    collect c = {json_array(), 0, 1, 0};
    int rc = sync_catfile_read(data, len, h, collect_cb, &c, err);
    if (nrec)
        *nrec = json_array_size(c.recs);
    json_decref(c.recs);
    return rc;
}

/* ---- round trips ---- */

static void test_writer_reader(void)
{
    char *lines[] = {put_line("alpha", "Alpha", 0xa1), put_line("beta", "Beta", 0xb1),
                     del_line("gamma"), NULL};
    REQUIRE(lines[0] && lines[1] && lines[2]);
    size_t payload = 0;
    for (int i = 0; lines[i]; i++)
        payload += strlen(lines[i]) + 1;

    size_t len = 0;
    uint8_t *cat = write_cat(0, 5, CATFILE_FULL, lines, &len);
    REQUIRE(cat != NULL);
    CHECK(memcmp(cat, "CSCT", 4) == 0);
    sync_catfile_header h;
    memset(&h, 0, sizeof h);
    cs_err err = {0};
    CHECK_EQ_INT(sync_catfile_header_parse(&h, cat, len, &err), 0);
    CHECK_EQ_INT(h.format, 1);
    CHECK_EQ_INT(h.from_version, 0);
    CHECK_EQ_INT(h.to_version, 5);
    CHECK_EQ_INT(h.records, 3);
    CHECK_EQ_INT(h.flags, CATFILE_FULL);
    CHECK_EQ_INT(h.payload_len, payload);

    collect c = {json_array(), 0, 1, 0};
    memset(&h, 0, sizeof h);
    int rc = sync_catfile_read(cat, len, &h, collect_cb, &c, &err);
    if (rc)
        fprintf(stderr, "read: %s\n", err.msg);
    CHECK_EQ_INT(rc, 0);
    CHECK_EQ_INT(h.to_version, 5);
    CHECK_EQ_INT(h.records, 3);
    CHECK_EQ_INT(json_array_size(c.recs), 3);
    CHECK_EQ_INT(c.resources_ok, 2);
    for (size_t i = 0; i < 3 && i < json_array_size(c.recs); i++) {
        json_t *want = json_loads(lines[i], 0, NULL);
        CHECK(json_equal(want, json_array_get(c.recs, i)));
        json_decref(want);
    }
    CHECK_STR(json_string_value(json_object_get(json_array_get(c.recs, 2), "op")), "del");
    json_decref(c.recs);

    /* Without a callback or header out-parameter. */
    CHECK_EQ_INT(sync_catfile_read(cat, len, NULL, NULL, NULL, &err), 0);
    /* A callback error stops the read and comes back. */
    collect stop = {json_array(), 2, 0, 0};
    CHECK_EQ_INT(sync_catfile_read(cat, len, NULL, collect_cb, &stop, &err), CS_EINTERRUPTED);
    CHECK_EQ_INT(json_array_size(stop.recs), 2);
    json_decref(stop.recs);
    free(cat);

    /* A delta, and an empty catalogue. */
    cat = write_cat(4, 5, 0, lines, &len);
    REQUIRE(cat != NULL);
    CHECK_EQ_INT(read_count(cat, len, &h, &err, NULL), 0);
    CHECK_EQ_INT(h.from_version, 4);
    CHECK_EQ_INT(h.flags, 0);
    free(cat);
    char *none[] = {NULL};
    cat = write_cat(0, 1, CATFILE_FULL, none, &len);
    REQUIRE(cat != NULL);
    size_t n = 99;
    CHECK_EQ_INT(read_count(cat, len, &h, &err, &n), 0);
    CHECK_EQ_INT(n, 0);
    CHECK_EQ_INT(h.records, 0);
    CHECK_EQ_INT(h.payload_len, 0);
    free(cat);

    /* The writer refuses lines with a newline. */
    sync_catfile_writer *w = NULL;
    REQUIRE(sync_catfile_writer_new(&w, 0, 1, CATFILE_FULL) == 0);
    CHECK_EQ_INT(sync_catfile_writer_add(w, "{}\n{}", 5, &err), CS_ETOOBIG);
    sync_catfile_writer_free(w);
    sync_catfile_writer_free(NULL);
    free_lines(lines);
}

static void test_resource_record(void)
{
    fspec fs[] = {{"a/1.png", 0, 0x11}, {"index.html", 70000, 0x22}, {"z.css", 12, 0x33}};
    content_resource *r = mkres("res-1", "Fractions", "index.html", fs, 3);
    REQUIRE(r != NULL);
    json_t *orig_meta = json_deep_copy(r->meta);
    size_t len = 0;
    char *line = NULL;
    cs_err err = {0};
    CHECK_EQ_INT(sync_resource_to_record(r, &line, &len, &err), 0);
    REQUIRE(line != NULL);
    CHECK_EQ_INT(len, strlen(line));
    CHECK(strchr(line, '\n') == NULL);
    CHECK(strncmp(line, "{\"files\":[[\"a/1.png\",0,", 22) == 0); /* canonical: sorted */

    json_t *rec = json_loads(line, 0, NULL);
    REQUIRE(rec != NULL);
    CHECK_STR(json_string_value(json_object_get(rec, "op")), "put");
    content_resource *back = NULL;
    int rc = sync_record_to_resource(rec, &back, &err);
    if (rc)
        fprintf(stderr, "to_resource: %s\n", err.msg);
    REQUIRE(rc == 0);
    CHECK_STR(back->id, "res-1");
    CHECK(json_equal(back->meta, orig_meta));
    CHECK(json_object_get(back->meta, "x-future") != NULL);
    CHECK_STR(json_string_value(json_object_get(back->meta, "x-note")), "keep me");
    CHECK_EQ_INT(back->nfiles, 3);
    for (size_t i = 0; i < 3 && i < back->nfiles; i++) {
        CHECK_STR(back->files[i].path, r->files[i].path);
        CHECK_STR(back->files[i].mime, r->files[i].mime);
        CHECK_EQ_INT(back->files[i].size, r->files[i].size);
        CHECK_EQ_INT(back->files[i].enc_len, r->files[i].enc_len);
        CHECK(memcmp(back->files[i].object, r->files[i].object, 32) == 0);
    }
    /* And back again gives the same bytes. */
    char *line2 = NULL;
    size_t len2 = 0;
    CHECK_EQ_INT(sync_resource_to_record(back, &line2, &len2, &err), 0);
    CHECK_STR(line2, line);
    free(line2);
    content_resource_free(back);
    json_decref(rec);
    json_decref(orig_meta);
    free(line);
    content_resource_free(r);
}

/* Build {"op":"put","resource":{...},"files":FILES} from a files JSON text. */
static int files_try(const char *entry, const char *files_json)
{
    json_t *meta = json_pack("{s:s,s:{s:s},s:s,s:s,s:s}", "id", "r1", "title", "en", "T",
                             "language", "en", "type", "html", "entry", entry);
    json_t *files = json_loads(files_json, JSON_DECODE_ANY, NULL);
    if (!meta || !files) {
        fprintf(stderr, "bad test json: %s\n", files_json);
        json_decref(meta);
        json_decref(files);
        return -999;
    }
    json_t *rec = json_pack("{s:s,s:o,s:o}", "op", "put", "resource", meta, "files", files);
    content_resource *r = (content_resource *)0x1;
    cs_err err = {0};
    int rc = sync_record_to_resource(rec, &r, &err);
    if (rc == 0)
        content_resource_free(r);
    else
        CHECK(r == (content_resource *)0x1);
    json_decref(rec);
    return rc;
}

#define H64 "\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\""

static void test_record_validation(void)
{
    char buf[1024];
    uint64_t bound100 = content_obj_bound(100);
    CHECK_EQ_INT(files_try("index.html", "[[\"index.html\",100,\"text/html\"," H64 ",156]]"), 0);
    snprintf(buf, sizeof buf, "[[\"index.html\",100,\"text/html\"," H64 ",%llu]]",
             (unsigned long long)bound100);
    CHECK_EQ_INT(files_try("index.html", buf), 0);
    snprintf(buf, sizeof buf, "[[\"index.html\",100,\"text/html\"," H64 ",%llu]]",
             (unsigned long long)bound100 + 1);
    CHECK_EQ_INT(files_try("index.html", buf), CS_EFORMAT);
    CHECK_EQ_INT(files_try("index.html", "[[\"index.html\",100,\"text/html\"," H64 ",55]]"),
                 CS_EFORMAT);
    CHECK_EQ_INT(files_try("index.html", "[[\"index.html\",0,\"text/html\"," H64 ",56]]"), 0);
    CHECK_EQ_INT(files_try("index.html", "[[\"index.html\",0,\"text/html\"," H64 ",0]]"),
                 CS_EFORMAT);
    CHECK_EQ_INT(files_try("index.html", "[[\"index.html\",100,\"text/html\"," H64 ",-1]]"),
                 CS_EFORMAT);
    CHECK_EQ_INT(files_try("index.html", "[[\"index.html\",-1,\"text/html\"," H64 ",56]]"),
                 CS_EFORMAT);
    /* Over CONTENT_OBJ_MAX_RAW. */
    snprintf(buf, sizeof buf, "[[\"index.html\",%llu,\"text/html\"," H64 ",%llu]]",
             (unsigned long long)CONTENT_OBJ_MAX_RAW + 1,
             (unsigned long long)CONTENT_OBJ_MAX_RAW + 1000000);
    CHECK_EQ_INT(files_try("index.html", buf), CS_EFORMAT);

    /* Order, duplicates, entry, paths. */
    CHECK_EQ_INT(
        files_try("a.html", "[[\"a.html\",1,\"t\"," H64 ",65],[\"b.html\",1,\"t\"," H64 ",65]]"),
        0);
    CHECK_EQ_INT(
        files_try("a.html", "[[\"b.html\",1,\"t\"," H64 ",65],[\"a.html\",1,\"t\"," H64 ",65]]"),
        CS_EFORMAT);
    CHECK_EQ_INT(
        files_try("a.html", "[[\"a.html\",1,\"t\"," H64 ",65],[\"a.html\",1,\"t\"," H64 ",65]]"),
        CS_EFORMAT);
    CHECK_EQ_INT(
        files_try("c.html", "[[\"a.html\",1,\"t\"," H64 ",65],[\"b.html\",1,\"t\"," H64 ",65]]"),
        CS_EFORMAT);
    CHECK_EQ_INT(files_try("index.html", "[]"), CS_EFORMAT);
    CHECK_EQ_INT(files_try("index.html", "[[\"../index.html\",1,\"t\"," H64 ",65]]"), CS_EFORMAT);
    CHECK_EQ_INT(files_try("index.html", "[[\"a/../index.html\",1,\"t\"," H64
                                         ",65],[\"index.html\",1,\"t\"," H64 ",65]]"),
                 CS_EFORMAT);
    CHECK_EQ_INT(files_try("index.html", "[[\"/index.html\",1,\"t\"," H64 ",65]]"), CS_EFORMAT);
    CHECK_EQ_INT(files_try("../index.html", "[[\"index.html\",1,\"t\"," H64 ",65]]"), CS_EFORMAT);

    /* Shapes of one entry. */
    static const char *const bad[] = {
        "[[\"index.html\",1,\"t\"," H64 "]]",
        "[[\"index.html\",1,\"t\"," H64 ",65,0]]",
        "[{\"path\":\"index.html\"}]",
        "[\"index.html\"]",
        "[[1,1,\"t\"," H64 ",65]]",
        "[[\"index.html\",\"1\",\"t\"," H64 ",65]]",
        "[[\"index.html\",1.0,\"t\"," H64 ",65]]",
        "[[\"index.html\",1,null," H64 ",65]]",
        "[[\"index.html\",1,\"t\",\"abcd\",65]]",
        "[[\"index.html\",1,\"t\","
        "\"zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz\",65]]",
        "[[\"index.html\",1,\"t\"," H64 ",65.0]]",
        "[[\"index.html\",1,\"t\"," H64 ",\"65\"]]",
        "{\"index.html\":1}",
        "\"index.html\"",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int rc = files_try("index.html", bad[i]);
        if (rc == 0)
            fprintf(stderr, "accepted files %s\n", bad[i]);
        CHECK(rc != 0 && rc != -999);
    }
    /* A mime string over 255 bytes. */
    char mime[300];
    memset(mime, 'm', 256);
    mime[256] = '\0';
    snprintf(buf, sizeof buf, "[[\"index.html\",1,\"%s\"," H64 ",65]]", mime);
    CHECK_EQ_INT(files_try("index.html", buf), CS_EFORMAT);
    mime[255] = '\0';
    snprintf(buf, sizeof buf, "[[\"index.html\",1,\"%s\"," H64 ",65]]", mime);
    CHECK_EQ_INT(files_try("index.html", buf), 0);

    /* The record itself. */
    cs_err err = {0};
    content_resource *r = NULL;
    json_t *rec = json_loads("{\"op\":\"put\",\"files\":[]}", 0, NULL);
    CHECK_EQ_INT(sync_record_to_resource(rec, &r, &err), CS_EFORMAT);
    json_decref(rec);
    rec = json_loads("{\"op\":\"put\",\"resource\":[],\"files\":[]}", 0, NULL);
    CHECK_EQ_INT(sync_record_to_resource(rec, &r, &err), CS_EFORMAT);
    json_decref(rec);
    rec = json_loads("{\"op\":\"put\",\"resource\":{\"id\":\"x\"},\"files\":[]}", 0, NULL);
    CHECK(sync_record_to_resource(rec, &r, &err) != 0);
    json_decref(rec);
    rec = json_loads("{\"op\":\"put\",\"resource\":{\"id\":\"../x\",\"title\":{\"en\":\"t\"},"
                     "\"language\":\"en\",\"type\":\"html\",\"entry\":\"i\"},"
                     "\"files\":[[\"i\",1,\"t\"," H64 ",65]]}",
                     0, NULL);
    REQUIRE(rec != NULL);
    CHECK(sync_record_to_resource(rec, &r, &err) != 0);
    json_decref(rec);
    CHECK(r == NULL);
}

/* ---- hostile files ---- */

static uint8_t *sample_cat(size_t *len)
{
    char *lines[] = {put_line("alpha", "Alpha", 0xa1), del_line("beta"),
                     put_line("gamma", "Gamma", 0xc1), NULL};
    uint8_t *cat = NULL;
    if (lines[0] && lines[1] && lines[2])
        cat = write_cat(2, 3, 0, lines, len);
    free_lines(lines);
    return cat;
}

static void test_truncated(void)
{
    size_t len = 0;
    uint8_t *cat = sample_cat(&len);
    REQUIRE(cat != NULL);
    cs_err err = {0};
    CHECK_EQ_INT(read_count(cat, len, NULL, &err, NULL), 0);
    int accepted = 0;
    for (size_t l = 0; l < len; l++) {
        /* A fresh copy of exactly l bytes, so ASan sees any over-read. */
        uint8_t *p = malloc(l ? l : 1);
        REQUIRE(p != NULL);
        memcpy(p, cat, l);
        sync_catfile_header h;
        memset(&h, 0x77, sizeof h);
        int rc = read_count(p, l, &h, &err, NULL);
        if (rc == 0) {
            accepted++;
            fprintf(stderr, "truncated catalogue of %zu/%zu bytes accepted\n", l, len);
        } else {
            CHECK(err.msg[0] != '\0');
            CHECK_EQ_INT(h.format, 0x77777777); /* untouched on failure */
        }
        free(p);
    }
    CHECK_EQ_INT(accepted, 0);

    /* One byte too many, and a second frame. */
    uint8_t *big = malloc(len * 2);
    REQUIRE(big != NULL);
    memcpy(big, cat, len);
    big[len] = 0;
    CHECK_EQ_INT(read_count(big, len + 1, NULL, &err, NULL), CS_EFORMAT);
    memcpy(big + len, cat + CATFILE_HDR, len - CATFILE_HDR);
    CHECK_EQ_INT(read_count(big, len + len - CATFILE_HDR, NULL, &err, NULL), CS_EFORMAT);
    free(big);

    /* Every single-byte flip of the compressed part fails or is consistent. */
    int crashes_would_show = 0;
    for (size_t i = CATFILE_HDR; i < len; i++) {
        cat[i] ^= 0x5a;
        read_count(cat, len, NULL, &err, NULL);
        cat[i] ^= 0x5a;
        crashes_would_show++;
    }
    CHECK(crashes_would_show > 0);
    free(cat);
}

static void patch32(uint8_t *p, size_t off, uint32_t v)
{
    cs_put_u32(p + off, v);
}

static void patch64(uint8_t *p, size_t off, uint64_t v)
{
    cs_put_u64(p + off, v);
}

/* Apply a header patch to a copy, parse and read it; return read's code. */
static int header_try(const uint8_t *cat, size_t len, size_t off, int wide, uint64_t v)
{
    uint8_t *p = malloc(len);
    if (!p)
        return -999;
    memcpy(p, cat, len);
    if (wide)
        patch64(p, off, v);
    else
        patch32(p, off, (uint32_t)v);
    sync_catfile_header h;
    cs_err err = {0};
    int rc1 = sync_catfile_header_parse(&h, p, len, &err);
    int rc = read_count(p, len, NULL, &err, NULL);
    if (rc1 != 0)
        CHECK_EQ_INT(rc, rc1);
    free(p);
    return rc;
}

static void test_header_fields(void)
{
    size_t len = 0;
    uint8_t *delta = sample_cat(&len); /* 2 -> 3, 3 records */
    REQUIRE(delta != NULL);
    cs_err err = {0};
    sync_catfile_header h;
    CHECK_EQ_INT(sync_catfile_header_parse(&h, delta, len, &err), 0);
    CHECK_EQ_INT(h.from_version, 2);
    CHECK_EQ_INT(h.to_version, 3);
    uint64_t plen = h.payload_len;

    CHECK_EQ_INT(header_try(delta, len, 0, 0, 0x54435344), CS_EFORMAT); /* "DSCT" */
    CHECK_EQ_INT(header_try(delta, len, 4, 0, 2), CS_EUNSUPPORTED);
    CHECK_EQ_INT(header_try(delta, len, 4, 0, 0), CS_EUNSUPPORTED);
    CHECK_EQ_INT(header_try(delta, len, 4, 0, 0x01000001), CS_EUNSUPPORTED);
    CHECK_EQ_INT(header_try(delta, len, 28, 0, 2), CS_EFORMAT);
    CHECK_EQ_INT(header_try(delta, len, 28, 0, 0x80000000u), CS_EFORMAT);
    /* Delta versions: from >= to. */
    CHECK_EQ_INT(header_try(delta, len, 8, 1, 3), CS_EFORMAT);
    CHECK_EQ_INT(header_try(delta, len, 8, 1, 4), CS_EFORMAT);
    CHECK_EQ_INT(header_try(delta, len, 8, 1, UINT64_MAX), CS_EFORMAT);
    CHECK_EQ_INT(header_try(delta, len, 16, 1, 2), CS_EFORMAT);
    CHECK_EQ_INT(header_try(delta, len, 16, 1, 0), CS_EFORMAT);
    CHECK_EQ_INT(header_try(delta, len, 8, 1, 1), 0); /* 1 -> 3 is still a delta */
    /* Limits. */
    CHECK_EQ_INT(header_try(delta, len, 24, 0, CATFILE_MAX_RECORDS + 1), CS_ETOOBIG);
    CHECK_EQ_INT(header_try(delta, len, 24, 0, UINT32_MAX), CS_ETOOBIG);
    CHECK_EQ_INT(header_try(delta, len, 32, 1, CATFILE_MAX_PAYLOAD + 1), CS_ETOOBIG);
    CHECK_EQ_INT(header_try(delta, len, 32, 1, UINT64_MAX), CS_ETOOBIG);
    /* Counts that disagree with the payload. */
    CHECK_EQ_INT(header_try(delta, len, 32, 1, plen + 1), CS_EFORMAT);
    CHECK_EQ_INT(header_try(delta, len, 32, 1, plen - 1), CS_EFORMAT);
    CHECK_EQ_INT(header_try(delta, len, 32, 1, 0), CS_EFORMAT);
    CHECK_EQ_INT(header_try(delta, len, 24, 0, 4), CS_EFORMAT);
    CHECK_EQ_INT(header_try(delta, len, 24, 0, 2), CS_EFORMAT);
    CHECK_EQ_INT(header_try(delta, len, 24, 0, 0), CS_EFORMAT);
    /* The same file marked full must have from = 0. */
    uint8_t *full = malloc(len);
    REQUIRE(full != NULL);
    memcpy(full, delta, len);
    patch32(full, 28, CATFILE_FULL);
    CHECK_EQ_INT(read_count(full, len, NULL, &err, NULL), CS_EFORMAT);
    patch64(full, 8, 0);
    CHECK_EQ_INT(read_count(full, len, NULL, &err, NULL), 0);
    CHECK_EQ_INT(header_try(full, len, 8, 1, 1), CS_EFORMAT);
    CHECK_EQ_INT(header_try(full, len, 8, 1, 3), CS_EFORMAT);
    free(full);
    free(delta);

    CHECK_EQ_INT(sync_catfile_header_parse(&h, (const uint8_t *)"CSCT", 4, &err), CS_EFORMAT);
}

static int payload_try(const char *payload, uint32_t records)
{
    size_t len = 0;
    uint8_t *cat = make_cat(0, 1, CATFILE_FULL, records, -1, payload, strlen(payload), &len);
    if (!cat)
        return -999;
    cs_err err = {0};
    int rc = read_count(cat, len, NULL, &err, NULL);
    free(cat);
    return rc;
}

static void test_bad_payloads(void)
{
    CHECK_EQ_INT(payload_try("{}\n{\"a\":1}\n", 2), 0);
    CHECK_EQ_INT(payload_try("", 0), 0);
    CHECK_EQ_INT(payload_try("[1,2]\n", 1), CS_EFORMAT);
    CHECK_EQ_INT(payload_try("{}\n\"str\"\n", 2), CS_EFORMAT);
    CHECK_EQ_INT(payload_try("42\n", 1), CS_EFORMAT);
    CHECK_EQ_INT(payload_try("null\n", 1), CS_EFORMAT);
    CHECK_EQ_INT(payload_try("\n", 1), CS_EFORMAT);
    CHECK_EQ_INT(payload_try("{bad json\n", 1), CS_EFORMAT);
    CHECK_EQ_INT(payload_try("{} {}\n", 1), CS_EFORMAT);
    CHECK_EQ_INT(payload_try("{\"a\":1,\"a\":2}\n", 1), CS_EFORMAT);
    CHECK_EQ_INT(payload_try("{}", 1), CS_EFORMAT);     /* no final newline */
    CHECK_EQ_INT(payload_try("{}\n{}", 1), CS_EFORMAT); /* trailing partial record */
    CHECK_EQ_INT(payload_try("{}\n{}\n", 1), CS_EFORMAT);
    CHECK_EQ_INT(payload_try("{}\n", 2), CS_EFORMAT);
    CHECK_EQ_INT(payload_try("{\"s\":\"\\u0000\"}\n", 1), CS_EFORMAT);

    /* Not zstd at all, and an empty compressed part. */
    uint8_t raw[CATFILE_HDR + 16];
    size_t len = 0;
    uint8_t *cat = make_cat(0, 1, CATFILE_FULL, 0, -1, "", 0, &len);
    REQUIRE(cat != NULL);
    memcpy(raw, cat, CATFILE_HDR);
    free(cat);
    memcpy(raw + CATFILE_HDR, "{}\n{}\n{}\n{}\n{}\n\n", 16);
    cs_err err = {0};
    CHECK_EQ_INT(read_count(raw, sizeof raw, NULL, &err, NULL), CS_EFORMAT);
    CHECK_EQ_INT(read_count(raw, CATFILE_HDR, NULL, &err, NULL), CS_EFORMAT);

    /* A record longer than the line cap is refused without holding it all. */
    size_t big = (size_t)CATFILE_MAX_LINE + 10;
    char *p = malloc(big + 2);
    REQUIRE(p != NULL);
    memset(p, ' ', big);
    p[0] = '{';
    p[big - 1] = '}';
    p[big] = '\n';
    p[big + 1] = '\0';
    cat = make_cat(0, 1, CATFILE_FULL, 1, -1, p, big + 1, &len);
    free(p);
    REQUIRE(cat != NULL);
    CHECK_EQ_INT(read_count(cat, len, NULL, &err, NULL), CS_ETOOBIG);
    free(cat);
}

/* ---- applying to a catalogue ---- */

static int file_cb(void *ctx, const content_resource *r, const content_file *f)
{
    int *calls = ctx;
    (void)r;
    (*calls)++;
    if (f->object[0] == 0xee)
        return CS_EIO;
    return f->object[0] == 0xbb ? 0 : 1;
}

static int apply_lines(content_catalog *cat, uint64_t from, uint64_t to, uint32_t flags,
                       char **lines, int use_cb, int *calls)
{
    size_t len = 0;
    uint8_t *data = write_cat(from, to, flags, lines, &len);
    free_lines(lines);
    if (!data)
        return -999;
    cs_err err = {0};
    int rc = content_catalog_begin(cat, &err);
    if (rc == 0)
        rc = sync_catfile_apply(cat, data, len, use_cb ? file_cb : NULL, calls, &err);
    if (rc == 0)
        rc = content_catalog_commit(cat, &err);
    else
        content_catalog_rollback(cat);
    free(data);
    return rc;
}

/* 1 cached, 0 not cached, -1 absent. */
static int cached_of(content_catalog *cat, const char *id)
{
    content_resource *r = NULL;
    cs_err err = {0};
    if (content_catalog_get(cat, id, &r, &err) != 0)
        return -1;
    int c = r->cached ? 1 : 0;
    content_resource_free(r);
    return c;
}

static char *title_of(content_catalog *cat, const char *id)
{
    content_resource *r = NULL;
    cs_err err = {0};
    if (content_catalog_get(cat, id, &r, &err) != 0)
        return NULL;
    const char *t = json_string_value(json_object_get(json_object_get(r->meta, "title"), "en"));
    char *s = t ? strdup(t) : NULL;
    content_resource_free(r);
    return s;
}

static uint64_t count_of(content_catalog *cat)
{
    uint64_t n = 0, files = 0, bytes = 0;
    cs_err err = {0};
    if (content_catalog_counts(cat, &n, &files, &bytes, &err) != 0)
        return UINT64_MAX;
    return n;
}

static void test_apply(void)
{
    const char *dir = getenv("CISTERN_TEST_TMP");
    if (!dir || !dir[0])
        dir = "/tmp";
    mkdir(dir, 0755);
    char path[512], side[600];
    snprintf(path, sizeof path, "%s/catfile-%ld.db", dir, (long)getpid());
    unlink(path);
    content_catalog *cat = NULL;
    cs_err err = {0};
    int rc = content_catalog_open(&cat, path, 0, &err);
    if (rc)
        fprintf(stderr, "open: %s\n", err.msg);
    REQUIRE(rc == 0);

    /* Full v1: beta's object is missing. */
    int calls = 0;
    fspec two[] = {{"a.html", 10, 0xa1}, {"index.html", 20, 0xa2}};
    char *v1[] = {record_of(mkres("alpha", "Alpha", "index.html", two, 2), NULL),
                  put_line("beta", "Beta", 0xbb), put_line("gamma", "Gamma", 0xc1), NULL};
    CHECK_EQ_INT(apply_lines(cat, 0, 1, CATFILE_FULL, v1, 1, &calls), 0);
    CHECK_EQ_INT(calls, 4);
    CHECK_EQ_INT(count_of(cat), 3);
    CHECK_EQ_INT(cached_of(cat, "alpha"), 1);
    CHECK_EQ_INT(cached_of(cat, "beta"), 0);
    CHECK_EQ_INT(cached_of(cat, "gamma"), 1);
    content_resource *r = NULL;
    CHECK_EQ_INT(content_catalog_get(cat, "alpha", &r, &err), 0);
    if (r) {
        CHECK_EQ_INT(r->nfiles, 2);
        CHECK_STR(json_string_value(json_object_get(r->meta, "x-note")), "keep me");
        content_resource_free(r);
    }

    /* Delta 1 -> 2: delete alpha, replace beta (now present), add delta,
     * delete something that was never there. */
    calls = 0;
    char *v2[] = {del_line("alpha"), put_line("beta", "Beta two", 0xb2),
                  put_line("delta", "D", 0xd1), del_line("never-there"), NULL};
    CHECK_EQ_INT(apply_lines(cat, 1, 2, 0, v2, 1, &calls), 0);
    CHECK_EQ_INT(calls, 2);
    CHECK_EQ_INT(count_of(cat), 3);
    CHECK_EQ_INT(cached_of(cat, "alpha"), -1);
    CHECK_EQ_INT(cached_of(cat, "beta"), 1);
    CHECK_EQ_INT(cached_of(cat, "gamma"), 1);
    CHECK_EQ_INT(cached_of(cat, "delta"), 1);
    char *t = title_of(cat, "beta");
    CHECK_STR(t, "Beta two");
    free(t);

    /* A delta that marks gamma not cached, without a callback for others. */
    char *v3[] = {put_line("gamma", "Gamma", 0xbb), NULL};
    calls = 0;
    CHECK_EQ_INT(apply_lines(cat, 2, 3, 0, v3, 1, &calls), 0);
    CHECK_EQ_INT(cached_of(cat, "gamma"), 0);
    char *v3b[] = {put_line("gamma", "Gamma", 0xbb), NULL};
    CHECK_EQ_INT(apply_lines(cat, 3, 4, 0, v3b, 0, NULL), 0);
    CHECK_EQ_INT(cached_of(cat, "gamma"), 1); /* no callback: cached */

    /* Failures roll back with the transaction. */
    char *bad_cb[] = {put_line("epsilon", "E", 0xee), NULL};
    calls = 0;
    CHECK_EQ_INT(apply_lines(cat, 4, 5, 0, bad_cb, 1, &calls), CS_EIO);
    CHECK_EQ_INT(cached_of(cat, "epsilon"), -1);
    char *bad_op[] = {put_line("epsilon", "E", 0xe1), strdup("{\"op\":\"move\",\"id\":\"beta\"}"),
                      NULL};
    CHECK_EQ_INT(apply_lines(cat, 4, 5, 0, bad_op, 1, &calls), CS_EFORMAT);
    CHECK_EQ_INT(cached_of(cat, "epsilon"), -1);
    char *no_op[] = {strdup("{\"id\":\"beta\"}"), NULL};
    CHECK_EQ_INT(apply_lines(cat, 4, 5, 0, no_op, 1, &calls), CS_EFORMAT);
    char *bad_del[] = {strdup("{\"op\":\"del\",\"id\":\"../beta\"}"), NULL};
    CHECK_EQ_INT(apply_lines(cat, 4, 5, 0, bad_del, 1, &calls), CS_EFORMAT);
    char *del_noid[] = {strdup("{\"op\":\"del\"}"), NULL};
    CHECK_EQ_INT(apply_lines(cat, 4, 5, 0, del_noid, 1, &calls), CS_EFORMAT);
    char *bad_put[] = {strdup("{\"op\":\"put\",\"resource\":{},\"files\":[]}"), NULL};
    CHECK_EQ_INT(apply_lines(cat, 4, 5, 0, bad_put, 1, &calls), CS_EFORMAT);
    /* A full file that fails half way leaves the old catalogue after rollback. */
    char *bad_full[] = {put_line("zeta", "Z", 0x21), strdup("[]"), NULL};
    CHECK_EQ_INT(apply_lines(cat, 0, 5, CATFILE_FULL, bad_full, 1, &calls), CS_EFORMAT);
    CHECK_EQ_INT(count_of(cat), 3);
    CHECK_EQ_INT(cached_of(cat, "zeta"), -1);
    /* A damaged header changes nothing, even outside a transaction. */
    uint8_t junk[CATFILE_HDR] = "CSCT";
    CHECK(sync_catfile_apply(cat, junk, sizeof junk, NULL, NULL, &err) != 0);
    CHECK_EQ_INT(count_of(cat), 3);

    /* Full v5 replaces everything. */
    char *v5[] = {put_line("omega", "Omega", 0x01), NULL};
    CHECK_EQ_INT(apply_lines(cat, 0, 5, CATFILE_FULL, v5, 1, &calls), 0);
    CHECK_EQ_INT(count_of(cat), 1);
    CHECK_EQ_INT(cached_of(cat, "beta"), -1);
    CHECK_EQ_INT(cached_of(cat, "gamma"), -1);
    CHECK_EQ_INT(cached_of(cat, "delta"), -1);
    CHECK_EQ_INT(cached_of(cat, "omega"), 1);
    /* An empty full catalogue clears it. */
    char *v6[] = {NULL};
    CHECK_EQ_INT(apply_lines(cat, 0, 6, CATFILE_FULL, v6, 1, &calls), 0);
    CHECK_EQ_INT(count_of(cat), 0);

    content_catalog_free(cat);
    unlink(path);
    snprintf(side, sizeof side, "%s-wal", path);
    unlink(side);
    snprintf(side, sizeof side, "%s-shm", path);
    unlink(side);
}

int main(void)
{
    RUN(test_writer_reader);
    RUN(test_resource_record);
    RUN(test_record_validation);
    RUN(test_truncated);
    RUN(test_header_fields);
    RUN(test_bad_payloads);
    RUN(test_apply);
    return TEST_SUMMARY();
}
