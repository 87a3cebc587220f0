/*
 * zim.h - Kiwix ZIM archives as resources.
 *
 * Two parts:
 *
 *  - A C interface to libzim (content/zim.cpp, library cs_content_zim): open
 *    and verify an archive, read its metadata, walk its entries and read
 *    their bytes.  libzim is C++; no exception ever crosses this interface:
 *    each call catches everything and returns a negative CS_E* code with a
 *    one-line message.  Only the hub side links it (`cistern hub add-zim`).
 *
 *  - Pure C helpers (content/zim_map.c, in cs_content, unit-tested): how a
 *    ZIM path becomes a resource file path, how titles are cleaned, and the
 *    titles file a ZIM resource carries so that the node can search the
 *    archive's article titles (docs/catalogue.md, "Entries").
 *
 * Titles file (.cistern/titles.tsv inside the resource), UTF-8 text:
 *
 *   line 1   "cistern-titles 1"                      magic and version
 *   then     PATH '\t' TITLE '\n'                     one per article
 *
 * PATH is a file of the resource (content_path_valid); TITLE is 1..
 * CONTENT_ZIM_TITLE_MAX bytes of UTF-8 without control characters.  At most
 * CONTENT_RESOURCE_MAX_FILES lines, CONTENT_TITLES_MAX bytes in all.
 * Readers skip malformed lines.
 */
#ifndef CONTENT_ZIM_H
#define CONTENT_ZIM_H

#include <stddef.h>
#include <stdint.h>

#include "content/resource.h"
#include "platform/error.h"

#define CONTENT_ZIM_TITLE_MAX 1024     /* bytes of one article title */
#define CONTENT_TITLES_MAX (64u << 20) /* bytes of a titles file */
#define CONTENT_TITLES_PATH ".cistern/titles.tsv"
#define CONTENT_TITLES_MAGIC "cistern-titles 1"
#define CONTENT_ZIM_META_MAX (64 * 1024) /* bytes of one text metadata value */
#define CONTENT_ZIM_ILLUSTRATION_MAX (1u << 20)

/* ---- pure C helpers (cs_content) ---------------------------------------- */

/* Map a ZIM entry path to a resource file path in out (cap bytes).  The path
 * is kept as it is whenever content_path_valid accepts it, so the archive's
 * own relative links keep working when served at /r/<id>/<path>.  Otherwise
 * the offending bytes are %-escaped: control characters, '\', bytes that are
 * not well-formed UTF-8, a leading '/', and '.'/'..'/empty segments ("%2E",
 * "%2E%2E", "%20").  Paths under ".cistern/" (reserved for the resource's
 * own files) get their first '.' escaped.  Returns 0, or CS_ETOOBIG when the
 * result would be longer than CONTENT_PATH_MAX (or cap - 1), CS_EINVAL for an
 * empty path. */
int content_zim_path_map(const char *zpath, char *out, size_t cap);

/* Clean a title for the titles file and the index: control characters
 * (tab, newline...) become spaces, runs of spaces collapse, the ends are
 * trimmed, bytes that are not well-formed UTF-8 are dropped, and the result
 * is cut at a character boundary to fit cap - 1 bytes (at most
 * CONTENT_ZIM_TITLE_MAX).  Returns the length written (0 = nothing left). */
size_t content_zim_title_clean(const char *in, size_t len, char *out, size_t cap);

/* Walk a titles file: cb gets each well-formed line's path and title
 * (NUL-terminated, valid until cb returns).  CS_EFORMAT if the magic line is
 * missing, CS_ETOOBIG over the caps; cb returning non-zero stops the walk
 * and that value is returned.  *skipped (optional) counts malformed lines. */
typedef int (*content_titles_cb)(void *ctx, const char *path, const char *title);
int content_titles_parse(const char *data, size_t len, content_titles_cb cb, void *ctx,
                         uint64_t *skipped, cs_err *err);

/* ---- libzim (cs_content_zim) -------------------------------------------- */

typedef struct content_zim content_zim;

typedef struct content_zim_limits {
    uint64_t max_entries;    /* entries of the archive (CONTENT_RESOURCE_MAX_FILES - 2) */
    uint64_t max_entry_size; /* bytes of one entry (4 GiB) */
} content_zim_limits;

void content_zim_limits_default(content_zim_limits *l);

/* Open path and verify it with libzim's integrity checks (checksum, entry
 * pointers and order, cluster pointers, MIME types; not the legacy v0 title
 * index, which is not read here and which libzim 8 wrongly requires).  An
 * archive that fails is refused with CS_EFORMAT and a message naming the
 * problem. */
int content_zim_open(content_zim **out, const char *path, const content_zim_limits *limits,
                     cs_err *err);
void content_zim_free(content_zim *z); /* NULL ok */

/* A text metadata value ("Title", "Language", ...): *out malloc'd
 * (caller frees), CS_ENOENT if absent, CS_ETOOBIG over CONTENT_ZIM_META_MAX. */
int content_zim_metadata(content_zim *z, const char *name, char **out, cs_err *err);
/* The 48x48 illustration (PNG): *out malloc'd; CS_ENOENT if none. */
int content_zim_illustration(content_zim *z, uint8_t **out, size_t *len, cs_err *err);
/* The path of the main page's item (redirects followed): *out malloc'd;
 * CS_ENOENT if the archive has none. */
int content_zim_main_path(content_zim *z, char **out, cs_err *err);
/* 1 if the archive uses the new namespace scheme (format 6, "nons"). */
int content_zim_new_namespaces(const content_zim *z);

typedef struct content_zim_entry {
    const char *path;   /* libzim's path (with the namespace in old archives) */
    const char *title;  /* libzim's title (the path when the entry has none) */
    const char *mime;   /* of the item; for a redirect, of its final target */
    uint64_t size;      /* bytes of the item (of the final target for a redirect) */
    int redirect;       /* 1 if a redirect */
    const char *target; /* redirect: the final target's path; else NULL */
    void *impl;         /* for content_zim_entry_read */
} content_zim_entry;

/* Every content entry in path order (metadata "M/" and search index "X/"
 * namespaces of old archives left out), at most limits.max_entries.  cb
 * returning non-zero stops the walk and that value is returned. */
typedef int (*content_zim_entry_cb)(void *ctx, const content_zim_entry *e);
int content_zim_foreach(content_zim *z, content_zim_entry_cb cb, void *ctx, cs_err *err);
/* The number of entries content_zim_foreach visits. */
int content_zim_count(content_zim *z, uint64_t *out, cs_err *err);

/* Bytes [off, off+len) of an entry's item (a redirect's final target) into
 * dst; *got < len only at the end.  Only valid inside the foreach callback. */
int content_zim_entry_read(const content_zim_entry *e, uint64_t off, void *dst, size_t len,
                           size_t *got, cs_err *err);

#endif
