/* gateway.h: the velo-gateway service object.
 *
 *   gateway_new    RPC clients (stream, warehouse), rate limiter, SSE hub
 *   gateway_start  the public HTTP server and the PUB subscriber thread
 *   gateway_stop   ends event streams, stops serving, joins the thread
 *   gateway_free
 *
 * Thread: _new/_start/_stop/_free and gateway_addr from main. */
#ifndef GW_GATEWAY_H
#define GW_GATEWAY_H

#include "gw_cfg.h"
#include "velo/err.h"
#include "velo/metrics.h"

typedef struct gateway gateway;

/* cfg and m are borrowed and outlive the object. VELO_EINVAL: a bad peer
 * list or rate limit. */
VELO_MUST_CHECK int gateway_new(gateway **out, const struct gw_cfg *cfg,
                                velo_metrics *m);
/* VELO_EUNAVAIL: the public port cannot be bound. */
VELO_MUST_CHECK int gateway_start(gateway *gw);
int                 gateway_stop(gateway *gw);
void                gateway_free(gateway *gw);

/* "127.0.0.1:8080" once started (the real port). Borrowed. */
const char *gateway_addr(const gateway *gw);

#endif
