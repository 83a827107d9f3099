/* consul_reg.c: keeping one service instance registered (velo/consul.h).
 *
 * A thread registers the instance, then every interval makes sure the
 * agent still knows it: in TTL mode the check update itself says so (the
 * agent answers 404/500 for an unknown check), in HTTP mode a GET of
 * /v1/agent/service/<id>. An agent that lost the instance (restarted in
 * -dev mode, or its state wiped) gets it registered again. A failure
 * waits with backoff; nothing here blocks the service.
 *
 * Leaving (SIGTERM) deregisters from the caller's thread while holding
 * op_mtx, the lock every registration step takes, so that no step of the
 * thread can register the instance again behind the deregistration. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "consul_int.h"
#include "velo/backoff.h"
#include "velo/jsonw.h"
#include "velo/log.h"

#define REG_OP_TIMEOUT_MS 2000u
#define REG_BODY_MAX ((size_t)64 << 10)
#define REG_MAX_TAGS 16
#define REG_MAX_META 16

/* Strings of the registration, copied at start. */
struct reg_copy {
    char        name[64], id[128], address[128], check_url[256];
    char        tags[REG_MAX_TAGS][64];
    char        meta[REG_MAX_META][2][128];
    const char *tag_ptrs[REG_MAX_TAGS];
    const char *meta_ptrs[REG_MAX_META * 2];
};

struct velo_consul_reg {
    velo_consul               *c; /* borrowed */
    struct velo_consul_service s; /* points into cp */
    struct reg_copy            cp;
    char                       id_esc[400]; /* id, escaped for a URL path */
    velo_consul_ready_fn       ready;
    void                      *ctx;
    pthread_t                  th;
    bool                       started;
    atomic_bool                stop, leaving;
    pthread_mutex_t            op_mtx; /* held across a registration step */
    pthread_mutex_t            st_mtx; /* guards the fields below */
    bool                       up, registered;
    char                       state[200];
    velo_metric               *m_up, *m_registered, *m_errors;
};

/* Copies s's strings into r; VELO_EINVAL when one does not fit. */
static int
reg_copy(velo_consul_reg *r, const struct velo_consul_service *s)
{
    struct reg_copy *cp = &r->cp;
    size_t           i;
    int              bad = 0;

    if (s->name == NULL || s->id == NULL || s->address == NULL ||
        s->ntags > REG_MAX_TAGS || s->nmeta > REG_MAX_META)
        return VELO_EINVAL;
    r->s = *s;
    bad |= snprintf(cp->name, sizeof(cp->name), "%s", s->name) >=
           (int)sizeof(cp->name);
    bad |= snprintf(cp->id, sizeof(cp->id), "%s", s->id) >= (int)sizeof(cp->id);
    bad |= snprintf(cp->address, sizeof(cp->address), "%s", s->address) >=
           (int)sizeof(cp->address);
    bad |= snprintf(cp->check_url, sizeof(cp->check_url), "%s",
                    s->check_url ? s->check_url : "") >=
           (int)sizeof(cp->check_url);
    for (i = 0; i < s->ntags; i++) {
        bad |= snprintf(cp->tags[i], sizeof(cp->tags[i]), "%s", s->tags[i]) >=
               (int)sizeof(cp->tags[i]);
        cp->tag_ptrs[i] = cp->tags[i];
    }
    for (i = 0; i < s->nmeta * 2; i++) {
        bad |= snprintf(cp->meta[i / 2][i % 2], sizeof(cp->meta[0][0]), "%s",
                        s->meta[i]) >= (int)sizeof(cp->meta[0][0]);
        cp->meta_ptrs[i] = cp->meta[i / 2][i % 2];
    }
    r->s.name = cp->name;
    r->s.id = cp->id;
    r->s.address = cp->address;
    r->s.check_url = cp->check_url;
    r->s.tags = cp->tag_ptrs;
    r->s.meta = cp->meta_ptrs;
    if (r->s.interval_ms == 0)
        r->s.interval_ms = 2000;
    return bad ? VELO_EINVAL : VELO_OK;
}

