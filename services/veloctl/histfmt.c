/* histfmt.c: history and top output (see histfmt.h). */
#include "histfmt.h"

#include <stdio.h>

#include "table.h"
#include "velo/clock.h"
#include "velo/jsonw.h"

#define COPY_ROW(r, m)                                                         \
    do {                                                                       \
        (r)->station_id = (m)->station_id;                                     \
        (r)->window_start_ms = (m)->window_start_ms;                           \
        (r)->samples = (m)->samples;                                           \
        (r)->bikes_avg = (m)->bikes_avg;                                       \
        (r)->bikes_min = (m)->bikes_min;                                       \
        (r)->bikes_max = (m)->bikes_max;                                       \
        (r)->docks_avg = (m)->docks_avg;                                       \
        (r)->docks_min = (m)->docks_min;                                       \
        (r)->docks_max = (m)->docks_max;                                       \
        (r)->minutes_empty = (m)->minutes_empty;                               \
        (r)->minutes_full = (m)->minutes_full;                                 \
        (r)->bikes_in = (m)->bikes_in;                                         \
        (r)->bikes_out = (m)->bikes_out;                                       \
        (r)->flow_reliable = (m)->flow_reliable;                               \
        (r)->status = (int)(m)->status;                                        \
        (r)->capacity = (m)->capacity;                                         \
        (r)->has_electric_avg = (m)->has_electric_avg;                         \
        (r)->electric_avg = (m)->electric_avg;                                 \
    } while (0)

void
veloctl_hrow_hourly(struct veloctl_hrow                *r,
                    const Velo__V1__HourlyStationStats *m)
{
    COPY_ROW(r, m);
    r->local_date = NULL;
}

void
veloctl_hrow_daily(struct veloctl_hrow *r, const Velo__V1__DailyStationStats *m)
{
    COPY_ROW(r, m);
    r->local_date = m->local_date;
}

static const char *
status_text(int s)
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

/* "2025-12-01 03:00Z". */
static void
hour_text(char *buf, size_t size, int64_t ms)
{
    char iso[32];

    velo_time_format_iso(ms, iso, sizeof(iso));
    snprintf(buf, size, "%.10s %.5sZ", iso, iso + 11);
}

enum {
    C_WHEN,
    C_SAMP,
    C_BIKES,
    C_BMIN,
    C_BMAX,
    C_DOCKS,
    C_EMPTY,
    C_FULL,
    C_IN,
    C_OUT,
    C_STATUS,
    C_CAP,
    C_ELEC,
    C_NOTE,
    NC
};

struct cells {
    char        b[NC][40];
    const char *c[NC];
};

static void
cells_fill(struct cells *k, const struct veloctl_hrow *r, const char *when)
{
    int i;

    snprintf(k->b[C_WHEN], 40, "%s", when);
    snprintf(k->b[C_SAMP], 40, "%u", (unsigned)r->samples);
    snprintf(k->b[C_BIKES], 40, "%.1f", r->bikes_avg);
    snprintf(k->b[C_BMIN], 40, "%u", (unsigned)r->bikes_min);
    snprintf(k->b[C_BMAX], 40, "%u", (unsigned)r->bikes_max);
    snprintf(k->b[C_DOCKS], 40, "%.1f", r->docks_avg);
    snprintf(k->b[C_EMPTY], 40, "%.0f", r->minutes_empty);
    snprintf(k->b[C_FULL], 40, "%.0f", r->minutes_full);
    snprintf(k->b[C_IN], 40, "%u", (unsigned)r->bikes_in);
    snprintf(k->b[C_OUT], 40, "%u", (unsigned)r->bikes_out);
    snprintf(k->b[C_STATUS], 40, "%s", status_text(r->status));
    snprintf(k->b[C_CAP], 40, "%u", (unsigned)r->capacity);
    snprintf(k->b[C_ELEC], 40, "%.1f", r->electric_avg);
    snprintf(k->b[C_NOTE], 40, "%s", r->flow_reliable ? "" : "gap");
    for (i = 0; i < NC; i++)
        k->c[i] = k->b[i];
    if (!r->has_electric_avg)
        k->c[C_ELEC] = NULL; /* "-" */
}

static int
table_emit(const struct veloctl_col *cols, const struct veloctl_hrow *rows,
           size_t n, int kind, struct velo_buf *out)
{
    veloctl_table *t;
    struct cells   k;
    char           when[64];
    size_t         i;
    int            rv;

    rv = veloctl_table_new(&t, cols, NC);
    for (i = 0; rv == VELO_OK && i < n; i++) {
        if (kind == 0)
            hour_text(when, sizeof(when), rows[i].window_start_ms);
        else if (kind == 1)
            snprintf(when, sizeof(when), "%s",
                     rows[i].local_date ? rows[i].local_date : "-");
        else
            snprintf(when, sizeof(when), "%zu. %s", i + 1, rows[i].station_id);
        cells_fill(&k, &rows[i], when);
        rv = veloctl_table_add(t, k.c);
    }
    if (rv == VELO_OK)
        rv = veloctl_table_render(t, true, out);
    veloctl_table_free(t);
    return rv;
}

