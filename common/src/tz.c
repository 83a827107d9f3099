/* tz.c: TZif zone files (RFC 8536) and local-time arithmetic. */
#include "velo/tz.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "tz_int.h"
#include "velo/file.h"

#define TZ_MAX_FILE (512 * 1024) /* the largest zone file is ~20 KiB */
#define TZ_MAX_NAME 255

struct tz_type {
    int32_t utoff;
    int     is_dst;
};

struct velo_tz {
    char           *name;
    int64_t        *times; /* transition instants, seconds, ascending */
    uint8_t        *idx;   /* type in force from times[i] */
    size_t          ntimes;
    struct tz_type *types;
    size_t          ntypes;
    bool            has_rule; /* footer rule for times past the last one */
    struct tz_rule  rule;
};

/* Counts from a TZif header, in file order. */
struct tz_hdr {
    uint32_t isut, isstd, leap, time, type, chr;
};

static uint32_t
be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 |
           p[3];
}

static int64_t
be64(const unsigned char *p)
{
    return (int64_t)((uint64_t)be32(p) << 32 | be32(p + 4));
}

/* Reads a 44-byte header at p (len bytes left). *ver is '\0', '2', '3'.. */
static int
read_hdr(const unsigned char *p, size_t len, struct tz_hdr *h, char *ver)
{
    if (len < 44 || memcmp(p, "TZif", 4) != 0)
        return VELO_EPROTO;
    *ver = (char)p[4];
    h->isut = be32(p + 20);
    h->isstd = be32(p + 24);
    h->leap = be32(p + 28);
    h->time = be32(p + 32);
    h->type = be32(p + 36);
    h->chr = be32(p + 40);
    if (h->type == 0 || h->type > 256 || h->time > 100000 || h->chr > 65536 ||
        h->leap > 10000 || h->isut > 256 || h->isstd > 256)
        return VELO_EPROTO;
    return VELO_OK;
}

static size_t
block_len(const struct tz_hdr *h, size_t tsize)
{
    return h->time * tsize + h->time + h->type * 6 + h->chr +
           h->leap * (tsize + 4) + h->isstd + h->isut;
}

/* Copies transitions and types out of one data block. */
static int
read_block(velo_tz *tz, const unsigned char *p, const struct tz_hdr *h,
           size_t tsize)
{
    size_t i;

    tz->times = calloc(h->time + 1, sizeof(*tz->times));
    tz->idx = calloc(h->time + 1, 1);
    tz->types = calloc(h->type, sizeof(*tz->types));
    if (tz->times == NULL || tz->idx == NULL || tz->types == NULL)
        return VELO_ENOMEM;
    for (i = 0; i < h->time; i++)
        tz->times[i] = tsize == 8 ? be64(p + i * 8) : (int32_t)be32(p + i * 4);
    p += h->time * tsize;
    for (i = 0; i < h->time; i++) {
        if (p[i] >= h->type)
            return VELO_EPROTO;
        tz->idx[i] = p[i];
    }
    p += h->time;
    for (i = 0; i < h->type; i++) {
        tz->types[i].utoff = (int32_t)be32(p + i * 6);
        tz->types[i].is_dst = p[i * 6 + 4] != 0;
    }
    tz->ntimes = h->time;
    tz->ntypes = h->type;
    return VELO_OK;
}

/* The footer "\n<TZ string>\n" after the v2+ block. Empty: no rule. */
static int
read_footer(velo_tz *tz, const unsigned char *p, size_t len)
{
    char   buf[128];
    size_t n;

    if (len < 2 || p[0] != '\n')
        return VELO_EPROTO;
    for (n = 1; n < len && p[n] != '\n'; n++)
        ;
    if (n >= len || n - 1 >= sizeof(buf))
        return VELO_EPROTO;
    if (n == 1)
        return VELO_OK;
    memcpy(buf, p + 1, n - 1);
    buf[n - 1] = '\0';
    if (tz_rule_parse(buf, &tz->rule) != 0)
        return VELO_EPROTO;
    tz->has_rule = true;
    return VELO_OK;
}

