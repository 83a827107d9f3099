/* warehouse_svc.h: velo-warehouse on the common service host
 * (velo/svc.h). Ready file: admin address, then the RPC URL. */
#ifndef WAREHOUSE_WAREHOUSE_SVC_H
#define WAREHOUSE_WAREHOUSE_SVC_H

#include "velo/svc.h"

extern const struct velo_svc_ops warehouse_svc_ops;

#endif
