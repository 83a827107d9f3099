/* veloctl: the command-line RPC client and operator tool for velo-stream.
 * See README.md and `veloctl --help`. Exit status: 0 ok, 1 the service
 * answered an error, 2 usage error, 3 the service cannot be reached. */
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"

int
main(int argc, char **argv)
{
    return veloctl_main(argc, argv, getenv("VELO_STREAM_RPC"),
                        getenv("VELO_STREAM_PUB"), stdout, stderr);
}