static int
parse_tzif(velo_tz *tz, const unsigned char *p, size_t len)
{
    struct tz_hdr h;
    char          ver;
    size_t        skip;
    int           rv;

    rv = read_hdr(p, len, &h, &ver);
    if (rv != VELO_OK)
        return rv;
    skip = 44 + block_len(&h, 4);
    if (skip > len)
        return VELO_EPROTO;
    if (ver == '\0') /* v1: 32-bit data only, no footer */
        return read_block(tz, p + 44, &h, 4);
    p += skip;
    len -= skip;
    rv = read_hdr(p, len, &h, &ver);
    if (rv != VELO_OK)
        return rv;
    skip = 44 + block_len(&h, 8);
    if (skip > len)
        return VELO_EPROTO;
    rv = read_block(tz, p + 44, &h, 8);
    if (rv == VELO_OK)
        rv = read_footer(tz, p + skip, len - skip);
    return rv;
}

/* A zone name is a relative path of [A-Za-z0-9._+-] parts, no "..". */
static bool
name_ok(const char *name)
{
    size_t i, n = strlen(name);

    if (n == 0 || n > TZ_MAX_NAME || name[0] == '/' ||
        strstr(name, "..") != NULL)
        return false;
    for (i = 0; i < n; i++) {
        char c = name[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
              (c >= '0' && c <= '9') || c == '/' || c == '_' || c == '-' ||
              c == '+' || c == '.'))
            return false;
    }
    return true;
}

int
velo_tz_load_dir(velo_tz **out, const char *dir, const char *name)
{
    char        path[1024];
    struct stat st;
    char       *data = NULL;
    size_t      len = 0;
    velo_tz    *tz = NULL;
    int         rv;

    if (!name_ok(name))
        return VELO_EINVAL;
    if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, name) >=
        sizeof(path))
        return VELO_EINVAL;
    /* A missing file or a directory ("Europe") is no zone; any other
     * failure is the machine's. */
    if (stat(path, &st) != 0 || !S_ISREG(st.st_mode))
        return VELO_ENOTFOUND;
    rv = velo_file_read(path, TZ_MAX_FILE, &data, &len);
    if (rv != VELO_OK)
        return rv == VELO_ETOOBIG ? VELO_EPROTO : rv;
    tz = calloc(1, sizeof(*tz));
    if (tz == NULL || (tz->name = strdup(name)) == NULL) {
        rv = VELO_ENOMEM;
        goto fail;
    }
    rv = parse_tzif(tz, (const unsigned char *)data, len);
    if (rv != VELO_OK)
        goto fail;
    free(data);
    *out = tz;
    return VELO_OK;

fail:
    free(data);
    velo_tz_free(tz);
    return rv;
}

int
velo_tz_load(velo_tz **out, const char *name)
{
    return velo_tz_load_dir(out, VELO_TZ_DIR, name);
}

const char *
velo_tz_name(const velo_tz *tz)
{
    return tz->name;
}

/* Floor division, so instants before 1970 land in the right second/day. */
static int64_t
floor_div(int64_t a, int64_t b)
{
    return a / b - (a % b != 0 && (a < 0) != (b < 0));
}

static int32_t
offset_at(const velo_tz *tz, int64_t s, int *is_dst)
{
    size_t lo = 0, hi = tz->ntimes;

    if (tz->ntimes == 0 || s < tz->times[0]) {
        if (tz->ntimes == 0 && tz->has_rule)
            return tz_rule_offset(&tz->rule, s, is_dst);
        *is_dst = tz->types[0].is_dst;
        return tz->types[0].utoff;
    }
    if (s >= tz->times[tz->ntimes - 1] && tz->has_rule)
        return tz_rule_offset(&tz->rule, s, is_dst);
    /* The last transition at or before s. */
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (tz->times[mid] <= s)
            lo = mid;
        else
            hi = mid;
    }
    *is_dst = tz->types[tz->idx[lo]].is_dst;
    return tz->types[tz->idx[lo]].utoff;
}

