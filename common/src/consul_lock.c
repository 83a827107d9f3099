/* consul_lock.c: one active replica through a session and a KV lock
 * (velo/consul.h; Consul's "leader election" guide).
 *
 * The thread owns the session: it creates one (TTL, behaviour release,
 * lock delay 0 so a standby can take over at once), tries
 * PUT /v1/kv/<key>?acquire=<session>, and then either
 *   holds: renews the session every ttl/3 and checks the key still names
 *          it; a session the agent no longer knows, or no successful renew
 *          for a whole TTL (Consul unreachable), drops the lock at once;
 *   stands by: waits on a blocking query of the key (bounded by ttl/3, so
 *          its own session is renewed in time) and tries again as soon as
 *          the key has no session (released, or the holder's expired).
 * Consul invalidates an expired session within 2 x TTL, so a takeover
 * after a crash takes up to 2 x TTL plus one blocking-query round trip.
 *
 * held is an atomic the service reads before every unit of work. */
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "consul_int.h"
#include "velo/backoff.h"
#include "velo/clock.h"
#include "velo/json.h"
#include "velo/jsonw.h"
#include "velo/log.h"
#include "velo/parse.h"

#define LOCK_OP_TIMEOUT_MS 3000u

struct velo_consul_lock {
    velo_consul       *c; /* borrowed */
    char               key_esc[256], holder[128];
    uint32_t           ttl_s, wait_ms;
    pthread_t          th;
    bool               started;
    atomic_bool        stop, held;
    struct consul_call k;           /* the thread's */
    char               session[64]; /* thread only until it is joined */
    int64_t            renewed_ms;  /* last successful renew (mono) */
    uint64_t           index;       /* of the key, for blocking queries */

    pthread_mutex_t mtx; /* guards leader */
    char            leader[128];
    velo_metric    *m_held, *m_changes;
};

/* Decodes standard base64 (Consul's KV values) into buf, cut to fit. */
static void
lock_b64(const char *s, char *buf, size_t size)
{
    static const char al[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    uint32_t    acc = 0;
    int         bits = 0;
    size_t      o = 0;
    const char *p;

    for (; *s != '\0' && *s != '=' && o + 1 < size; s++) {
        p = strchr(al, *s);
        if (p == NULL)
            break;
        acc = (acc << 6) | (uint32_t)(p - al);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            buf[o++] = (char)((acc >> bits) & 0xff);
        }
    }
    if (size > 0)
        buf[o] = '\0';
}

static void
lock_set_held(velo_consul_lock *l, bool held, const char *why)
{
    if (atomic_exchange(&l->held, held) == held)
        return;
    consul_mset(l->m_held, held ? 1 : 0);
    consul_minc(l->m_changes);
    if (held)
        velo_info("consul.lock.acquired", VELO_S("holder", l->holder));
    else
        velo_warn("consul.lock.lost", VELO_S("holder", l->holder),
                  VELO_S("reason", why));
    if (held) {
        pthread_mutex_lock(&l->mtx);
        snprintf(l->leader, sizeof(l->leader), "%s", l->holder);
        pthread_mutex_unlock(&l->mtx);
    }
}

/* PUT /v1/session/create; on success l->session is set. */
static int
lock_session_create(velo_consul_lock *l)
{
    char        body[512];
    cJSON      *root = NULL;
    const char *id = NULL;
    int         rv;

    snprintf(body, sizeof(body),
             "{\"Name\":\"velopipe lock\",\"TTL\":\"%us\","
             "\"Behavior\":\"release\",\"LockDelay\":\"0s\"}",
             (unsigned)l->ttl_s);
    rv = consul_call_run(l->c, &l->k, "PUT", "/v1/session/create", body,
                         LOCK_OP_TIMEOUT_MS);
    if (rv == VELO_OK && l->k.res.status != 200)
        rv = VELO_EPROTO;
    if (rv == VELO_OK)
        rv = velo_json_parse(l->k.res.body.data, l->k.res.body.len, &root);
    if (rv == VELO_OK && (velo_json_str(root, "ID", &id) != VELO_OK ||
                          strlen(id) >= sizeof(l->session) ||
                          strspn(id, "0123456789abcdef-") != strlen(id)))
        rv = VELO_EPROTO;
    if (rv == VELO_OK) {
        snprintf(l->session, sizeof(l->session), "%s", id);
        l->renewed_ms = velo_mono_ms();
    }
    cJSON_Delete(root);
    return rv;
}

