/* http_server_resp.c: building responses: extra headers, JSON errors,
 * ETag / If-None-Match (304), gzip with Vary, CORS. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "http_server_int.h"
#include "velo/jsonw.h"

#define RESP_BODY_MAX ((size_t)16 << 20)
#define RESP_HEADERS_MAX ((size_t)8 << 10)
#define RESP_DEFAULT_CT "text/plain; charset=utf-8"

void
velo_http_resp_init(struct velo_http_resp *resp)
{
    memset(resp, 0, sizeof(*resp));
    resp->status = MHD_HTTP_OK;
    resp->content_type = RESP_DEFAULT_CT;
    velo_buf_init(&resp->body, RESP_BODY_MAX);
    velo_buf_init(&resp->headers, RESP_HEADERS_MAX);
}

void
velo_http_resp_fini(struct velo_http_resp *resp)
{
    velo_buf_fini(&resp->body);
    velo_buf_fini(&resp->headers);
    /* A stream the server never started (a handler driven by a unit
     * test): drop the reference the server would have held. */
    if (resp->stream != NULL)
        server_stream_abandon(resp->stream);
    resp->stream = NULL;
}

/* Header names are tokens; values must not break the header block. */
static bool
resp_header_ok(const char *name, const char *value)
{
    return name[0] != '\0' && strpbrk(name, ":\r\n \t") == NULL &&
           strpbrk(value, "\r\n") == NULL;
}

int
velo_http_resp_header(struct velo_http_resp *resp, const char *name,
                      const char *value)
{
    size_t nl = strlen(name) + 1, vl = strlen(value) + 1;
    size_t old = resp->headers.len;
    int    rv;

    if (!resp_header_ok(name, value))
        return VELO_EINVAL;
    if (resp->headers.max == 0) /* a hand-zeroed resp in a unit test */
        velo_buf_init(&resp->headers, RESP_HEADERS_MAX);
    rv = velo_buf_append(&resp->headers, name, nl);
    if (rv == VELO_OK)
        rv = velo_buf_append(&resp->headers, value, vl);
    if (rv != VELO_OK)
        resp->headers.len = old; /* all or nothing */
    return rv;
}

void
velo_http_resp_error(struct velo_http_resp *resp, unsigned int status,
                     const char *code, const char *msg)
{
    struct velo_jsonw w;
    int               rv;

    resp->status = status;
    resp->content_type = "application/json";
    resp->etag = false;
    velo_buf_reset(&resp->body);
    velo_jsonw_init(&w, &resp->body);
    velo_jsonw_obj_begin(&w);
    velo_jsonw_key(&w, "error");
    velo_jsonw_obj_begin(&w);
    velo_jsonw_key(&w, "code");
    velo_jsonw_str(&w, code);
    velo_jsonw_key(&w, "message");
    velo_jsonw_str(&w, msg);
    velo_jsonw_obj_end(&w);
    velo_jsonw_obj_end(&w);
    rv = velo_jsonw_finish(&w);
    if (rv == VELO_OK)
        rv = velo_buf_puts(&resp->body, "\n");
    if (rv != VELO_OK)
        velo_buf_reset(&resp->body); /* an empty body beats a broken one */
}

void
velo_http_etag(const void *data, size_t len, char *buf, size_t size)
{
    const unsigned char *p = data;
    uint64_t             h = 0xcbf29ce484222325ull; /* FNV-1a 64 */
    size_t               i;

    for (i = 0; i < len; i++) {
        h ^= p[i];
        h *= 0x100000001b3ull;
    }
    snprintf(buf, size, "\"%016llx\"", (unsigned long long)h);
}

/* Compares one list element of If-None-Match (W/ dropped) with etag,
 * ignoring a "-gz" variant suffix on either side's opaque part. */
static bool
resp_etag_eq(const char *tag, size_t n, const char *etag)
{
    size_t el = strlen(etag);

    if (n >= 2 && tag[0] == 'W' && tag[1] == '/') {
        tag += 2;
        n -= 2;
    }
    if (n == el && memcmp(tag, etag, n) == 0)
        return true;
    /* "abc-gz" (the gzip variant) matches "abc" and back. */
    return el >= 2 && n == el + 3 && memcmp(tag, etag, el - 1) == 0 &&
           memcmp(tag + el - 1, "-gz\"", 4) == 0;
}