#define NUM_COLS                                                               \
    {"SAMP", true, 0, 0}, {"BIKES", true, 0, 0}, {"MIN", true, 0, 0},          \
        {"MAX", true, 0, 0}, {"DOCKS", true, 0, 0}, {"EMPTY", true, 0, 0},     \
        {"FULL", true, 0, 0}, {"IN", true, 0, 0}, {"OUT", true, 0, 0},         \
        {"STATUS", false, 0, 0}, {"CAP", true, 0, 0}, {"ELEC", true, 0, 0},    \
    {                                                                          \
        "NOTE", false, 0, 0                                                    \
    }

int
veloctl_fmt_history(struct velo_buf *out, const struct veloctl_hrow *rows,
                    size_t n, bool daily)
{
    static const struct veloctl_col hourly[NC] = {{"WINDOW (UTC)", false, 0, 0},
                                                  NUM_COLS};
    static const struct veloctl_col days[NC] = {{"DATE", false, 0, 0},
                                                NUM_COLS};

    return table_emit(daily ? days : hourly, rows, n, daily ? 1 : 0, out);
}

int
veloctl_fmt_top(struct velo_buf *out, const struct veloctl_hrow *rows, size_t n)
{
    static const struct veloctl_col cols[NC] = {{"# STATION", false, 0, 40},
                                                NUM_COLS};

    return table_emit(cols, rows, n, 2, out);
}

static void
json_row(struct velo_jsonw *w, const struct veloctl_hrow *r, bool with_id)
{
    char iso[32];

    velo_jsonw_obj_begin(w);
    if (with_id) {
        velo_jsonw_key(w, "station_id");
        velo_jsonw_str(w, r->station_id);
    }
    velo_time_format_iso(r->window_start_ms, iso, sizeof(iso));
    velo_jsonw_key(w, "window_start");
    velo_jsonw_str(w, iso);
    velo_jsonw_key(w, "window_start_ms");
    velo_jsonw_i64(w, r->window_start_ms);
    if (r->local_date != NULL) {
        velo_jsonw_key(w, "local_date");
        velo_jsonw_str(w, r->local_date);
    }
#define JU(name) (velo_jsonw_key(w, #name), velo_jsonw_u64(w, r->name))
#define JD(name) (velo_jsonw_key(w, #name), velo_jsonw_dbl(w, r->name))
    JU(samples);
    JD(bikes_avg);
    JU(bikes_min);
    JU(bikes_max);
    JD(docks_avg);
    JU(docks_min);
    JU(docks_max);
    JD(minutes_empty);
    JD(minutes_full);
    JU(bikes_in);
    JU(bikes_out);
    velo_jsonw_key(w, "flow_reliable");
    velo_jsonw_bool(w, r->flow_reliable);
    velo_jsonw_key(w, "status");
    velo_jsonw_str(w, status_text(r->status));
    JU(capacity);
    if (r->has_electric_avg)
        JD(electric_avg);
#undef JU
#undef JD
    velo_jsonw_obj_end(w);
}

static void
json_time(struct velo_jsonw *w, const char *key, const char *key_ms, int64_t ms)
{
    char iso[32];

    velo_time_format_iso(ms, iso, sizeof(iso));
    velo_jsonw_key(w, key);
    velo_jsonw_str(w, iso);
    velo_jsonw_key(w, key_ms);
    velo_jsonw_i64(w, ms);
}

int
veloctl_json_history(struct velo_buf *out, const struct veloctl_hquery *q,
                     const struct veloctl_hrow *rows, size_t n)
{
    struct velo_jsonw w;
    size_t            i;
    int               rv;

    velo_jsonw_init(&w, out);
    velo_jsonw_obj_begin(&w);
    velo_jsonw_key(&w, "system_id");
    velo_jsonw_str(&w, q->system_id);
    velo_jsonw_key(&w, "station_id");
    velo_jsonw_str(&w, q->station_id);
    velo_jsonw_key(&w, "granularity");
    velo_jsonw_str(&w, q->daily ? "daily" : "hourly");
    json_time(&w, "from", "from_ms", q->from_ms);
    json_time(&w, "to", "to_ms", q->to_ms);
    velo_jsonw_key(&w, "rows");
    velo_jsonw_arr_begin(&w);
    for (i = 0; i < n; i++)
        json_row(&w, &rows[i], false);
    velo_jsonw_arr_end(&w);
    velo_jsonw_obj_end(&w);
    rv = velo_jsonw_finish(&w);
    return rv == VELO_OK ? velo_buf_puts(out, "\n") : rv;
}

int
veloctl_json_top(struct velo_buf *out, const char *system, const char *date,
                 const char *by, const struct veloctl_hrow *rows, size_t n)
{
    struct velo_jsonw w;
    size_t            i;
    int               rv;

    velo_jsonw_init(&w, out);
    velo_jsonw_obj_begin(&w);
    velo_jsonw_key(&w, "system_id");
    velo_jsonw_str(&w, system);
    velo_jsonw_key(&w, "local_date");
    velo_jsonw_str(&w, date);
    velo_jsonw_key(&w, "by");
    velo_jsonw_str(&w, by);
    velo_jsonw_key(&w, "stations");
    velo_jsonw_arr_begin(&w);
    for (i = 0; i < n; i++)
        json_row(&w, &rows[i], true);
    velo_jsonw_arr_end(&w);
    velo_jsonw_obj_end(&w);
    rv = velo_jsonw_finish(&w);
    return rv == VELO_OK ? velo_buf_puts(out, "\n") : rv;
}
