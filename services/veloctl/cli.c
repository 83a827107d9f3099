/* cli.c: veloctl's main() as a function (see cli.h). */
#include "cli.h"

#include <stdlib.h>
#include <unistd.h>

#include "args.h"
#include "call.h"
#include "cmd.h"
#include "velo/log.h"

int
veloctl_main(int argc, char *const *argv, const char *env_rpc,
             const char *env_pub, FILE *out, FILE *err)
{
    struct veloctl_args *a;
    char                 why[512];
    int                  rv, fd;

    /* Heap, not stack: it holds a copy of VELO_STREAM_RPC. */
    a = malloc(sizeof(*a));
    if (a == NULL) {
        fputs("veloctl: out of memory\n", err);
        return VELOCTL_EXIT_ERROR;
    }
    rv = veloctl_args_parse(a, argc, argv, env_rpc, env_pub, why, sizeof(why));
    if (rv == VELO_OK)
        rv = veloctl_args_warehouse_env(a, getenv("VELO_WAREHOUSE_RPC"), why,
                                        sizeof(why));
    if (rv == VELO_CFG_HELP) {
        veloctl_usage(out);
        rv = VELOCTL_EXIT_OK;
    } else if (rv != VELO_OK) {
        fprintf(err, "veloctl: %s\n", why);
        veloctl_usage_short(err);
        rv = VELOCTL_EXIT_USAGE;
    } else {
        /* Library events (RPC failover, ...) go to stderr: stdout is the
         * command's output, which scripts parse. */
        fd = fileno(err);
        velo_log_init("veloctl", a->log_level, fd >= 0 ? fd : STDERR_FILENO);
        rv = veloctl_run(a, out, err);
    }
    free(a);
    return rv;
}
