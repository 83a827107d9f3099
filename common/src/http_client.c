/* http_client.c: velo_fetcher on libcurl 7.88's multi interface.
 *
 * Process setup: main() calls curl_global_init(CURL_GLOBAL_DEFAULT) once,
 * before any thread starts (STYLE §10), and tests do it in their setup.
 * This module never calls it: curl_global_init is not thread-safe.
 *
 * Each request is a struct fetch that owns its easy handle, header list and
 * result; it lives from velo_fetcher_add until its callback returns, and is
 * freed right after (h2o's per-request memory). Bodies are bounded twice:
 * CURLOPT_MAXFILESIZE_LARGE rejects a too large Content-Length before any
 * byte arrives, and the write callback stops at the velo_buf's max for
 * bodies without one (or that decompress past it).
 *
 * A request with an address policy gets two checks: CURLOPT_OPENSOCKETFUNCTION
 * sees every address curl is about to connect to (after DNS, on every
 * redirect hop) and refuses an internal one before any packet leaves;
 * CURLOPT_PREREQFUNCTION sees the peer of every transfer just before the
 * request is sent, which also covers a connection reused from the cache
 * (no socket is opened then). The host judged is that of the URL being
 * fetched now (CURLINFO_EFFECTIVE_URL follows redirects). */
#include "velo/http_client.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>

#include "velo/clock.h"
#include "velo/log.h"

#define FETCH_TIMEOUT_MS 30000u
#define FETCH_CONNECT_TIMEOUT_MS 5000u
#define FETCH_MAX_BODY ((size_t)8 << 20)
#define FETCH_MAX_REDIRS 5L
#define FETCH_USER_AGENT "velopipe/0.1"

/* One request in flight. Thread: the fetcher's owner thread only. */
struct fetch {
    velo_fetcher            *f;
    CURL                    *easy;
    struct curl_slist       *hdrs;
    velo_fetch_cb            cb;
    void                    *ctx;
    struct velo_fetch_result res;
    int                      abort_err;      /* why the write callback said 0 */
    const struct velo_fetch_policy *policy;  /* borrowed, NULL: none */
    bool                            refused; /* an address was refused */
    char                            refused_why[200];
    int64_t                         start_ns;
    char                            capture[64]; /* header to keep, "" */
    struct fetch                   *prev, *next; /* fetcher's in-flight list */
};

/* Thread: owner thread only, except multi for curl_multi_wakeup. */
struct velo_fetcher {
    CURLM        *multi;
    struct fetch *head;
    size_t        pending;
};

/* CURLOPT_WRITEFUNCTION: appends to the bounded body. Returning less than
 * n makes curl fail the transfer with CURLE_WRITE_ERROR; abort_err keeps
 * the real reason. */
static size_t
fetch_on_write(char *p, size_t size, size_t nmemb, void *ud)
{
    struct fetch *fe = ud;
    size_t        n = size * nmemb;
    int           rv;

    rv = velo_buf_append(&fe->res.body, p, n);
    if (rv != VELO_OK) {
        fe->abort_err = rv;
        return 0;
    }
    return n;
}

/* Parses a Retry-After value: delta seconds or an HTTP-date. -1 when it is
 * neither. */
static int64_t
fetch_retry_after(const char *v)
{
    int64_t secs = 0;
    time_t  t;
    size_t  i;

    if (v[0] >= '0' && v[0] <= '9') {
        for (i = 0; v[i] >= '0' && v[i] <= '9'; i++) {
            if (secs > INT64_MAX / 10000) /* stays finite in ms */
                return -1;
            secs = secs * 10 + (v[i] - '0');
        }
        return v[i] == '\0' ? secs * 1000 : -1;
    }
    t = curl_getdate(v, NULL);
    if (t == (time_t)-1)
        return -1;
    secs = (int64_t)t * 1000 - velo_now_ms();
    return secs > 0 ? secs : 0;
}

/* Keeps the value of the header named fe->capture (a line "Name: v"),
 * trimmed; a value too long for res.header is dropped. */
static void
fetch_capture(struct fetch *fe, const char *p, size_t n)
{
    size_t klen = strlen(fe->capture);

    if (n <= klen || p[klen] != ':' || strncasecmp(p, fe->capture, klen) != 0)
        return;
    p += klen + 1;
    n -= klen + 1;
    while (n > 0 && (*p == ' ' || *p == '\t')) {
        p++;
        n--;
    }
    while (n > 0 && (p[n - 1] == '\r' || p[n - 1] == '\n' || p[n - 1] == ' ' ||
                     p[n - 1] == '\t'))
        n--;
    if (n >= sizeof(fe->res.header))
        return;
    memcpy(fe->res.header, p, n);
    fe->res.header[n] = '\0';
}

