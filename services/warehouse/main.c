/* velo-warehouse: loads hourly and daily aggregates from Kafka into the
 * warehouse database and serves them over RPC (HistoryService). The life
 * of the process is the common service host's (velo/svc.h). */
#include <stddef.h>

#include "warehouse_cfg.h"
#include "warehouse_svc.h"

int
main(int argc, char **argv)
{
    const struct velo_svc_def def = {
        .spec = &warehouse_cfg_spec,
        .cfg_size = sizeof(struct warehouse_cfg),
        .common_off = offsetof(struct warehouse_cfg, common),
        .ops = &warehouse_svc_ops,
    };

    return velo_svc_main(&def, argc, argv);
}
