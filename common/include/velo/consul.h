/* velo/consul.h: service discovery and leader election through a Consul
 * agent's HTTP API (DESIGN §6), on the project's HTTP client (libcurl).
 *
 * Four parts, one object each:
 *   velo_consul        the agent's address, ACL token and CA: immutable
 *                      after _new, so any thread may use it;
 *   velo_consul_reg    keeps one service instance registered (a thread);
 *   velo_consul_watch  a cached healthy list of one service, refreshed by
 *                      blocking queries on a thread;
 *   velo_consul_lock   a session plus a KV lock (one active replica).
 * None of them ever blocks its caller on Consul: the threads do the
 * waiting, retry with velo/backoff.h, and the caller reads cached state.
 *
 * The ACL token is sent as X-Consul-Token and never logged. */
#ifndef VELO_CONSUL_H
#define VELO_CONSUL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "velo/buf.h"
#include "velo/err.h"
#include "velo/http_client.h"
#include "velo/metrics.h"

#define VELO_CONSUL_URL_MAX 256      /* longest agent address or instance URL */
#define VELO_CONSUL_MAX_INSTANCES 64 /* the most a watch keeps */

typedef struct velo_consul velo_consul;

struct velo_consul_cfg {
    /* "http://host:8500", "https://host:8501" or "host:8500" (http).
     * NULL or "": CONSUL_HTTP_ADDR's value, if any (velo_consul_new says
     * VELO_ENOTFOUND when neither is set: Consul is not configured). */
    const char *addr;
    const char *token; /* ACL token; NULL: token_file, if any */
    const char
        *token_file;    /* file holding the token (CONSUL_HTTP_TOKEN_FILE) */
    const char *cacert; /* CA bundle for https (CONSUL_CACERT); NULL: system */
    uint32_t    timeout_ms; /* one plain request; 0: 5000 */
};

/* Makes a client for the agent at cfg->addr. Errors: VELO_ENOTFOUND (no
 * address anywhere), VELO_EINVAL (address not http(s), token file
 * unreadable or empty), VELO_ENOMEM. */
VELO_MUST_CHECK int velo_consul_new(velo_consul                 **out,
                                    const struct velo_consul_cfg *cfg);
/* NULL is a no-op. */
void velo_consul_free(velo_consul *c);
/* "http://127.0.0.1:8500" (normalised, no trailing slash). Borrowed. */
const char *velo_consul_addr(const velo_consul *c);

/* One request to the agent: method NULL is GET, path starts with "/v1/"
 * (query included), body may be NULL. timeout_ms 0: the cfg's. Fills res
 * (the caller fini's it whatever the return) and returns res->err: VELO_OK
 * means an HTTP answer came (any status: check res->status). Bodies are
 * capped at 4 MiB. Thread: any. */
VELO_MUST_CHECK int velo_consul_request(velo_consul *c, const char *method,
                                        const char *path, const char *body,
                                        uint32_t                  timeout_ms,
                                        struct velo_fetch_result *res);

/* ---- registration ---- */

enum velo_consul_check {
    VELO_CONSUL_CHECK_HTTP, /* the agent GETs check_url (/readyz) */
    VELO_CONSUL_CHECK_TTL,  /* we report readiness every interval */
};

/* What one instance registers. Strings are copied by velo_consul_reg_start. */
struct velo_consul_service {
    const char            *name;       /* "velo-stream" */
    const char            *id;         /* "velo-stream-host-7701" */
    const char            *address;    /* where clients reach it */
    uint16_t               port;       /* main port (nng REP, else admin) */
    uint16_t               admin_port; /* also in meta admin_port */
    const char *const     *tags;
    size_t                 ntags;
    const char *const     *meta;  /* key, value, key, value ... */
    size_t                 nmeta; /* pairs */
    enum velo_consul_check check;
    const char            *check_url;   /* HTTP: "http://host:port/readyz" */
    uint32_t               interval_ms; /* HTTP interval; TTL = 3 x this */
    uint32_t               deregister_after_s; /* critical that long: gone */
};

/* Writes the agent's registration body for s (PUT
 * /v1/agent/service/register). VELO_EINVAL without name/id/address. */
VELO_MUST_CHECK int
velo_consul_service_json(const struct velo_consul_service *s,
                         struct velo_buf                  *out);

/* Readiness as the registration reports it in TTL mode (the service host
 * passes the admin's /readyz probe). Thread: the registration's. */
typedef bool (*velo_consul_ready_fn)(void *ctx, char *why, size_t why_size);

typedef struct velo_consul_reg velo_consul_reg;

/* Registers s on a background thread and keeps it registered: every
 * interval_ms it checks that the agent still knows the instance and
 * registers it again when not (an agent restarted without state), and in
 * TTL mode reports ready() as the check's status and output. Failures are
 * retried with backoff. c and m are borrowed and must outlive the
 * registration; m may be NULL (else velo_consul_* series are added). */
VELO_MUST_CHECK int velo_consul_reg_start(velo_consul_reg **out, velo_consul *c,
                                          const struct velo_consul_service *s,
                                          velo_consul_ready_fn ready, void *ctx,
                                          velo_metrics *m);
/* Deregisters the instance now (one try, at most timeout_ms), so that no
 * client is sent to it any more; the thread keeps running but no longer
 * registers. Call before the service stops serving. Thread: any. */
void velo_consul_reg_leave(velo_consul_reg *r, uint32_t timeout_ms);
/* Writes "registered", "registering: <cause>" etc. into buf; returns true
 * when the agent was reachable on the last try. Thread: any. */
