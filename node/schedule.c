/*
 * schedule.c - when the daemon may use the link.
 */
#include "node/schedule.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

int node_window_parse(const char *spec, int *start_min, int *end_min)
{
    int h1, m1, h2, m2;
    char extra;
    if (!spec || !*spec || strcmp(spec, "always") == 0) {
        *start_min = *end_min = -1;
        return 0;
    }
    if (sscanf(spec, "%d:%d-%d:%d%c", &h1, &m1, &h2, &m2, &extra) != 4 || h1 < 0 || h1 > 24 || h2 < 0 ||
        h2 > 24 || m1 < 0 || m1 > 59 || m2 < 0 || m2 > 59 || (h1 == 24 && m1) || (h2 == 24 && m2))
        return -1;
    *start_min = h1 * 60 + m1;
    *end_min = h2 * 60 + m2;
    return 0;
}

int node_window_open(int start_min, int end_min, int now_min)
{
    if (start_min < 0 || start_min == end_min)
        return 1; /* no window, or a full day */
    if (start_min < end_min)
        return now_min >= start_min && now_min < end_min;
    return now_min >= start_min || now_min < end_min; /* across midnight */
}

int node_local_minute(int64_t t)
{
    time_t tt = (time_t)t;
    struct tm tm;
    if (!localtime_r(&tt, &tm))
        return 0;
    return tm.tm_hour * 60 + tm.tm_min;
}

int64_t node_backoff_s(int failures, int64_t base_s, int64_t cap_s, uint32_t random)
{
    int64_t cap = base_s;
    for (int i = 0; i < failures && cap < cap_s; i++)
        cap *= 2;
    if (cap > cap_s)
        cap = cap_s;
    return cap > 0 ? (int64_t)(random % (uint64_t)cap) + 1 : 1; /* full jitter, at least a second */
}
