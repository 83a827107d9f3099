/* consul.c: the agent client (velo/consul.h): address, token, CA, and one
 * request, blocking (velo_consul_request) or on a thread's own fetcher
 * that stop can interrupt (consul_call_run, for the threads).
 *
 * The token is read once at _new (from the option or the file) and only
 * ever leaves in the X-Consul-Token header; nothing here logs it. */
#include "velo/consul.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "consul_int.h"
#include "velo/clock.h"
#include "velo/file.h"

#define CONSUL_TOKEN_MAX 512
#define CONSUL_TICK_MS 250

/* Immutable after velo_consul_new. */
struct velo_consul {
    char     addr[VELO_CONSUL_URL_MAX];
    char     token_hdr[CONSUL_TOKEN_MAX + 32]; /* "X-Consul-Token: ..." */
    bool     has_token;
    char    *cacert;
    uint32_t timeout_ms;
};

/* Normalises addr into c->addr: scheme added when absent, trailing '/'
 * dropped. Only http and https. */
static int
consul_set_addr(velo_consul *c, const char *addr)
{
    const char *scheme = "http://";
    size_t      n;

    if (strncmp(addr, "http://", 7) == 0 || strncmp(addr, "https://", 8) == 0)
        scheme = "";
    else if (strstr(addr, "://") != NULL)
        return VELO_EINVAL;
    n = (size_t)snprintf(c->addr, sizeof(c->addr), "%s%s", scheme, addr);
    if (n >= sizeof(c->addr) || n <= strlen(scheme))
        return VELO_EINVAL;
    while (n > 0 && c->addr[n - 1] == '/')
        c->addr[--n] = '\0';
    return VELO_OK;
}

/* The token from cfg->token, else from cfg->token_file (trimmed). */
static int
consul_set_token(velo_consul *c, const struct velo_consul_cfg *cfg)
{
    char       *file = NULL;
    const char *tok = cfg->token;
    size_t      len = 0;
    int         rv = VELO_OK;

    if ((tok == NULL || tok[0] == '\0') && cfg->token_file != NULL &&
        cfg->token_file[0] != '\0') {
        rv = velo_file_read(cfg->token_file, CONSUL_TOKEN_MAX, &file, &len);
        if (rv != VELO_OK)
            return VELO_EINVAL;
        while (len > 0 && (file[len - 1] == '\n' || file[len - 1] == '\r' ||
                           file[len - 1] == ' '))
            file[--len] = '\0';
        tok = file;
        if (len == 0)
            rv = VELO_EINVAL; /* an empty token file is a mistake */
    }
    if (rv == VELO_OK && tok != NULL && tok[0] != '\0') {
        c->has_token = true;
        if ((size_t)snprintf(c->token_hdr, sizeof(c->token_hdr),
                             "X-Consul-Token: %s",
                             tok) >= sizeof(c->token_hdr) ||
            strpbrk(tok, "\r\n") != NULL)
            rv = VELO_EINVAL;
    }
    free(file);
    return rv;
}

int
velo_consul_new(velo_consul **out, const struct velo_consul_cfg *cfg)
{
    velo_consul *c;
    const char  *addr = cfg->addr;
    int          rv;

    if (addr == NULL || addr[0] == '\0')
        addr = getenv("CONSUL_HTTP_ADDR");
    if (addr == NULL || addr[0] == '\0')
        return VELO_ENOTFOUND;
    c = calloc(1, sizeof(*c));
    if (c == NULL)
        return VELO_ENOMEM;
    c->timeout_ms = cfg->timeout_ms ? cfg->timeout_ms : CONSUL_TIMEOUT_MS;
    rv = consul_set_addr(c, addr);
    if (rv == VELO_OK)
        rv = consul_set_token(c, cfg);
    if (rv == VELO_OK && cfg->cacert != NULL && cfg->cacert[0] != '\0' &&
        (c->cacert = strdup(cfg->cacert)) == NULL)
        rv = VELO_ENOMEM;
    if (rv != VELO_OK) {
        velo_consul_free(c);
        return rv;
    }
    *out = c;
    return VELO_OK;
}

void
velo_consul_free(velo_consul *c)
{
    if (c == NULL)
        return;
    /* The token must not linger in freed memory. */
    memset(c->token_hdr, 0, sizeof(c->token_hdr));
    free(c->cacert);
    free(c);
}

const char *
velo_consul_addr(const velo_consul *c)
{
    return c->addr;
}

