/* velo-gateway: the public HTTP face of velopipe (REST, SSE, GBFS, the
 * dashboard). The life of the process is the common service host's
 * (velo/svc.h); the ready file names the public address first. */
#include <stddef.h>

#include "gw_cfg.h"
#include "gw_svc.h"

int
main(int argc, char **argv)
{
    const struct velo_svc_def def = {
        .spec = &gw_cfg_spec,
        .cfg_size = sizeof(struct gw_cfg),
        .common_off = offsetof(struct gw_cfg, common),
        .ops = &gw_svc_ops,
        .flags = VELO_SVC_READY_SERVICE_FIRST,
    };

    return velo_svc_main(&def, argc, argv);
}
