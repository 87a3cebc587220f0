/*
 * fuzz_outbox.c - the hub's parser of nodes' outbox batches (sync/outbox.c)
 * on arbitrary bytes.  A batch that parses must keep the caps: at most
 * SYNC_OUTBOX_MAX_RECORDS records, sequence numbers strictly increasing,
 * a 64-digit node id.  Must never crash or leak.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sync/outbox.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    sync_outbox_batch b;
    cs_err err;
    memset(&err, 0, sizeof err);
    if (sync_outbox_parse(&b, data, size, &err) == 0) {
        size_t i;
        json_t *r;
        json_int_t prev = 0;
        if (strlen(b.node) != 64 || json_array_size(b.records) > SYNC_OUTBOX_MAX_RECORDS)
            abort();
        json_array_foreach(b.records, i, r)
        {
            json_int_t seq = json_integer_value(json_object_get(r, "seq"));
            if (seq <= prev)
                abort();
            prev = seq;
        }
        sync_outbox_batch_clear(&b);
    } else if (err.code == 0 || !err.msg[0]) {
        abort(); /* every refusal says why */
    }
    return 0;
}
