/* velo/http_client.h: HTTP requests (mostly GETs) on libcurl, many at once
 * (curl multi).
 *
 * A fetcher owns one CURLM and runs on one thread, its owner: add requests,
 * then call velo_fetcher_run() in a loop; completions are delivered by
 * callbacks from inside velo_fetcher_run. Only velo_fetcher_wakeup may be
 * called from another thread.
 *
 * Every body is bounded by req.max_body: a larger one is aborted with
 * VELO_ETOOBIG (checked against Content-Length first, then while
 * receiving). Bodies are decompressed (gzip, deflate) transparently.
 *
 * Only http and https are spoken, on the first request and on every
 * redirect. A request may carry an address policy (velo_fetch_policy, an
 * SSRF guard for URLs that come from a third party): then every address
 * curl is about to connect to, after DNS resolution and on every redirect
 * hop, must be public, unless the URL's host is on the policy's list. A
 * refused request ends with res.refused set and an empty body. */
#ifndef VELO_HTTP_CLIENT_H
#define VELO_HTTP_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "velo/buf.h"
#include "velo/err.h"

typedef struct velo_fetcher velo_fetcher;

/* Where a request may connect. Internal addresses (velo_addr_internal) are
 * refused unless the host of the URL being fetched (the first one or a
 * redirect target) matches an entry of internal_ok: "host" (any port) or
 * "host:port" ("[::1]:8080" for IPv6), case-insensitive, the port being
 * the URL's effective one (80/443 when absent). Public addresses are
 * always allowed. Borrowed by velo_fetcher_add until the callback ran. */
struct velo_fetch_policy {
    const char *const *internal_ok;
    size_t             ninternal_ok;
};

/* The class of an internal address: "unspecified", "loopback", "private",
 * "link-local", "cgnat", "unique-local", "multicast", "broadcast" (for an
 * IPv4-mapped or NAT64 IPv6 address, that of the IPv4 address inside), or
 * NULL for a public address (and for a family other than IPv4/IPv6). */
const char *velo_addr_internal(const struct sockaddr *sa);
/* The same for a numeric address string ("10.1.2.3", "::1"); an
 * unparsable string counts as internal ("unparsable"). */
const char *velo_addr_internal_str(const char *ip);
/* True when the URL host and port (as curl's URL API gives them: "[::1]",
 * "8080") match one of policy's internal_ok entries. */
bool velo_fetch_policy_allows(const struct velo_fetch_policy *pol,
                              const char *host, const char *port);

struct velo_fetch_req {
    const char                     *url;
    uint32_t                        timeout_ms; /* whole transfer; 0: 30 s */
    uint32_t                        connect_timeout_ms; /* 0: 5 s */
    size_t                          max_body;           /* 0: 8 MiB */
    const char *const              *headers; /* "Name: value", copied */
    size_t                          nheaders;
    const struct velo_fetch_policy *policy; /* NULL: any address */
    /* Other methods (Consul's agent API needs PUT): NULL is GET. body
     * (body_len bytes, copied by velo_fetcher_add) is sent as is; NULL
     * with PUT/POST sends an empty body. */
    const char *method; /* "PUT", "POST", "DELETE" or NULL */
    const void *body;
    size_t      body_len;
    const char *cacert; /* PEM file of CAs for https; NULL: system store */
    /* A response header whose value to keep in res.header (Consul's
     * X-Consul-Index for blocking queries); NULL: none. */
    const char *capture_header;
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
    bool refused;     /* the policy refused an address (err VELO_EINVAL) */
    char header[128]; /* req.capture_header's value, "" when absent */
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

/* One blocking request (Consul, tools, tests). res must be fini'd by the
 * caller whatever the return; returns res->err. */
VELO_MUST_CHECK int velo_http_get(const struct velo_fetch_req *req,
                                  struct velo_fetch_result    *res);
void                velo_fetch_result_fini(struct velo_fetch_result *res);

#endif
