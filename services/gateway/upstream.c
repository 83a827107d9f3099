/* upstream.c: a pool of RPC clients for one peer (see upstream.h). */
#include "upstream.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "velo/log.h"

#define ERR_KINDS 4 /* unavailable, timeout, not_found/invalid, other */

struct gw_upstream {
    const ProtobufCServiceDescriptor *svc;
    size_t                            n;
    velo_rpc_client                 **c;   /* n clients */
    pthread_mutex_t                  *mtx; /* one per client */
    atomic_uint                       next;
    velo_metric                      *errs[ERR_KINDS];
    char                              name[32];
};

size_t
gw_split_urls(const char *list, char *buf, size_t size, const char **items,
              size_t max)
{
    size_t n = 0;
    char  *p, *comma, *end;

    if (strlen(list) >= size)
        return 0;
    snprintf(buf, size, "%s", list);
    for (p = buf;; p = comma + 1) {
        comma = strchr(p, ',');
        if (comma != NULL)
            *comma = '\0';
        while (*p == ' ')
            p++;
        end = p + strlen(p);
        while (end > p && end[-1] == ' ')
            *--end = '\0';
        if (*p == '\0' || n == max)
            return 0;
        items[n++] = p;
        if (comma == NULL)
            return n;
    }
}

static void
register_errors(gw_upstream *u, velo_metrics *m)
{
    static const char *const kinds[ERR_KINDS] = {"unavailable", "timeout",
                                                 "refused", "other"};
    char                     labels[96];
    size_t                   i;

    if (m == NULL)
        return;
    for (i = 0; i < ERR_KINDS; i++) {
        snprintf(labels, sizeof(labels), "upstream=\"%s\",kind=\"%s\"", u->name,
                 kinds[i]);
        u->errs[i] = velo_metrics_counter(
            m, "velo_gateway_upstream_errors_total",
            "failed calls to velo-stream / velo-warehouse by kind", labels);
    }
}

int
gw_upstream_new(gw_upstream **out, const char *name, const char *urls,
                size_t nclients, uint32_t timeout_ms,
                const ProtobufCServiceDescriptor *svc, velo_metrics *m)
{
    return gw_upstream_new_discovered(out, name, urls, nclients, timeout_ms,
                                      svc, m, NULL);
}

int
gw_upstream_new_discovered(gw_upstream **out, const char *name,
                           const char *urls, size_t nclients,
                           uint32_t                          timeout_ms,
                           const ProtobufCServiceDescriptor *svc,
                           velo_metrics *m, const struct velo_rpc_resolver *res)
{
    const char  *items[GW_UPSTREAM_URLS_MAX];
    char         buf[2048];
    size_t       nurls, i;
    gw_upstream *u;
    int          rv = VELO_OK;

    nurls = gw_split_urls(urls, buf, sizeof(buf), items, GW_UPSTREAM_URLS_MAX);
    if (nurls == 0 || nclients == 0)
        return VELO_EINVAL;
    u = calloc(1, sizeof(*u));
    if (u == NULL)
        return VELO_ENOMEM;
    u->c = calloc(nclients, sizeof(*u->c));
    u->mtx = calloc(nclients, sizeof(*u->mtx));
    if (u->c == NULL || u->mtx == NULL) {
        free(u->c);
        free(u->mtx);
        free(u);
        return VELO_ENOMEM;
    }
    u->svc = svc;
    snprintf(u->name, sizeof(u->name), "%s", name);
    for (i = 0; i < nclients && rv == VELO_OK; i++) {
        pthread_mutex_init(&u->mtx[i], NULL);
        u->n++;
        rv = velo_rpc_client_new(
            &u->c[i],
            &(struct velo_rpc_client_cfg){
                .urls = items,
                .nurls = nurls,
                .timeout_ms = timeout_ms,
                .resolver = res != NULL ? *res : (struct velo_rpc_resolver){0},
                .spread = res != NULL});
    }
    if (rv != VELO_OK) {
        gw_upstream_free(u);
        return rv;
    }
    register_errors(u, m);
    *out = u;
    return VELO_OK;
}

void
gw_upstream_free(gw_upstream *u)
{
    size_t i;

    if (u == NULL)
        return;
    for (i = 0; i < u->n; i++) {
        velo_rpc_client_free(u->c[i]);
        pthread_mutex_destroy(&u->mtx[i]);
    }
    free(u->c);
    free(u->mtx);
    free(u);
}

static void
count_error(gw_upstream *u, int rv)
{
    size_t k = rv == VELO_EUNAVAIL                           ? 0
               : rv == VELO_ETIMEDOUT                        ? 1
               : (rv == VELO_ENOTFOUND || rv == VELO_EINVAL) ? 2
                                                             : 3;

    if (u->errs[k] != NULL)
        velo_metric_add(u->errs[k], 1);
}

int
gw_upstream_call(gw_upstream *u, const char *method,
                 const ProtobufCMessage *req, ProtobufCMessage **reply,
                 struct velo_rpc_error *err)
{
    size_t start = atomic_fetch_add(&u->next, 1) % u->n, i, k = start;
    int    rv;

    /* A free client if there is one, else wait for ours in turn. */
    for (i = 0; i < u->n; i++) {
        if (pthread_mutex_trylock(&u->mtx[(start + i) % u->n]) == 0) {
            k = (start + i) % u->n;
            break;
        }
    }
    if (i == u->n)
        pthread_mutex_lock(&u->mtx[k]);
    rv = velo_rpc_call(u->c[k], u->svc, method, req, reply, err);
    pthread_mutex_unlock(&u->mtx[k]);
    if (rv != VELO_OK) {
        count_error(u, rv);
        if (rv != VELO_ENOTFOUND && rv != VELO_EINVAL)
            velo_warn("gateway.upstream.fail", VELO_S("upstream", u->name),
                      VELO_S("method", method),
                      VELO_S("cause", velo_strerror(rv)),
                      VELO_S("detail", err != NULL ? err->text : ""));
    }
    return rv;
}
