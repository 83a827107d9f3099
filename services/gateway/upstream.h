/* upstream.h: the gateway's RPC clients for one peer service (velo-stream
 * or velo-warehouse), shared by the HTTP worker threads.
 *
 * velo_rpc_client serves one call at a time, so an upstream holds one
 * client per HTTP thread, each behind its own mutex; a call takes a free
 * one (or waits for the next in turn). Every client fails over between the
 * configured addresses itself (velo/rpc.h: sticky to the last that
 * answered). Failed calls are counted in
 * velo_gateway_upstream_errors_total{upstream,status}.
 *
 * Thread: any. */
#ifndef GW_UPSTREAM_H
#define GW_UPSTREAM_H

#include <protobuf-c/protobuf-c.h>
#include <stddef.h>
#include <stdint.h>

#include "velo/metrics.h"
#include "velo/rpc.h"

typedef struct gw_upstream gw_upstream;

/* Most addresses in one comma-separated list. */
#define GW_UPSTREAM_URLS_MAX 8

/* urls: comma-separated addresses. name labels the metrics ("stream").
 * VELO_EINVAL for an empty or too long list. */
VELO_MUST_CHECK int gw_upstream_new(gw_upstream **out, const char *name,
                                    const char *urls, size_t nclients,
                                    uint32_t timeout_ms,
                                    const ProtobufCServiceDescriptor *svc,
                                    velo_metrics                     *m);
/* The same with the instances found through discovery (velo/consul.h's
 * watch as res: its cached list replaces urls once it has instances, and
 * calls spread over them). res NULL: gw_upstream_new. */
VELO_MUST_CHECK int gw_upstream_new_discovered(
    gw_upstream **out, const char *name, const char *urls, size_t nclients,
    uint32_t timeout_ms, const ProtobufCServiceDescriptor *svc, velo_metrics *m,
    const struct velo_rpc_resolver *res);
void gw_upstream_free(gw_upstream *u);

/* velo_rpc_call on a free client; same contract (reply freed by the
 * caller with protobuf_c_message_free_unpacked). */
VELO_MUST_CHECK int gw_upstream_call(gw_upstream *u, const char *method,
                                     const ProtobufCMessage *req,
                                     ProtobufCMessage      **reply,
                                     struct velo_rpc_error  *err);

/* Splits a comma-separated list into at most max trimmed items in buf;
 * returns how many (0: empty, or an item empty or too many). */
size_t gw_split_urls(const char *list, char *buf, size_t size,
                     const char **items, size_t max);

#endif