/* Writes "<ms/1000>s" style durations Consul parses ("1500ms"). */
static void
reg_dur(struct velo_jsonw *w, const char *key, uint64_t ms)
{
    char buf[32];

    snprintf(buf, sizeof(buf), "%llums", (unsigned long long)ms);
    velo_jsonw_key(w, key);
    velo_jsonw_str(w, buf);
}

static void
reg_json_check(struct velo_jsonw *w, const struct velo_consul_service *s)
{
    velo_jsonw_key(w, "Check");
    velo_jsonw_obj_begin(w);
    velo_jsonw_key(w, "Name");
    velo_jsonw_str(w, "velopipe readiness (/readyz)");
    if (s->check == VELO_CONSUL_CHECK_TTL) {
        reg_dur(w, "TTL", (uint64_t)s->interval_ms * 3);
    } else {
        velo_jsonw_key(w, "HTTP");
        velo_jsonw_str(w, s->check_url);
        reg_dur(w, "Interval", s->interval_ms);
        reg_dur(w, "Timeout", s->interval_ms < 2000 ? s->interval_ms : 2000);
    }
    reg_dur(w, "DeregisterCriticalServiceAfter",
            (uint64_t)(s->deregister_after_s ? s->deregister_after_s : 60) *
                1000);
    velo_jsonw_obj_end(w);
}

int
velo_consul_service_json(const struct velo_consul_service *s,
                         struct velo_buf                  *out)
{
    struct velo_jsonw w;
    size_t            i;

    if (s->name == NULL || s->id == NULL || s->address == NULL ||
        (s->check == VELO_CONSUL_CHECK_HTTP && s->check_url == NULL))
        return VELO_EINVAL;
    velo_jsonw_init(&w, out);
    velo_jsonw_obj_begin(&w);
    velo_jsonw_key(&w, "ID");
    velo_jsonw_str(&w, s->id);
    velo_jsonw_key(&w, "Name");
    velo_jsonw_str(&w, s->name);
    velo_jsonw_key(&w, "Address");
    velo_jsonw_str(&w, s->address);
    velo_jsonw_key(&w, "Port");
    velo_jsonw_u64(&w, s->port);
    velo_jsonw_key(&w, "Tags");
    velo_jsonw_arr_begin(&w);
    for (i = 0; i < s->ntags; i++)
        velo_jsonw_str(&w, s->tags[i]);
    velo_jsonw_arr_end(&w);
    velo_jsonw_key(&w, "Meta");
    velo_jsonw_obj_begin(&w);
    for (i = 0; i < s->nmeta; i++) {
        velo_jsonw_key(&w, s->meta[2 * i]);
        velo_jsonw_str(&w, s->meta[2 * i + 1]);
    }
    velo_jsonw_obj_end(&w);
    reg_json_check(&w, s);
    velo_jsonw_obj_end(&w);
    return velo_jsonw_status(&w);
}

/* Notes the outcome of a step for _state, the metrics and the log (only
 * transitions are logged). */
static void
reg_note(velo_consul_reg *r, bool up, bool registered, const char *text)
{
    bool was_up;

    pthread_mutex_lock(&r->st_mtx);
    was_up = r->up;
    r->up = up;
    r->registered = registered;
    snprintf(r->state, sizeof(r->state), "%s", text);
    pthread_mutex_unlock(&r->st_mtx);
    consul_mset(r->m_up, up ? 1 : 0);
    consul_mset(r->m_registered, registered ? 1 : 0);
    if (!up)
        consul_minc(r->m_errors);
    if (was_up && !up)
        velo_warn("consul.unreachable", VELO_S("addr", velo_consul_addr(r->c)),
                  VELO_S("cause", text));
}

/* One PUT of the registration. */
static int
reg_register(velo_consul_reg *r, struct consul_call *k)
{
    struct velo_buf body;
    char           *s;
    int             rv;

    velo_buf_init(&body, REG_BODY_MAX);
    rv = velo_consul_service_json(&r->s, &body);
    if (rv == VELO_OK)
        rv = velo_buf_append(&body, "", 1);
    if (rv != VELO_OK) {
        velo_buf_fini(&body);
        return rv;
    }
    s = body.data;
    rv = consul_call_run(r->c, k, "PUT", "/v1/agent/service/register", s,
                         REG_OP_TIMEOUT_MS);
    velo_buf_fini(&body);
    if (rv == VELO_OK && k->res.status != 200)
        rv = VELO_EPROTO;
    return rv;
}

