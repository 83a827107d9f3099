/* assets.c: the dashboard (web/, built by scripts/build-web) from
 * --assets DIR: index.html never cached (it names the hashed assets),
 * /assets/<hashed name> cached for a year (immutable), a strict
 * Content-Security-Policy on the page (web/README.md). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gw_int.h"
#include "velo/file.h"

#define ASSET_MAX (16u << 20)
#define PATH_MAX_BYTES 256

struct ctype {
    const char *ext;
    const char *type;
};

static const struct ctype ctypes[] = {
    {".html", "text/html; charset=utf-8"},
    {".js", "text/javascript; charset=utf-8"},
    {".css", "text/css; charset=utf-8"},
    {".map", "application/json"},
    {".json", "application/json"},
    {".png", "image/png"},
    {".svg", "image/svg+xml"},
    {".txt", "text/plain; charset=utf-8"},
    {".ico", "image/x-icon"},
};

/* The content type by extension, or NULL: not served. */
static const char *
ctype_of(const char *path)
{
    const char *dot = strrchr(path, '.');
    size_t      i;

    for (i = 0; dot != NULL && i < sizeof(ctypes) / sizeof(ctypes[0]); i++)
        if (strcmp(dot, ctypes[i].ext) == 0)
            return ctypes[i].type;
    return NULL;
}

/* Only plain names below the directory: no "..", no hidden files. */
static bool
safe_path(const char *p)
{
    size_t i;

    if (strlen(p) > PATH_MAX_BYTES || strstr(p, "..") != NULL ||
        strstr(p, "//") != NULL || strstr(p, "/.") != NULL)
        return false;
    for (i = 0; p[i] != '\0'; i++)
        if (strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                   "0123456789._-/",
                   p[i]) == NULL)
            return false;
    return true;
}

/* CSP of web/README.md, with the tile server's origin in img-src. */
static void
csp(const struct gateway *gw, struct velo_http_resp *resp)
{
    const char *t = gw->cfg->tile_url, *slash;
    char        origin[256] = "", v[512];
    size_t      n;

    if (t != NULL &&
        (strncmp(t, "https://", 8) == 0 || strncmp(t, "http://", 7) == 0)) {
        slash = strchr(strstr(t, "//") + 2, '/');
        n = slash != NULL ? (size_t)(slash - t) : strlen(t);
        if (n < sizeof(origin) - 1 && strpbrk(t, "; \"'") == NULL)
            snprintf(origin, sizeof(origin), " %.*s", (int)n, t);
    }
    snprintf(v, sizeof(v),
             "default-src 'self'; img-src 'self' data:%s; object-src 'none'; "
             "base-uri 'none'; frame-ancestors 'none'",
             origin);
    gw_header(resp, "Content-Security-Policy", v);
}

void
gw_h_assets(void *ctx, const struct velo_http_req *req,
            struct velo_http_resp *resp)
{
    struct gateway *gw = ctx;
    const char     *rel, *type;
    char            path[1024], *data = NULL;
    size_t          len = 0;
    bool            index;

    if (!gw_admit(gw, req, resp))
        return;
    if (gw->cfg->assets == NULL) {
        gw_error(resp, 404, "not_found",
                 "no dashboard here (--assets); the API is at /api/v1/ "
                 "(/api/v1/openapi.json)");
        return;
    }
    rel = strcmp(req->path, "/") == 0 ? "/index.html" : req->path;
    index = strcmp(rel, "/index.html") == 0;
    type = ctype_of(rel);
    if ((!index && strncmp(rel, "/assets/", 8) != 0) || type == NULL ||
        !safe_path(rel) ||
        (size_t)snprintf(path, sizeof(path), "%s%s", gw->cfg->assets, rel) >=
            sizeof(path) ||
        velo_file_read(path, ASSET_MAX, &data, &len) != VELO_OK) {
        gw_error(resp, 404, "not_found", "no such file");
        return;
    }
    velo_buf_reset(&resp->body);
    if (velo_buf_append(&resp->body, data, len) != VELO_OK) {
        free(data);
        gw_error(resp, 500, "internal", "file too large");
        return;
    }
    free(data);
    resp->content_type = type;
    resp->etag = resp->gzip = true;
    gw_header(resp, "X-Content-Type-Options", "nosniff");
    if (index) {
        gw_header(resp, "Cache-Control", "no-cache");
        gw_header(resp, "Referrer-Policy", "no-referrer");
        csp(gw, resp);
    } else {
        gw_header(resp, "Cache-Control", "public, max-age=31536000, immutable");
    }
}
