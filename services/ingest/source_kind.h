/* source_kind.h: one source at run time, and the interface between the poll
 * scheduler (ingest.c) and the kinds of source (poll_jcdecaux.c,
 * poll_gbfs.c, replay.c, simulate.c).
 *
 * The scheduler calls ops->poll when the source is due. The kind then calls
 * ingest_src_done exactly once for that poll, either before poll returns
 * (replay, simulate) or later from a fetch callback (HTTP kinds). It hands
 * over a complete batch on success, or an outcome saying why the poll
 * failed (the batch is then empty: never a partial batch).
 *
 * Thread: everything here runs on the ingest loop thread. */
#ifndef INGEST_SOURCE_KIND_H
#define INGEST_SOURCE_KIND_H

#include <stdbool.h>
#include <stdint.h>

#include "batch.h"
#include "ingest_cfg.h"
#include "source_spec.h"
#include "sysinfo.h"
#include "velo/backoff.h"
#include "velo/http_client.h"

/* Why a poll ended; `kind` is the metrics label. */
struct ingest_outcome {
    int         err;    /* VELO_OK or the failure */
    const char *kind;   /* "ok", "forbidden", "rate_limited", "server_error",
                           "http_error", "timeout", "unavailable",
                           "malformed", "too_big", "io_error", "refused" */
    long        status; /* HTTP status, 0 when none */
    int64_t     retry_after_ms; /* -1: none */
    uint32_t    ttl_s;          /* GBFS ttl of the data, 0: none */
    char        detail[256];    /* one line for the log; no secrets */
    const char *raw; /* the payload to dead-letter (malformed), borrowed */
    size_t      rawlen;
    const char *url; /* what failed (no secrets), borrowed */
};

struct ingest_src;

struct ingest_src_ops {
    /* Kind state setup; VELO_EINVAL etc. with the reason logged. */
    int (*open)(struct ingest_src *s);
    /* Starts one poll. */
    void (*poll)(struct ingest_src *s, int64_t now_ms);
    /* Frees kind state. Called after every fetch of s has ended. */
    void (*close)(struct ingest_src *s);
};

/* Ends a poll. b is borrowed for the call (NULL on failure); the kind
 * frees it afterwards. */
typedef void (*ingest_done_fn)(struct ingest_src *s, struct ingest_outcome *o,
                               struct ingest_batch *b);

struct ingest_src {
    const struct ingest_source_spec *spec; /* borrowed from cfg */
    const struct ingest_cfg         *cfg;
    const struct ingest_src_ops     *ops;
    void                            *kstate;  /* the kind's own */
    velo_fetcher                    *fetcher; /* shared, borrowed */
    ingest_done_fn                   done;
    void                            *owner; /* the ingest object */
    /* Scheduling, owned by ingest.c. */
    size_t              index;
    bool                in_flight;
    int64_t             next_due_ms; /* monotonic */
    uint32_t            failures;    /* consecutive */
    struct velo_backoff backoff;     /* waits after failures */
    uint32_t            polls;       /* completed, ok or not */
    bool                finished; /* set by a kind with nothing left (replay) */
    int64_t             poll_started_ns;
    const char         *last_kind;       /* last outcome kind logged */
    struct ingest_sysinfo_sent sys_sent; /* the SystemInfo last sent */
    /* What the source said about itself (GBFS system_information), set by
     * the kind and owned by its kstate; NULL: nothing. */
    const struct ingest_feed_info *feed;
    /* Where HTTP kinds may connect (SSRF guard): internal addresses only
     * on the source URL's own host:port and the allow= hosts. */
    struct velo_fetch_policy policy;
    const char              *policy_hosts[INGEST_ALLOW_MAX + 1];
    char                    *own_origin; /* owned "host:port" */
};

/* Builds s->policy from s->spec (HTTP kinds). VELO_EINVAL when the URL
 * has no host curl understands. Release with ingest_src_policy_fini. */
VELO_MUST_CHECK int ingest_src_policy_init(struct ingest_src *s);
void                ingest_src_policy_fini(struct ingest_src *s);

/* True for an http:// or https:// URL: the only schemes a feed URL found
 * in a payload (gbfs.json) may have. */
bool ingest_src_url_is_http(const char *url);

/* A fetch request with the service's limits filled in. */
void ingest_src_fetch_req(const struct ingest_src *s, const char *url,
                          struct velo_fetch_req *req);

/* Classifies an HTTP result: VELO_OK for 2xx with a body; otherwise fills
 * o (err, kind, status, retry_after_ms, detail) and returns o->err. A
 * request the address policy refused is "refused" (never dead-lettered). */
int ingest_src_classify(const struct velo_fetch_result *res,
                        struct ingest_outcome          *o);

/* Fills o as a parse failure of a fetched payload (dead-letters raw). */
void ingest_src_malformed(struct ingest_outcome *o, int err, const char *why,
                          const char *raw, size_t rawlen);

extern const struct ingest_src_ops ingest_jcdecaux_ops;
extern const struct ingest_src_ops ingest_gbfs_ops;
extern const struct ingest_src_ops ingest_replay_ops;
extern const struct ingest_src_ops ingest_simulate_ops;

#endif
