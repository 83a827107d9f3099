/* cli.h: veloctl from argv to exit status, so the whole command line,
 * usage errors and help included, is testable without a process. */
#ifndef VELOCTL_CLI_H
#define VELOCTL_CLI_H

#include <stdio.h>

/* Parses argv (env_rpc, env_pub: VELO_STREAM_RPC and VELO_STREAM_PUB, or
 * NULL) and runs the command. --help: the usage on out, 0. A usage error:
 * "veloctl: <reason>" and the short usage on err, VELOCTL_EXIT_USAGE (2).
 * Otherwise the command's status (veloctl_run). Library events go to
 * err's file descriptor (stderr when it has none). Thread: the main one
 * (it sets up the process-wide logger). */
int veloctl_main(int argc, char *const *argv, const char *env_rpc,
                 const char *env_pub, FILE *out, FILE *err);

#endif