/* CURLOPT_HEADERFUNCTION: one header line at a time (not NUL-terminated),
 * including those of redirect responses: a status line resets what an
 * earlier response said. */
static size_t
fetch_on_header(char *p, size_t size, size_t nmemb, void *ud)
{
    static const char name[] = "retry-after:";
    struct fetch     *fe = ud;
    size_t            n = size * nmemb, vlen;
    char              v[128];
    const char       *s;

    if (n >= 5 && memcmp(p, "HTTP/", 5) == 0) {
        fe->res.retry_after_ms = -1;
        fe->res.header[0] = '\0';
        return n;
    }
    if (fe->capture[0] != '\0')
        fetch_capture(fe, p, n);
    if (n < sizeof(name) - 1 || strncasecmp(p, name, sizeof(name) - 1) != 0)
        return n;
    s = p + sizeof(name) - 1;
    vlen = n - (sizeof(name) - 1);
    while (vlen > 0 && (*s == ' ' || *s == '\t')) {
        s++;
        vlen--;
    }
    while (vlen > 0 && (s[vlen - 1] == '\r' || s[vlen - 1] == '\n' ||
                        s[vlen - 1] == ' ' || s[vlen - 1] == '\t'))
        vlen--;
    if (vlen == 0 || vlen >= sizeof(v))
        return n; /* absent or absurdly long: ignore it */
    memcpy(v, s, vlen);
    v[vlen] = '\0';
    fe->res.retry_after_ms = fetch_retry_after(v);
    return n;
}

/* The host and effective port of the URL curl fetches now; NULL when
 * curl cannot say. The caller frees both with curl_free. */
static char *
fetch_url_host(struct fetch *fe, char **port)
{
    char  *url = NULL, *host = NULL;
    CURLU *u = curl_url();

    *port = NULL;
    if (u == NULL ||
        curl_easy_getinfo(fe->easy, CURLINFO_EFFECTIVE_URL, &url) != CURLE_OK ||
        url == NULL || curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_PORT, port, CURLU_DEFAULT_PORT) !=
            CURLUE_OK) {
        curl_free(host);
        curl_free(*port);
        *port = NULL;
        host = NULL;
    }
    curl_url_cleanup(u);
    return host;
}

/* Judges a peer address of class cls (NULL: public) for the current URL;
 * notes a refusal in fe. */
static bool
fetch_peer_ok(struct fetch *fe, const char *cls, const char *ip)
{
    char *port = NULL, *host;
    bool  ok;

    if (cls == NULL)
        return true;
    host = fetch_url_host(fe, &port);
    ok = host != NULL && velo_fetch_policy_allows(fe->policy, host, port);
    if (!ok) {
        fe->refused = true;
        snprintf(fe->refused_why, sizeof(fe->refused_why),
                 "refused: %s address %s of host %.64s:%s is not allowed", cls,
                 ip, host != NULL ? host : "?", port != NULL ? port : "?");
    }
    curl_free(host);
    curl_free(port);
    return ok;
}

/* CURLOPT_OPENSOCKETFUNCTION: only set with a policy. */
static curl_socket_t
fetch_on_opensocket(void *ud, curlsocktype purpose, struct curl_sockaddr *a)
{
    struct fetch *fe = ud;
    char          ip[INET6_ADDRSTRLEN] = "?";
    const void   *bin = NULL;

    if (purpose == CURLSOCKTYPE_IPCXN) {
        if (a->family == AF_INET)
            bin = &((const struct sockaddr_in *)&a->addr)->sin_addr;
        else if (a->family == AF_INET6)
            bin = &((const struct sockaddr_in6 *)&a->addr)->sin6_addr;
        if (bin != NULL)
            (void)inet_ntop(a->family, bin, ip, sizeof(ip));
        if (!fetch_peer_ok(fe, velo_addr_internal(&a->addr), ip))
            return CURL_SOCKET_BAD; /* curl tries the next address, if any */
    }
    return socket(a->family, a->socktype, a->protocol);
}

/* CURLOPT_PREREQFUNCTION: only set with a policy. */
static int
fetch_on_prereq(void *ud, char *peer_ip, char *local_ip, int peer_port,
                int local_port)
{
    struct fetch *fe = ud;

    (void)local_ip, (void)peer_port, (void)local_port;
    return fetch_peer_ok(fe, velo_addr_internal_str(peer_ip), peer_ip)
               ? CURL_PREREQFUNC_OK
               : CURL_PREREQFUNC_ABORT;
}

