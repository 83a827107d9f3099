/* poll_gbfs.c: GBFS 1.x/2.x/3.x polling as a chain of GETs.
 *
 * A poll walks: gbfs.json (auto-discovery, refreshed hourly) ->
 * station_information, vehicle_types and system_information (refreshed
 * when older than their ttl, at least every 5 min and at most hourly) ->
 * station_status. system_information feeds the SystemInfo record (time
 * zone, name, operator, language); without it the poll goes on. Only
 * station_status is needed on every poll. When a refresh of the slow feeds
 * fails but an older copy exists, the poll goes on with the older copy; a
 * failure of station_status fails the poll (nothing is emitted). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "payload_parsers.h"
#include "source_kind.h"
#include "sysinfo.h"
#include "velo/clock.h"
#include "velo/log.h"

#define DISCOVERY_MAX_AGE_MS (3600 * 1000)
#define STATIC_MIN_AGE_MS (300 * 1000)
#define STATIC_MAX_AGE_MS (3600 * 1000)

enum gbfs_step {
    STEP_DISCOVERY,
    STEP_INFO,
    STEP_VTYPES,
    STEP_SYSTEM,
    STEP_STATUS
};

struct gbfs {
    struct ingest_gbfs_feeds feeds;
    bool                     have_feeds;
    int64_t                  feeds_at; /* monotonic ms */
    ingest_gbfs_static      *st;
    bool                     have_info, have_vtypes, have_system;
    int64_t                  info_at, vtypes_at, system_at;
    struct ingest_feed_info  system; /* from system_information */
    enum gbfs_step           step;
    int64_t                  now; /* monotonic ms of the poll */
};

static void step_run(struct ingest_src *s);

static int
gbfs_open(struct ingest_src *s)
{
    struct gbfs *g = calloc(1, sizeof(*g));
    int          rv;

    if (g == NULL)
        return VELO_ENOMEM;
    rv = ingest_gbfs_static_new(&g->st);
    if (rv != VELO_OK) {
        free(g);
        return rv;
    }
    s->kstate = g;
    return VELO_OK;
}

static void
gbfs_close(struct ingest_src *s)
{
    struct gbfs *g = s->kstate;

    if (g == NULL)
        return;
    ingest_gbfs_feeds_fini(&g->feeds);
    ingest_gbfs_static_free(g->st);
    free(g);
    s->kstate = NULL;
    s->feed = NULL; /* pointed into g */
}

static int64_t
static_max_age(const struct gbfs *g)
{
    int64_t ttl = (int64_t)g->feeds.ttl_s * 1000;

    if (ttl < STATIC_MIN_AGE_MS)
        return STATIC_MIN_AGE_MS;
    return ttl > STATIC_MAX_AGE_MS ? STATIC_MAX_AGE_MS : ttl;
}

/* The next step after `from` that has work to do this poll. */
static enum gbfs_step
step_next(const struct gbfs *g, enum gbfs_step from)
{
    if (from <= STEP_DISCOVERY &&
        (!g->have_feeds || g->now - g->feeds_at >= DISCOVERY_MAX_AGE_MS))
        return STEP_DISCOVERY;
    if (from <= STEP_INFO && g->feeds.station_information != NULL &&
        (!g->have_info || g->now - g->info_at >= static_max_age(g)))
        return STEP_INFO;
    if (from <= STEP_VTYPES && g->feeds.vehicle_types != NULL &&
        (!g->have_vtypes || g->now - g->vtypes_at >= static_max_age(g)))
        return STEP_VTYPES;
    if (from <= STEP_SYSTEM && g->feeds.system_information != NULL &&
        (!g->have_system || g->now - g->system_at >= static_max_age(g)))
        return STEP_SYSTEM;
    return STEP_STATUS;
}

static const char *
step_url(const struct ingest_src *s, const struct gbfs *g)
{
    switch (g->step) {
    case STEP_DISCOVERY:
        return s->spec->url;
    case STEP_INFO:
        return g->feeds.station_information;
    case STEP_VTYPES:
        return g->feeds.vehicle_types;
    case STEP_SYSTEM:
        return g->feeds.system_information;
    default:
        return g->feeds.station_status;
    }
}

/* system_information: a zone the zone database does not know is dropped
 * (logged): a wrong zone would cut days at the wrong instants. */
static int
parse_system(struct ingest_src *s, struct gbfs *g, const char *body, size_t len,
             char *why, size_t n)
{
    struct ingest_feed_info fi;
    int                     rv;

    rv = ingest_gbfs_system_parse(body, len, s->spec->lang, g->feeds.lang, &fi,
                                  why, n);
    if (rv != VELO_OK)
        return rv;
    if (fi.timezone[0] != '\0' && !ingest_sysinfo_zone_ok(fi.timezone)) {
        velo_warn("gbfs.bad_timezone", VELO_S("source", s->spec->system_id),
                  VELO_S("timezone", fi.timezone));
        fi.timezone[0] = '\0';
    }
    g->system = fi;
    g->have_system = true;
    g->system_at = g->now;
    s->feed = &g->system;
    return VELO_OK;
}

