/* call.c: the RPC client, failure messages and output (see call.h). */
#include "call.h"

#include <stdarg.h>
#include <string.h>

#include "table.h"
#include "velo/v1/stream.pb-c.h"

#define MSG_COLS 200 /* the most of a service's error text we print */

void
veloctl_errorf(struct veloctl_ctx *x, const char *fmt, ...)
{
    va_list ap;

    fputs("veloctl: ", x->err);
    va_start(ap, fmt);
    vfprintf(x->err, fmt, ap);
    va_end(ap);
    fputc('\n', x->err);
    fflush(x->err);
}

int
veloctl_ctx_connect(struct veloctl_ctx *x, const char *const *urls,
                    size_t nurls)
{
    struct velo_rpc_client_cfg cfg = {
        .urls = urls, .nurls = nurls, .timeout_ms = x->a->timeout_ms};
    int rv;

    rv = velo_rpc_client_new(&x->c, &cfg);
    if (rv == VELO_OK)
        return VELOCTL_EXIT_OK;
    veloctl_errorf(x, "cannot set up the RPC client: %s", velo_strerror(rv));
    return rv == VELO_EINVAL ? VELOCTL_EXIT_USAGE : VELOCTL_EXIT_ERROR;
}

void
veloctl_ctx_fini(struct veloctl_ctx *x)
{
    velo_rpc_client_free(x->c);
    x->c = NULL;
}

/* "RPC_NOT_FOUND" -> "NOT_FOUND": the JSON error codes of DESIGN §8. */
static void
code_set(struct veloctl_fail *f, int status)
{
    const char *name = velo_rpc_status_name(status);

    if (strncmp(name, "RPC_", 4) == 0)
        name += 4;
    snprintf(f->code, sizeof(f->code), "%s", name);
}

int
veloctl_call_try(velo_rpc_client *c, uint32_t timeout_ms, const char *method,
                 const ProtobufCMessage *req, ProtobufCMessage **reply,
                 struct veloctl_fail *f)
{
    return veloctl_call_svc_try(c, NULL, timeout_ms, method, req, reply, f);
}

int
veloctl_call_svc_try(velo_rpc_client *c, const ProtobufCServiceDescriptor *svc,
                     uint32_t timeout_ms, const char *method,
                     const ProtobufCMessage *req, ProtobufCMessage **reply,
                     struct veloctl_fail *f)
{
    struct velo_rpc_error e = {0};
    int                   rv;

    rv = velo_rpc_call(
        c, svc != NULL ? svc : &velo__v1__station_service__descriptor, method,
        req, reply, &e);
    if (rv == VELO_OK)
        return VELOCTL_EXIT_OK;
    code_set(f, e.status);
    veloctl_utf8_clean(f->msg, sizeof(f->msg), e.text, MSG_COLS);
    if (rv == VELO_ETIMEDOUT) {
        snprintf(f->code, sizeof(f->code), "DEADLINE_EXCEEDED");
        snprintf(f->msg, sizeof(f->msg), "no answer within %u ms",
                 (unsigned)timeout_ms);
    } else if (rv == VELO_EUNAVAIL) {
        snprintf(f->code, sizeof(f->code), "UNAVAILABLE");
    } else if (f->msg[0] == '\0') {
        snprintf(f->msg, sizeof(f->msg), "%s", velo_strerror(rv));
    }
    f->exit = rv == VELO_ETIMEDOUT || rv == VELO_EUNAVAIL
                  ? VELOCTL_EXIT_UNREACHABLE
                  : VELOCTL_EXIT_ERROR;
    return f->exit;
}

static void
urls_join(char *buf, size_t size, const char *const *urls, size_t n)
{
    size_t i, o = 0;

    buf[0] = '\0';
    for (i = 0; i < n && o < size; i++)
        o += (size_t)snprintf(buf + o, size - o, "%s%s", i > 0 ? ", " : "",
                              urls[i]);
}

void
veloctl_urls_join(char *buf, size_t size, const struct veloctl_args *a)
{
    urls_join(buf, size, a->rpc, a->nrpc);
}

int
veloctl_call(struct veloctl_ctx *x, const char *method,
             const ProtobufCMessage *req, ProtobufCMessage **reply,
             const char *notfound)
{
    struct veloctl_fail f;
    char                urls[VELOCTL_MAX_URLS * 260];
    int                 ex;

    const char *name = x->svc_name != NULL ? x->svc_name : "velo-stream";

    ex = veloctl_call_svc_try(x->c, x->svc, x->a->timeout_ms, method, req,
                              reply, &f);
    if (ex == VELOCTL_EXIT_OK)
        return ex;
    if (ex == VELOCTL_EXIT_UNREACHABLE) {
        urls_join(urls, sizeof(urls), x->urls != NULL ? x->urls : x->a->rpc,
                  x->urls != NULL ? x->nurls : x->a->nrpc);
        veloctl_errorf(x, "cannot reach %s RPC at %s: %s", name, urls, f.msg);
    } else if (notfound != NULL && strcmp(f.code, "NOT_FOUND") == 0) {
        veloctl_errorf(x, "%s", notfound);
    } else {
        veloctl_errorf(x, "%s answered %s: %s", name, f.code, f.msg);
    }
    return ex;
}

int
veloctl_emit(struct veloctl_ctx *x, const struct velo_buf *b)
{
    if (b->len > 0 && fwrite(b->data, 1, b->len, x->out) != b->len)
        clearerr(x->out); /* reported just below */
    else if (fflush(x->out) == 0)
        return VELOCTL_EXIT_OK;
    veloctl_errorf(x, "cannot write the output");
    return VELOCTL_EXIT_ERROR;
}

int
veloctl_out_fail(struct veloctl_ctx *x, int rv)
{
    veloctl_errorf(x, "cannot format the output: %s", velo_strerror(rv));
    return VELOCTL_EXIT_ERROR;
}
