/* rpc_int.h: what rpc.c, rpc_server.c, rpc_client.c and rpc_pubsub.c
 * share and nobody else needs (in the spirit of nng's core headers). Not
 * installed: it lives beside the sources, outside include/. */
#ifndef VELO_RPC_INT_H
#define VELO_RPC_INT_H

#include <nng/nng.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "velo/err.h"
#include "velo/v1/rpc.pb-c.h"

/* Default cap on one frame, both ways (velo_rpc_*_cfg.max_frame_bytes). */
#define RPC_MAX_FRAME_DEFAULT ((size_t)4 << 20)
/* Longest "package.Service/Method" either side builds or accepts. */
#define RPC_METHOD_MAX 256
/* Longest URL a server, publisher or peer keeps. */
#define RPC_URL_MAX 256

/* Short names for the RpcStatus values the layer itself produces. */
#define RPC_OK VELO__V1__RPC_STATUS__RPC_OK
#define RPC_INVALID_ARGUMENT VELO__V1__RPC_STATUS__RPC_INVALID_ARGUMENT
#define RPC_DEADLINE_EXCEEDED VELO__V1__RPC_STATUS__RPC_DEADLINE_EXCEEDED
#define RPC_NOT_FOUND VELO__V1__RPC_STATUS__RPC_NOT_FOUND
#define RPC_RESOURCE_EXHAUSTED VELO__V1__RPC_STATUS__RPC_RESOURCE_EXHAUSTED
#define RPC_UNIMPLEMENTED VELO__V1__RPC_STATUS__RPC_UNIMPLEMENTED
#define RPC_INTERNAL VELO__V1__RPC_STATUS__RPC_INTERNAL
#define RPC_UNAVAILABLE VELO__V1__RPC_STATUS__RPC_UNAVAILABLE
#define RPC_MALFORMED VELO__V1__RPC_STATUS__RPC_MALFORMED

/* rpc_server_pipes.c: the connections that delivered a request, to tell a
 * dropped frame from a peer's close (see there). Thread-safe. */
struct rpc_pipe_entry;
struct rpc_pipes {
    pthread_mutex_t        mtx;
    struct rpc_pipe_entry *served;     /* uthash set by pipe id */
    uint64_t               other_seen; /* nng's "other" count, last look */
};

void rpc_pipes_init(struct rpc_pipes *ps);
void rpc_pipes_fini(struct rpc_pipes *ps);
/* Connection id delivered a request. */
void rpc_pipes_served(struct rpc_pipes *ps, uint32_t id);
/* Connection id is gone and the listener's "other" count is now other:
 * true when that counts as a dropped frame. Forgets id. */
bool rpc_pipes_removed(struct rpc_pipes *ps, uint32_t id, uint64_t other);

/* Maps an nng error code to a velo_err. The caller logs nng_strerror(rv)
 * as `cause` where it handles the error. */
static inline int
rpc_err_from_nng(int rv)
{
    switch (rv) {
    case 0:
        return VELO_OK;
    case NNG_ETIMEDOUT:
        return VELO_ETIMEDOUT;
    case NNG_ECONNREFUSED:
    case NNG_ECONNRESET:
    case NNG_ECONNSHUT:
    case NNG_ECONNABORTED:
    case NNG_EUNREACHABLE:
    case NNG_EADDRINUSE:
    case NNG_EPEERAUTH:
        return VELO_EUNAVAIL;
    case NNG_ECLOSED:
    case NNG_ECANCELED:
        return VELO_ECLOSED;
    case NNG_ENOMEM:
        return VELO_ENOMEM;
    case NNG_EMSGSIZE:
        return VELO_ETOOBIG;
    case NNG_EINVAL:
    case NNG_EADDRINVAL:
    case NNG_ENOTSUP:
    case NNG_ESTATE:
        return VELO_EINVAL;
    case NNG_EPROTO:
        return VELO_EPROTO;
    case NNG_EAGAIN:
        return VELO_EFULL;
    default:
        return VELO_EIO;
    }
}

/* Writes the URL a listener really bound into buf: for tcp with port 0,
 * cfg_url with the port replaced by the bound one; otherwise cfg_url.
 * VELO_EINVAL when it does not fit. In rpc_server.c; the double underscore
 * marks it internal (libuv's uv__). */
VELO_MUST_CHECK int velo_rpc__bound_url(char *buf, size_t size,
                                        const char *cfg_url, nng_listener l);

#endif