static int
fetch_setopt_policy(struct fetch *fe)
{
    CURL *e = fe->easy;
    int   bad = 0; /* set when any option is refused */

    bad |= curl_easy_setopt(e, CURLOPT_OPENSOCKETFUNCTION,
                            fetch_on_opensocket) != CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_OPENSOCKETDATA, fe) != CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_PREREQFUNCTION, fetch_on_prereq) !=
           CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_PREREQDATA, fe) != CURLE_OK;
    return bad ? VELO_EINVAL : VELO_OK;
}

/* Maps a finished transfer's CURLcode onto velo_err. */
static int
fetch_map_code(const struct fetch *fe, CURLcode cc)
{
    switch (cc) {
    case CURLE_OK:
        return VELO_OK;
    case CURLE_OPERATION_TIMEDOUT:
        return VELO_ETIMEDOUT;
    case CURLE_FILESIZE_EXCEEDED:
        return VELO_ETOOBIG;
    case CURLE_WRITE_ERROR:
        return fe->abort_err != VELO_OK ? fe->abort_err : VELO_EIO;
    case CURLE_OUT_OF_MEMORY:
        return VELO_ENOMEM;
    case CURLE_URL_MALFORMAT:
    case CURLE_UNSUPPORTED_PROTOCOL:
        return VELO_EINVAL;
    case CURLE_PARTIAL_FILE:
    case CURLE_RECV_ERROR:
    case CURLE_BAD_CONTENT_ENCODING:
    case CURLE_WEIRD_SERVER_REPLY:
    case CURLE_GOT_NOTHING:
    case CURLE_TOO_MANY_REDIRECTS:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
        return VELO_EPROTO;
    case CURLE_COULDNT_CONNECT:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SEND_ERROR:
    default:
        /* TLS and other transport failures: the peer is not usable now,
         * which is worth a retry with backoff. */
        return VELO_EUNAVAIL;
    }
}

static void
fetch_free(struct fetch *fe)
{
    if (fe == NULL)
        return;
    if (fe->easy != NULL)
        curl_easy_cleanup(fe->easy);
    curl_slist_free_all(fe->hdrs);
    velo_buf_fini(&fe->res.body);
    free(fe);
}

/* Sets the options every request shares. */
static int
fetch_setopt_common(struct fetch *fe)
{
    CURL *e = fe->easy;
    int   bad = 0; /* set when any option is refused */

    bad |= curl_easy_setopt(e, CURLOPT_PRIVATE, fe) != CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L) != CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_HTTPGET, 1L) != CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https") != CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, "http,https") !=
           CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 1L) != CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_MAXREDIRS, FETCH_MAX_REDIRS) != CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_USERAGENT, FETCH_USER_AGENT) != CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "") != CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_ERRORBUFFER, fe->res.cause) != CURLE_OK;
    bad |=
        curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, fetch_on_write) != CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_WRITEDATA, fe) != CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, fetch_on_header) !=
           CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_HEADERDATA, fe) != CURLE_OK;
    return bad ? VELO_EINVAL : VELO_OK;
}

/* A method other than GET, with its body (never followed to a redirect:
 * curl would turn it into a GET). */
static int
fetch_setopt_method(CURL *e, const struct velo_fetch_req *req)
{
    int bad = 0; /* set when any option is refused */

    if (strcmp(req->method, "POST") == 0 || strcmp(req->method, "PUT") == 0) {
        bad |= curl_easy_setopt(e, CURLOPT_POST, 1L) != CURLE_OK;
        bad |= curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE,
                                (curl_off_t)req->body_len) != CURLE_OK;
        /* Copied: the caller's body may go away before the transfer
         * ends (a request abandoned at shutdown). */
        bad |= curl_easy_setopt(e, CURLOPT_COPYPOSTFIELDS,
                                req->body != NULL ? req->body : "") != CURLE_OK;
    }
    bad |= curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, req->method) != CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L) != CURLE_OK;
    return bad ? VELO_EINVAL : VELO_OK;
}

