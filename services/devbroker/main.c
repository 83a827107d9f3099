/* velo-devbroker: the embedded Kafka stand-in for `make run`.
 * The life of the process is the common service host's (velo/svc.h).
 * Exit 0 on SIGTERM or SIGINT. */
#include <stddef.h>

#include "devbroker_svc.h"

int
main(int argc, char **argv)
{
    const struct velo_svc_def def = {
        .spec = &devbroker_cfg_spec,
        .cfg_size = sizeof(struct devbroker_cfg),
        .ops = &devbroker_svc_ops,
        .flags = VELO_SVC_NO_ADMIN,
        .ready_file_off = offsetof(struct devbroker_cfg, ready_file),
        .log_level_off = offsetof(struct devbroker_cfg, log_level),
    };

    return velo_svc_main(&def, argc, argv);
}
