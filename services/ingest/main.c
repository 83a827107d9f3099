/* velo-ingest: polls bike-share sources, produces StationSnapshots.
 * The life of the process is the common service host's (velo/svc.h). */
#include <stddef.h>

#include "ingest_cfg.h"
#include "ingest_svc.h"

int
main(int argc, char **argv)
{
    const struct velo_svc_def def = {
        .spec = &ingest_cfg_spec,
        .cfg_size = sizeof(struct ingest_cfg),
        .common_off = offsetof(struct ingest_cfg, common),
        .ops = &ingest_svc_ops,
        .global_init = ingest_svc_global_init,
        .global_fini = ingest_svc_global_fini,
    };

    return velo_svc_main(&def, argc, argv);
}
