/* stream_svc.h: velo-stream on the common service host (velo/svc.h).
 * Ready file: admin address, then the RPC URL, then the PUB URL. */
#ifndef STREAM_STREAM_SVC_H
#define STREAM_STREAM_SVC_H

#include "velo/svc.h"

extern const struct velo_svc_ops stream_svc_ops;

#endif