/* TTL mode: reports readiness. Sets *lost when the agent does not know
 * the check (any 4xx/5xx answer). */
static int
reg_ttl_update(velo_consul_reg *r, struct consul_call *k, bool *lost)
{
    struct velo_buf   body;
    struct velo_jsonw w;
    char              why[256] = "", path[512], mem[640];
    bool              ok;
    int               rv;

    ok = r->ready == NULL || r->ready(r->ctx, why, sizeof(why));
    velo_buf_init_fixed(&body, mem, sizeof(mem));
    velo_jsonw_init(&w, &body);
    velo_jsonw_obj_begin(&w);
    velo_jsonw_key(&w, "Status");
    velo_jsonw_str(&w, ok ? "passing" : "critical");
    velo_jsonw_key(&w, "Output");
    velo_jsonw_str(&w, ok ? (why[0] ? why : "ready") : why);
    velo_jsonw_obj_end(&w);
    if (velo_jsonw_status(&w) != VELO_OK || velo_buf_append(&body, "", 1) != 0)
        return VELO_ETOOBIG;
    snprintf(path, sizeof(path), "/v1/agent/check/update/service:%s",
             r->id_esc);
    rv = consul_call_run(r->c, k, "PUT", path, body.data, REG_OP_TIMEOUT_MS);
    *lost = rv == VELO_OK && k->res.status != 200;
    return rv;
}

/* HTTP mode: asks whether the agent still has the instance. */
static int
reg_probe(velo_consul_reg *r, struct consul_call *k, bool *lost)
{
    char path[512];
    int  rv;

    snprintf(path, sizeof(path), "/v1/agent/service/%s", r->id_esc);
    rv = consul_call_run(r->c, k, NULL, path, NULL, REG_OP_TIMEOUT_MS);
    *lost = rv == VELO_OK && k->res.status == 404;
    if (rv == VELO_OK && !*lost && k->res.status != 200)
        rv = VELO_EPROTO;
    return rv;
}

/* One step: register when needed, else keep alive. Returns the wait
 * before the next step. Locks: takes op_mtx. */
static int64_t
reg_step(velo_consul_reg *r, struct consul_call *k, struct velo_backoff *bo,
         bool *registered)
{
    bool lost = false;
    char text[200];
    int  rv;

    pthread_mutex_lock(&r->op_mtx);
    if (atomic_load(&r->leaving)) {
        pthread_mutex_unlock(&r->op_mtx);
        return r->s.interval_ms;
    }
    if (!*registered) {
        rv = reg_register(r, k);
        if (rv == VELO_OK && r->s.check == VELO_CONSUL_CHECK_TTL)
            rv = reg_ttl_update(r, k, &lost); /* passing at once if ready */
        if (rv == VELO_OK)
            velo_info("consul.registered", VELO_S("service", r->s.name),
                      VELO_S("id", r->s.id), VELO_S("address", r->s.address),
                      VELO_I("port", r->s.port));
    } else if (r->s.check == VELO_CONSUL_CHECK_TTL) {
        rv = reg_ttl_update(r, k, &lost);
    } else {
        rv = reg_probe(r, k, &lost);
    }
    pthread_mutex_unlock(&r->op_mtx);
    if (rv == VELO_OK && lost && *registered)
        velo_warn("consul.lost_registration", VELO_S("id", r->s.id),
                  VELO_I("status", k->res.status));
    if (rv == VELO_OK) {
        *registered = !lost;
        reg_note(r, true, *registered,
                 *registered ? "registered" : "registering again");
        velo_backoff_reset(bo);
        return lost ? 0 : r->s.interval_ms;
    }
    snprintf(text, sizeof(text), "%s (HTTP %ld) %.120s", velo_strerror(rv),
             k->res.status, k->res.cause);
    reg_note(r, rv == VELO_EPROTO, *registered, text);
    return velo_backoff_next(bo);
}

