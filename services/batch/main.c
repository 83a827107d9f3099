/* velo-batch: hourly and daily station aggregates from velib_data to
 * velib_aggregates, exactly once. The life of the process is the common
 * service host's (velo/svc.h). */
#include <stddef.h>

#include "batch_cfg.h"
#include "batch_svc.h"

int
main(int argc, char **argv)
{
    const struct velo_svc_def def = {
        .spec = &batch_cfg_spec,
        .cfg_size = sizeof(struct batch_cfg),
        .common_off = offsetof(struct batch_cfg, common),
        .ops = &batch_svc_ops,
    };

    return velo_svc_main(&def, argc, argv);
}
