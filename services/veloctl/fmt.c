/* fmt.c: veloctl's text output (see fmt.h). Cells are built in small
 * stack buffers and handed to a veloctl_table, which cleans and aligns
 * them; a NULL cell is an absent field and prints "-". */
#include "fmt.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <time.h>

#include "table.h"
#include "velo/clock.h"
#include "velo/parse.h"

#define ID_COLS 40   /* system and station ids: long ones are cut */
#define TEXT_COLS 80 /* names, addresses, reasons in detail views */

void
veloctl_fmt_age(char *buf, size_t size, int64_t s)
{
    if (s < 0)
        s = 0;
    if (s < 60)
        snprintf(buf, size, "%" PRId64 "s", s);
    else if (s < 3600)
        snprintf(buf, size, "%" PRId64 "m", s / 60);
    else if (s < 86400)
        snprintf(buf, size, "%" PRId64 "h", s / 3600);
    else
        snprintf(buf, size, "%" PRId64 "d", s / 86400);
}

void
veloctl_fmt_dist(char *buf, size_t size, double m)
{
    if (!isfinite(m) || m < 0)
        snprintf(buf, size, "-");
    else if (m < 999.5)
        snprintf(buf, size, "%.0fm", m);
    else if (m < 9950.0)
        snprintf(buf, size, "%.1fkm", m / 1000.0);
    else
        snprintf(buf, size, "%.0fkm", m / 1000.0);
}

static const char *
status_name(Velo__V1__StationStatus s)
{
    switch (s) {
    case VELO__V1__STATION_STATUS__STATION_STATUS_OPEN:
        return "OPEN";
    case VELO__V1__STATION_STATUS__STATION_STATUS_CLOSED:
        return "CLOSED";
    default:
        return "UNKNOWN";
    }
}

void
veloctl_fmt_status(char *buf, size_t size, const Velo__V1__StationState *st)
{
    const Velo__V1__StationSnapshot *s = st->snapshot;
    bool stale = st->has_stale && st->stale, stuck = st->has_stuck && st->stuck;

    if ((s == NULL || !s->has_status) && !stale && !stuck) {
        snprintf(buf, size, "-");
        return;
    }
    snprintf(buf, size, "%s%s%s",
             s != NULL && s->has_status ? status_name(s->status) : "-",
             stale ? " stale" : "", stuck ? " stuck" : "");
}

/* A count, or NULL (prints "-") when absent. */
static const char *
u32_cell(char *buf, size_t size, bool has, uint32_t v)
{
    if (!has)
        return NULL;
    snprintf(buf, size, "%" PRIu32, v);
    return buf;
}

/* Storage for one station row's formatted numbers. */
struct row_bufs {
    char bikes[16], mech[16], elec[16], docks[16], cap[16];
    char status[48], age[24], trend[16], dist[24];
};

#define STATION_COLS 12

static const struct veloctl_col station_cols[STATION_COLS] = {
    {"SYSTEM", false, 0, ID_COLS},
    {"STATION", false, 0, ID_COLS},
    {"NAME", false, 0, VELOCTL_NAME_COLS},
    {"BIKES", true, 0, 0},
    {"MECH", true, 0, 0},
    {"ELEC", true, 0, 0},
    {"DOCKS", true, 0, 0},
    {"CAP", true, 0, 0},
    {"STATUS", false, 0, 0},
    {"AGE", true, 0, 0},
    {"TREND", true, 0, 0},
    {"DIST", true, 0, 0},
};

/* Fills cells[0..STATION_COLS) for st; absent fields stay NULL. */
static void
station_cells(const Velo__V1__StationState *st, double dist, struct row_bufs *b,
              const char **cells)
{
    static const Velo__V1__StationSnapshot none =
        VELO__V1__STATION_SNAPSHOT__INIT;
    const Velo__V1__StationSnapshot *s = st->snapshot ? st->snapshot : &none;

    cells[0] = s->system_id;
    cells[1] = s->station_id;
    cells[2] = s->name;
    cells[3] = u32_cell(b->bikes, sizeof(b->bikes), s->has_bikes_available,
                        s->bikes_available);
    cells[4] = u32_cell(b->mech, sizeof(b->mech), s->has_mechanical_bikes,
                        s->mechanical_bikes);
    cells[5] = u32_cell(b->elec, sizeof(b->elec), s->has_electric_bikes,
                        s->electric_bikes);
    cells[6] = u32_cell(b->docks, sizeof(b->docks), s->has_docks_available,
                        s->docks_available);
    cells[7] = u32_cell(b->cap, sizeof(b->cap), s->has_capacity, s->capacity);
    veloctl_fmt_status(b->status, sizeof(b->status), st);
    cells[8] = b->status;
    cells[9] = NULL;
    if (st->has_age_s) {
        veloctl_fmt_age(b->age, sizeof(b->age), st->age_s);
        cells[9] = b->age;
    }
    cells[10] = NULL;
    if (st->has_trend_15m) {
        snprintf(b->trend, sizeof(b->trend), "%+" PRId32, st->trend_15m);
        cells[10] = st->trend_15m == 0 ? "0" : b->trend;
    }
    veloctl_fmt_dist(b->dist, sizeof(b->dist), dist);
    cells[11] = b->dist;
}

