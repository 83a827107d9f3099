/* devbroker_svc.h: velo-devbroker on the common service host (velo/svc.h).
 * It has no admin port: the ready file holds the bootstrap address. */
#ifndef DEVBROKER_DEVBROKER_SVC_H
#define DEVBROKER_DEVBROKER_SVC_H

#include <stdint.h>

#include "velo/cfg.h"
#include "velo/log.h"
#include "velo/svc.h"

struct devbroker_cfg {
    const char         *ready_file;
    uint32_t            port;
    const char         *topics;
    enum velo_log_level log_level;
};

extern const struct velo_cfg_spec devbroker_cfg_spec;
extern const struct velo_svc_ops  devbroker_svc_ops;

#endif