int32_t
velo_tz_offset_s(const velo_tz *tz, int64_t utc_ms)
{
    int dst;

    return offset_at(tz, floor_div(utc_ms, 1000), &dst);
}

void
velo_tz_local(const velo_tz *tz, int64_t utc_ms, struct velo_tz_local *out)
{
    int64_t s = floor_div(utc_ms, 1000), local, days, sod;
    int     dst;
    int32_t off = offset_at(tz, s, &dst);

    local = s + off;
    days = floor_div(local, 86400);
    sod = local - days * 86400;
    velo_tz_civil_from_days(days, &out->year, &out->month, &out->day);
    out->hour = (int)(sod / 3600);
    out->minute = (int)(sod % 3600 / 60);
    out->second = (int)(sod % 60);
    out->wday = (int)((days % 7 + 7 + 4) % 7); /* 1970-01-01: Thursday */
    out->utc_offset_s = off;
    out->is_dst = dst;
}

/* Local wall-clock seconds of instant s. */
static int64_t
wall(const velo_tz *tz, int64_t s)
{
    int dst;

    return s + offset_at(tz, s, &dst);
}

int64_t
velo_tz_day_start_ms(const velo_tz *tz, int32_t year, int month, int day)
{
    int64_t t0 = velo_tz_days_from_civil(year, month, day) * 86400;
    int64_t a = t0 - offset_at(tz, t0 - 86400, &(int){0});
    int64_t b = t0 - offset_at(tz, t0 + 86400, &(int){0});
    int64_t lo, hi;

    /* Midnight exists under the offset of the day before or the day after
     * (a zone changes at most once around a midnight): take the earliest
     * instant whose wall clock reads exactly midnight. */
    if (wall(tz, a) == t0 && (wall(tz, b) != t0 || a <= b))
        return a * 1000;
    if (wall(tz, b) == t0)
        return b * 1000;
    /* Midnight falls in a gap: the day starts at the transition, the
     * first instant whose wall clock is past midnight. */
    lo = a < b ? a : b;
    hi = a < b ? b : a;
    while (hi - lo > 1) {
        int64_t mid = lo + (hi - lo) / 2;
        if (wall(tz, mid) >= t0)
            hi = mid;
        else
            lo = mid;
    }
    return hi * 1000;
}

void
velo_tz_day_bounds(const velo_tz *tz, int64_t utc_ms, int64_t *start_ms,
                   int64_t *end_ms, char date[11])
{
    struct velo_tz_local l;

    velo_tz_local(tz, utc_ms, &l);
    *start_ms = velo_tz_day_start_ms(tz, l.year, l.month, l.day);
    *end_ms = velo_tz_day_start_ms(tz, l.year, l.month, l.day + 1);
    snprintf(date, 11, "%04d-%02d-%02d", (int)(l.year % 10000), l.month, l.day);
}

/* Howard Hinnant's days_from_civil / civil_from_days. */
int64_t
velo_tz_days_from_civil(int32_t year, int month, int day)
{
    int64_t y = year, era, yoe, doy, doe;
    int64_t m = month - 1;

    y += floor_div(m, 12);
    m -= floor_div(m, 12) * 12; /* 0-11, March-based below */
    m += 1;
    y -= m <= 2;
    era = floor_div(y, 400);
    yoe = y - era * 400;
    doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468 + (day - 1);
}

void
velo_tz_civil_from_days(int64_t days, int32_t *year, int *month, int *day)
{
    int64_t z = days + 719468, era, doe, yoe, y, doy, mp;

    era = floor_div(z, 146097);
    doe = z - era * 146097;
    yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    y = yoe + era * 400;
    doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    mp = (5 * doy + 2) / 153;
    *day = (int)(doy - (153 * mp + 2) / 5 + 1);
    *month = (int)(mp < 10 ? mp + 3 : mp - 9);
    *year = (int32_t)(y + (*month <= 2));
}

void
velo_tz_free(velo_tz *tz)
{
    if (tz == NULL)
        return;
    free(tz->name);
    free(tz->times);
    free(tz->idx);
    free(tz->types);
    free(tz);
}