/* PUT /v1/session/renew/<id>. *gone when the agent no longer knows it. */
static int
lock_session_renew(velo_consul_lock *l, bool *gone)
{
    char path[128];
    int  rv;

    snprintf(path, sizeof(path), "/v1/session/renew/%s", l->session);
    rv = consul_call_run(l->c, &l->k, "PUT", path, NULL, LOCK_OP_TIMEOUT_MS);
    *gone = rv == VELO_OK && l->k.res.status == 404;
    if (rv == VELO_OK && l->k.res.status == 200)
        l->renewed_ms = velo_mono_ms();
    else if (rv == VELO_OK && !*gone)
        rv = VELO_EPROTO;
    return rv;
}

/* PUT /v1/kv/<key>?acquire=<session>; *got is the answer. A 500 means the
 * session is invalid (expired): it is forgotten. */
static int
lock_acquire(velo_consul_lock *l, bool *got)
{
    char path[512];
    int  rv;

    snprintf(path, sizeof(path), "/v1/kv/%s?acquire=%s", l->key_esc,
             l->session);
    rv = consul_call_run(l->c, &l->k, "PUT", path, l->holder,
                         LOCK_OP_TIMEOUT_MS);
    if (rv == VELO_OK && l->k.res.status != 200) {
        l->session[0] = '\0';
        return VELO_EPROTO;
    }
    *got = rv == VELO_OK && l->k.res.body.len >= 4 &&
           memcmp(l->k.res.body.data, "true", 4) == 0;
    return rv;
}

/* Reads the key (blocking when wait_ms > 0): *session_out gets the
 * holding session ("" when free) and the leader name is noted. */
static int
lock_read_key(velo_consul_lock *l, uint32_t wait_ms, char *sess, size_t size)
{
    char         path[512], val[128] = "";
    cJSON       *root = NULL;
    const cJSON *e;
    const char  *s = NULL;
    uint64_t     idx = 0;
    int          rv;

    snprintf(path, sizeof(path), "/v1/kv/%s?index=%" PRIu64 "&wait=%ums",
             l->key_esc, wait_ms > 0 ? l->index : 0, (unsigned)wait_ms);
    rv = consul_call_run(l->c, &l->k, NULL, path, NULL,
                         wait_ms + wait_ms / 16 + LOCK_OP_TIMEOUT_MS);
    sess[0] = '\0';
    if (rv != VELO_OK)
        return rv;
    if (velo_parse_u64(l->k.res.header, &idx) == VELO_OK)
        l->index = idx < l->index ? 0 : idx;
    if (l->k.res.status == 404)
        return VELO_OK; /* no key yet: free */
    rv = l->k.res.status == 200
             ? velo_json_parse(l->k.res.body.data, l->k.res.body.len, &root)
             : VELO_EPROTO;
    e = rv == VELO_OK ? cJSON_GetArrayItem(root, 0) : NULL;
    if (rv == VELO_OK && !cJSON_IsObject(e))
        rv = VELO_EPROTO;
    if (rv == VELO_OK && velo_json_str(e, "Session", &s) == VELO_OK)
        snprintf(sess, size, "%s", s);
    if (rv == VELO_OK && sess[0] != '\0' &&
        velo_json_str(e, "Value", &s) == VELO_OK)
        lock_b64(s, val, sizeof(val));
    if (rv == VELO_OK) {
        pthread_mutex_lock(&l->mtx);
        snprintf(l->leader, sizeof(l->leader), "%s", val);
        pthread_mutex_unlock(&l->mtx);
    }
    cJSON_Delete(root);
    return rv;
}

