/* cmd.h: veloctl's commands, run against velo-stream over RPC/SUB.
 *
 * Results go to out, messages to err (never both for one thing), so a
 * script can read --json output while people see the errors. Nothing here
 * exits the process: the caller returns the status from main, and tests
 * call veloctl_run directly with memory streams. */
#ifndef VELOCTL_CMD_H
#define VELOCTL_CMD_H

#include <stdio.h>

#include "args.h"

/* Runs a->cmd. Returns the exit status (enum veloctl_exit in call.h).
 * Blocks for at most about a->timeout_ms per RPC (watch: until --count or
 * --timeout-s, else until the process is interrupted). Thread: any, one
 * run per args. */
int veloctl_run(const struct veloctl_args *a, FILE *out, FILE *err);

#endif
