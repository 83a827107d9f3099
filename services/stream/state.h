/* state.h: velo-stream's live state, one entry per station.
 *
 * A hash map (uthash) from "system_id/station_id" to the latest snapshot, plus
 * an index sorted by (system_id, station_id) with numbers compared as numbers
 * ("2" < "10"), so listings and per-system summaries walk it in order.
 * Derived values (age, stale, stuck, trend) are computed at answer time.
 *
 * Apply rule: a snapshot older than the current one (fetched_at_ms) is
 * ignored, so records replayed while the state rebuilds never go back in
 * time. Stations are never removed; one that stops reporting turns stale.
 *
 * Threads and locks: one writer (the consumer thread) calls
 * stream_state_apply, which takes the write lock itself. Readers (RPC
 * workers) hold stream_state_rdlock while they use stream_state_count,
 * _at, _find, _derive and _systems, and copy out what they return before
 * stream_state_unlock: entries and snapshots may be freed or replaced as
 * soon as the lock is released. The writer itself may read without the
 * lock, since nobody else mutates. No sockets, no Kafka: unit-tested
 * alone (state_test.c). */
#ifndef STREAM_STATE_H
#define STREAM_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uthash.h>

#include "velo/err.h"
#include "velo/v1/stream.pb-c.h"

/* Change points kept per station for trend_15m. At the default 60 s poll
 * a station changes at most ~15 times in 15 minutes. */
#define STREAM_HIST_MAX 24

/* (fetched_at_ms, bikes) each time bikes_available changed, oldest first
 * from head, in a ring. fetched_at is used rather than last_reported
 * because the apply rule makes it monotonic per station. */
struct stream_hist {
    int64_t  t[STREAM_HIST_MAX];
    uint32_t bikes[STREAM_HIST_MAX];
    uint32_t head, len;
};

struct stream_entry {
    Velo__V1__StationSnapshot *snap; /* owned, never NULL */
    int64_t                    applied_at_ms;
    int64_t                    changed_at_ms;    /* bikes or docks changed */
    int64_t                    bikes_changed_ms; /* bikes changed (stuck) */
    struct stream_hist         hist;
    UT_hash_handle             hh;    /* state.c's map; not for readers */
    char                       key[]; /* "system_id/station_id" */
};

struct stream_state_cfg {
    int64_t stale_ms; /* age over this: stale */
    int64_t stuck_ms; /* open, renting, bikes unchanged this long: stuck */
    int64_t trend_ms; /* trend window (15 minutes) */
};

enum stream_apply {
    STREAM_APPLY_NEW,     /* first snapshot of this station */
    STREAM_APPLY_CHANGED, /* bikes, docks or status differ */
    STREAM_APPLY_SAME,    /* newer, but nothing of that changed */
    STREAM_APPLY_OLDER,   /* older than the current one: ignored */
};

/* A system's totals, in system_id order. Strings are borrowed from the
 * state: valid only under the read lock. */
struct stream_system {
    const char *system_id;
    uint32_t    stations;
    uint32_t    bikes; /* sums over stations that reported them */
    uint32_t    docks;
    int64_t     last_fetched_ms;
    bool        simulated;     /* any station of it simulated */
    const char *source_format; /* of the latest fetched station */
};

typedef struct stream_state stream_state;

/* cfg is copied. VELO_ENOMEM. */
VELO_MUST_CHECK int stream_state_new(stream_state                 **out,
                                     const struct stream_state_cfg *cfg);
/* NULL is a no-op. No reader may hold the lock. */
void stream_state_free(stream_state *st);

/* Takes ownership of snap (an unpacked message, released with
 * velo__v1__station_snapshot__free_unpacked) in every case, and applies
 * it at now_ms under the write lock. On VELO_OK *res says what happened
 * and *entry (when not NULL) is the station's entry, or NULL for
 * STREAM_APPLY_OLDER; the caller may read it without the lock only if it
 * is the writer thread. VELO_EINVAL: no system_id or station_id, or a
 * system_id holding '/' (the key would be ambiguous). VELO_ENOMEM.
 * Thread: the writer only. */
VELO_MUST_CHECK int stream_state_apply(stream_state              *st,
                                       Velo__V1__StationSnapshot *snap,
                                       int64_t now_ms, enum stream_apply *res,
                                       const struct stream_entry **entry);

void stream_state_rdlock(stream_state *st);
void stream_state_unlock(stream_state *st);

/* Locks: read lock held (or the writer thread). */
size_t                     stream_state_count(const stream_state *st);
const struct stream_entry *stream_state_at(const stream_state *st, size_t i);
/* NULL when absent or either id is NULL. */
const struct stream_entry *stream_state_find(const stream_state *st,
                                             const char         *system_id,
                                             const char         *station_id);

/* Fills out's derived fields for e at now_ms and points out->snapshot at
 * e->snap (borrowed). out must be initialised. Locks: as _at. */
void stream_state_derive(const stream_state *st, const struct stream_entry *e,
                         int64_t now_ms, Velo__V1__StationState *out);

/* Calls fn once per system, in system_id order. Locks: as _at. */
void stream_state_systems(const stream_state *st,
                          void (*fn)(void *ctx, const struct stream_system *),
                          void *ctx);

/* Orders (system_id, station_id) pairs: digit runs compare as numbers
 * ("2" < "10"), everything else bytewise; a total order ("01" and "1"
 * differ). Negative, zero or positive like strcmp. */
int stream_key_cmp(const char *sys_a, const char *st_a, const char *sys_b,
                   const char *st_b);

#endif
