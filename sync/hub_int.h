/*
 * hub_int.h - private helpers shared by the hub's source files.
 */
#ifndef SYNC_HUB_INT_H
#define SYNC_HUB_INT_H

#include <sqlite3.h>

#include "platform/crypto.h"
#include "sync/hub.h"
#include "sync/meta.h"

struct sync_hub {
    char dir[4096];
    sqlite3 *db;
    int lock_fd;
    cs_key *keys[SYNC_NROLES]; /* private keys present in keys/ (root may be offline) */
    sync_hub_options opt;
    int64_t version;
};

/* Regenerate catalogue files and signed metadata for version v (idempotent). */
int hub_finish_version(sync_hub *h, int64_t v, cs_err *err);
int hub_sql(sqlite3 *db, const char *sql, cs_err *err);
/* Deltas for the files of r that changed within the last K versions (the
 * new bytes are read from r's objects, already stored; src is not read):
 * *out = {path: [[base hex, delta length], ...]} or NULL if none. */
struct content_resource;
int hub_deltas_for(sync_hub *h, int64_t v, const struct content_resource *r, const char *src, json_t **out,
                   cs_err *err);
/* A resource folder's file list, SOURCE/<id>/resource.files (hub_manifest.c). */
#define HUB_MANIFEST "resource.files"
typedef struct hub_mfile {
    char *path, *mime, *disk; /* resource path, MIME type, file relative to the folder */
    uint64_t size;
} hub_mfile;
/* The manifest in dir, sorted by path: CS_ENOENT (no message) when there is none. */
int hub_manifest_read(const char *dir, hub_mfile **out, size_t *n, cs_err *err);
void hub_manifest_free(hub_mfile *f, size_t n);
/* {"keytype": "ecdsa-p256", "public": PEM} for a key. */
json_t *key_json(cs_key *k, cs_err *err);

#endif