/* Parses a slow feed; VELO_OK or the parser's error with why filled. */
static int
parse_slow(struct ingest_src *s, struct gbfs *g, const char *body, size_t len,
           char *why, size_t n)
{
    struct ingest_gbfs_feeds feeds = {0};
    int                      rv;

    switch (g->step) {
    case STEP_DISCOVERY:
        rv = ingest_gbfs_discovery_parse(body, len, s->spec->lang, &feeds, why,
                                         n);
        if (rv == VELO_OK && feeds.station_status == NULL) {
            snprintf(why, n, "gbfs.json announces no station_status feed");
            rv = VELO_EPROTO;
        }
        if (rv != VELO_OK) {
            ingest_gbfs_feeds_fini(&feeds);
            return rv;
        }
        ingest_gbfs_feeds_fini(&g->feeds);
        g->feeds = feeds;
        g->have_feeds = true;
        g->feeds_at = g->now;
        return VELO_OK;
    case STEP_INFO:
        rv = ingest_gbfs_info_parse(g->st, body, len, s->spec->lang, why, n);
        g->have_info |= rv == VELO_OK;
        g->info_at = rv == VELO_OK ? g->now : g->info_at;
        return rv;
    case STEP_SYSTEM:
        return parse_system(s, g, body, len, why, n);
    default:
        rv = ingest_gbfs_vtypes_parse(g->st, body, len, why, n);
        g->have_vtypes |= rv == VELO_OK;
        g->vtypes_at = rv == VELO_OK ? g->now : g->vtypes_at;
        return rv;
    }
}

/* A slow feed could not be refreshed: go on with the old copy if any.
 * station_status has no old copy that could stand in: its failure ends the
 * poll with its own outcome, so the scheduler counts it and backs off
 * (going on would re-request it at once, in a tight loop). */
static bool
have_old_copy(const struct gbfs *g)
{
    switch (g->step) {
    case STEP_DISCOVERY:
        return g->have_feeds;
    case STEP_INFO:
        return g->have_info;
    case STEP_VTYPES:
        return true; /* without vehicle types, e-bike counts stay absent */
    case STEP_SYSTEM:
        return true; /* without it, SystemInfo has what the config says */
    default:
        return false;
    }
}

static void
status_done(struct ingest_src *s, struct gbfs *g, struct velo_fetch_result *res,
            struct ingest_outcome *o)
{
    struct ingest_batch     b;
    struct ingest_parse_ctx pc = {s->spec->system_id, velo_now_ms()};
    char                    why[256] = "";
    uint32_t                ttl = 0;
    int                     rv;

    ingest_batch_init(&b, s->cfg->max_stations);
    rv = ingest_gbfs_status_parse(g->st, res->body.data, res->body.len,
                                  g->feeds.version, &pc, &b, &ttl, why,
                                  sizeof(why));
    if (rv != VELO_OK) {
        ingest_batch_fini(&b);
        ingest_src_malformed(o, rv, why, res->body.data, res->body.len);
        s->done(s, o, NULL);
        return;
    }
    o->kind = "ok";
    o->ttl_s = ttl;
    s->done(s, o, &b);
    ingest_batch_fini(&b);
}

static void
fetch_done(void *ctx, struct velo_fetch_result *res)
{
    struct ingest_src    *s = ctx;
    struct gbfs          *g = s->kstate;
    struct ingest_outcome o = {.retry_after_ms = -1, .url = step_url(s, g)};
    char                  why[256] = "";
    int                   rv;

    rv = ingest_src_classify(res, &o);
    if (rv == VELO_OK && g->step == STEP_STATUS) {
        status_done(s, g, res, &o);
        return;
    }
    if (rv == VELO_OK) {
        rv = parse_slow(s, g, res->body.data, res->body.len, why, sizeof(why));
        if (rv != VELO_OK)
            ingest_src_malformed(&o, rv, why, res->body.data, res->body.len);
    }
    /* A refused address is an attack, not an outage: no old copy hides it. */
    if (rv != VELO_OK && (rv == VELO_ECLOSED || !have_old_copy(g) ||
                          strcmp(o.kind, "refused") == 0)) {
        s->done(s, &o, NULL);
        return;
    }
    if (rv != VELO_OK)
        velo_warn("gbfs.refresh_failed", VELO_S("source", s->spec->system_id),
                  VELO_S("url", o.url), VELO_S("reason", o.detail));
    g->step = step_next(g, (enum gbfs_step)(g->step + 1));
    step_run(s);
}

static void
step_run(struct ingest_src *s)
{
    struct gbfs          *g = s->kstate;
    struct velo_fetch_req req;
    struct ingest_outcome o = {.retry_after_ms = -1};
    int                   rv;

    ingest_src_fetch_req(s, step_url(s, g), &req);
    if (!ingest_src_url_is_http(req.url)) {
        /* gbfs.json is a third party's word: a feed must be http(s). */
        o.err = VELO_EINVAL;
        o.kind = "refused";
        o.url = "(feed URL from gbfs.json)"; /* not echoed: could be anything */
        snprintf(o.detail, sizeof(o.detail),
                 "refused: a feed URL in gbfs.json is not http(s)");
        s->done(s, &o, NULL);
        return;
    }
    rv = velo_fetcher_add(s->fetcher, &req, fetch_done, s);
    if (rv != VELO_OK) {
        o.err = rv;
        o.kind = "unavailable";
        o.url = req.url;
        snprintf(o.detail, sizeof(o.detail), "cannot start request: %s",
                 velo_strerror(rv));
        s->done(s, &o, NULL);
    }
}

static void
gbfs_poll(struct ingest_src *s, int64_t now_ms)
{
    struct gbfs *g = s->kstate;

    (void)now_ms;
    g->now = velo_mono_ms();
    g->step = step_next(g, STEP_DISCOVERY);
    step_run(s);
}

const struct ingest_src_ops ingest_gbfs_ops = {gbfs_open, gbfs_poll,
                                               gbfs_close};
