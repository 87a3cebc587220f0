/*
 * log.c - leveled logging.
 */
#include "platform/log.h"

#include <stdarg.h>
#include <string.h>
#include <time.h>

#include "platform/time.h"

static const char *level_names[] = {"error", "warn", "info", "debug"};

void cs_logger_init(cs_logger *lg, int level)
{
    atomic_init(&lg->level, level);
    lg->out = NULL;
    lg->stamp = 0;
}

void cs_logger_set_level(cs_logger *lg, int level)
{
    atomic_store_explicit(&lg->level, level, memory_order_relaxed);
}

int cs_log_level_parse(const char *s)
{
    for (int i = 0; i < 4; i++)
        if (s && strcmp(s, level_names[i]) == 0)
            return i;
    return -1;
}

void cs_log(const cs_logger *lg, int level, const char *fmt, ...)
{
    if (lg && level > atomic_load_explicit(&lg->level, memory_order_relaxed))
        return;
    FILE *out = lg && lg->out ? lg->out : stderr;
    char line[2048];
    size_t n = 0;
    if (lg && lg->stamp) {
        char ts[32];
        cs_time_format(cs_time_now(), ts, sizeof ts);
        n = (size_t)snprintf(line, sizeof line, "%s ", ts);
    }
    if (level < 0 || level > 3)
        level = CS_LOG_ERROR;
    n += (size_t)snprintf(line + n, sizeof line - n, "%s: ", level_names[level]);
    va_list ap;
    va_start(ap, fmt);
    if (n < sizeof line)
        vsnprintf(line + n, sizeof line - n, fmt, ap);
    va_end(ap);
    /* One write per line so concurrent threads do not interleave mid-line. */
    fprintf(out, "%s\n", line);
    fflush(out);
}