/* While holding: renew, then make sure the key still names our session. */
static int
lock_hold_step(velo_consul_lock *l)
{
    char sess[64];
    bool gone = false;
    int  rv;

    rv = lock_session_renew(l, &gone);
    if (rv == VELO_OK && gone) {
        l->session[0] = '\0';
        lock_set_held(l, false, "session expired");
        return VELO_OK;
    }
    if (rv == VELO_OK)
        rv = lock_read_key(l, 0, sess, sizeof(sess));
    if (rv == VELO_OK && strcmp(sess, l->session) != 0)
        lock_set_held(l, false, "key taken");
    if (rv != VELO_OK &&
        velo_mono_ms() - l->renewed_ms > (int64_t)l->ttl_s * 1000)
        lock_set_held(l, false, "consul unreachable for a whole TTL");
    if (rv == VELO_OK)
        (void)consul_nap(&l->stop, (int64_t)l->ttl_s * 1000 / 3);
    return rv;
}

/* While standing by: keep our session alive, try to acquire when the key
 * is free, else wait for it to change. */
static int
lock_standby_step(velo_consul_lock *l)
{
    char sess[64];
    bool got = false, gone = false;
    int  rv = VELO_OK;

    if (velo_mono_ms() - l->renewed_ms > (int64_t)l->ttl_s * 1000 / 3)
        rv = lock_session_renew(l, &gone);
    if (rv == VELO_OK && gone) {
        l->session[0] = '\0';
        return VELO_OK;
    }
    if (rv == VELO_OK)
        rv = lock_acquire(l, &got);
    if (rv == VELO_OK && got) {
        lock_set_held(l, true, "");
        return VELO_OK;
    }
    /* Taken: wait until the key changes, at most a third of our TTL. */
    if (rv == VELO_OK)
        rv = lock_read_key(l, l->wait_ms, sess, sizeof(sess));
    return rv;
}

static void *
lock_main(void *arg)
{
    velo_consul_lock   *l = arg;
    struct velo_backoff bo;
    int                 rv;

    velo_backoff_init(&bo, 200, 5000, 0);
    while (!atomic_load(&l->stop)) {
        if (l->session[0] == '\0')
            rv = lock_session_create(l);
        else if (atomic_load(&l->held))
            rv = lock_hold_step(l);
        else
            rv = lock_standby_step(l);
        if (rv == VELO_ECLOSED && atomic_load(&l->stop))
            break;
        if (rv == VELO_OK) {
            velo_backoff_reset(&bo);
            continue;
        }
        velo_debug("consul.lock.retry", VELO_S("err", velo_strerror(rv)),
                   VELO_I("status", l->k.res.status));
        if (atomic_load(&l->held) &&
            velo_mono_ms() - l->renewed_ms > (int64_t)l->ttl_s * 1000)
            lock_set_held(l, false, "consul unreachable for a whole TTL");
        if (consul_nap(&l->stop, velo_backoff_next(&bo)))
            break;
    }
    return NULL;
}

static void
lock_metrics(velo_consul_lock *l, velo_metrics *m)
{
    if (m == NULL)
        return;
    l->m_held = velo_metrics_gauge(
        m, "velo_consul_lock_held",
        "1 while this replica holds the leader lock (it is the active one)",
        "");
    l->m_changes = velo_metrics_counter(m, "velo_consul_lock_changes_total",
                                        "times this replica gained or lost "
                                        "the leader lock",
                                        "");
}

