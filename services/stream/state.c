/* state.c: the station map, its sorted index and the derived values (see
 * state.h). The map is uthash's (Debian uthash-dev), keyed by the entry's
 * own "system/station" text. Out of memory inside uthash is not fatal
 * here: HASH_ADD then leaves the entry out and sets the `oom` flag that
 * the caller of entry_map_add declares (uthash's documented hook). */
#define HASH_NONFATAL_OOM 1
#define uthash_nonfatal_oom(elt) (oom = true)

#include "state.h"

#include <ctype.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "velo/snapshot.h"

#define STATE_KEY_MAX 512   /* "system/station"; longer keys are refused */
#define STATE_SORTED_MIN 64 /* first capacity of the sorted index */

/* cfg never changes. Everything else is written by the one writer under
 * the write lock and read under the read lock. */
struct stream_state {
    struct stream_state_cfg cfg;
    pthread_rwlock_t        lock;
    struct stream_entry    *map;    /* uthash head, by key; NULL when empty */
    struct stream_entry   **sorted; /* every entry, by stream_key_cmp */
    size_t                  n, cap;
};

/* ---- ordering ---- */

/* Compares the digit runs at *pa and *pb as numbers and moves both past
 * them. Leading zeros do not count ("007" == "7"). */
static int
digits_cmp(const char **pa, const char **pb)
{
    const char *a = *pa, *b = *pb, *ea, *eb;
    int         c;

    while (*a == '0')
        a++;
    while (*b == '0')
        b++;
    for (ea = a; isdigit((unsigned char)*ea); ea++)
        ;
    for (eb = b; isdigit((unsigned char)*eb); eb++)
        ;
    if (ea - a != eb - b)
        return ea - a < eb - b ? -1 : 1;
    c = memcmp(a, b, (size_t)(ea - a));
    *pa = ea;
    *pb = eb;
    return c;
}

static int
natural_cmp(const char *a, const char *b)
{
    const char *a0 = a, *b0 = b;
    int         c;

    while (*a != '\0' && *b != '\0') {
        if (isdigit((unsigned char)*a) && isdigit((unsigned char)*b)) {
            c = digits_cmp(&a, &b);
            if (c != 0)
                return c;
            continue;
        }
        if (*a != *b)
            return (unsigned char)*a < (unsigned char)*b ? -1 : 1;
        a++;
        b++;
    }
    if (*a != *b)
        return *a == '\0' ? -1 : 1;
    /* Equal as numbers ("01" vs "1"): bytes decide, so the order is
     * total and a cursor never sees two keys as one. */
    return strcmp(a0, b0);
}

int
stream_key_cmp(const char *sys_a, const char *st_a, const char *sys_b,
               const char *st_b)
{
    int c = natural_cmp(sys_a, sys_b);

    return c != 0 ? c : natural_cmp(st_a, st_b);
}

static int
entry_cmp(const struct stream_entry *e, const Velo__V1__StationSnapshot *s)
{
    return stream_key_cmp(e->snap->system_id, e->snap->station_id, s->system_id,
                          s->station_id);
}

/* ---- map and index ---- */

/* The entry of key, or NULL. */
static struct stream_entry *
map_find(const stream_state *st, const char *key)
{
    struct stream_entry *e = NULL;

    HASH_FIND_STR(st->map, key, e);
    return e;
}

/* Adds e under e->key. VELO_ENOMEM when uthash could not make its table
 * (then e is not in the map). */
static int
map_add(stream_state *st, struct stream_entry *e)
{
    bool oom = false;

    HASH_ADD_KEYPTR(hh, st->map, e->key, strlen(e->key), e);
    return oom ? VELO_ENOMEM : VELO_OK;
}

