/*
 * zimsource.h - a Kiwix ZIM archive as a resource folder of a hub's source
 * tree (`cistern hub add-zim`; library cs_sync_zim, which links libzim).
 *
 * The archive is verified (content_zim_open) and written as
 * SOURCE/<id>/ the way `hub publish` reads it:
 *
 *   resource.json     from the archive's metadata (Title, Description,
 *                     Language, Creator, Publisher, Date, Tags, Name...),
 *                     type "html", entry = the main page, and a "zim" object
 *                     (name, uuid, file, entries) that marks the folder as
 *                     made from an archive
 *   resource.files    the manifest (sync/hub_manifest.c): every entry's
 *                     resource path, its MIME type and the blob holding it
 *   blobs/<aa>/<sha256>  entry bytes, one file per distinct content
 *
 * plus two files of the resource itself: .cistern/titles.tsv (article
 * titles, content/zim.h) and .cistern/illustration-48.png when the archive
 * has one.  The folder is built beside the old one (SOURCE/.add-zim-<id>.tmp,
 * a dot folder publish ignores) and swapped in with one rename, so a newer
 * edition of the same archive (same Name, hence same id) replaces the old
 * one whole and the next publish sends its changed files as deltas.
 *
 * Redirects keep their own path.  When the target is an HTML page in
 * another folder, the redirect becomes a small HTML page that forwards to
 * it (the target's relative links would break if served from the wrong
 * folder); otherwise it holds the target's bytes (one blob, one object).
 */
#ifndef SYNC_ZIMSOURCE_H
#define SYNC_ZIMSOURCE_H

#include <stddef.h>
#include <stdint.h>

#include "content/resource.h"
#include "platform/error.h"
#include "sync/hub.h"

typedef struct sync_zim_options {
    const char *id;      /* NULL: from the archive's Name (else its file name) */
    const char *subject; /* NULL: none */
    const int *grades;   /* ngrades integers 0..13 */
    size_t ngrades;
    const char *language; /* NULL: from the archive's Language */
} sync_zim_options;

typedef struct sync_zim_stats {
    char id[CONTENT_ID_MAX + 1];
    uint64_t entries;        /* entries of the archive read */
    uint64_t redirects;      /* of which redirects */
    uint64_t redirect_pages; /* redirects written as forwarding pages */
    uint64_t titles;         /* lines in the titles file */
    uint64_t skipped;        /* entries whose path could not be mapped or collided */
    uint64_t files, bytes;   /* files of the resource and their raw bytes */
    uint64_t blobs;          /* distinct contents written */
    int replaced;            /* an older folder of the same id was replaced */
    char first_skipped[256]; /* the first skipped entry's path, for the message */
} sync_zim_stats;

/* Expand the archive at zim_path into source/<id>/ (see above).  An invalid
 * archive is refused (CS_EFORMAT) before anything is written; so is an
 * existing source/<id>/ that was not made from an archive (CS_EEXIST). */
int sync_zim_to_source(const char *zim_path, const char *source, const sync_zim_options *opt,
                       sync_progress_cb progress, void *pctx, sync_zim_stats *stats, cs_err *err);

/* A resource id from an archive's Name or file name: [A-Za-z0-9._-], other
 * characters as '-', a trailing "_YYYY-MM" (the edition) dropped from file
 * names.  0, or CS_EINVAL if nothing usable is left. */
int sync_zim_default_id(const char *name, const char *file, char *out, size_t cap);
/* A BCP-47 tag from a ZIM Language value ("eng", "bel", "eng,fra"): the first
 * language, ISO 639-3 codes with a 2-letter equivalent mapped to it; "und"
 * when unusable.  out >= 36 bytes. */
void sync_zim_language(const char *zim_lang, char *out, size_t cap);

#endif
