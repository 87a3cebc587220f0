/*
 * test_schedule.c - sync windows and backoff.
 */
#include <stdint.h>

#include "node/schedule.h"
#include "test.h"

static void test_window_parse(void)
{
    int a, b;
    CHECK(node_window_parse("18:00-07:00", &a, &b) == 0 && a == 18 * 60 && b == 7 * 60);
    CHECK(node_window_parse("00:30-24:00", &a, &b) == 0 && a == 30 && b == 24 * 60);
    CHECK(node_window_parse("", &a, &b) == 0 && a == -1 && b == -1);
    CHECK(node_window_parse("always", &a, &b) == 0 && a == -1);
    CHECK(node_window_parse(NULL, &a, &b) == 0 && a == -1);
    CHECK(node_window_parse("18:00", &a, &b) < 0);
    CHECK(node_window_parse("25:00-07:00", &a, &b) < 0);
    CHECK(node_window_parse("18:60-07:00", &a, &b) < 0);
    CHECK(node_window_parse("18:00-07:00x", &a, &b) < 0);
    CHECK(node_window_parse("24:30-07:00", &a, &b) < 0);
    CHECK(node_window_parse("-1:00-07:00", &a, &b) < 0);
}

static void test_window_open(void)
{
    /* 18:00-07:00 wraps midnight. */
    CHECK(node_window_open(18 * 60, 7 * 60, 18 * 60));
    CHECK(node_window_open(18 * 60, 7 * 60, 23 * 60 + 59));
    CHECK(node_window_open(18 * 60, 7 * 60, 0));
    CHECK(node_window_open(18 * 60, 7 * 60, 6 * 60 + 59));
    CHECK(!node_window_open(18 * 60, 7 * 60, 7 * 60));
    CHECK(!node_window_open(18 * 60, 7 * 60, 12 * 60));
    CHECK(!node_window_open(18 * 60, 7 * 60, 17 * 60 + 59));
    /* 09:00-17:00 does not. */
    CHECK(node_window_open(9 * 60, 17 * 60, 9 * 60));
    CHECK(!node_window_open(9 * 60, 17 * 60, 17 * 60));
    CHECK(!node_window_open(9 * 60, 17 * 60, 3 * 60));
    /* No window, or a whole day. */
    CHECK(node_window_open(-1, -1, 5));
    CHECK(node_window_open(600, 600, 5));
}

static void test_backoff(void)
{
    /* Full jitter: within [1, min(cap, base * 2^n)], never zero. */
    for (int n = 0; n < 40; n++) {
        int64_t cap = 60;
        for (int i = 0; i < n && cap < 21600; i++)
            cap *= 2;
        if (cap > 21600)
            cap = 21600;
        for (uint32_t r = 0; r < 5000; r += 997) {
            int64_t s = node_backoff_s(n, 60, 21600, r * 2654435761u);
            CHECK(s >= 1 && s <= cap);
        }
    }
    /* The spread grows with failures, so nodes that failed together do not
     * retry together. */
    CHECK(node_backoff_s(0, 60, 21600, 59) == 60);
    CHECK(node_backoff_s(5, 60, 21600, 1919) == 1920);
    CHECK(node_backoff_s(30, 60, 21600, 4000000000u) <= 21600);
}

int main(void)
{
    RUN(test_window_parse);
    RUN(test_window_open);
    RUN(test_backoff);
    return TEST_SUMMARY();
}
