/* params.c: strict request parameters (see params.h). */
#include "params.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "velo/clock.h"
#include "velo/cursor.h"
#include "velo/parse.h"
#include "velo/utf8.h"

static int
perr(struct gw_perr *e, const char *param, const char *fmt, ...)
{
    va_list ap;

    e->param = param;
    va_start(ap, fmt);
    vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
    va_end(ap);
    return VELO_EINVAL;
}

static const char *
qget(const struct gw_query *q, const char *key)
{
    return q->get(q->ctx, key);
}

/* Valid UTF-8 of 1..max bytes without control characters. */
static bool
text_ok(const char *s, size_t max)
{
    size_t n = strlen(s), i;

    if (n == 0 || n > max || !velo_utf8_valid(s, n))
        return false;
    for (i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
            return false;
    return true;
}

int
gw_params_system(const char *s, const char *param, struct gw_perr *e)
{
    if (s == NULL || !text_ok(s, GW_SYSTEM_MAX))
        return perr(e, param, "%s must be a system id of 1 to %d bytes (UTF-8)",
                    param, GW_SYSTEM_MAX);
    return VELO_OK;
}

/* An optional u32 in [lo, hi]; *has set when present. */
static int
opt_u32(const struct gw_query *q, const char *key, uint32_t lo, uint32_t hi,
        uint32_t *out, protobuf_c_boolean *has, struct gw_perr *e)
{
    const char *s = qget(q, key);
    uint32_t    v;

    if (s == NULL)
        return VELO_OK;
    if (velo_parse_u32(s, &v) != VELO_OK || v < lo || v > hi)
        return perr(e, key, "%s must be a whole number from %u to %u", key, lo,
                    hi);
    *out = v;
    *has = true;
    return VELO_OK;
}

/* n comma-separated finite doubles into v. */
static bool
doubles(const char *s, double *v, size_t n)
{
    char   buf[128], *p, *comma;
    size_t i;

    if (strlen(s) >= sizeof(buf))
        return false;
    snprintf(buf, sizeof(buf), "%s", s);
    p = buf;
    for (i = 0; i < n; i++) {
        comma = strchr(p, ',');
        if ((comma == NULL) != (i == n - 1))
            return false;
        if (comma != NULL)
            *comma = '\0';
        if (velo_parse_double(p, &v[i]) != VELO_OK)
            return false;
        p = comma != NULL ? comma + 1 : p;
    }
    return true;
}

static bool
lat_ok(double lat)
{
    return lat >= -90.0 && lat <= 90.0;
}

static bool
lon_ok(double lon)
{
    return lon >= -180.0 && lon <= 180.0;
}

static int
p_near(const struct gw_query *q, Velo__V1__ListStationsRequest *rq,
       struct gw_perr *e)
{
    const char *s = qget(q, "near");
    double      v[2];
    int         rv;

    if (s != NULL) {
        if (!doubles(s, v, 2) || !lat_ok(v[0]) || !lon_ok(v[1]))
            return perr(e, "near",
                        "near must be lat,lon with lat in [-90, 90] and lon "
                        "in [-180, 180]");
        rq->has_near_lat = rq->has_near_lon = true;
        rq->near_lat = v[0];
        rq->near_lon = v[1];
    }
    rv = opt_u32(q, "radius_m", 1, GW_RADIUS_MAX, &rq->radius_m,
                 &rq->has_radius_m, e);
    if (rv == VELO_OK && rq->has_radius_m && s == NULL)
        return perr(e, "radius_m", "radius_m needs near=lat,lon");
    return rv;
}

static int
p_bbox(const struct gw_query *q, Velo__V1__ListStationsRequest *rq,
       struct gw_perr *e)
{
    const char *s = qget(q, "bbox");
    double      v[4];

    if (s == NULL)
        return VELO_OK;
    if (!doubles(s, v, 4) || !lon_ok(v[0]) || !lat_ok(v[1]) || !lon_ok(v[2]) ||
        !lat_ok(v[3]) || v[0] > v[2] || v[1] > v[3])
        return perr(e, "bbox",
                    "bbox must be min_lon,min_lat,max_lon,max_lat within "
                    "[-180, 180] x [-90, 90], min before max");
    rq->has_min_lon = rq->has_min_lat = rq->has_max_lon = rq->has_max_lat =
        true;
    rq->min_lon = v[0];
    rq->min_lat = v[1];
    rq->max_lon = v[2];
    rq->max_lat = v[3];
    return VELO_OK;
}

static int
p_status(const struct gw_query *q, Velo__V1__ListStationsRequest *rq,
         struct gw_perr *e)
{
    const char *s = qget(q, "status");

    if (s == NULL)
        return VELO_OK;
    rq->has_status = true;
    if (strcasecmp(s, "open") == 0)
        rq->status = VELO__V1__STATION_STATUS__STATION_STATUS_OPEN;
    else if (strcasecmp(s, "closed") == 0)
        rq->status = VELO__V1__STATION_STATUS__STATION_STATUS_CLOSED;
    else if (strcasecmp(s, "unknown") == 0)
        rq->status = VELO__V1__STATION_STATUS__STATION_STATUS_UNKNOWN;
    else
        return perr(e, "status", "status must be open, closed or unknown");
    return VELO_OK;
}

/* base64url text, as velo_cursor_encode writes it. */
static bool
cursor_ok(const char *s)
{
    size_t n = strlen(s), i;

    if (n == 0 || n >= VELO_CURSOR_TEXT_MAX)
        return false;
    for (i = 0; i < n; i++)
        if (!((s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= 'a' && s[i] <= 'z') ||
              (s[i] >= '0' && s[i] <= '9') || s[i] == '-' || s[i] == '_'))
            return false;
    return true;
}

static int
p_text(const struct gw_query *q, Velo__V1__ListStationsRequest *rq,
       struct gw_perr *e)
{
    const char *s;
    int         rv = VELO_OK;

    s = qget(q, "system");
    if (s != NULL && (rv = gw_params_system(s, "system", e)) == VELO_OK)
        rq->system_id = (char *)s;
    s = qget(q, "q");
    if (rv == VELO_OK && s != NULL) {
        if (!text_ok(s, GW_Q_MAX))
            return perr(e, "q", "q must be 1 to %d bytes of text", GW_Q_MAX);
        rq->q = (char *)s;
    }
    s = qget(q, "cursor");
    if (rv == VELO_OK && s != NULL) {
        if (!cursor_ok(s))
            return perr(e, "cursor",
                        "cursor must be a next_cursor this API returned");
        rq->cursor = (char *)s;
    }
    return rv;
}

int
gw_params_stations(const struct gw_query *q, Velo__V1__ListStationsRequest *rq,
                   struct gw_perr *e)
{
    int rv;

    rv = p_text(q, rq, e);
    if (rv == VELO_OK)
        rv = p_near(q, rq, e);
    if (rv == VELO_OK)
        rv = p_bbox(q, rq, e);
    if (rv == VELO_OK)
        rv = p_status(q, rq, e);
    if (rv == VELO_OK)
        rv = opt_u32(q, "min_bikes", 0, 100000, &rq->min_bikes,
                     &rq->has_min_bikes, e);
    if (rv == VELO_OK)
        rv = opt_u32(q, "min_docks", 0, 100000, &rq->min_docks,
                     &rq->has_min_docks, e);
    if (rv == VELO_OK)
        rv =
            opt_u32(q, "limit", 1, GW_LIMIT_MAX, &rq->limit, &rq->has_limit, e);
    return rv;
}

/* A time as RFC 3339 or ms since the epoch. */
static int
opt_time(const struct gw_query *q, const char *key, int64_t *out,
         protobuf_c_boolean *has, struct gw_perr *e)
{
    const char *s = qget(q, key);
    int64_t     v;

    if (s == NULL)
        return VELO_OK;
    if (velo_parse_i64(s, &v) != VELO_OK &&
        velo_time_parse_iso(s, &v) != VELO_OK)
        return perr(e, key,
                    "%s must be an RFC 3339 time (2026-03-29T10:00:00Z) or "
                    "milliseconds since the epoch",
                    key);
    if (v < 0 || v > 253402300799999LL) /* 9999-12-31 */
        return perr(e, key, "%s is out of range", key);
    *out = v;
    *has = true;
    return VELO_OK;
}

int
gw_params_history(const struct gw_query *q, Velo__V1__HistoryRequest *rq,
                  bool *daily, struct gw_perr *e)
{
    const char *g = qget(q, "granularity");
    bool        day = false;
    int         rv;

    if (g != NULL && strcmp(g, "day") == 0)
        day = true;
    else if (g != NULL && strcmp(g, "hour") != 0)
        return perr(e, "granularity", "granularity must be hour or day");
    rv = opt_time(q, "from", &rq->from_ms, &rq->has_from_ms, e);
    if (rv == VELO_OK)
        rv = opt_time(q, "to", &rq->to_ms, &rq->has_to_ms, e);
    if (rv == VELO_OK && rq->has_from_ms && rq->has_to_ms &&
        rq->from_ms >= rq->to_ms)
        return perr(e, "from", "from must be before to");
    if (rv == VELO_OK)
        rv = opt_u32(q, "limit", 1, GW_HISTORY_LIMIT_MAX, &rq->limit,
                     &rq->has_limit, e);
    if (rv == VELO_OK)
        *daily = day;
    return rv;
}

/* YYYY-MM-DD with a plausible month and day. */
static bool
date_ok(const char *s)
{
    int y, m, d, n = 0;

    if (strlen(s) != 10 || sscanf(s, "%4d-%2d-%2d%n", &y, &m, &d, &n) != 3 ||
        n != 10 || s[4] != '-' || s[7] != '-')
        return false;
    return y >= 1970 && m >= 1 && m <= 12 && d >= 1 && d <= 31;
}

int
gw_params_top(const struct gw_query *q, Velo__V1__TopStationsRequest *rq,
              struct gw_perr *e)
{
    const char *sys = qget(q, "system"), *date = qget(q, "date"),
               *by = qget(q, "by");
    int rv;

    rv = gw_params_system(sys, "system", e);
    if (rv != VELO_OK)
        return rv;
    if (date == NULL || !date_ok(date))
        return perr(e, "date", "date must be a day as YYYY-MM-DD");
    rq->system_id = (char *)sys;
    rq->local_date = (char *)date;
    if (by != NULL) {
        rq->has_by = true;
        if (strcmp(by, "flow") == 0)
            rq->by = VELO__V1__TOP_RANK__TOP_RANK_FLOW;
        else if (strcmp(by, "empty") == 0)
            rq->by = VELO__V1__TOP_RANK__TOP_RANK_MINUTES_EMPTY;
        else if (strcmp(by, "full") == 0)
            rq->by = VELO__V1__TOP_RANK__TOP_RANK_MINUTES_FULL;
        else
            return perr(e, "by", "by must be flow, empty or full");
    }
    return opt_u32(q, "limit", 1, GW_TOP_LIMIT_MAX, &rq->limit, &rq->has_limit,
                   e);
}

/* Splits s (copied into buf) at '/' into at most max parts; the count, or
 * 0 when a part is empty or there are more. */
static size_t
split(const char *s, char *buf, size_t size, char **parts, size_t max)
{
    size_t n = 0;
    char  *p, *slash;

    if (strlen(s) >= size)
        return 0;
    snprintf(buf, size, "%s", s);
    p = buf;
    for (;;) {
        slash = strchr(p, '/');
        if (n == max || *p == '\0' || slash == p)
            return 0; /* too many parts, or an empty one */
        parts[n++] = p;
        if (slash == NULL)
            return n;
        *slash = '\0';
        p = slash + 1;
    }
}

int
gw_path_station(const char *rest, char *buf, size_t size, const char **system,
                const char **station, const char **sub, struct gw_perr *e)
{
    char  *parts[3];
    size_t n = split(rest, buf, size, parts, 3);
    int    rv;

    if (n < 2)
        return VELO_ENOTFOUND;
    rv = gw_params_system(parts[0], "system", e);
    if (rv == VELO_OK && !text_ok(parts[1], GW_STATION_MAX))
        rv = perr(e, "station", "station must be 1 to %d bytes of text",
                  GW_STATION_MAX);
    if (rv != VELO_OK)
        return rv;
    *system = parts[0];
    *station = parts[1];
    *sub = n == 3 ? parts[2] : NULL;
    return VELO_OK;
}

int
gw_path_gbfs(const char *rest, char *buf, size_t size, const char **version,
             const char **system, const char **file)
{
    char  *parts[3];
    size_t n = split(rest, buf, size, parts, 3);

    if (n == 2 && strcmp(parts[0], "3.0") == 0 &&
        strcmp(parts[1], "manifest.json") == 0) {
        *version = parts[0];
        *system = NULL;
        *file = parts[1];
        return VELO_OK;
    }
    if (n != 3 ||
        (strcmp(parts[0], "2.3") != 0 && strcmp(parts[0], "3.0") != 0))
        return VELO_ENOTFOUND;
    if (!text_ok(parts[1], GW_SYSTEM_MAX))
        return VELO_ENOTFOUND;
    *version = parts[0];
    *system = parts[1];
    *file = parts[2];
    return VELO_OK;
}