/* Sets the options that come from req. */
static int
fetch_setopt_req(struct fetch *fe, const struct velo_fetch_req *req)
{
    CURL  *e = fe->easy;
    int    bad = 0; /* set when any option is refused */
    size_t i;

    for (i = 0; i < req->nheaders; i++) {
        struct curl_slist *l = curl_slist_append(fe->hdrs, req->headers[i]);

        if (l == NULL)
            return VELO_ENOMEM;
        fe->hdrs = l;
    }
    bad |= curl_easy_setopt(e, CURLOPT_URL, req->url) != CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_HTTPHEADER, fe->hdrs) != CURLE_OK;
    bad |= curl_easy_setopt(
               e, CURLOPT_TIMEOUT_MS,
               (long)(req->timeout_ms ? req->timeout_ms : FETCH_TIMEOUT_MS)) !=
           CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS,
                            (long)(req->connect_timeout_ms
                                       ? req->connect_timeout_ms
                                       : FETCH_CONNECT_TIMEOUT_MS)) != CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_MAXFILESIZE_LARGE,
                            (curl_off_t)fe->res.body.max) != CURLE_OK;
    if (req->cacert != NULL)
        bad |= curl_easy_setopt(e, CURLOPT_CAINFO, req->cacert) != CURLE_OK;
    if (req->method != NULL)
        bad |= fetch_setopt_method(e, req) != VELO_OK;
    return bad ? VELO_EINVAL : VELO_OK;
}

/* Builds a request; on success *out is ready for curl_multi_add_handle. */
static int
fetch_new(struct fetch **out, const struct velo_fetch_req *req)
{
    struct fetch *fe;
    int           rv;

    fe = calloc(1, sizeof(*fe));
    if (fe == NULL)
        return VELO_ENOMEM;
    velo_buf_init(&fe->res.body,
                  req->max_body ? req->max_body : FETCH_MAX_BODY);
    fe->res.retry_after_ms = -1;
    fe->easy = curl_easy_init();
    if (fe->easy == NULL) {
        rv = VELO_ENOMEM;
        goto fail;
    }
    fe->policy = req->policy;
    if (req->capture_header != NULL &&
        strlen(req->capture_header) < sizeof(fe->capture))
        snprintf(fe->capture, sizeof(fe->capture), "%s", req->capture_header);
    rv = fetch_setopt_common(fe);
    if (rv == VELO_OK)
        rv = fetch_setopt_req(fe, req);
    if (rv == VELO_OK && fe->policy != NULL)
        rv = fetch_setopt_policy(fe);
    if (rv != VELO_OK)
        goto fail;
    *out = fe;
    return VELO_OK;

fail:
    fetch_free(fe);
    return rv;
}

int
velo_fetcher_new(velo_fetcher **out)
{
    velo_fetcher *f;

    f = calloc(1, sizeof(*f));
    if (f == NULL)
        return VELO_ENOMEM;
    f->multi = curl_multi_init();
    if (f->multi == NULL) {
        free(f);
        return VELO_ENOMEM;
    }
    *out = f;
    return VELO_OK;
}

/* On an error return the callback never runs (the request never started). */
int
velo_fetcher_add(velo_fetcher *f, const struct velo_fetch_req *req,
                 velo_fetch_cb cb, void *ctx)
{
    struct fetch *fe = NULL;
    int           rv;

    if (req->url == NULL || cb == NULL ||
        (req->nheaders > 0 && req->headers == NULL))
        return VELO_EINVAL;
    rv = fetch_new(&fe, req);
    if (rv != VELO_OK)
        return rv;
    fe->f = f;
    fe->cb = cb;
    fe->ctx = ctx;
    fe->start_ns = velo_mono_ns();
    if (curl_multi_add_handle(f->multi, fe->easy) != CURLM_OK) {
        fetch_free(fe);
        return VELO_ENOMEM;
    }
    fe->next = f->head;
    if (f->head != NULL)
        f->head->prev = fe;
    f->head = fe;
    f->pending++;
    return VELO_OK;
}

/* Detaches fe from the fetcher, runs its callback with err, frees it. */
static void
fetch_finish(struct fetch *fe, int err)
{
    velo_fetcher *f = fe->f;

    curl_multi_remove_handle(f->multi, fe->easy);
    if (fe->prev != NULL)
        fe->prev->next = fe->next;
    else
        f->head = fe->next;
    if (fe->next != NULL)
        fe->next->prev = fe->prev;
    f->pending--;
    fe->res.err = err;
    fe->res.elapsed_ms = (double)(velo_mono_ns() - fe->start_ns) / 1e6;
    fe->cb(fe->ctx, &fe->res);
    fetch_free(fe);
}

