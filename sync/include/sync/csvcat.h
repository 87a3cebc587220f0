/*
 * csvcat.h - a spreadsheet catalogue: SOURCE_DIR/catalog.csv, one row per
 * resource, the resource.json fields as columns (docs/repository.md,
 * "Spreadsheet catalogues").
 *
 * RFC 4180 CSV in UTF-8 (a byte-order mark is skipped; CRLF or LF; quoted
 * fields may hold commas, quotes doubled, newlines).  The first row names
 * the columns:
 *
 *   id                      required; also the folder holding the files,
 *                           unless a "folder" column names another
 *   title.<lang>, description.<lang>   multilingual text (title.zh, title.en…);
 *                           a plain "title"/"description" is in the row's language
 *   grades                  3;4 or 3-5 (also 3,4 inside quotes)
 *   keywords, prerequisites lists separated by ';'
 *   unit, volume, edition   integers when all digits, else text
 *   any other column        a text field of resource.json (kept, like unknown fields)
 *
 * Empty cells leave the field out.  Every row is then checked as a
 * resource.json would be; errors name the row (as a spreadsheet numbers it:
 * the header is row 1) and the column.
 */
#ifndef SYNC_CSVCAT_H
#define SYNC_CSVCAT_H

#include <jansson.h>
#include <stddef.h>

#include "platform/error.h"

#define SYNC_CSV_MAX_BYTES (64u << 20)
#define SYNC_CSV_MAX_ROWS 200000
#define SYNC_CSV_MAX_COLUMNS 128
#define SYNC_CSV_MAX_FIELD (64u * 1024)

/* Parse catalog.csv text.  *out: an object mapping each row's folder name to
 * {"row": N, "meta": validated resource.json object}.  The caller
 * json_decref's it. */
int sync_csv_catalog_parse(const char *text, size_t len, json_t **out, cs_err *err);

#endif
