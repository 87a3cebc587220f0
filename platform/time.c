/*
 * time.c - clocks and RFC 3339 stamps.
 */
#include "platform/time.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int64_t cs_time_now(void)
{
    const char *fake = getenv("CISTERN_FAKE_NOW");
    if (fake && *fake) {
        char *end;
        long long v = strtoll(fake, &end, 10);
        if (*end == '\0')
            return v;
    }
    return (int64_t)time(NULL);
}

int64_t cs_time_mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void cs_time_format(int64_t t, char *buf, unsigned cap)
{
    time_t tt = (time_t)t;
    struct tm tm;
    if (!gmtime_r(&tt, &tm) || strftime(buf, cap, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0) {
        if (cap)
            buf[0] = '\0';
    }
}

int cs_time_parse(const char *s, int64_t *out)
{
    if (!s || strlen(s) != 20)
        return -1;
    for (int i = 0; i < 20; i++) {
        char c = s[i];
        int want_digit = !(i == 4 || i == 7 || i == 10 || i == 13 || i == 16 || i == 19);
        if (want_digit && (c < '0' || c > '9'))
            return -1;
    }
    if (s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':' || s[19] != 'Z')
        return -1;
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    tm.tm_year = atoi(s) - 1900;
    tm.tm_mon = atoi(s + 5) - 1;
    tm.tm_mday = atoi(s + 8);
    tm.tm_hour = atoi(s + 11);
    tm.tm_min = atoi(s + 14);
    tm.tm_sec = atoi(s + 17);
    if (tm.tm_mon < 0 || tm.tm_mon > 11 || tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_hour > 23 ||
        tm.tm_min > 59 || tm.tm_sec > 60)
        return -1;
    time_t t = timegm(&tm);
    if (t == (time_t)-1)
        return -1;
    /* timegm rolls 2026-02-31 over into March: only dates that exist, and
     * that format back to the same text, are accepted. */
    char back[32];
    cs_time_format((int64_t)t, back, sizeof back);
    if (strcmp(back, s) != 0)
        return -1;
    *out = (int64_t)t;
    return 0;
}
