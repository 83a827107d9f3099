/* velo-stream: the live state of every station, from Kafka, over RPC and
 * PUB. The life of the process is the common service host's (velo/svc.h). */
#include <stddef.h>

#include "stream_cfg.h"
#include "stream_svc.h"

int
main(int argc, char **argv)
{
    const struct velo_svc_def def = {
        .spec = &stream_cfg_spec,
        .cfg_size = sizeof(struct stream_cfg),
        .common_off = offsetof(struct stream_cfg, common),
        .ops = &stream_svc_ops,
    };

    return velo_svc_main(&def, argc, argv);
}
