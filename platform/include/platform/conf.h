/*
 * conf.h - the DATA/node.conf file: `key = value` lines, `#` comments.
 *
 *     # Cistern node configuration
 *     hub.url = https://hub.example.org/repo
 *     sync.window = 18:00-07:00
 *     sync.max_rate = 256k
 *
 * Keys are [a-z0-9_.-]+, values run to the end of the line with surrounding
 * blanks trimmed.  Limits: CS_CONF_MAX_LINE bytes a line, CS_CONF_MAX_KEYS
 * keys, CS_CONF_MAX_FILE bytes a file.  Errors name the file and the line.
 */
#ifndef PLATFORM_CONF_H
#define PLATFORM_CONF_H

#include <stddef.h>
#include <stdint.h>

#include "platform/error.h"

#define CS_CONF_MAX_LINE 4096
#define CS_CONF_MAX_KEYS 256
#define CS_CONF_MAX_FILE (256 * 1024)

typedef struct cs_conf cs_conf;

int cs_conf_new(cs_conf **out);
/* Parse text; name is used in error messages. */
int cs_conf_parse(cs_conf *c, const char *name, const char *text, size_t len, cs_err *err);
int cs_conf_load(cs_conf **out, const char *path, cs_err *err);
/* Writes the whole file atomically, in insertion order. */
int cs_conf_save(const cs_conf *c, const char *path, cs_err *err);
void cs_conf_free(cs_conf *c);

/* NULL if absent. */
const char *cs_conf_get(const cs_conf *c, const char *key);
const char *cs_conf_get_str(const cs_conf *c, const char *key, const char *def);
/* Integer with optional k/m/g suffix (powers of 1024); CS_ECONFIG if malformed. */
int cs_conf_get_size(const cs_conf *c, const char *key, uint64_t def, uint64_t *out, cs_err *err);
int cs_conf_get_int(const cs_conf *c, const char *key, int64_t def, int64_t *out, cs_err *err);
int cs_conf_set(cs_conf *c, const char *key, const char *value, cs_err *err);
/* Remove key (back to its default); nothing if absent. */
void cs_conf_unset(cs_conf *c, const char *key);
size_t cs_conf_count(const cs_conf *c);
/* i-th key/value in file order. */
void cs_conf_at(const cs_conf *c, size_t i, const char **key, const char **value);

/* Parse "256k", "10m", "1g", "12345" -> bytes. */
int cs_parse_size(const char *s, uint64_t *out);

#endif
