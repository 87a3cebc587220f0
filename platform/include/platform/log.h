/*
 * log.h - leveled logging to a stream (stderr, or the journal through it).
 *
 * A logger is a small value passed in a context; there is no global logger.
 */
#ifndef PLATFORM_LOG_H
#define PLATFORM_LOG_H

#include <stdatomic.h>
#include <stdio.h>

enum { CS_LOG_ERROR = 0, CS_LOG_WARN = 1, CS_LOG_INFO = 2, CS_LOG_DEBUG = 3 };

typedef struct cs_logger {
    _Atomic int level; /* messages above it are dropped; see cs_logger_set_level */
    FILE *out;   /* NULL means stderr */
    int stamp;   /* prefix an ISO-8601 time stamp */
} cs_logger;

void cs_logger_init(cs_logger *lg, int level);
/* Change the level while other threads may be logging (a daemon's SIGHUP). */
void cs_logger_set_level(cs_logger *lg, int level);
/* Parse "error", "warn", "info", "debug"; returns -1 if unknown. */
int cs_log_level_parse(const char *s);
void cs_log(const cs_logger *lg, int level, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#define cs_log_error(lg, ...) cs_log((lg), CS_LOG_ERROR, __VA_ARGS__)
#define cs_log_warn(lg, ...) cs_log((lg), CS_LOG_WARN, __VA_ARGS__)
#define cs_log_info(lg, ...) cs_log((lg), CS_LOG_INFO, __VA_ARGS__)
#define cs_log_debug(lg, ...) cs_log((lg), CS_LOG_DEBUG, __VA_ARGS__)

#endif
