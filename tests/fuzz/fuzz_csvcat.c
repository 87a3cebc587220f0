/*
 * fuzz_csvcat.c - catalog.csv parsing (sync/csvcat.c) on arbitrary bytes:
 * every row that parses is a valid resource.json (validated again here) and
 * names its row; every refusal says why.  Must never crash or leak.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "content/resource.h"
#include "sync/csvcat.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_t *out = NULL;
    cs_err err;
    memset(&err, 0, sizeof err);
    if (sync_csv_catalog_parse((const char *)data, size, &out, &err) == 0) {
        const char *folder;
        json_t *row;
        json_object_foreach(out, folder, row)
        {
            if (json_integer_value(json_object_get(row, "row")) < 2 ||
                content_resource_validate(json_object_get(row, "meta"), NULL) != 0 || !*folder)
                abort();
        }
        json_decref(out);
    } else if (err.code == 0 || !err.msg[0]) {
        abort();
    }
    return 0;
}