static void *
reg_main(void *arg)
{
    velo_consul_reg    *r = arg;
    struct consul_call  k;
    struct velo_backoff bo;
    bool                registered = false;
    int64_t             wait;

    velo_backoff_init(&bo, 500, 10000, 0);
    if (consul_call_init(&k, &r->stop) != VELO_OK) {
        reg_note(r, false, false, "out of memory");
        return NULL;
    }
    while (!atomic_load(&r->stop)) {
        wait = reg_step(r, &k, &bo, &registered);
        if (consul_nap(&r->stop, wait))
            break;
    }
    consul_call_fini(&k);
    return NULL;
}

static void
reg_metrics(velo_consul_reg *r, velo_metrics *m)
{
    if (m == NULL)
        return;
    r->m_up = velo_metrics_gauge(m, "velo_consul_up",
                                 "1 when the Consul agent answered last", "");
    r->m_registered =
        velo_metrics_gauge(m, "velo_consul_registered",
                           "1 while this instance is registered in Consul", "");
    r->m_errors = velo_metrics_counter(m, "velo_consul_errors_total",
                                       "failed requests to Consul", "");
}

int
velo_consul_reg_start(velo_consul_reg **out, velo_consul *c,
                      const struct velo_consul_service *s,
                      velo_consul_ready_fn ready, void *ctx, velo_metrics *m)
{
    velo_consul_reg *r;
    int              rv;

    r = calloc(1, sizeof(*r));
    if (r == NULL)
        return VELO_ENOMEM;
    pthread_mutex_init(&r->op_mtx, NULL);
    pthread_mutex_init(&r->st_mtx, NULL);
    snprintf(r->state, sizeof(r->state), "registering");
    r->c = c;
    r->ready = ready;
    r->ctx = ctx;
    rv = reg_copy(r, s);
    if (rv == VELO_OK)
        rv = consul_escape(r->s.id, r->id_esc, sizeof(r->id_esc));
    if (rv == VELO_OK) {
        reg_metrics(r, m);
        rv = pthread_create(&r->th, NULL, reg_main, r) == 0 ? VELO_OK
                                                            : VELO_ENOMEM;
        r->started = rv == VELO_OK;
    }
    if (rv != VELO_OK) {
        velo_consul_reg_stop(r);
        return rv;
    }
    *out = r;
    return VELO_OK;
}

void
velo_consul_reg_leave(velo_consul_reg *r, uint32_t timeout_ms)
{
    struct velo_fetch_result res;
    char                     path[512];
    int                      rv;

    if (r == NULL)
        return;
    atomic_store(&r->leaving, true);
    pthread_mutex_lock(&r->op_mtx); /* waits out a step in progress */
    snprintf(path, sizeof(path), "/v1/agent/service/deregister/%s", r->id_esc);
    rv = velo_consul_request(r->c, "PUT", path, NULL, timeout_ms, &res);
    pthread_mutex_unlock(&r->op_mtx);
    if (rv == VELO_OK && res.status == 200)
        velo_info("consul.deregistered", VELO_S("id", r->s.id));
    else
        velo_warn("consul.deregister_failed", VELO_S("id", r->s.id),
                  VELO_S("err", velo_strerror(rv)),
                  VELO_I("status", res.status), VELO_S("cause", res.cause));
    velo_fetch_result_fini(&res);
    reg_note(r, rv == VELO_OK, false, "deregistered (stopping)");
}

bool
velo_consul_reg_state(velo_consul_reg *r, char *buf, size_t size)
{
    bool up;

    pthread_mutex_lock(&r->st_mtx);
    up = r->up;
    snprintf(buf, size, "%s", r->state);
    pthread_mutex_unlock(&r->st_mtx);
    return up;
}

void
velo_consul_reg_stop(velo_consul_reg *r)
{
    if (r == NULL)
        return;
    atomic_store(&r->stop, true);
    if (r->started)
        pthread_join(r->th, NULL);
    pthread_mutex_destroy(&r->op_mtx);
    pthread_mutex_destroy(&r->st_mtx);
    free(r);
}