/* Fills req for one request to c; url is the caller's storage. */
static int
consul_req(const velo_consul *c, struct velo_fetch_req *req, char *url,
           size_t url_size, const char *const **hdrs, const char *method,
           const char *path, const char *body, uint32_t timeout_ms)
{
    if ((size_t)snprintf(url, url_size, "%s%s", c->addr, path) >= url_size)
        return VELO_EINVAL;
    memset(req, 0, sizeof(*req));
    req->url = url;
    req->timeout_ms = timeout_ms ? timeout_ms : c->timeout_ms;
    req->connect_timeout_ms = 2000;
    req->max_body = CONSUL_MAX_BODY;
    req->headers = c->has_token ? *hdrs : NULL;
    req->nheaders = c->has_token ? 1 : 0;
    req->method = method;
    req->body = body;
    req->body_len = body != NULL ? strlen(body) : 0;
    req->cacert = c->cacert;
    req->capture_header = "X-Consul-Index";
    return VELO_OK;
}

int
velo_consul_request(velo_consul *c, const char *method, const char *path,
                    const char *body, uint32_t timeout_ms,
                    struct velo_fetch_result *res)
{
    struct velo_fetch_req req;
    const char           *hdr = c->token_hdr;
    const char *const    *hdrs = &hdr;
    char                  url[VELO_CONSUL_URL_MAX + 512];
    int                   rv;

    rv = consul_req(c, &req, url, sizeof(url), &hdrs, method, path, body,
                    timeout_ms);
    if (rv != VELO_OK) {
        memset(res, 0, sizeof(*res));
        velo_buf_init(&res->body, 0);
        res->err = rv;
        return rv;
    }
    return velo_http_get(&req, res);
}

int
consul_call_init(struct consul_call *k, atomic_bool *stop)
{
    memset(k, 0, sizeof(*k));
    velo_buf_init(&k->res.body, 0);
    k->stop = stop;
    return velo_fetcher_new(&k->f);
}

void
consul_call_fini(struct consul_call *k)
{
    velo_fetcher_free(k->f); /* a pending callback lands in k->res */
    k->f = NULL;
    velo_fetch_result_fini(&k->res);
}

/* The fetcher's callback: keeps the answer in k->res. */
static void
consul_call_done(void *ctx, struct velo_fetch_result *res)
{
    struct consul_call *k = ctx;

    velo_fetch_result_fini(&k->res);
    k->res = *res;
    velo_buf_init(&res->body, 0); /* the body is k's now */
    k->done = true;
}

int
consul_call_run(velo_consul *c, struct consul_call *k, const char *method,
                const char *path, const char *body, uint32_t timeout_ms)
{
    struct velo_fetch_req req;
    const char           *hdr = c->token_hdr;
    const char *const    *hdrs = &hdr;
    char                  url[VELO_CONSUL_URL_MAX + 512];
    int                   rv;

    rv = consul_req(c, &req, url, sizeof(url), &hdrs, method, path, body,
                    timeout_ms);
    if (rv != VELO_OK)
        return rv;
    /* An earlier request abandoned by stop may still be in flight: its
     * callback would overwrite this one's answer, so wait it out first. */
    while (velo_fetcher_pending(k->f) > 0 && !atomic_load(k->stop))
        if (velo_fetcher_run(k->f, CONSUL_TICK_MS) != VELO_OK)
            break;
    k->done = false;
    rv = velo_fetcher_add(k->f, &req, consul_call_done, k);
    while (rv == VELO_OK && !k->done) {
        if (atomic_load(k->stop))
            return VELO_ECLOSED;
        rv = velo_fetcher_run(k->f, CONSUL_TICK_MS);
    }
    return rv != VELO_OK ? rv : k->res.err;
}

bool
consul_nap(atomic_bool *stop, int64_t ms)
{
    int64_t end = velo_mono_ms() + ms, left;

    while (!atomic_load(stop) && (left = end - velo_mono_ms()) > 0)
        velo_sleep_ms(left < CONSUL_TICK_MS ? left : CONSUL_TICK_MS);
    return atomic_load(stop);
}

int
consul_escape(const char *s, char *buf, size_t size)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t            o = 0;
    unsigned char     ch;

    for (; *s != '\0'; s++) {
        ch = (unsigned char)*s;
        if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
            (ch >= '0' && ch <= '9') || ch == '-' || ch == '_' || ch == '.' ||
            ch == '~') {
            if (o + 1 >= size)
                return VELO_ETOOBIG;
            buf[o++] = (char)ch;
            continue;
        }
        if (o + 3 >= size)
            return VELO_ETOOBIG;
        buf[o++] = '%';
        buf[o++] = hex[ch >> 4];
        buf[o++] = hex[ch & 15];
    }
    if (size == 0)
        return VELO_ETOOBIG;
    buf[o] = '\0';
    return VELO_OK;
}
