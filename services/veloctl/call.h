/* call.h: what every veloctl command shares: the RPC client, one call with
 * its failure turned into an exit status and a clear message, and output.
 *
 * Exit status (README.md): 0 ok; 1 the service answered an error; 2 usage
 * error; 3 the service cannot be reached (no instance answered, or none
 * answered in time). */
#ifndef VELOCTL_CALL_H
#define VELOCTL_CALL_H

#include <stddef.h>
#include <stdio.h>

#include "args.h"
#include "velo/buf.h"
#include "velo/rpc.h"

enum veloctl_exit {
    VELOCTL_EXIT_OK = 0,
    VELOCTL_EXIT_ERROR = 1,
    VELOCTL_EXIT_USAGE = 2,
    VELOCTL_EXIT_UNREACHABLE = 3,
};

/* Most bytes of one command's output (the --all JSON of every station). */
#define VELOCTL_OUT_MAX ((size_t)1 << 30)

/* One command run. out and err are borrowed; c is owned (ctx_fini). The
 * service called: StationService of velo-stream at a->rpc unless svc is
 * set (then svc_name and urls/nurls name it: velo-warehouse). */
struct veloctl_ctx {
    const struct veloctl_args        *a;
    FILE                             *out, *err;
    velo_rpc_client                  *c;
    const ProtobufCServiceDescriptor *svc;      /* NULL: StationService */
    const char                       *svc_name; /* "velo-warehouse" */
    const char *const                *urls;
    size_t                            nurls;
};

/* How a call failed, ready to print or to put in a health row. */
struct veloctl_fail {
    int  exit;     /* VELOCTL_EXIT_ERROR or VELOCTL_EXIT_UNREACHABLE */
    char code[32]; /* "NOT_FOUND", "UNAVAILABLE", "DEADLINE_EXCEEDED" */
    char msg[320]; /* the service's text, cleaned for a terminal */
};

/* Makes x->c for urls (nurls >= 1) with a->timeout_ms. Returns an exit
 * status; prints the reason on x->err when it is not 0. */
int veloctl_ctx_connect(struct veloctl_ctx *x, const char *const *urls,
                        size_t nurls);
/* Frees x->c. */
void veloctl_ctx_fini(struct veloctl_ctx *x);

/* Calls StationService.method on c. Returns VELOCTL_EXIT_OK with *reply
 * set (free with protobuf_c_message_free_unpacked), or another exit
 * status with *f filled. Prints nothing. */
int veloctl_call_try(velo_rpc_client *c, uint32_t timeout_ms,
                     const char *method, const ProtobufCMessage *req,
                     ProtobufCMessage **reply, struct veloctl_fail *f);

/* veloctl_call_try on another service (svc NULL: StationService). */
int veloctl_call_svc_try(velo_rpc_client                  *c,
                         const ProtobufCServiceDescriptor *svc,
                         uint32_t timeout_ms, const char *method,
                         const ProtobufCMessage *req, ProtobufCMessage **reply,
                         struct veloctl_fail *f);

/* veloctl_call_try on x->c that prints the failure on x->err: "cannot
 * reach velo-stream RPC at URL, URL: ..." for exit 3, notfound (when not
 * NULL) for NOT_FOUND, else "velo-stream answered CODE: text". */
int veloctl_call(struct veloctl_ctx *x, const char *method,
                 const ProtobufCMessage *req, ProtobufCMessage **reply,
                 const char *notfound);

/* Writes a's RPC addresses as "URL, URL" into buf. */
void veloctl_urls_join(char *buf, size_t size, const struct veloctl_args *a);

/* Prints "veloctl: <message>\n" on x->err. */
void veloctl_errorf(struct veloctl_ctx *x, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Writes b to x->out and flushes. Exit status: 1 when the write failed. */
int veloctl_emit(struct veloctl_ctx *x, const struct velo_buf *b);

/* Turns a failed formatting step (rv from a velo_buf writer) into exit
 * status 1 with a message. */
int veloctl_out_fail(struct veloctl_ctx *x, int rv);

#endif
