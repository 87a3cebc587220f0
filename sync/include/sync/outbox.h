/*
 * outbox.h - the school's voice back to the hub: signed outbox batches
 * (docs/outbox.md), their transfer, and the hub's report store.
 *
 * A batch, on the wire (POST /outbox) and in a file (USB), is:
 *
 *   "cistern-outbox 1\n"
 *   "sig " <hex of the DER ECDSA P-256 signature over the JSON bytes> "\n"
 *   <JSON>   {"node": key id, "key": public key PEM, "sent": unix time,
 *             "health": {...}, "records": [{"seq","uuid","kind","created","body"}...]}
 *
 * The node id is the key id (hex SHA-256 of the public key's DER), so a
 * batch is bound to the key that signed it: nobody without the node's
 * private key can add records under its id.
 */
#ifndef SYNC_OUTBOX_H
#define SYNC_OUTBOX_H

#include <jansson.h>
#include <pthread.h>
#include <stdint.h>

#include "platform/buf.h"
#include "platform/crypto.h"
#include "platform/error.h"

#define SYNC_OUTBOX_MAX_BYTES (8u << 20)  /* a whole batch */
#define SYNC_OUTBOX_MAX_RECORDS 10000
#define SYNC_OUTBOX_MAX_RECORD (6u << 20) /* one record's body (a contribution's files) */
#define SYNC_OUTBOX_MAGIC "cistern-outbox 1\n"

typedef struct sync_outbox_batch {
    char node[CS_KEYID_HEX];
    json_t *doc;           /* the whole JSON document (owned) */
    const json_t *health;  /* borrowed from doc; an object */
    const json_t *records; /* borrowed from doc; an array, seq strictly increasing */
} sync_outbox_batch;

/* Sign and frame: records and health are not stolen. */
int sync_outbox_encode(const cs_key *key, const json_t *health, const json_t *records, int64_t now, cs_buf *out,
                       cs_err *err);
/* Parse, check the caps and the signature (CS_ESIG), validate each record
 * (CS_EFORMAT), or CS_ETOOBIG. */
int sync_outbox_parse(sync_outbox_batch *b, const void *data, size_t len, cs_err *err);
void sync_outbox_batch_clear(sync_outbox_batch *b);

/* POST a framed batch to base_url + "/outbox"; *acked = the hub's
 * acknowledged sequence. */
int sync_outbox_post(const char *base_url, const void *data, size_t len, long timeout_s, int64_t *acked,
                     cs_err *err);

/* ---- the hub's side: where reports are kept ----
 *
 * An interface with one SQLite implementation (REPO/reports.db); a
 * provincial deployment can back it with PostgreSQL by supplying another
 * sync_reports_ops. */
typedef struct sync_reports_ops {
    /* Store the batch's records idempotently ((node, seq) is the key: a
     * record seen before adds nothing; a different uuid under a seen seq is
     * CS_EFORMAT) and the node's health; *acked = the highest sequence up to
     * which every record of that node is held; *added = new records. */
    int (*ingest)(void *impl, const sync_outbox_batch *b, int64_t now, int64_t *acked, int *added, cs_err *err);
    /* {"nodes":[...], "usage":[...], "feedback":[...], "contributions":[...]} */
    int (*report)(void *impl, json_t **out, cs_err *err);
    void (*close)(void *impl);
} sync_reports_ops;

typedef struct sync_reports {
    const sync_reports_ops *ops;
    void *impl;
    /* One ingest or report at a time: the hub's request threads share one
     * connection, and two BEGIN..COMMITs on it would interleave. */
    pthread_mutex_t lock;
    char repo[4096];
} sync_reports;

int sync_reports_open_sqlite(sync_reports **out, const char *repo, cs_err *err);
/* Verify-and-store: contributions' files are written under
 * REPO/contrib/<node 12>-<uuid>/<resource id>/ for review, then the records
 * go to the store. */
int sync_reports_ingest(sync_reports *r, const sync_outbox_batch *b, int64_t now, int64_t *acked, int *added,
                        cs_err *err);
int sync_reports_report(sync_reports *r, json_t **out, cs_err *err);
void sync_reports_close(sync_reports *r); /* NULL ok */

#endif
