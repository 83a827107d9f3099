/* velo/rpc.h: "gRPC-style" RPC over nng REQ/REP, table-driven from
 * protoc-c service descriptors.
 *
 * Wire: each request is one nng message holding a packed velo.v1.RpcRequest
 * (method "velo.v1.StationService/GetStation", id, absolute deadline,
 * payload = the packed input message); each reply a packed RpcReply (id,
 * status, error text, payload = the packed output message). See
 * proto/velo/v1/rpc.proto.
 *
 * Server: a service implementation is the service descriptor plus one
 * handler per method, in the descriptor's method order. The layer decodes
 * the envelope and the input message, checks the deadline, calls the
 * handler, packs its reply. A malformed or oversize frame, an unknown
 * method, a payload that does not decode, or an expired deadline gets an
 * error reply (counted); a frame that is not even an envelope is answered
 * with RPC_MALFORMED and id 0. The server never crashes on input.
 *
 * Client: deadlines, timeouts and failover between instances live here:
 * velo_rpc_call tries each configured address in turn (starting with the
 * last one that worked) until one answers or the deadline passes. */
#ifndef VELO_RPC_H
#define VELO_RPC_H

#include <protobuf-c/protobuf-c.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "velo/buf.h"
#include "velo/err.h"
#include "velo/metrics.h"
#include "velo/v1/rpc.pb-c.h"

/* ---- server side ---- */

/* One call as the handler sees it. Per-request; the layer owns req. */
struct velo_rpc_call {
    const ProtobufCMethodDescriptor *method;
    const ProtobufCMessage          *req;         /* decoded input */
    int64_t                          deadline_ms; /* 0: none */
    /* Set by the handler on RPC_OK: the output message. The layer packs
     * it, then calls reply_free(reply, reply_free_ctx) if set. A handler
     * may point reply at storage it owns (then reply_free is NULL). */
    ProtobufCMessage *reply;
    void (*reply_free)(ProtobufCMessage *reply, void *ctx);
    void *reply_free_ctx;
    char  error[256]; /* text for a non-OK status */
};

/* Returns a Velo__V1__RpcStatus. Runs on an nng worker thread: it must be
 * thread-safe and should not block. */
typedef int (*velo_rpc_handler)(void *ctx, struct velo_rpc_call *call);

struct velo_rpc_service {
    const ProtobufCServiceDescriptor *desc;
    const velo_rpc_handler           *handlers; /* desc->n_methods of them */
    void                             *ctx;      /* borrowed */
};

/* Counters the layer bumps (all may be NULL). */
struct velo_rpc_stats {
    velo_metric *calls;     /* every frame handled */
    velo_metric *errors;    /* every non-OK reply */
    velo_metric *malformed; /* frames or payloads that did not decode */
    velo_metric *latency;   /* histogram, seconds */
    /* Optional registry for the per-method series (NULL: none):
     * velo_rpc_server_handled_total{method,status} and
     * velo_rpc_server_handling_seconds{method}. method is the called
     * "package.Service/Method" when the server has it, else "unknown" (the
     * peer chooses the bytes: never a label); status the RpcStatus name. */
    velo_metrics *per_method;
};

/* The whole server-side decision, without sockets: decodes frame, calls
 * the method, packs the reply into out (reset first). Always produces a
 * reply frame unless out's limit cannot even hold an error reply
 * (VELO_ETOOBIG). Thread: any. */
VELO_MUST_CHECK int velo_rpc_dispatch(const struct velo_rpc_service *svcs,
                                      size_t nsvcs, const void *frame,
                                      size_t len, int64_t now_ms,
                                      const struct velo_rpc_stats *stats,
                                      struct velo_buf             *out);

typedef struct velo_rpc_server velo_rpc_server;

struct velo_rpc_server_cfg {
    const char                    *url;  /* "tcp://127.0.0.1:7701"; port 0 ok */
    const struct velo_rpc_service *svcs; /* copied array, borrowed ctx */
    size_t                         nsvcs;
    unsigned int                   workers;         /* concurrent calls; 0: 8 */
    size_t                         max_frame_bytes; /* 0: 4 MiB, both ways */
    velo_metrics                  *metrics; /* NULL: none; else registers
                                               velo_rpc_server_* series */
};

/* Listens and serves on nng threads. VELO_EUNAVAIL: cannot listen (e.g.
 * address in use); VELO_EINVAL: bad cfg or a URL nng cannot listen on. */
VELO_MUST_CHECK int
velo_rpc_server_start(velo_rpc_server                 **out,
                      const struct velo_rpc_server_cfg *cfg);
/* The bound URL with the real port ("tcp://127.0.0.1:41234"). Borrowed. */
const char *velo_rpc_server_url(const velo_rpc_server *s);
/* Closes the socket (pending calls are dropped) and frees. NULL: no-op. */
void velo_rpc_server_stop(velo_rpc_server *s);

