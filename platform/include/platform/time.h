/*
 * time.h - wall clock and monotonic time, RFC 3339 UTC stamps.
 */
#ifndef PLATFORM_TIME_H
#define PLATFORM_TIME_H

#include <stdint.h>

/* Seconds since the epoch; CISTERN_FAKE_NOW (seconds) overrides for tests of
 * expiry and wrong clocks. */
int64_t cs_time_now(void);
/* Monotonic milliseconds. */
int64_t cs_time_mono_ms(void);
/* "2026-11-22T19:10:00Z" into buf (>= 21 bytes). */
void cs_time_format(int64_t t, char *buf, unsigned cap);
/* Parse exactly "YYYY-MM-DDTHH:MM:SSZ"; -1 on error. */
int cs_time_parse(const char *s, int64_t *out);

#endif