bool
velo_http_etag_match(const char *inm, const char *etag)
{
    const char *p = inm, *end;

    if (inm == NULL)
        return false;
    while (*p != '\0') {
        size_t n;

        p += strspn(p, " \t,");
        end = strchr(p, ',');
        n = end ? (size_t)(end - p) : strlen(p);
        while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t'))
            n--;
        if ((n == 1 && p[0] == '*') || (n > 0 && resp_etag_eq(p, n, etag)))
            return true;
        p += n;
        p += strspn(p, " \t");
    }
    return false;
}

/* True when the q parameter in [p, p+n) is zero ("q=0", "q=0.000"). */
static bool
resp_q_zero(const char *p, size_t n)
{
    const char *q = NULL;
    size_t      i;

    for (i = 0; i + 1 < n; i++) {
        if ((p[i] == 'q' || p[i] == 'Q') && p[i + 1] == '=')
            q = p + i + 2;
    }
    if (q == NULL)
        return false;
    for (; q < p + n && (*q == '0' || *q == '.'); q++)
        ;
    return q == p + n || *q == ' ' || *q == ';';
}

bool
velo_http_accepts_gzip(const char *ae)
{
    const char *p = ae;

    if (ae == NULL)
        return false;
    while (*p != '\0') {
        size_t tl, n;

        p += strspn(p, " \t,");
        n = strcspn(p, ",");
        tl = strcspn(p, " \t;,");
        if (((tl == 4 && strncasecmp(p, "gzip", 4) == 0) ||
             (tl == 1 && p[0] == '*')) &&
            !resp_q_zero(p + tl, n - tl))
            return true;
        p += n;
    }
    return false;
}

/* Gzips body into a new malloc'd buffer; NULL when zlib fails or the
 * result is not smaller. */
static char *
resp_gzip(const char *body, size_t len, size_t *out_len)
{
    z_stream zs;
    char    *out;
    uLong    cap;
    int      zr;

    memset(&zs, 0, sizeof(zs));
    if (deflateInit2(&zs, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) !=
        Z_OK)
        return NULL;
    cap = deflateBound(&zs, (uLong)len);
    out = malloc(cap);
    if (out == NULL) {
        deflateEnd(&zs);
        return NULL;
    }
    zs.next_in = (Bytef *)body;
    zs.avail_in = (uInt)len;
    zs.next_out = (Bytef *)out;
    zs.avail_out = (uInt)cap;
    zr = deflate(&zs, Z_FINISH);
    *out_len = zs.total_out;
    deflateEnd(&zs);
    if (zr != Z_STREAM_END || *out_len >= len) {
        free(out);
        return NULL;
    }
    return out;
}

static const char *
resp_req_header(struct MHD_Connection *conn, const char *name)
{
    return conn ? MHD_lookup_connection_value(conn, MHD_HEADER_KIND, name)
                : NULL;
}

/* Adds the CORS header the server's cfg asks for. */
static int
resp_add_cors(velo_http_server *s, struct MHD_Connection *conn,
              struct MHD_Response *mr)
{
    const char *origin;

    if (s->cors_origin == NULL)
        return VELO_OK;
    if (strcmp(s->cors_origin, "*") == 0)
        return MHD_add_response_header(mr, "Access-Control-Allow-Origin",
                                       "*") == MHD_YES
                   ? VELO_OK
                   : VELO_ENOMEM;
    if (MHD_add_response_header(mr, "Vary", "Origin") != MHD_YES)
        return VELO_ENOMEM;
    origin = resp_req_header(conn, "Origin");
    if (origin == NULL || strcmp(origin, s->cors_origin) != 0)
        return VELO_OK;
    return MHD_add_response_header(mr, "Access-Control-Allow-Origin", origin) ==
                   MHD_YES
               ? VELO_OK
               : VELO_ENOMEM;
}