bool velo_consul_reg_state(velo_consul_reg *r, char *buf, size_t size);
/* Stops the thread (without deregistering: see _leave) and frees. NULL:
 * no-op. */
void velo_consul_reg_stop(velo_consul_reg *r);

/* ---- discovery ---- */

/* One healthy instance as GET /v1/health/service/<name>?passing says. */
struct velo_consul_instance {
    char     id[128];
    char     address[128]; /* Service.Address, else Node.Address */
    uint16_t port;
    char     url[VELO_CONSUL_URL_MAX]; /* "tcp://address:port" */
    /* Meta "pub" (velo-stream's PUB URL), a tcp://host:port whose
     * wildcard host (0.0.0.0, [::], *: bound to every interface) becomes
     * address; "" when absent or not such a URL. */
    char pub[VELO_CONSUL_URL_MAX];
};

/* Parses a /v1/health/service answer into at most max instances (those
 * without an address or port are skipped). *n gets how many. VELO_EPROTO
 * when body is not a JSON array of entries. Pure: for tests. */
VELO_MUST_CHECK int velo_consul_parse_health(const char *body, size_t len,
                                             struct velo_consul_instance *out,
                                             size_t max, size_t *n);

/* One entry of `veloctl status`: an instance with each of its checks. */
struct velo_consul_check_row {
    char service[64];
    char id[128];
    char address[160]; /* "host:port" */
    char check[128];   /* check name */
    char status[16];   /* passing, warning, critical */
    char output[256];  /* the check's output, cut to fit */
};

/* Parses the same answer (without ?passing) into one row per check of
 * each instance, up to max rows. Pure. */
VELO_MUST_CHECK int velo_consul_parse_checks(const char *body, size_t len,
                                             struct velo_consul_check_row *out,
                                             size_t max, size_t *n);

typedef struct velo_consul_watch velo_consul_watch;

/* Watches service name: a thread runs blocking queries (index, wait
 * wait_ms; 0: 30 s) and keeps the last healthy list. When Consul fails,
 * the last list is kept and the query retried with backoff. m may be NULL
 * (else velo_consul_watch_* series labelled service=name). */
VELO_MUST_CHECK int velo_consul_watch_start(velo_consul_watch **out,
                                            velo_consul *c, const char *name,
                                            uint32_t wait_ms, velo_metrics *m);
/* Waits up to timeout_ms for the first answer (so a command line tool can
 * use the list at once). True when one came. Thread: any. */
bool velo_consul_watch_wait_first(velo_consul_watch *w, uint32_t timeout_ms);
/* Copies up to max instance URLs (each VELO_CONSUL_URL_MAX bytes) into
 * urls; returns how many. Never blocks on Consul. Thread: any. */
size_t velo_consul_watch_urls(velo_consul_watch *w,
                              char (*urls)[VELO_CONSUL_URL_MAX], size_t max);
/* Copies up to max non-empty pub URLs (struct velo_consul_instance) of the
 * healthy list, in its order; returns how many. Never blocks on Consul.
 * Thread: any. */
size_t velo_consul_watch_pubs(velo_consul_watch *w,
                              char (*urls)[VELO_CONSUL_URL_MAX], size_t max);
/* For an RPC client's resolver (velo/rpc.h struct velo_rpc_resolver):
 * when the list's generation differs from *gen and is not empty, calls
 * apply(arg, urls, n) with it and updates *gen; returns true then. An
 * empty list is not applied (callers keep their last instances). Never
 * blocks on Consul. w is a velo_consul_watch. Thread: any. */
bool velo_consul_watch_refresh(void *w, uint64_t *gen,
                               void (*apply)(void *arg, const char *const *urls,
                                             size_t n),
                               void *arg);
/* Whether the last query succeeded, with a short text. Thread: any. */
bool velo_consul_watch_state(velo_consul_watch *w, char *buf, size_t size);
/* Stops the thread (interrupting a blocking query) and frees. NULL: no-op. */
void velo_consul_watch_stop(velo_consul_watch *w);

/* ---- one active replica: session + KV lock ---- */

typedef struct velo_consul_lock velo_consul_lock;

struct velo_consul_lock_cfg {
    const char *key;     /* "velopipe/ingest/leader" */
    const char *holder;  /* this replica's name, stored as the key's value */
    uint32_t    ttl_s;   /* session TTL (Consul may take up to 2 x) */
    uint32_t    wait_ms; /* standby's blocking query wait; 0: 15 s */
};

/* Contends for cfg->key on a thread: creates a session (TTL, behaviour
 * release, lock delay 0), tries to acquire the key, renews the session
 * every ttl/3 while holding it, and while standing by waits on a blocking
 * query of the key and tries again when it is free. Losing the session
 * (expired, Consul unreachable longer than the TTL) drops the lock at
 * once. m may be NULL (else velo_consul_lock_* series). */
VELO_MUST_CHECK int
velo_consul_lock_start(velo_consul_lock **out, velo_consul *c,
                       const struct velo_consul_lock_cfg *cfg, velo_metrics *m);
/* True while this replica holds the lock. Thread: any, never blocks. */
bool velo_consul_lock_held(velo_consul_lock *l);
/* Who holds it, as last seen ("" when free or unknown). Thread: any. */
void velo_consul_lock_leader(velo_consul_lock *l, char *buf, size_t size);
/* Stops contending, releases the lock and destroys the session (one try
 * each, at most 2 s each): the standby takes over at once. l stays valid
 * (held false) until _free. Thread: one caller; NULL: no-op. */
void velo_consul_lock_stop(velo_consul_lock *l);
/* _stop if not done yet, then frees. NULL: no-op. */
void velo_consul_lock_free(velo_consul_lock *l);

#endif