int
veloctl_fmt_stations(struct velo_buf *out, Velo__V1__StationState *const *sts,
                     const double *dist, size_t n)
{
    veloctl_table  *t = NULL;
    struct row_bufs b;
    const char     *cells[STATION_COLS];
    size_t          i;
    int             rv;

    /* Without a query point the DIST column is left out entirely. */
    rv = veloctl_table_new(&t, station_cols,
                           dist != NULL ? STATION_COLS : STATION_COLS - 1);
    for (i = 0; rv == VELO_OK && i < n; i++) {
        station_cells(sts[i], dist != NULL ? dist[i] : NAN, &b, cells);
        rv = veloctl_table_add(t, cells);
    }
    if (rv == VELO_OK)
        rv = veloctl_table_render(t, true, out);
    veloctl_table_free(t);
    return rv;
}

static const struct veloctl_col watch_cols[] = {
    {"TIME", false, 8, 8},          {"SYSTEM", false, 16, ID_COLS},
    {"STATION", false, 8, ID_COLS}, {"NAME", false, 24, 24},
    {"BIKES", true, 5, 0},          {"MECH", true, 4, 0},
    {"ELEC", true, 4, 0},           {"DOCKS", true, 5, 0},
    {"STATUS", false, 6, 0},        {"TREND", true, 5, 0},
};
#define WATCH_COLS (sizeof(watch_cols) / sizeof(watch_cols[0]))

int
veloctl_fmt_watch_header(struct velo_buf *out)
{
    veloctl_table *t = NULL;
    int            rv;

    rv = veloctl_table_new(&t, watch_cols, WATCH_COLS);
    if (rv == VELO_OK)
        rv = veloctl_table_render(t, true, out);
    veloctl_table_free(t);
    return rv;
}

int
veloctl_fmt_watch_line(struct velo_buf *out, const Velo__V1__StationState *st,
                       int64_t at_ms)
{
    veloctl_table  *t = NULL;
    struct row_bufs b;
    const char     *scells[STATION_COLS], *cells[WATCH_COLS];
    char            hms[16];
    time_t          secs = (time_t)(at_ms / 1000);
    struct tm       tm;
    int             rv;

    if (localtime_r(&secs, &tm) == NULL ||
        strftime(hms, sizeof(hms), "%H:%M:%S", &tm) == 0)
        snprintf(hms, sizeof(hms), "-");
    station_cells(st, NAN, &b, scells);
    cells[0] = hms;
    cells[1] = scells[0];  /* SYSTEM */
    cells[2] = scells[1];  /* STATION */
    cells[3] = scells[2];  /* NAME */
    cells[4] = scells[3];  /* BIKES */
    cells[5] = scells[4];  /* MECH */
    cells[6] = scells[5];  /* ELEC */
    cells[7] = scells[6];  /* DOCKS */
    cells[8] = scells[8];  /* STATUS */
    cells[9] = scells[10]; /* TREND */
    rv = veloctl_table_new(&t, watch_cols, WATCH_COLS);
    if (rv == VELO_OK)
        rv = veloctl_table_add(t, cells);
    if (rv == VELO_OK)
        rv = veloctl_table_render(t, false, out);
    veloctl_table_free(t);
    return rv;
}

static const char *
yes_no(bool has, bool v)
{
    return has ? (v ? "yes" : "no") : NULL;
}

/* "2026-11-25T12:00:00.123Z (5m ago)", or NULL for absent or 0. */
static const char *
when_cell(char *buf, size_t size, bool has, int64_t ms, int64_t now_ms)
{
    char iso[32], ago[24];

    if (!has || ms == 0)
        return NULL;
    velo_time_format_iso(ms, iso, sizeof(iso));
    veloctl_fmt_age(ago, sizeof(ago), (now_ms - ms) / 1000);
    snprintf(buf, size, "%s (%s ago)", iso, ago);
    return buf;
}