int
velo_consul_lock_start(velo_consul_lock **out, velo_consul *c,
                       const struct velo_consul_lock_cfg *cfg, velo_metrics *m)
{
    velo_consul_lock *l;
    int               rv;

    if (cfg->key == NULL || cfg->holder == NULL || cfg->ttl_s < 1 ||
        cfg->ttl_s > 86400)
        return VELO_EINVAL;
    l = calloc(1, sizeof(*l));
    if (l == NULL)
        return VELO_ENOMEM;
    pthread_mutex_init(&l->mtx, NULL);
    l->c = c;
    l->ttl_s = cfg->ttl_s;
    l->wait_ms = cfg->wait_ms ? cfg->wait_ms : 15000;
    if (l->wait_ms > cfg->ttl_s * 1000 / 3)
        l->wait_ms = cfg->ttl_s * 1000 / 3;
    rv = snprintf(l->holder, sizeof(l->holder), "%s", cfg->holder) <
                 (int)sizeof(l->holder)
             ? VELO_OK
             : VELO_EINVAL;
    if (rv == VELO_OK) /* "velopipe/ingest/leader": keep the slashes */
        rv = strlen(cfg->key) < sizeof(l->key_esc) &&
                     strspn(cfg->key, "abcdefghijklmnopqrstuvwxyz"
                                      "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                      "0123456789-_./") == strlen(cfg->key)
                 ? VELO_OK
                 : VELO_EINVAL;
    if (rv == VELO_OK) {
        snprintf(l->key_esc, sizeof(l->key_esc), "%s", cfg->key);
        rv = consul_call_init(&l->k, &l->stop);
    }
    if (rv == VELO_OK) {
        lock_metrics(l, m);
        consul_mset(l->m_held, 0);
        rv = pthread_create(&l->th, NULL, lock_main, l) == 0 ? VELO_OK
                                                             : VELO_ENOMEM;
        l->started = rv == VELO_OK;
    }
    if (rv != VELO_OK) {
        velo_consul_lock_free(l);
        return rv;
    }
    *out = l;
    return VELO_OK;
}

bool
velo_consul_lock_held(velo_consul_lock *l)
{
    return atomic_load(&l->held);
}

void
velo_consul_lock_leader(velo_consul_lock *l, char *buf, size_t size)
{
    pthread_mutex_lock(&l->mtx);
    snprintf(buf, size, "%s", l->leader);
    pthread_mutex_unlock(&l->mtx);
}

/* Releases the key and destroys the session (after the thread ended). */
static void
lock_release(velo_consul_lock *l)
{
    struct velo_fetch_result res;
    char                     path[512];
    bool                     held = atomic_load(&l->held);
    int                      rv = VELO_OK;

    if (held) {
        snprintf(path, sizeof(path), "/v1/kv/%s?release=%s", l->key_esc,
                 l->session);
        rv = velo_consul_request(l->c, "PUT", path, l->holder, 2000, &res);
        velo_fetch_result_fini(&res);
        atomic_store(&l->held, false);
        consul_mset(l->m_held, 0);
    }
    snprintf(path, sizeof(path), "/v1/session/destroy/%s", l->session);
    if (velo_consul_request(l->c, "PUT", path, NULL, 2000, &res) != VELO_OK)
        velo_debug("consul.lock.destroy_failed", VELO_S("cause", res.cause));
    velo_fetch_result_fini(&res);
    if (held)
        velo_info("consul.lock.released", VELO_S("holder", l->holder),
                  VELO_S("err", velo_strerror(rv)));
}

void
velo_consul_lock_stop(velo_consul_lock *l)
{
    if (l == NULL || atomic_exchange(&l->stop, true))
        return;
    if (l->k.f != NULL)
        velo_fetcher_wakeup(l->k.f);
    if (l->started)
        pthread_join(l->th, NULL);
    l->started = false;
    if (l->session[0] != '\0')
        lock_release(l);
    l->session[0] = '\0';
}

void
velo_consul_lock_free(velo_consul_lock *l)
{
    if (l == NULL)
        return;
    velo_consul_lock_stop(l);
    consul_call_fini(&l->k);
    pthread_mutex_destroy(&l->mtx);
    free(l);
}
