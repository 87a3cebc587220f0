/*
 * fuzz_manifest.c - a resource folder's file list (resource.files,
 * sync/hub_manifest.c) on arbitrary bytes, written into a scratch folder
 * with one disk file beside it: every path accepted is safe and listed once;
 * every refusal says why.  Must never crash or leak.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "content/resource.h"
#include "platform/file.h"
#include "../../sync/hub_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char dir[] = "/tmp/cistern-fuzz-manifest-XXXXXX";
static int ready;

static void scratch_remove(void)
{
    char p[128];
    snprintf(p, sizeof p, "%s/a.bin", dir);
    unlink(p);
    snprintf(p, sizeof p, "%s/resource.files", dir);
    unlink(p);
    rmdir(dir);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char p[128];
    cs_err err;
    hub_mfile *f = NULL;
    size_t n = 0;
    if (!ready) {
        if (!mkdtemp(dir))
            abort();
        snprintf(p, sizeof p, "%s/a.bin", dir);
        if (cs_file_write_atomic(p, "bytes", 5, 0644, NULL) != 0)
            abort();
        ready = 1;
        atexit(scratch_remove);
    }
    snprintf(p, sizeof p, "%s/resource.files", dir);
    if (cs_file_write_atomic(p, data, size, 0644, NULL) != 0)
        return 0;
    memset(&err, 0, sizeof err);
    if (hub_manifest_read(dir, &f, &n, &err) == 0) {
        for (size_t i = 0; i < n; i++) {
            if (!content_path_valid(f[i].path))
                abort();
            for (size_t j = 0; j < i; j++)
                if (strcmp(f[i].path, f[j].path) == 0)
                    abort();
        }
        hub_manifest_free(f, n);
    } else if (err.code == 0 || !err.msg[0]) {
        abort();
    }
    return 0;
}
