/* velo/http_client.h: HTTP GETs on libcurl, many at once (curl multi).
 *
 * A fetcher owns one CURLM and runs on one thread, its owner: add requests,
 * then call velo_fetcher_run() in a loop; completions are delivered by
 * callbacks from inside velo_fetcher_run. Only velo_fetcher_wakeup may be
 * called from another thread.
 *
 * Every body is bounded by req.max_body: a larger one is aborted with
 * VELO_ETOOBIG (checked against Content-Length first, then while
 * receiving). Bodies are decompressed (gzip, deflate) transparently. */
#ifndef VELO_HTTP_CLIENT_H
#define VELO_HTTP_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#include "velo/buf.h"
#include "velo/err.h"

typedef struct velo_fetcher velo_fetcher;

struct velo_fetch_req {
    const char        *url;
    uint32_t           timeout_ms;         /* whole transfer; 0: 30 s */
    uint32_t           connect_timeout_ms; /* 0: 5 s */
    size_t             max_body;           /* 0: 8 MiB */
    const char *const *headers;            /* "Name: value", copied */
    size_t             nheaders;
};

struct velo_fetch_result {
    /* VELO_OK: a complete HTTP response arrived (any status).
     * VELO_ETIMEDOUT: connect or transfer timeout (a stall).
     * VELO_EUNAVAIL: DNS, connect refused, TLS.
     * VELO_ETOOBIG: body over max_body.
     * VELO_EPROTO: truncated body or broken transfer encoding. */
    int             err;
    long            status;         /* HTTP status, 0 when none */
    struct velo_buf body;           /* owned by the result; may be stolen */
    int64_t         retry_after_ms; /* from Retry-After (secs or date), -1 */
    double          elapsed_ms;
    char            cause[256]; /* curl's error text, "" when none */
};

/* Called once per request, on the owner thread. res is valid until the
 * callback returns (steal res->body to keep it). */
typedef void (*velo_fetch_cb)(void *ctx, struct velo_fetch_result *res);

VELO_MUST_CHECK int velo_fetcher_new(velo_fetcher **out);
/* Starts a GET. The callback always runs exactly once, even on
 * velo_fetcher_free (with VELO_ECLOSED). */
VELO_MUST_CHECK int velo_fetcher_add(velo_fetcher                *f,
                                     const struct velo_fetch_req *req,
                                     velo_fetch_cb cb, void *ctx);
/* Waits up to timeout_ms for network activity or a wakeup, advances every
 * transfer and runs the callbacks of those that ended. */
VELO_MUST_CHECK int velo_fetcher_run(velo_fetcher *f, int timeout_ms);
/* Number of requests in flight. */
size_t velo_fetcher_pending(const velo_fetcher *f);
/* Thread: any. Makes a blocked velo_fetcher_run return early. */
void velo_fetcher_wakeup(velo_fetcher *f);
/* Cancels what is in flight (callbacks get VELO_ECLOSED) and frees. */
void velo_fetcher_free(velo_fetcher *f);

/* One blocking GET (Consul, tools, tests). res must be fini'd by the
 * caller whatever the return; returns res->err. */
VELO_MUST_CHECK int velo_http_get(const struct velo_fetch_req *req,
                                  struct velo_fetch_result    *res);
void                velo_fetch_result_fini(struct velo_fetch_result *res);

#endif
