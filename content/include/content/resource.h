/*
 * resource.h - the resource model: resource.json plus the resource's files.
 *
 * resource.json (see ../shared/PRODUCT.md) is kept whole as a JSON object, so
 * unknown fields survive every hop; the known fields are validated here:
 *
 *   id            string, 1..128 of [A-Za-z0-9._-], not starting with '.'
 *   title         object {lang: string}, at least one entry       (required)
 *   description   object {lang: string}                           (optional)
 *   language      string (BCP-47, e.g. "zh", "en", "bo", "ug")   (required)
 *   subject       string                                          (optional)
 *   grades        array of integers 0..13                         (optional)
 *   edition, volume, unit       string or integer                 (optional)
 *   type          one of video audio document html exercise image (required)
 *   entry         relative path of the file to open               (required)
 *   license, publisher          string                            (optional)
 *   keywords      array of strings                                (optional)
 *   prerequisites array of resource ids                           (optional)
 *
 * Limits (outside bytes): CONTENT_RESOURCE_JSON_MAX bytes of JSON, 64 languages
 * per multilingual field, 4096 bytes per title, 64 KiB per description, 256
 * keywords, 256 prerequisites, CONTENT_RESOURCE_MAX_FILES files.
 */
#ifndef CONTENT_RESOURCE_H
#define CONTENT_RESOURCE_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "platform/error.h"

#define CONTENT_RESOURCE_JSON_MAX (256 * 1024)
#define CONTENT_RESOURCE_MAX_FILES 200000
#define CONTENT_ID_MAX 128
#define CONTENT_PATH_MAX 1024

typedef struct content_file {
    char *path;        /* relative, '/'-separated, validated (no "..", no leading '/') */
    uint64_t size;     /* raw bytes */
    char *mime;        /* e.g. "text/html; charset=utf-8" */
    uint8_t object[32];/* SHA-256 of the raw bytes: the object id */
    uint64_t enc_len;  /* encoded length (object.h), for length checks before transfer */
} content_file;

typedef struct content_resource {
    char *id;
    json_t *meta;      /* the whole resource.json object (owned, one reference) */
    content_file *files;
    size_t nfiles;
    int cached;        /* node side: all objects present in the store */
} content_resource;

/* Parse resource.json bytes with the limits above and validate it.
 * On failure err says which field and why. */
int content_resource_parse_json(json_t **out, const char *text, size_t len, cs_err *err);
/* Validate an already-parsed object (same checks). */
int content_resource_validate(const json_t *meta, cs_err *err);

/* 1 if s is a valid resource id / relative file path. */
int content_id_valid(const char *s);
int content_path_valid(const char *s);

/* MIME type from a file name's extension ("application/octet-stream" if unknown). */
const char *content_mime_guess(const char *path);
/* Lower-case a MIME type's type and subtype in place (up to the first ';'):
 * media types are case-insensitive, and the server compares them as stored. */
void content_mime_lower(char *mime);

void content_resource_free(content_resource *r); /* NULL ok; frees files too */
void content_file_clear(content_file *f);        /* frees path and mime */

#endif
