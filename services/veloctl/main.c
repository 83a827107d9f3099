/* veloctl: the command-line RPC client and operator tool for velo-stream.
 * See README.md and `veloctl --help`. Exit status: 0 ok, 1 the service
 * answered an error, 2 usage error, 3 the service cannot be reached. */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "args.h"
#include "call.h"
#include "cmd.h"
#include "velo/log.h"

int
main(int argc, char **argv)
{
    static struct veloctl_args a; /* holds an env copy: not on the stack */
    char                       err[512];
    int                        rv;

    rv = veloctl_args_parse(&a, argc, argv, getenv("VELO_STREAM_RPC"),
                            getenv("VELO_STREAM_PUB"), err, sizeof(err));
    if (rv == VELO_CFG_HELP) {
        fputs(veloctl_usage(), stdout);
        return VELOCTL_EXIT_OK;
    }
    if (rv != VELO_OK) {
        fprintf(stderr, "veloctl: %s\n%s", err, veloctl_usage_short());
        return VELOCTL_EXIT_USAGE;
    }
    /* Library events (RPC failover, ...) go to stderr: stdout is the
     * command's output, which scripts parse. */
    velo_log_init("veloctl", a.log_level, STDERR_FILENO);
    return veloctl_run(&a, stdout, stderr);
}
