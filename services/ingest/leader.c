/* leader.c: velo-ingest's leader lock on velo_consul_lock (leader.h). */
#include "leader.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "velo/consul.h"
#include "velo/log.h"
#include "velo/svc.h"

struct ingest_leader {
    velo_consul      *c;    /* NULL: no Consul, always active */
    velo_consul_lock *lock; /* idem */
    atomic_bool       stopped;
};

int
ingest_leader_new(ingest_leader **out, const struct ingest_cfg *cfg,
                  velo_metrics *m)
{
    ingest_leader *l;
    char           host[128], holder[200];
    int            rv = VELO_OK;

    l = calloc(1, sizeof(*l));
    if (l == NULL)
        return VELO_ENOMEM;
    if (cfg->leader_key != NULL && cfg->leader_key[0] != '\0')
        rv = velo_svc_consul_new(&l->c, &cfg->common);
    if (rv == VELO_ENOTFOUND)
        rv = VELO_OK; /* no Consul: every replica polls, as before */
    if (rv == VELO_OK && l->c != NULL) {
        if (gethostname(host, sizeof(host)) != 0)
            snprintf(host, sizeof(host), "localhost");
        host[sizeof(host) - 1] = '\0';
        snprintf(holder, sizeof(holder), "%s:%ld", host, (long)getpid());
        rv = velo_consul_lock_start(
            &l->lock, l->c,
            &(struct velo_consul_lock_cfg){.key = cfg->leader_key,
                                           .holder = holder,
                                           .ttl_s = cfg->leader_ttl_s},
            m);
        velo_info("ingest.leader.contending", VELO_S("key", cfg->leader_key),
                  VELO_S("holder", holder), VELO_U("ttl_s", cfg->leader_ttl_s));
    }
    if (rv != VELO_OK) {
        ingest_leader_free(l);
        return rv;
    }
    *out = l;
    return VELO_OK;
}

bool
ingest_leader_active(void *ctx)
{
    ingest_leader *l = ctx;

    if (atomic_load(&l->stopped))
        return false;
    return l->lock == NULL || velo_consul_lock_held(l->lock);
}

bool
ingest_leader_standby(ingest_leader *l, char *why, size_t why_size)
{
    char who[128];

    if (l->lock == NULL || velo_consul_lock_held(l->lock))
        return false;
    velo_consul_lock_leader(l->lock, who, sizeof(who));
    snprintf(why, why_size, "standby (leader: %s)", who[0] ? who : "none");
    return true;
}

void
ingest_leader_stop(ingest_leader *l)
{
    if (l == NULL)
        return;
    atomic_store(&l->stopped, true);
    velo_consul_lock_stop(l->lock); /* releases: the standby takes over */
}

void
ingest_leader_free(ingest_leader *l)
{
    if (l == NULL)
        return;
    velo_consul_lock_free(l->lock);
    velo_consul_free(l->c);
    free(l);
}
