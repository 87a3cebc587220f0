/*
 * rec_cli.h - what `cistern recommend eval` and `audit` share: their
 * options and loading the CSV files they name.
 */
#ifndef TOOLS_REC_CLI_H
#define TOOLS_REC_CLI_H

#include "cli.h"
#include "node/recommend_eval.h"

typedef struct rec_cli_opts {
    const char *interactions, *train, *items, *groups;
    int json;
    int have_protocol; /* --protocol was given */
    node_rec_eval_opts eval;
} rec_cli_opts;

/* Parse argv (argv[0] is the command name); returns 0, or the exit status
 * after printing a usage error. */
int rec_cli_parse(const cli_command *me, int argc, char **argv, rec_cli_opts *o);
/* Read --interactions, --train, --items and --groups into a new log. */
int rec_cli_load(const rec_cli_opts *o, node_rec_log **out, cs_err *err);

#endif
