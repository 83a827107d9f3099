/* svc_consul.c: the service host's Consul registration (velo/svc.h).
 *
 * Every service gets it from the host: velo-<svc>, id
 * velo-<svc>-<host>-<port>, its advertised address and main port, tags
 * and meta (proto, version, admin_port, what the service adds), and a
 * check against its /readyz (HTTP, polled by the agent) or a TTL renewed
 * from the same readiness. DeregisterCriticalServiceAfter removes an
 * instance that died without leaving. */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "svc_int.h"
#include "velo/log.h"

#ifndef VELO_VERSION
#define VELO_VERSION "dev"
#endif

#define SVC_LEAVE_MS 2000u /* the most deregistering may delay a stop */

int
svc_consul_load(struct svc_consul *sc, const struct velo_common_cfg *cc)
{
    int rv;

    if (strcmp(cc->consul_check, "http") != 0 &&
        strcmp(cc->consul_check, "ttl") != 0) {
        fprintf(stderr, "invalid configuration: --consul-check must be http "
                        "or ttl\n");
        return VELO_EINVAL;
    }
    rv = velo_svc_consul_new(&sc->c, cc);
    if (rv == VELO_ENOTFOUND)
        return VELO_OK; /* no Consul: static addresses, as before */
    if (rv != VELO_OK) {
        fprintf(stderr,
                "invalid configuration: Consul settings (address "
                "http[s]://host:port, token file readable and not empty): "
                "%s\n",
                velo_strerror(rv));
        return rv == VELO_ENOMEM ? rv : VELO_EINVAL;
    }
    /* The registration thread uses libcurl: initialise it here, on the
     * main thread, before any thread exists (refcounted by curl). */
    sc->curl_inited = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK;
    return sc->curl_inited ? VELO_OK : VELO_ENOMEM;
}

int
velo_svc_consul_new(velo_consul **out, const struct velo_common_cfg *cc)
{
    const struct velo_consul_cfg cfg = {
        .addr = cc->consul_addr,
        .token = cc->consul_token,
        .token_file = cc->consul_token_file,
        .cacert = cc->consul_cacert,
    };

    return velo_consul_new(out, &cfg);
}

/* The address others reach this instance at. */
static void
svc_advertise(const struct velo_common_cfg *cc, const char *host, char *buf,
              size_t size)
{
    const char *a = cc->consul_advertise;

    if (a == NULL || a[0] == '\0') {
        a = cc->admin_bind;
        if (strcmp(a, "0.0.0.0") == 0 || strcmp(a, "::") == 0 || a[0] == '\0')
            a = host;
    }
    snprintf(buf, size, "%s", a);
}

/* The port of "scheme://host:port[/...]", 0 when there is none. */
static uint16_t
svc_url_port(const char *url)
{
    const char   *p;
    unsigned long v;
    char         *end;

    if (url == NULL || (p = strrchr(url, ':')) == NULL)
        return 0;
    v = strtoul(p + 1, &end, 10);
    return (*end == '\0' || *end == '/') && v > 0 && v <= 65535 ? (uint16_t)v
                                                                : 0;
}

/* Everything the registration needs, on the caller's stack. */
struct svc_reg_parts {
    char        host[128], addr[128], name[64], id[200], url[300];
    char        admin[8];
    const char *tags[2];
    const char *meta[2 * 7];
};

/* Builds s from the settings and the service's hook. */
static void
svc_reg_build(struct svc_reg_parts *p, struct velo_consul_service *s,
              const struct velo_common_cfg *cc, const char *svcname,
              uint16_t admin_port, const struct velo_svc_consul *info)
{
    size_t n = 0, i;

    if (gethostname(p->host, sizeof(p->host)) != 0 || p->host[0] == '\0')
        snprintf(p->host, sizeof(p->host), "localhost");
    p->host[sizeof(p->host) - 1] = '\0';
    svc_advertise(cc, p->host, p->addr, sizeof(p->addr));
    snprintf(p->name, sizeof(p->name), "velo-%s", svcname);
    memset(s, 0, sizeof(*s));
    s->port = info->port != 0 ? info->port : svc_url_port(info->url);
    if (s->port == 0)
        s->port = admin_port;
    snprintf(p->id, sizeof(p->id), "%s-%s-%u", p->name, p->host,
             (unsigned)s->port);
    snprintf(p->url, sizeof(p->url),
             strchr(p->addr, ':') != NULL ? "http://[%s]:%u/readyz"
                                          : "http://%s:%u/readyz",
             p->addr, (unsigned)admin_port);
    snprintf(p->admin, sizeof(p->admin), "%u", (unsigned)admin_port);
    p->tags[0] = "velopipe";
    p->tags[1] = svcname;
    p->meta[n++] = "version";
    p->meta[n++] = VELO_VERSION;
    p->meta[n++] = "admin_port";
    p->meta[n++] = p->admin;
    if (info->proto != NULL) {
        p->meta[n++] = "proto";
        p->meta[n++] = info->proto;
    }
    for (i = 0; i < info->nmeta * 2 && i < 8 && n < 14; i++)
        p->meta[n++] = info->meta[i];
    s->name = p->name;
    s->id = p->id;
    s->address = p->addr;
    s->admin_port = admin_port;
    s->tags = p->tags;
    s->ntags = 2;
    s->meta = p->meta;
    s->nmeta = n / 2;
    s->check = strcmp(cc->consul_check, "ttl") == 0 ? VELO_CONSUL_CHECK_TTL
                                                    : VELO_CONSUL_CHECK_HTTP;
    s->check_url = p->url;
    s->interval_ms = cc->consul_interval_ms;
    s->deregister_after_s = cc->consul_deregister_s;
}

int
svc_consul_start(struct svc_consul *sc, const struct velo_common_cfg *cc,
                 const char *name, uint16_t admin_port,
                 const struct velo_svc_ops *ops, void *svc, velo_metrics *m)
{
    struct velo_svc_consul     info = {0};
    struct velo_consul_service s;
    struct svc_reg_parts       p;

    if (sc->c == NULL)
        return VELO_OK;
    if (ops->consul != NULL)
        ops->consul(svc, &info);
    svc_reg_build(&p, &s, cc, name, admin_port, &info);
    velo_info(
        "consul.registering", VELO_S("addr", velo_consul_addr(sc->c)),
        VELO_S("id", s.id),
        VELO_S("check", s.check == VELO_CONSUL_CHECK_TTL ? "ttl" : "http"));
    return velo_consul_reg_start(&sc->reg, sc->c, &s, ops->ready, svc, m);
}

void
svc_consul_leave(struct svc_consul *sc)
{
    if (sc->reg != NULL)
        velo_consul_reg_leave(sc->reg, SVC_LEAVE_MS);
}

void
svc_consul_detail(struct svc_consul *sc, char *buf, size_t size)
{
    char state[200];

    buf[0] = '\0';
    if (sc->reg == NULL)
        return;
    (void)velo_consul_reg_state(sc->reg, state, sizeof(state));
    snprintf(buf, size, "consul: %s", state);
}

void
svc_consul_fini(struct svc_consul *sc)
{
    velo_consul_reg_stop(sc->reg);
    velo_consul_free(sc->c);
    if (sc->curl_inited)
        curl_global_cleanup();
    memset(sc, 0, sizeof(*sc));
}