static int
sorted_reserve(stream_state *st)
{
    struct stream_entry **grown;
    size_t                cap;

    if (st->n < st->cap)
        return VELO_OK;
    cap = st->cap ? st->cap * 2 : STATE_SORTED_MIN;
    grown = realloc(st->sorted, cap * sizeof(*grown));
    if (grown == NULL)
        return VELO_ENOMEM;
    st->sorted = grown;
    st->cap = cap;
    return VELO_OK;
}

/* Inserts e at its place in the index. The memmove is O(n), but new
 * stations are rare after the rebuild, and even a 100k-station rebuild
 * moves only a few GB of pointers in total. */
static void
sorted_insert(stream_state *st, struct stream_entry *e)
{
    size_t lo = 0, hi = st->n, mid;

    while (lo < hi) {
        mid = lo + (hi - lo) / 2;
        if (entry_cmp(st->sorted[mid], e->snap) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    memmove(&st->sorted[lo + 1], &st->sorted[lo],
            (st->n - lo) * sizeof(*st->sorted));
    st->sorted[lo] = e;
    st->n++;
}

int
stream_state_new(stream_state **out, const struct stream_state_cfg *cfg)
{
    stream_state        *st;
    pthread_rwlockattr_t attr;

    st = calloc(1, sizeof(*st));
    if (st == NULL)
        return VELO_ENOMEM;
    st->cfg = *cfg;
    /* Readers come from many RPC workers; the one writer must not starve
     * behind them while a busy dashboard lists stations. */
    pthread_rwlockattr_init(&attr);
    pthread_rwlockattr_setkind_np(&attr,
                                  PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
    pthread_rwlock_init(&st->lock, &attr);
    pthread_rwlockattr_destroy(&attr);
    *out = st;
    return VELO_OK;
}

void
stream_state_free(stream_state *st)
{
    size_t i;

    if (st == NULL)
        return;
    HASH_CLEAR(hh, st->map); /* uthash's table; the entries are freed below */
    for (i = 0; i < st->n; i++) {
        velo__v1__station_snapshot__free_unpacked(st->sorted[i]->snap, NULL);
        free(st->sorted[i]);
    }
    free(st->sorted);
    pthread_rwlock_destroy(&st->lock);
    free(st);
}

void
stream_state_rdlock(stream_state *st)
{
    pthread_rwlock_rdlock(&st->lock);
}

void
stream_state_unlock(stream_state *st)
{
    pthread_rwlock_unlock(&st->lock);
}

size_t
stream_state_count(const stream_state *st)
{
    return st->n;
}

const struct stream_entry *
stream_state_at(const stream_state *st, size_t i)
{
    return i < st->n ? st->sorted[i] : NULL;
}

const struct stream_entry *
stream_state_find(const stream_state *st, const char *system_id,
                  const char *station_id)
{
    Velo__V1__StationSnapshot probe = VELO__V1__STATION_SNAPSHOT__INIT;
    char                      key[STATE_KEY_MAX];

    probe.system_id = (char *)system_id;
    probe.station_id = (char *)station_id;
    if (velo_snapshot_key(&probe, key, sizeof(key)) != VELO_OK)
        return NULL;
    return map_find(st, key);
}

/* ---- history ---- */

static void
hist_push(struct stream_hist *h, int64_t t, uint32_t bikes)
{
    uint32_t last;

    if (h->len > 0) {
        last = (h->head + h->len - 1) % STREAM_HIST_MAX;
        if (h->bikes[last] == bikes)
            return; /* not a change point */
    }
    if (h->len == STREAM_HIST_MAX) { /* full: the oldest goes */
        h->head = (h->head + 1) % STREAM_HIST_MAX;
        h->len--;
    }
    last = (h->head + h->len) % STREAM_HIST_MAX;
    h->t[last] = t;
    h->bikes[last] = bikes;
    h->len++;
}

/* Drops points nobody can ask for again: answers look for the latest
 * point at or before (now - window), and now only grows. */
static void
hist_prune(struct stream_hist *h, int64_t cutoff)
{
    while (h->len >= 2 && h->t[(h->head + 1) % STREAM_HIST_MAX] <= cutoff) {
        h->head = (h->head + 1) % STREAM_HIST_MAX;
        h->len--;
    }
}

/* Bikes at time `when`: the latest change point at or before it. */
static bool
hist_at(const struct stream_hist *h, int64_t when, uint32_t *bikes)
{
    uint32_t i, k;
    bool     found = false;

    for (i = 0; i < h->len; i++) {
        k = (h->head + i) % STREAM_HIST_MAX;
        if (h->t[k] > when)
            break;
        *bikes = h->bikes[k];
        found = true;
    }
    return found;
}

/* ---- apply ---- */

/* When ingest saw this snapshot; the apply time if it does not say. */
static int64_t
observed_ms(const Velo__V1__StationSnapshot *s, int64_t now_ms)
{
    return s->has_fetched_at_ms && s->fetched_at_ms > 0 ? s->fetched_at_ms
                                                        : now_ms;
}

static bool
bikes_differ(const Velo__V1__StationSnapshot *a,
             const Velo__V1__StationSnapshot *b)
{
    return a->has_bikes_available != b->has_bikes_available ||
           a->bikes_available != b->bikes_available;
}

static bool
docks_differ(const Velo__V1__StationSnapshot *a,
             const Velo__V1__StationSnapshot *b)
{
    return a->has_docks_available != b->has_docks_available ||
           a->docks_available != b->docks_available;
}

static void
entry_track(stream_state *st, struct stream_entry *e, int64_t now_ms)
{
    const Velo__V1__StationSnapshot *s = e->snap;

    if (s->has_bikes_available)
        hist_push(&e->hist, observed_ms(s, now_ms), s->bikes_available);
    hist_prune(&e->hist, now_ms - st->cfg.trend_ms);
}

static int
entry_insert(stream_state *st, const char *key, Velo__V1__StationSnapshot *snap,
             int64_t now_ms, const struct stream_entry **entry)
{
    struct stream_entry *e;
    size_t               klen = strlen(key);
    int                  rv;

    rv = sorted_reserve(st);
    e = rv == VELO_OK ? calloc(1, sizeof(*e) + klen + 1) : NULL;
    if (e != NULL) {
        memcpy(e->key, key, klen + 1);
        rv = map_add(st, e);
    }
    if (e == NULL || rv != VELO_OK) {
        free(e);
        velo__v1__station_snapshot__free_unpacked(snap, NULL);
        return VELO_ENOMEM;
    }
    e->snap = snap;
    e->applied_at_ms = now_ms;
    /* First sight: the best "last changed" we know is now-ish. */
    e->changed_at_ms = e->bikes_changed_ms = observed_ms(snap, now_ms);
    entry_track(st, e, now_ms);
    sorted_insert(st, e);
    *entry = e;
    return VELO_OK;
}

/* Replaces e's snapshot with a newer one; says whether it changed. */
static enum stream_apply
entry_update(stream_state *st, struct stream_entry *e,
             Velo__V1__StationSnapshot *snap, int64_t now_ms)
{
    Velo__V1__StationSnapshot *old = e->snap;
    bool                       bikes = bikes_differ(old, snap);
    bool                       docks = docks_differ(old, snap);
    bool                       status = old->status != snap->status;

    if (bikes || docks)
        e->changed_at_ms = observed_ms(snap, now_ms);
    if (bikes)
        e->bikes_changed_ms = observed_ms(snap, now_ms);
    e->snap = snap;
    e->applied_at_ms = now_ms;
    entry_track(st, e, now_ms);
    velo__v1__station_snapshot__free_unpacked(old, NULL);
    return bikes || docks || status ? STREAM_APPLY_CHANGED : STREAM_APPLY_SAME;
}

int
stream_state_apply(stream_state *st, Velo__V1__StationSnapshot *snap,
                   int64_t now_ms, enum stream_apply *res,
                   const struct stream_entry **entry)
{
    const struct stream_entry *e = NULL;
    char                       key[STATE_KEY_MAX];
    struct stream_entry       *found;
    int                        rv = VELO_OK;

    if (velo_snapshot_key(snap, key, sizeof(key)) != VELO_OK ||
        strchr(snap->system_id, '/') != NULL) {
        velo__v1__station_snapshot__free_unpacked(snap, NULL);
        return VELO_EINVAL;
    }
    pthread_rwlock_wrlock(&st->lock);
    found = map_find(st, key);
    if (found == NULL) {
        rv = entry_insert(st, key, snap, now_ms, &e);
        *res = STREAM_APPLY_NEW;
    } else if (snap->fetched_at_ms < found->snap->fetched_at_ms) {
        velo__v1__station_snapshot__free_unpacked(snap, NULL);
        *res = STREAM_APPLY_OLDER;
    } else {
        *res = entry_update(st, found, snap, now_ms);
        e = found;
    }
    pthread_rwlock_unlock(&st->lock);
    if (rv == VELO_OK && entry != NULL)
        *entry = e;
    return rv;
}

/* ---- answers ---- */

void
stream_state_derive(const stream_state *st, const struct stream_entry *e,
                    int64_t now_ms, Velo__V1__StationState *out)
{
    const Velo__V1__StationSnapshot *s = e->snap;
    int64_t                          ref =
        s->last_reported_ms > 0 ? s->last_reported_ms : s->fetched_at_ms;
    int64_t  age_ms = now_ms > ref ? now_ms - ref : 0;
    bool     renting = !s->has_is_renting || s->is_renting;
    uint32_t then;

    out->snapshot = e->snap;
    out->has_age_s = out->has_stale = out->has_stuck = true;
    out->age_s = age_ms / 1000;
    out->stale = age_ms > st->cfg.stale_ms;
    out->stuck = s->status == VELO__V1__STATION_STATUS__STATION_STATUS_OPEN &&
                 renting && !out->stale && s->has_bikes_available &&
                 now_ms - e->bikes_changed_ms > st->cfg.stuck_ms;
    out->has_trend_15m = s->has_bikes_available &&
                         hist_at(&e->hist, now_ms - st->cfg.trend_ms, &then);
    out->trend_15m =
        out->has_trend_15m ? (int32_t)s->bikes_available - (int32_t)then : 0;
    out->has_applied_at_ms = out->has_changed_at_ms = true;
    out->applied_at_ms = e->applied_at_ms;
    out->changed_at_ms = e->changed_at_ms;
}

static void
system_add(struct stream_system *sys, const Velo__V1__StationSnapshot *s)
{
    sys->stations++;
    sys->bikes += s->has_bikes_available ? s->bikes_available : 0;
    sys->docks += s->has_docks_available ? s->docks_available : 0;
    sys->simulated |= s->has_simulated && s->simulated;
    if (sys->stations == 1 || s->fetched_at_ms > sys->last_fetched_ms) {
        sys->last_fetched_ms = s->fetched_at_ms;
        sys->source_format = s->source_format;
    }
}

void
stream_state_systems(const stream_state *st,
                     void (*fn)(void *ctx, const struct stream_system *),
                     void *ctx)
{
    struct stream_system sys;
    size_t               i;

    memset(&sys, 0, sizeof(sys));
    /* The index is sorted by system first: each system is one run. */
    for (i = 0; i < st->n; i++) {
        const Velo__V1__StationSnapshot *s = st->sorted[i]->snap;

        if (i == 0 || strcmp(s->system_id, sys.system_id) != 0) {
            if (i > 0)
                fn(ctx, &sys);
            memset(&sys, 0, sizeof(sys));
            sys.system_id = s->system_id;
        }
        system_add(&sys, s);
    }
    if (st->n > 0)
        fn(ctx, &sys);
}
