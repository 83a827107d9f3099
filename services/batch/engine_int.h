/* engine_int.h: the engine's tables, shared by engine.c (records, hours)
 * and engine_day.c (daily windows in the system's zone). */
#ifndef BATCH_ENGINE_INT_H
#define BATCH_ENGINE_INT_H

#include <uthash.h>

#include "engine.h"
#include "history.h"
#include "velo/tz.h"

#define HOUR_MS 3600000LL

/* What the systems topic said of one system; zone and name are
 * independent (either may be unknown). */
struct zone {
    char          *system_id;
    velo_tz       *tz;   /* NULL: unknown, daily windows held */
    char          *name; /* NULL: unknown, cut to BATCH_NAME_MAX - 1 */
    UT_hash_handle hh;
};

struct station;

/* One system as seen on one partition: its daily window pointer. */
struct psys {
    char            *system_id;
    UT_hash_handle   hh;
    bool             day_init;           /* day_* valid (the zone was known) */
    int64_t          init_floor;         /* wm - lateness when first seen */
    int64_t          day_start, day_end; /* the first day not yet closed */
    char             date[11];
    struct station **stations;
    size_t           nstations, cap;
};

struct station {
    char                *key; /* "system\0station\0" */
    size_t               keylen;
    const char          *station_id; /* inside key */
    struct psys         *sys;
    struct batch_history h;
    struct batch_dims   *dims; /* latest, NULL until a record had some */
    UT_hash_handle       hh;
};

struct part {
    int32_t         id;
    UT_hash_handle  hh;
    bool            has_wm;
    int64_t         wm;
    int64_t         hour_next; /* start of the first hour not yet closed */
    int64_t         replay_until;
    bool            silent; /* the current record is replayed */
    struct station *stations;
    struct psys    *systems;
};

struct batch_engine {
    struct batch_engine_cfg   cfg;
    struct batch_sink         sink;
    struct part              *parts;
    struct zone              *zones;
    struct batch_engine_stats st;
};

/* Computes station st's window and hands it to the sink (or counts it as
 * suppressed while p replays). No information: nothing. */
int engine_emit(batch_engine *e, struct part *p, struct station *st,
                enum batch_gran gran, int64_t start, int64_t end,
                const char *date, bool correction);

/* The earliest instant >= t at which st has information, or INT64_MAX. */
int64_t engine_next_info(const batch_engine *e, const struct station *st,
                         int64_t t);

/* Closes every daily window of p that the watermark has passed. */
int engine_close_days(batch_engine *e, struct part *p);

/* Re-emits the closed daily windows a late sample at t changed. */
int engine_correct_days(batch_engine *e, struct part *p, struct station *st,
                        int64_t t, int64_t next_t);

/* The loaded zone of a system, or NULL while it is unknown. */
const velo_tz *engine_tz(const batch_engine *e, const char *system_id);

#endif