/* Fills the result of a transfer curl reports as done, then finishes it. */
static void
fetch_done(struct fetch *fe, CURLcode cc)
{
    long status = 0;
    int  err;

    if (curl_easy_getinfo(fe->easy, CURLINFO_RESPONSE_CODE, &status) ==
        CURLE_OK)
        fe->res.status = status;
    err = fetch_map_code(fe, cc);
    if (cc != CURLE_OK && fe->refused) {
        /* Nothing of a refused peer leaves this module: not its body. */
        err = VELO_EINVAL;
        fe->res.refused = true;
        fe->res.status = 0;
        velo_buf_reset(&fe->res.body);
        snprintf(fe->res.cause, sizeof(fe->res.cause), "%s", fe->refused_why);
    } else if (cc == CURLE_WRITE_ERROR && fe->abort_err == VELO_ETOOBIG)
        snprintf(fe->res.cause, sizeof(fe->res.cause),
                 "body larger than max_body (%zu bytes)", fe->res.body.max);
    else if (cc != CURLE_OK && fe->res.cause[0] == '\0')
        snprintf(fe->res.cause, sizeof(fe->res.cause), "%s",
                 curl_easy_strerror(cc));
    if (err != VELO_OK)
        velo_debug("http.fetch_failed", VELO_S("err", velo_strerror(err)),
                   VELO_S("cause", fe->res.cause));
    fetch_finish(fe, err);
}

/* Completes every transfer curl has finished; returns how many. */
static size_t
fetcher_collect(velo_fetcher *f)
{
    CURLMsg *msg;
    size_t   done = 0;
    int      left;

    while ((msg = curl_multi_info_read(f->multi, &left)) != NULL) {
        struct fetch *fe = NULL;

        if (msg->msg != CURLMSG_DONE)
            continue;
        if (curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &fe) !=
                CURLE_OK ||
            fe == NULL)
            continue;
        fetch_done(fe, msg->data.result);
        done++;
    }
    return done;
}

int
velo_fetcher_run(velo_fetcher *f, int timeout_ms)
{
    CURLMcode mc;
    int       running;

    /* perform first, so that newly added transfers start at once; when
     * that already completed something, return without waiting (the
     * caller's loop decides what comes next). curl caps the poll by its
     * own timers, so a short transfer timeout is never overslept. */
    mc = curl_multi_perform(f->multi, &running);
    if (mc == CURLM_OK && fetcher_collect(f) > 0)
        return VELO_OK;
    if (mc == CURLM_OK)
        mc = curl_multi_poll(f->multi, NULL, 0, timeout_ms, NULL);
    if (mc == CURLM_OK)
        mc = curl_multi_perform(f->multi, &running);
    if (mc != CURLM_OK) {
        velo_warn("http.multi_failed",
                  VELO_S("cause", curl_multi_strerror(mc)));
        return mc == CURLM_OUT_OF_MEMORY ? VELO_ENOMEM : VELO_EIO;
    }
    (void)fetcher_collect(f);
    return VELO_OK;
}

size_t
velo_fetcher_pending(const velo_fetcher *f)
{
    return f->pending;
}

void
velo_fetcher_wakeup(velo_fetcher *f)
{
    (void)curl_multi_wakeup(f->multi); /* fails only on a dead multi */
}

/* The ECLOSED callbacks run here; one that adds a new request to f would
 * keep this loop going, so callbacks must check for VELO_ECLOSED. */
void
velo_fetcher_free(velo_fetcher *f)
{
    if (f == NULL)
        return;
    while (f->head != NULL)
        fetch_finish(f->head, VELO_ECLOSED);
    curl_multi_cleanup(f->multi);
    free(f);
}

/* velo_http_get's callback: moves the result out to the caller. */
static void
http_get_done(void *ctx, struct velo_fetch_result *res)
{
    struct velo_fetch_result *out = ctx;

    *out = *res;
    velo_buf_init(&res->body, 0); /* the body now belongs to *out */
}

int
velo_http_get(const struct velo_fetch_req *req, struct velo_fetch_result *res)
{
    velo_fetcher *f = NULL;
    int           rv;

    memset(res, 0, sizeof(*res));
    velo_buf_init(&res->body, 0);
    res->retry_after_ms = -1;
    res->err = VELO_ECLOSED; /* until the callback says otherwise */
    rv = velo_fetcher_new(&f);
    if (rv == VELO_OK)
        rv = velo_fetcher_add(f, req, http_get_done, res);
    while (rv == VELO_OK && velo_fetcher_pending(f) > 0)
        rv = velo_fetcher_run(f, 1000);
    velo_fetcher_free(f); /* on an early failure, runs the callback */
    if (rv != VELO_OK && res->err == VELO_ECLOSED)
        res->err = rv;
    return res->err;
}

void
velo_fetch_result_fini(struct velo_fetch_result *res)
{
    velo_buf_fini(&res->body);
}
