/*
 * schedule.h - when the daemon syncs: a daily window in local time
 * (sync.window = 18:00-07:00, which may wrap past midnight; empty or
 * "always" = any time), and full-jitter exponential backoff after failures.
 */
#ifndef NODE_SCHEDULE_H
#define NODE_SCHEDULE_H

#include <stdint.h>

/* "HH:MM-HH:MM" into minutes of the day; -1/-1 for no window.  -1 if bad. */
int node_window_parse(const char *spec, int *start_min, int *end_min);
/* 1 if now_min (minute of the day) is inside the window. */
int node_window_open(int start_min, int end_min, int now_min);
int node_local_minute(int64_t t);
/* Seconds to wait after `failures` consecutive failures: uniform in
 * [1, min(cap, base * 2^failures)] (full jitter). */
int64_t node_backoff_s(int failures, int64_t base_s, int64_t cap_s, uint32_t random);

#endif
