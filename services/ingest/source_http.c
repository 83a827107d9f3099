/* source_http.c: what every HTTP kind of source shares: limits, the address
 * policy and outcomes. */
#include "source_kind.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

bool
ingest_src_url_is_http(const char *url)
{
    return strncasecmp(url, "http://", 7) == 0 ||
           strncasecmp(url, "https://", 8) == 0;
}

/* "host:port" of url (port 80/443 when absent), or NULL. */
static char *
origin_of(const char *url)
{
    CURLU *u = curl_url();
    char  *host = NULL, *port = NULL, *out = NULL;
    size_t n;

    if (u != NULL && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) ==
            CURLUE_OK) {
        n = strlen(host) + strlen(port) + 2;
        out = malloc(n);
        if (out != NULL)
            snprintf(out, n, "%s:%s", host, port);
    }
    curl_free(host);
    curl_free(port);
    curl_url_cleanup(u);
    return out;
}

int
ingest_src_policy_init(struct ingest_src *s)
{
    size_t i, n = 0;

    if (s->spec->kind == INGEST_REPLAY || s->spec->kind == INGEST_SIMULATE)
        return VELO_OK;
    s->own_origin = origin_of(s->spec->url);
    if (s->own_origin == NULL)
        return VELO_EINVAL;
    /* The configured source is trusted wherever it is (tests and private
     * deployments serve it on 127.0.0.1); what it names is not. */
    s->policy_hosts[n++] = s->own_origin;
    for (i = 0; i < s->spec->nallow; i++)
        s->policy_hosts[n++] = s->spec->allow[i];
    s->policy.internal_ok = s->policy_hosts;
    s->policy.ninternal_ok = n;
    return VELO_OK;
}

void
ingest_src_policy_fini(struct ingest_src *s)
{
    free(s->own_origin);
    s->own_origin = NULL;
    s->policy.ninternal_ok = 0;
}

void
ingest_src_fetch_req(const struct ingest_src *s, const char *url,
                     struct velo_fetch_req *req)
{
    static const char *const hdrs[] = {"Accept: application/json"};

    *req = (struct velo_fetch_req){0}; /* fields added later stay off */
    req->url = url;
    req->timeout_ms = s->cfg->http_timeout_ms;
    req->connect_timeout_ms =
        s->cfg->http_timeout_ms < 5000 ? s->cfg->http_timeout_ms : 5000;
    req->max_body = s->cfg->max_body_bytes;
    req->headers = hdrs;
    req->nheaders = 1;
    req->policy = &s->policy;
}

static int
fail(struct ingest_outcome *o, int err, const char *kind)
{
    o->err = err;
    o->kind = kind;
    return err;
}

/* Transport failures: no HTTP response to judge. */
static int
classify_transport(const struct velo_fetch_result *res,
                   struct ingest_outcome          *o)
{
    snprintf(o->detail, sizeof(o->detail), "%s%s%s", velo_strerror(res->err),
             res->cause[0] ? ": " : "", res->cause);
    if (res->refused)
        return fail(o, VELO_EINVAL, "refused");
    switch (res->err) {
    case VELO_ETIMEDOUT:
        return fail(o, res->err, "timeout");
    case VELO_ETOOBIG:
        return fail(o, res->err, "too_big");
    case VELO_EPROTO:
        return fail(o, res->err, "malformed");
    default:
        return fail(o, res->err == VELO_ECLOSED ? VELO_ECLOSED : VELO_EUNAVAIL,
                    "unavailable");
    }
}

int
ingest_src_classify(const struct velo_fetch_result *res,
                    struct ingest_outcome          *o)
{
    o->status = res->status;
    o->retry_after_ms = res->retry_after_ms;
    if (res->err != VELO_OK)
        return classify_transport(res, o);
    snprintf(o->detail, sizeof(o->detail), "HTTP %ld", res->status);
    if (res->status == 401 || res->status == 403)
        return fail(o, VELO_EINVAL, "forbidden");
    if (res->status == 429)
        return fail(o, VELO_EFULL, "rate_limited");
    if (res->status >= 500)
        return fail(o, VELO_EUNAVAIL, "server_error");
    if (res->status < 200 || res->status >= 300)
        return fail(o, VELO_EPROTO, "http_error");
    if (res->body.len == 0) {
        snprintf(o->detail, sizeof(o->detail), "HTTP %ld with empty body",
                 res->status);
        return fail(o, VELO_EPROTO, "malformed");
    }
    o->err = VELO_OK;
    o->kind = "ok";
    return VELO_OK;
}

void
ingest_src_malformed(struct ingest_outcome *o, int err, const char *why,
                     const char *raw, size_t rawlen)
{
    o->err = err;
    o->kind = err == VELO_ETOOBIG ? "too_big" : "malformed";
    snprintf(o->detail, sizeof(o->detail), "%s", why);
    o->raw = raw;
    o->rawlen = rawlen;
}
