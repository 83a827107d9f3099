/* demo_service.h: an in-process StationService with synthetic stations,
 * for `velo-bench-rpc --demo-server`: it measures the RPC layer (and a
 * plain in-memory service) without velo-stream or Kafka.
 *
 * Stations "demo"/"0".."N-1" on a grid over Paris, immutable after _new,
 * so handlers read them from any nng thread without locks. */
#ifndef BENCH_DEMO_SERVICE_H
#define BENCH_DEMO_SERVICE_H

#include <stdint.h>

#include "velo/rpc.h"

#define DEMO_SYSTEM "demo"

typedef struct demo_service demo_service;

/* VELO_EINVAL for 0 or more than 1,000,000 stations, VELO_ENOMEM. */
VELO_MUST_CHECK int demo_service_new(demo_service **out, uint32_t nstations);
/* The service table to hand to velo_rpc_server_start. Borrows d. */
struct velo_rpc_service demo_service_rpc(demo_service *d);
void                    demo_service_free(demo_service *d);

#endif
