/* gw_svc.h: velo-gateway's service-host hooks. */
#ifndef GW_SVC_H
#define GW_SVC_H

#include "velo/svc.h"

extern const struct velo_svc_ops gw_svc_ops;

#endif
