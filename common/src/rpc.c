/* rpc.c: the server-side decision for one frame (velo_rpc_dispatch) and
 * the mapping between velo_err and RpcStatus. No sockets here: the server
 * (rpc_server.c) feeds frames in, and the fuzzer does the same. */
#include "velo/rpc.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rpc_int.h"
#include "velo/clock.h"
#include "velo/log.h"
#include "velo/utf8.h"

/* What the reply to one frame will carry. */
struct rpc_outcome {
    uint64_t id;
    int      status;
    char     error[sizeof(((struct velo_rpc_call *)0)->error)];
    uint8_t *payload; /* packed output message, owned; NULL unless OK */
    size_t   payload_len;
    bool     malformed; /* counts toward stats->malformed */
};

/* ProtobufCBuffer that appends to a bounded velo_buf. */
struct rpc_vbuf {
    ProtobufCBuffer  base;
    struct velo_buf *b;
    int              rv;
};

static void
rpc_vbuf_append(ProtobufCBuffer *pb, size_t len, const uint8_t *data)
{
    struct rpc_vbuf *vb = (struct rpc_vbuf *)pb;

    if (vb->rv == VELO_OK && len > 0)
        vb->rv = velo_buf_append(vb->b, data, len);
}

static void rpc_fail(struct rpc_outcome *oc, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
rpc_fail(struct rpc_outcome *oc, int status, const char *fmt, ...)
{
    va_list ap;

    oc->status = status;
    va_start(ap, fmt);
    vsnprintf(oc->error, sizeof(oc->error), fmt, ap);
    va_end(ap);
}

/* Finds "package.Service/Method" among svcs. NULL when unknown. */
static const ProtobufCMethodDescriptor *
rpc_method_find(const struct velo_rpc_service *svcs, size_t nsvcs,
                const char *path, const struct velo_rpc_service **svc_out)
{
    const ProtobufCMethodDescriptor *m;
    const char                      *slash;
    size_t                           i, n;

    if (path == NULL || (slash = strrchr(path, '/')) == NULL)
        return NULL;
    n = (size_t)(slash - path);
    for (i = 0; i < nsvcs; i++) {
        if (strlen(svcs[i].desc->name) != n ||
            memcmp(svcs[i].desc->name, path, n) != 0)
            continue;
        m = protobuf_c_service_descriptor_get_method_by_name(svcs[i].desc,
                                                             slash + 1);
        if (m != NULL)
            *svc_out = &svcs[i];
        return m;
    }
    return NULL;
}

/* A handler may return anything; only RpcStatus values go on the wire. */
static int
rpc_status_normalise(int status)
{
    if (protobuf_c_enum_descriptor_get_value(&velo__v1__rpc_status__descriptor,
                                             status) == NULL) {
        velo_error("rpc.handler.bad_status", VELO_I("status", status));
        return RPC_INTERNAL;
    }
    return status;
}

/* Packs the handler's output message into oc->payload, or fails oc. */
static void
rpc_pack_output(struct rpc_outcome *oc, const ProtobufCMethodDescriptor *m,
                const ProtobufCMessage *reply, size_t max)
{
    size_t n;

    if (reply == NULL || reply->descriptor != m->output) {
        velo_error("rpc.handler.bad_reply", VELO_S("method", m->name));
        rpc_fail(oc, RPC_INTERNAL, "handler of %s returned no %s", m->name,
                 m->output->name);
        return;
    }
    n = protobuf_c_message_get_packed_size(reply);
    if (n > max) {
        rpc_fail(oc, RPC_RESOURCE_EXHAUSTED,
                 "reply of %zu bytes over the %zu-byte limit", n, max);
        return;
    }
    oc->payload = malloc(n > 0 ? n : 1);
    if (oc->payload == NULL) {
        rpc_fail(oc, RPC_INTERNAL, "out of memory");
        return;
    }
    oc->payload_len = protobuf_c_message_pack(reply, oc->payload);
}

/* Decodes the input, runs the handler, records its answer in oc. */
static void
rpc_invoke(struct rpc_outcome *oc, const struct velo_rpc_service *svc,
           const ProtobufCMethodDescriptor *m, const Velo__V1__RpcRequest *rq,
           size_t max)
{
    struct velo_rpc_call call;
    velo_rpc_handler     fn = svc->handlers[m - svc->desc->methods];
    ProtobufCMessage    *in;
    int                  status;

    if (fn == NULL) {
        rpc_fail(oc, RPC_UNIMPLEMENTED, "%s/%s is not implemented",
                 svc->desc->name, m->name);
        return;
    }
    in = protobuf_c_message_unpack(m->input, NULL, rq->payload.len,
                                   rq->payload.data);
    if (in == NULL) {
        oc->malformed = true;
        rpc_fail(oc, RPC_MALFORMED, "payload is not a %s", m->input->name);
        return;
    }
    memset(&call, 0, sizeof(call));
    call.method = m;
    call.req = in;
    call.deadline_ms = rq->has_deadline_ms ? rq->deadline_ms : 0;
    status = rpc_status_normalise(fn(svc->ctx, &call));
    if (status == RPC_OK) {
        rpc_pack_output(oc, m, call.reply, max);
    } else {
        call.error[sizeof(call.error) - 1] = '\0';
        rpc_fail(oc, status, "%s",
                 call.error[0] ? call.error : velo_rpc_status_name(status));
    }
    if (call.reply != NULL && call.reply_free != NULL)
        call.reply_free(call.reply, call.reply_free_ctx);
    protobuf_c_message_free_unpacked(in, NULL);
}

/* Method lookup and deadline, then the handler. */
static void
rpc_route(struct rpc_outcome *oc, const struct velo_rpc_service *svcs,
          size_t nsvcs, const Velo__V1__RpcRequest *rq, int64_t now_ms,
          size_t max)
{
    const struct velo_rpc_service   *svc = NULL;
    const ProtobufCMethodDescriptor *m;
    char                             quoted[100];

    m = rpc_method_find(svcs, nsvcs, rq->method, &svc);
    if (m == NULL) {
        /* The peer chose these bytes: at most 64 of them, cut on a
         * character boundary and repaired, since the text goes into the
         * reply and the log. */
        velo_utf8_clip(quoted, sizeof(quoted), rq->method ? rq->method : "",
                       64);
        rpc_fail(oc, RPC_UNIMPLEMENTED, "unknown method \"%s\"", quoted);
        return;
    }
    if (rq->has_deadline_ms && rq->deadline_ms != 0 &&
        now_ms >= rq->deadline_ms) {
        rpc_fail(oc, RPC_DEADLINE_EXCEEDED,
                 "deadline passed %" PRId64 " ms ago",
                 now_ms - rq->deadline_ms);
        return;
    }
    rpc_invoke(oc, svc, m, rq, max);
}

/* Packs the reply envelope into out. A reply over out's limit becomes
 * RESOURCE_EXHAUSTED; an error reply over it loses its text first. */
static int
rpc_reply_pack(struct rpc_outcome *oc, struct velo_buf *out)
{
    Velo__V1__RpcReply r = VELO__V1__RPC_REPLY__INIT;
    struct rpc_vbuf    vb = {{rpc_vbuf_append}, out, VELO_OK};
    size_t             n;

    r.has_id = true;
    r.id = oc->id;
    r.has_status = true;
    r.status = (Velo__V1__RpcStatus)oc->status;
    r.error = oc->status != RPC_OK ? oc->error : NULL;
    r.has_payload = oc->status == RPC_OK && oc->payload_len > 0;
    r.payload.len = oc->payload_len;
    r.payload.data = oc->payload;
    n = velo__v1__rpc_reply__get_packed_size(&r);
    if (n > out->max && oc->status == RPC_OK) {
        rpc_fail(oc, RPC_RESOURCE_EXHAUSTED,
                 "reply of %zu bytes over the %zu-byte limit", n, out->max);
        return rpc_reply_pack(oc, out);
    }
    if (n > out->max && oc->error[0] != '\0') {
        oc->error[0] = '\0';
        return rpc_reply_pack(oc, out);
    }
    if (n > out->max)
        return VELO_ETOOBIG;
    velo__v1__rpc_reply__pack_to_buffer(&r, &vb.base);
    return vb.rv;
}

static void
rpc_count(const struct velo_rpc_stats *stats, const struct rpc_outcome *oc,
          int64_t t0_ns)
{
    if (stats == NULL)
        return;
    if (stats->calls != NULL)
        velo_metric_inc(stats->calls);
    if (stats->errors != NULL && oc->status != RPC_OK)
        velo_metric_inc(stats->errors);
    if (stats->malformed != NULL && oc->malformed)
        velo_metric_inc(stats->malformed);
    if (stats->latency != NULL)
        velo_metric_observe(stats->latency,
                            (double)(velo_mono_ns() - t0_ns) / 1e9);
}

/* Per-request problems are the peer's: debug, except what points at a
 * misconfigured client or a broken frame, which stays visible at warn. */
static void
rpc_log_outcome(const struct rpc_outcome *oc, size_t len)
{
    if (oc->status == RPC_OK)
        return;
    if (oc->malformed || oc->status == RPC_UNIMPLEMENTED ||
        oc->status == RPC_RESOURCE_EXHAUSTED)
        velo_warn("rpc.call.rejected", VELO_U("id", oc->id),
                  VELO_S("status", velo_rpc_status_name(oc->status)),
                  VELO_S("cause", oc->error), VELO_U("bytes", len));
    else
        velo_debug("rpc.call.failed", VELO_U("id", oc->id),
                   VELO_S("status", velo_rpc_status_name(oc->status)),
                   VELO_S("cause", oc->error));
}

int
velo_rpc_dispatch(const struct velo_rpc_service *svcs, size_t nsvcs,
                  const void *frame, size_t len, int64_t now_ms,
                  const struct velo_rpc_stats *stats, struct velo_buf *out)
{
    struct rpc_outcome    oc;
    Velo__V1__RpcRequest *rq = NULL;
    int64_t               t0 = velo_mono_ns();
    int                   rv;

    memset(&oc, 0, sizeof(oc));
    velo_buf_reset(out);
    if (len > out->max) {
        /* Not decoded at all: the limit holds both ways. */
        rpc_fail(&oc, RPC_RESOURCE_EXHAUSTED,
                 "frame of %zu bytes over the %zu-byte limit", len, out->max);
    } else if ((rq = velo__v1__rpc_request__unpack(NULL, len, frame)) == NULL) {
        oc.malformed = true;
        rpc_fail(&oc, RPC_MALFORMED, "frame is not an RpcRequest");
    } else {
        oc.id = rq->id;
        rpc_route(&oc, svcs, nsvcs, rq, now_ms, out->max);
    }
    rv = rpc_reply_pack(&oc, out);
    rpc_log_outcome(&oc, len);
    rpc_count(stats, &oc, t0);
    if (rq != NULL)
        velo__v1__rpc_request__free_unpacked(rq, NULL);
    free(oc.payload);
    return rv;
}

/* ---- status mapping ---- */

int
velo_rpc_status_from_err(int err)
{
    switch (err) {
    case VELO_OK:
        return RPC_OK;
    case VELO_EINVAL:
        return RPC_INVALID_ARGUMENT;
    case VELO_ENOTFOUND:
        return RPC_NOT_FOUND;
    case VELO_ETOOBIG:
        return RPC_RESOURCE_EXHAUSTED;
    case VELO_EPROTO:
        return RPC_MALFORMED;
    case VELO_ETIMEDOUT:
        return RPC_DEADLINE_EXCEEDED;
    case VELO_EUNAVAIL:
    case VELO_EFULL:
    case VELO_ECLOSED:
        return RPC_UNAVAILABLE;
    default: /* ENOMEM, EIO and anything unknown: the server's fault */
        return RPC_INTERNAL;
    }
}

int
velo_rpc_err_from_status(int status)
{
    switch (status) {
    case RPC_OK:
        return VELO_OK;
    case RPC_INVALID_ARGUMENT:
    case RPC_UNIMPLEMENTED: /* a client built against another API: a bug */
        return VELO_EINVAL;
    case RPC_DEADLINE_EXCEEDED:
        return VELO_ETIMEDOUT;
    case RPC_NOT_FOUND:
        return VELO_ENOTFOUND;
    case RPC_RESOURCE_EXHAUSTED:
        return VELO_ETOOBIG;
    case RPC_UNAVAILABLE:
        return VELO_EUNAVAIL;
    default: /* MALFORMED, INTERNAL, unknown: the answer is unusable */
        return VELO_EPROTO;
    }
}

const char *
velo_rpc_status_name(int status)
{
    const ProtobufCEnumValue *v;

    v = protobuf_c_enum_descriptor_get_value(&velo__v1__rpc_status__descriptor,
                                             status);
    return v != NULL ? v->name : "RPC_UNKNOWN";
}