/* ---- client side ---- */

typedef struct velo_rpc_client velo_rpc_client;

/* Where the instance list comes from when it changes at run time
 * (service discovery; velo/consul.h's velo_consul_watch_refresh has this
 * signature). refresh is called at the start of every call, on the
 * caller's thread, with the generation the client holds: when the list
 * has changed it calls apply(arg, urls, n) once and updates *gen. It must
 * not block (a cached list). */
typedef void (*velo_rpc_urls_fn)(void *arg, const char *const *urls, size_t n);
struct velo_rpc_resolver {
    bool (*refresh)(void *ctx, uint64_t *gen, velo_rpc_urls_fn apply,
                    void *arg);
    void *ctx; /* borrowed; outlives the client */
};

struct velo_rpc_client_cfg {
    const char *const *urls; /* one or more instances, copied; may be
                                empty with a resolver */
    size_t                   nurls;
    uint32_t                 timeout_ms;      /* per call, all tries; 0: 2000 */
    size_t                   max_frame_bytes; /* 0: 4 MiB */
    struct velo_rpc_resolver resolver;        /* refresh NULL: urls only */
    /* Spread calls: each call starts at the next instance (round robin,
     * skipping one that failed in the last second) instead of the last
     * one that answered, and a try that is not the last one waits for its
     * reply at most half of what is left, so a crashed instance leaves
     * time to fail over. */
    bool spread;
};

/* The status and text of a failed call. */
struct velo_rpc_error {
    int  status; /* Velo__V1__RpcStatus, or RPC_UNAVAILABLE on transport */
    char text[256];
};

VELO_MUST_CHECK int velo_rpc_client_new(velo_rpc_client                 **out,
                                        const struct velo_rpc_client_cfg *cfg);
void                velo_rpc_client_free(velo_rpc_client *c);
/* Replaces the instance list (n >= 1; copied). Connections to instances
 * still listed are kept. A velo_rpc_urls_fn for c. On failure (out of
 * memory, a URL too long) the old list stays. Thread: the caller's, between
 * calls. */
void velo_rpc_client_set_urls(void *c, const char *const *urls, size_t n);

/* Calls method (its name in svc, e.g. "GetStation") with req; on VELO_OK
 * *reply is the decoded output message, which the caller frees with
 * protobuf_c_message_free_unpacked(*reply, NULL). Errors: VELO_ETIMEDOUT
 * (deadline passed, every instance tried), VELO_EUNAVAIL (no instance
 * reachable), VELO_ENOTFOUND / VELO_EINVAL / VELO_EPROTO / VELO_ETOOBIG
 * mapped from the reply status, with err filled (err may be NULL).
 * Thread: one call at a time per client. */
VELO_MUST_CHECK int
velo_rpc_call(velo_rpc_client *c, const ProtobufCServiceDescriptor *svc,
              const char *method, const ProtobufCMessage *req,
              ProtobufCMessage **reply, struct velo_rpc_error *err);

/* velo_err <-> RpcStatus. */
int         velo_rpc_status_from_err(int err);
int         velo_rpc_err_from_status(int status);
const char *velo_rpc_status_name(int status);

/* ---- publish / subscribe (nng PUB/SUB) ---- */

typedef struct velo_pub velo_pub;
typedef struct velo_sub velo_sub;

/* Listens on url (port 0 ok). */
VELO_MUST_CHECK int velo_pub_start(velo_pub **out, const char *url);
const char         *velo_pub_url(const velo_pub *p);
/* Sends topic, a NUL byte, then the packed msg. Never blocks: slow
 * subscribers lose messages (nng PUB semantics). Thread: any. */
VELO_MUST_CHECK int velo_pub_send(velo_pub *p, const char *topic,
                                  const ProtobufCMessage *msg);
void                velo_pub_stop(velo_pub *p);

/* Dials url and subscribes to the topic prefix ("" for everything). */
VELO_MUST_CHECK int velo_sub_new(velo_sub **out, const char *url,
                                 const char *prefix);
/* Waits up to timeout_ms for one message: topic copied into topic_buf,
 * payload decoded with desc into *msg (free with
 * protobuf_c_message_free_unpacked). VELO_ETIMEDOUT when none came,
 * VELO_EPROTO when one did not decode (it is dropped). */
VELO_MUST_CHECK int velo_sub_recv(velo_sub                         *s,
                                  const ProtobufCMessageDescriptor *desc,
                                  char *topic_buf, size_t topic_size,
                                  ProtobufCMessage **msg, int timeout_ms);
/* True while connected to the publisher (the dial is in the background:
 * what is published before that is not received). Thread: any. */
bool velo_sub_connected(velo_sub *s);
void velo_sub_free(velo_sub *s);

#endif
