/* batch_svc.h: velo-batch's hooks for the service host (velo/svc.h). */
#ifndef BATCH_SVC_H
#define BATCH_SVC_H

#include "velo/svc.h"

extern const struct velo_svc_ops batch_svc_ops;

#endif
