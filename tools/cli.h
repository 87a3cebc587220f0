/*
 * cli.h - what the `cistern` commands share: the command table entry type,
 * progress output and small helpers.  Commands use only the modules' public
 * headers.
 */
#ifndef TOOLS_CLI_H
#define TOOLS_CLI_H

#include <stdint.h>

#include "platform/error.h"

typedef struct cli_command {
    const char *group; /* "hub", "node", "recommend" */
    const char *name;  /* "init", "publish", ... */
    const char *usage; /* one-line synopsis */
    const char *help;  /* paragraph for --help */
    int (*run)(int argc, char **argv);
} cli_command;

/* Every command returns this on failure after printing one line. */
#define CLI_FAIL 1
#define CLI_USAGE 2

/* Print "cistern: <msg>" to stderr; returns CLI_FAIL. */
int cli_fail(const cs_err *err);
int cli_failf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Usage error: prints synopsis and a hint; returns CLI_USAGE. */
int cli_usage(const cli_command *c, const char *why);
/* 1 if argv holds -h or --help (then prints help). */
int cli_want_help(const cli_command *c, int argc, char **argv);

/* Progress printer (stderr): throttled, a live line on a terminal, a line
 * every few seconds otherwise; silent with CISTERN_QUIET=1. */
typedef struct cli_progress {
    int64_t start_ms, last_ms;
    int tty, quiet, printed;
    char phase[32];
} cli_progress;
void cli_progress_init(cli_progress *p);
void cli_progress_cb(void *ctx, const char *phase, uint64_t done, uint64_t total);
void cli_progress_done(cli_progress *p);

/* "12.3 MB" */
void cli_bytes(uint64_t n, char *buf, unsigned cap);

/* The table entry of a command (never NULL for a command in the table). */
const cli_command *cli_cmd(const char *group, const char *name);

extern const cli_command cli_commands[];
extern const unsigned cli_ncommands;

#endif
