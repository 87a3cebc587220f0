/*
 * cli.c - shared command-line helpers.
 */
#include "cli.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "platform/time.h"

int cli_fail(const cs_err *err)
{
    fprintf(stderr, "cistern: %s\n", err && err->msg[0] ? err->msg : cs_err_text(err ? err->code : CS_EIO));
    return CLI_FAIL;
}

int cli_failf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("cistern: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    return CLI_FAIL;
}

int cli_usage(const cli_command *c, const char *why)
{
    if (why)
        fprintf(stderr, "cistern: %s\n", why);
    fprintf(stderr, "usage: cistern %s %s %s\n(see `cistern %s %s --help`)\n", c->group, c->name,
            c->usage, c->group, c->name);
    return CLI_USAGE;
}

int cli_want_help(const cli_command *c, int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--") == 0)
            break;
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            printf("usage: cistern %s %s %s\n\n%s\n", c->group, c->name, c->usage, c->help);
            return 1;
        }
    }
    return 0;
}

void cli_bytes(uint64_t n, char *buf, unsigned cap)
{
    const char *u[] = {"B", "KB", "MB", "GB", "TB"};
    double v = (double)n;
    int i = 0;
    while (v >= 1000 && i < 4) {
        v /= 1000;
        i++;
    }
    if (i == 0)
        snprintf(buf, cap, "%llu B", (unsigned long long)n);
    else
        snprintf(buf, cap, "%.1f %s", v, u[i]);
}

void cli_progress_init(cli_progress *p)
{
    memset(p, 0, sizeof *p);
    p->start_ms = p->last_ms = cs_time_mono_ms();
    p->tty = isatty(2);
    const char *q = getenv("CISTERN_QUIET");
    p->quiet = q && strcmp(q, "1") == 0;
}

void cli_progress_cb(void *ctx, const char *phase, uint64_t done, uint64_t total)
{
    cli_progress *p = ctx;
    if (p->quiet)
        return;
    int64_t now = cs_time_mono_ms();
    int new_phase = strncmp(p->phase, phase, sizeof p->phase - 1) != 0;
    int finished = total && done >= total;
    if (!new_phase && !finished && now - p->last_ms < (p->tty ? 200 : 2000))
        return;
    if (new_phase && p->tty && p->printed)
        fputc('\n', stderr);
    snprintf(p->phase, sizeof p->phase, "%s", phase);
    p->last_ms = now;
    double secs = (double)(now - p->start_ms) / 1000.0;
    char line[160];
    if (total) {
        int pct = (int)(done * 100 / total);
        double rate = secs > 0.05 ? (double)done / secs : 0;
        double eta = rate > 0 ? (double)(total - done) / rate : 0;
        if (total > 100000) {
            char a[32], b[32], r[32];
            cli_bytes(done, a, sizeof a);
            cli_bytes(total, b, sizeof b);
            cli_bytes((uint64_t)rate, r, sizeof r);
            if (rate > 0 && done < total)
                snprintf(line, sizeof line, "%s: %s of %s (%d%%), %s/s, ETA %.0fs", phase, a, b, pct, r, eta);
            else
                snprintf(line, sizeof line, "%s: %s of %s (%d%%)", phase, a, b, pct);
        } else {
            snprintf(line, sizeof line, "%s: %llu of %llu (%d%%)", phase, (unsigned long long)done,
                     (unsigned long long)total, pct);
        }
    } else {
        snprintf(line, sizeof line, "%s…", phase);
    }
    if (p->tty)
        fprintf(stderr, "\r\033[K%s", line);
    else
        fprintf(stderr, "%s\n", line);
    p->printed = 1;
}

void cli_progress_done(cli_progress *p)
{
    if (p->tty && p->printed && !p->quiet)
        fputc('\n', stderr);
    p->printed = 0;
}