static const struct veloctl_col kv_cols[] = {
    {"", false, 0, 0},
    {"", false, 0, TEXT_COLS},
};

/* Storage for the detail view's formatted values. */
struct detail_bufs {
    struct row_bufs row;
    char            id[2 * 256 + 2], pos[80], dis_b[16], dis_d[16];
    char            reported[64], changed[64], fetched[64], source[96];
};

static int
kv_add(veloctl_table *t, int rv, const char *key, const char *value)
{
    const char *cells[2] = {key, value};

    return rv == VELO_OK ? veloctl_table_add(t, cells) : rv;
}

/* Identity and availability lines. */
static int
detail_avail(veloctl_table *t, const Velo__V1__StationState *st,
             const Velo__V1__StationSnapshot *s, struct detail_bufs *b)
{
    const char *cells[STATION_COLS];
    char        lat[40], lon[40];
    int         rv = VELO_OK;

    station_cells(st, NAN, &b->row, cells);
    snprintf(b->id, sizeof(b->id), "%s/%s", s->system_id ? s->system_id : "-",
             s->station_id ? s->station_id : "-");
    rv = kv_add(t, rv, "station", b->id);
    rv = kv_add(t, rv, "name", s->name);
    rv = kv_add(t, rv, "address", s->address);
    if (s->has_lat && s->has_lon) {
        velo_format_double(s->lat, lat, sizeof(lat));
        velo_format_double(s->lon, lon, sizeof(lon));
        snprintf(b->pos, sizeof(b->pos), "%s, %s", lat, lon);
    }
    rv = kv_add(t, rv, "position", s->has_lat && s->has_lon ? b->pos : NULL);
    rv = kv_add(t, rv, "status", cells[8]);
    rv = kv_add(t, rv, "installed",
                yes_no(s->has_is_installed, s->is_installed));
    rv = kv_add(t, rv, "renting", yes_no(s->has_is_renting, s->is_renting));
    rv = kv_add(t, rv, "returning",
                yes_no(s->has_is_returning, s->is_returning));
    rv = kv_add(t, rv, "bikes", cells[3]);
    rv = kv_add(t, rv, "mechanical", cells[4]);
    rv = kv_add(t, rv, "electric", cells[5]);
    rv = kv_add(t, rv, "bikes disabled",
                u32_cell(b->dis_b, sizeof(b->dis_b), s->has_bikes_disabled,
                         s->bikes_disabled));
    rv = kv_add(t, rv, "docks", cells[6]);
    rv = kv_add(t, rv, "docks disabled",
                u32_cell(b->dis_d, sizeof(b->dis_d), s->has_docks_disabled,
                         s->docks_disabled));
    rv = kv_add(t, rv, "capacity", cells[7]);
    rv = kv_add(t, rv, "trend 15m", cells[10]);
    return rv;
}

/* Time, freshness and source lines. */
static int
detail_times(veloctl_table *t, const Velo__V1__StationState *st,
             const Velo__V1__StationSnapshot *s, struct detail_bufs *b,
             int64_t now_ms)
{
    const char *age = NULL;
    int         rv = VELO_OK;

    if (st->has_age_s) {
        veloctl_fmt_age(b->row.age, sizeof(b->row.age), st->age_s);
        age = b->row.age;
    }
    rv = kv_add(t, rv, "age", age);
    rv = kv_add(t, rv, "stale", yes_no(st->has_stale, st->stale));
    rv = kv_add(t, rv, "stuck", yes_no(st->has_stuck, st->stuck));
    rv =
        kv_add(t, rv, "last reported",
               when_cell(b->reported, sizeof(b->reported),
                         s->has_last_reported_ms, s->last_reported_ms, now_ms));
    rv = kv_add(t, rv, "changed",
                when_cell(b->changed, sizeof(b->changed), st->has_changed_at_ms,
                          st->changed_at_ms, now_ms));
    rv = kv_add(t, rv, "fetched",
                when_cell(b->fetched, sizeof(b->fetched), s->has_fetched_at_ms,
                          s->fetched_at_ms, now_ms));
    rv = kv_add(t, rv, "connected", yes_no(s->has_connected, s->connected));
    rv = kv_add(t, rv, "banking", yes_no(s->has_banking, s->banking));
    rv = kv_add(t, rv, "bonus", yes_no(s->has_bonus, s->bonus));
    if (s->source_format != NULL)
        snprintf(b->source, sizeof(b->source), "%s%s", s->source_format,
                 s->has_simulated && s->simulated ? " (simulated)" : "");
    rv = kv_add(t, rv, "source", s->source_format ? b->source : NULL);
    return rv;
}

