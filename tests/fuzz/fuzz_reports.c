/*
 * fuzz_reports.c - the hub's side of outbox batches past the signature:
 * record validation (sync/outbox.c) and the report store (sync/report.c:
 * contributions written out for review, records kept exactly once).
 *
 * Any one can make a key and send batches as a new node, so a signature
 * stops nothing here: the input is the JSON a node would sign (an object
 * with "records" and "health", or just the records array), signed with a
 * fresh key per input, parsed as the hub parses POST /outbox, and ingested
 * into a report store in a temporary repository (made afresh every 256
 * inputs, removed at exit).
 *
 * Invariants: a batch we signed is never refused for its signature; a batch
 * that parses has exactly the records that were signed; ingesting the same
 * batch again adds nothing and acknowledges the same sequence; the report
 * can still be made.  Never crash or leak.
 */
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "platform/buf.h"
#include "platform/crypto.h"
#include "platform/file.h"
#include "sync/outbox.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The repository: made once, lives for the process. */
static char repo[4096];
static sync_reports *reports;

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static void teardown(void)
{
    sync_reports_close(reports);
    reports = NULL;
    if (repo[0])
        nftw(repo, rm_one, 16, FTW_DEPTH | FTW_PHYS);
    repo[0] = '\0';
}

/* The store, afresh every 256 inputs: the report reads all of it. */
static sync_reports *store(void)
{
    static unsigned uses;
    static int registered;
    if (reports && ++uses % 256 != 0)
        return reports;
    teardown();
    const char *tmp = getenv("TMPDIR");
    cs_err err = {0};
    char root[4200];
    snprintf(repo, sizeof repo, "%s/fuzz_reports.XXXXXX", tmp && *tmp ? tmp : "/tmp");
    /* A repository is a folder with a root.json; the store needs no more of it. */
    if (!mkdtemp(repo) || snprintf(root, sizeof root, "%s/root.json", repo) < 0 ||
        cs_file_write_atomic(root, "{}", 2, 0644, &err) != 0 ||
        sync_reports_open_sqlite(&reports, repo, &err) != 0) {
        fprintf(stderr, "fuzz_reports: cannot make the report store in %s: %s\n", repo, err.msg);
        abort();
    }
    if (!registered)
        atexit(teardown);
    registered = 1;
    return reports;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    sync_reports *r = store();
    json_t *doc = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, NULL);
    json_t *records = json_is_array(doc) ? doc : json_object_get(doc, "records");
    json_t *health = json_is_object(doc) ? json_object_get(doc, "health") : NULL;
    cs_key *key = NULL;
    cs_buf b;
    cs_err err = {0};
    sync_outbox_batch batch;
    int parsed = 0;
    cs_buf_init(&b, SYNC_OUTBOX_MAX_BYTES);
    if (!json_is_array(records) || cs_key_generate(&key, &err) != 0 ||
        sync_outbox_encode(key, health, records, 1700000000, &b, &err) != 0)
        goto out;
    int rc = sync_outbox_parse(&batch, b.data, b.len, &err);
    if (rc == CS_ESIG)
        abort(); /* we signed it */
    if (rc != 0)
        goto out;
    parsed = 1;
    if (!json_equal((json_t *)batch.records, records))
        abort(); /* what was signed is what is read */
    int64_t acked = 0, acked2 = 0;
    int added = 0, added2 = 0;
    if (sync_reports_ingest(r, &batch, 1700000001, &acked, &added, &err) == 0) {
        if (added < 0 || (size_t)added > json_array_size(records))
            abort();
        if (sync_reports_ingest(r, &batch, 1700000002, &acked2, &added2, &err) != 0 ||
            added2 != 0 || acked2 != acked)
            abort(); /* exactly once */
    }
    json_t *rep = NULL;
    if (sync_reports_report(r, &rep, &err) != 0 || !json_is_object(rep))
        abort();
    json_decref(rep);
out:
    if (parsed)
        sync_outbox_batch_clear(&batch);
    cs_key_free(key);
    cs_buf_free(&b);
    json_decref(doc);
    return 0;
}
