/*
 * fuzz_conf.c - node.conf parsing on arbitrary bytes, then every key read
 * back by every getter; the input as a size string too.  Must never crash or
 * leak.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "platform/conf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    cs_conf *c = NULL;
    cs_err err;
    memset(&err, 0, sizeof err);
    if (cs_conf_new(&c) != 0)
        return 0;
    if (cs_conf_parse(c, "fuzz.conf", (const char *)data, size, &err) == 0) {
        size_t n = cs_conf_count(c);
        if (n > CS_CONF_MAX_KEYS)
            abort();
        for (size_t i = 0; i < n; i++) {
            const char *k, *v;
            cs_conf_at(c, i, &k, &v);
            if (cs_conf_get(c, k) != v || strchr(v, '\n'))
                abort();
            uint64_t sz;
            int64_t iv;
            cs_conf_get_size(c, k, 0, &sz, &err);
            cs_conf_get_int(c, k, 0, &iv, &err);
            /* Setting a key to its own value changes nothing. */
            if (cs_conf_set(c, k, v, &err) != 0 || cs_conf_count(c) != n)
                abort();
        }
    }
    cs_conf_free(c);

    if (size < 64) {
        char s[64];
        memcpy(s, data, size);
        s[size] = '\0';
        uint64_t v;
        cs_parse_size(s, &v);
    }
    return 0;
}