int
veloctl_fmt_station(struct velo_buf *out, const Velo__V1__StationState *st,
                    int64_t now_ms)
{
    static const Velo__V1__StationSnapshot none =
        VELO__V1__STATION_SNAPSHOT__INIT;
    const Velo__V1__StationSnapshot *s = st->snapshot ? st->snapshot : &none;
    veloctl_table                   *t = NULL;
    struct detail_bufs               b;
    int                              rv;

    rv = veloctl_table_new(&t, kv_cols, 2);
    if (rv == VELO_OK)
        rv = detail_avail(t, st, s, &b);
    if (rv == VELO_OK)
        rv = detail_times(t, st, s, &b, now_ms);
    if (rv == VELO_OK)
        rv = veloctl_table_render(t, false, out);
    veloctl_table_free(t);
    return rv;
}

static const struct veloctl_col system_cols[] = {
    {"SYSTEM", false, 0, ID_COLS}, {"STATIONS", true, 0, 0},
    {"BIKES", true, 0, 0},         {"DOCKS", true, 0, 0},
    {"FORMAT", false, 0, 24},      {"AGE", true, 0, 0},
    {"NOTE", false, 0, 0},
};

int
veloctl_fmt_systems(struct velo_buf *out, const Velo__V1__ListSystemsReply *r,
                    int64_t now_ms)
{
    const Velo__V1__SystemSummary *s;
    veloctl_table                 *t = NULL;
    char                           n[16], bk[16], dk[16], age[24];
    const char                    *cells[7];
    size_t                         i;
    int                            rv;

    rv = veloctl_table_new(&t, system_cols, 7);
    for (i = 0; rv == VELO_OK && i < r->n_systems; i++) {
        s = r->systems[i];
        cells[0] = s->system_id;
        cells[1] = u32_cell(n, sizeof(n), s->has_stations, s->stations);
        cells[2] = u32_cell(bk, sizeof(bk), s->has_bikes_available,
                            s->bikes_available);
        cells[3] = u32_cell(dk, sizeof(dk), s->has_docks_available,
                            s->docks_available);
        cells[4] = s->source_format;
        cells[5] = NULL;
        if (s->has_last_fetched_ms && s->last_fetched_ms != 0) {
            veloctl_fmt_age(age, sizeof(age),
                            (now_ms - s->last_fetched_ms) / 1000);
            cells[5] = age;
        }
        cells[6] = s->has_simulated && s->simulated ? "simulated" : "";
        rv = veloctl_table_add(t, cells);
    }
    if (rv == VELO_OK)
        rv = veloctl_table_render(t, true, out);
    veloctl_table_free(t);
    return rv;
}

static const struct veloctl_col health_cols[] = {
    {"RPC", false, 0, 0},       {"READY", false, 0, 0},
    {"STATIONS", true, 0, 0},   {"LAG", true, 0, 0},
    {"INSTANCE", false, 0, 40}, {"REASON", false, 0, TEXT_COLS},
};

int
veloctl_fmt_health(struct velo_buf *out, const struct veloctl_health *h,
                   size_t n)
{
    const Velo__V1__HealthReply *r;
    veloctl_table               *t = NULL;
    char                         st[24], lag[24];
    const char                  *cells[6];
    size_t                       i;
    int                          rv;

    rv = veloctl_table_new(&t, health_cols, 6);
    for (i = 0; rv == VELO_OK && i < n; i++) {
        r = h[i].reply;
        cells[0] = h[i].url;
        cells[1] = r == NULL ? "error" : yes_no(r->has_ready, r->ready);
        cells[2] = cells[3] = cells[4] = NULL;
        cells[5] = r == NULL ? h[i].error : r->reason;
        if (r != NULL && r->has_stations) {
            snprintf(st, sizeof(st), "%" PRIu64, r->stations);
            cells[2] = st;
        }
        if (r != NULL && r->has_consumer_lag) {
            snprintf(lag, sizeof(lag), "%" PRId64, r->consumer_lag);
            cells[3] = lag;
        }
        cells[4] = r != NULL ? r->instance : NULL;
        rv = veloctl_table_add(t, cells);
    }
    if (rv == VELO_OK)
        rv = veloctl_table_render(t, true, out);
    veloctl_table_free(t);
    return rv;
}