int
server_add_headers(velo_http_server *s, struct MHD_Connection *conn,
                   struct MHD_Response *mr, struct velo_http_resp *resp,
                   const char *allow)
{
    size_t off = 0;

    if (MHD_add_response_header(mr, MHD_HTTP_HEADER_CONTENT_TYPE,
                                resp->content_type) != MHD_YES)
        return VELO_ENOMEM;
    if (allow[0] != '\0' &&
        MHD_add_response_header(mr, MHD_HTTP_HEADER_ALLOW, allow) != MHD_YES)
        return VELO_ENOMEM;
    while (off < resp->headers.len) {
        const char *name = resp->headers.data + off;
        const char *value = name + strlen(name) + 1;

        if (MHD_add_response_header(mr, name, value) != MHD_YES)
            return VELO_EINVAL;
        off = (size_t)(value - resp->headers.data) + strlen(value) + 1;
    }
    return resp_add_cors(s, conn, mr);
}

/* Applies ETag (and 304) and gzip to resp; *ce is set to "gzip" when the
 * body was compressed. */
static int
resp_negotiate(struct MHD_Connection *conn, struct velo_http_resp *resp,
               bool *gz)
{
    char   etag[32];
    char  *z;
    size_t zlen = 0;
    int    rv = VELO_OK;

    *gz = false;
    if (resp->gzip && resp->body.len >= VELO_HTTP_GZIP_MIN) {
        rv = velo_http_resp_header(resp, "Vary", "Accept-Encoding");
        if (rv == VELO_OK &&
            velo_http_accepts_gzip(resp_req_header(conn, "Accept-Encoding")))
            *gz = true;
    }
    if (rv == VELO_OK && resp->etag && resp->status == MHD_HTTP_OK) {
        if (resp->etag_value[0] == '"')
            snprintf(etag, sizeof(etag), "%s", resp->etag_value);
        else
            velo_http_etag(resp->body.data ? resp->body.data : "",
                           resp->body.len, etag, sizeof(etag));
        if (*gz) /* another representation, another strong tag */
            snprintf(etag + strlen(etag) - 1, 5, "-gz\"");
        rv = velo_http_resp_header(resp, "ETag", etag);
        if (rv == VELO_OK &&
            velo_http_etag_match(resp_req_header(conn, "If-None-Match"),
                                 etag)) {
            resp->status = MHD_HTTP_NOT_MODIFIED;
            velo_buf_reset(&resp->body);
            *gz = false;
        }
    }
    if (rv == VELO_OK && *gz) {
        z = resp_gzip(resp->body.data, resp->body.len, &zlen);
        *gz = z != NULL;
        if (z != NULL) {
            velo_buf_reset(&resp->body);
            rv = velo_buf_append(&resp->body, z, zlen);
            free(z);
        }
    }
    return rv;
}

struct MHD_Response *
server_build_response(velo_http_server *s, struct MHD_Connection *conn,
                      struct velo_http_resp *resp, const char *allow,
                      size_t *bytes)
{
    struct MHD_Response *mr;
    size_t               len = 0;
    char                *data;
    bool                 gz = false;

    if (resp_negotiate(conn, resp, &gz) != VELO_OK)
        velo_http_resp_error(resp, MHD_HTTP_INTERNAL_SERVER_ERROR, "internal",
                             "response too large");
    data = velo_buf_steal(&resp->body, &len);
    if (data != NULL)
        mr = MHD_create_response_from_buffer(len, data, MHD_RESPMEM_MUST_FREE);
    else
        mr = MHD_create_response_from_buffer(0, "", MHD_RESPMEM_PERSISTENT);
    if (mr == NULL) {
        free(data);
        return NULL;
    }
    *bytes = len;
    if (server_add_headers(s, conn, mr, resp, allow) != VELO_OK ||
        (gz && MHD_add_response_header(mr, MHD_HTTP_HEADER_CONTENT_ENCODING,
                                       "gzip") != MHD_YES)) {
        MHD_destroy_response(mr);
        return NULL;
    }
    return mr;
}
