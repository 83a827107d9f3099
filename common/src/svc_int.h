/* svc_int.h: the service host's parts (svc.c, svc_consul.c). Internal. */
#ifndef VELO_SVC_INT_H
#define VELO_SVC_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "velo/consul.h"
#include "velo/svc.h"

/* The host's Consul registration; zeroed means "not configured". */
struct svc_consul {
    velo_consul     *c;
    velo_consul_reg *reg;
    bool             curl_inited;
};

/* Checks the Consul settings of cc and makes the client when an address
 * is configured (nothing otherwise). Prints every problem on stderr and
 * returns VELO_EINVAL for bad settings. Thread: main, before any other
 * thread exists (it runs curl_global_init). */
VELO_MUST_CHECK int svc_consul_load(struct svc_consul            *sc,
                                    const struct velo_common_cfg *cc);

/* Starts registering velo-<name> (see velo/svc.h): admin_port is the
 * bound admin port; ops->consul (if any) adds the main port and meta.
 * No-op when Consul is not configured. */
VELO_MUST_CHECK int svc_consul_start(struct svc_consul            *sc,
                                     const struct velo_common_cfg *cc,
                                     const char *name, uint16_t admin_port,
                                     const struct velo_svc_ops *ops, void *svc,
                                     velo_metrics *m);

/* Deregisters now (bounded), before the service stops. No-op when off. */
void svc_consul_leave(struct svc_consul *sc);

/* Writes "consul: <state>" into buf ("" when Consul is off). */
void svc_consul_detail(struct svc_consul *sc, char *buf, size_t size);

/* Stops the registration thread and frees. Safe on a zeroed sc. */
void svc_consul_fini(struct svc_consul *sc);

#endif
