/* reply.c: how the gateway answers: JSON errors, the rate limit, cache
 * headers (see gw_int.h). */
#include <stdio.h>
#include <string.h>

#include "gw_int.h"
#include "velo/clock.h"
#include "velo/log.h"

void
gw_header(struct velo_http_resp *resp, const char *name, const char *value)
{
    if (velo_http_resp_header(resp, name, value) != VELO_OK)
        velo_warn("gateway.header.fail", VELO_S("name", name));
}

void
gw_error(struct velo_http_resp *resp, unsigned status, const char *code,
         const char *fmt, ...)
{
    char    msg[320];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    velo_http_resp_error(resp, status, code, msg);
    gw_header(resp, "Cache-Control", "no-store");
    if (status == 503)
        gw_header(resp, "Retry-After", GW_RETRY_AFTER_S);
}

void
gw_error_param(struct velo_http_resp *resp, const struct gw_perr *e)
{
    gw_error(resp, 400, "invalid_parameter", "%s", e->msg);
}

void
gw_error_upstream(struct velo_http_resp *resp, const char *what, int rv,
                  const struct velo_rpc_error *err)
{
    switch (rv) {
    case VELO_ENOTFOUND:
        gw_error(resp, 404, "not_found", "%s", err->text);
        break;
    case VELO_EINVAL:
        gw_error(resp, 400, "invalid_parameter", "%s", err->text);
        break;
    case VELO_EUNAVAIL:
    case VELO_ETIMEDOUT:
        gw_error(resp, 503, "unavailable", "%s is unavailable: %s", what,
                 err->text[0] != '\0' ? err->text : velo_strerror(rv));
        break;
    default:
        gw_error(resp, 502, "bad_gateway", "%s answered badly: %s", what,
                 velo_strerror(rv));
    }
}

bool
gw_stream_call(struct gateway *gw, const char *method,
               const ProtobufCMessage *rq, ProtobufCMessage **out,
               struct velo_http_resp *resp)
{
    struct velo_rpc_error err = {0};
    int                   rv;

    rv = gw_upstream_call(gw->stream, method, rq, out, &err);
    if (rv != VELO_OK)
        gw_error_upstream(resp, "velo-stream", rv, &err);
    return rv == VELO_OK;
}

bool
gw_admit(struct gateway *gw, const struct velo_http_req *req,
         struct velo_http_resp *resp)
{
    char     peer[64], ra[16];
    uint32_t retry = 0;

    velo_http_peer(req, peer, sizeof(peer));
    if (velo_ratelimit_take(gw->rl, peer, velo_mono_ms(), &retry))
        return true;
    velo_metric_add(gw->rate_limited, 1);
    gw_error(resp, 429, "rate_limited",
             "too many requests from this address; retry in %u s", retry);
    snprintf(ra, sizeof(ra), "%u", retry);
    gw_header(resp, "Retry-After", ra);
    return false;
}

void
gw_max_age(struct velo_http_resp *resp, uint32_t s)
{
    char v[48];

    snprintf(v, sizeof(v), "public, max-age=%u", s);
    gw_header(resp, "Cache-Control", v);
}

void
gw_json_done(struct velo_http_resp *resp, struct velo_jsonw *w)
{
    int rv = velo_jsonw_finish(w);

    if (rv != VELO_OK) {
        velo_buf_reset(&resp->body);
        gw_error(resp, 500, "internal", "could not write the answer: %s",
                 velo_strerror(rv));
        return;
    }
    resp->content_type = "application/json";
}

static const char *
req_get(const void *ctx, const char *key)
{
    return velo_http_query(ctx, key);
}

struct gw_query
gw_req_query(const struct velo_http_req *req)
{
    return (struct gw_query){req_get, req};
}
