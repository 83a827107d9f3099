/* tz_rule.c: POSIX TZ strings, the footer of TZif v2+ files that rules
 * every instant after the last listed transition (RFC 8536 §3.3, with its
 * extension: rule times from -167 to 167 hours). */
#include <ctype.h>
#include <stddef.h>

#include "tz_int.h"
#include "velo/tz.h"

/* Reads digits into *v (at most max); advances *p. -1 without digits. */
static int
read_num(const char **p, int max, int *v)
{
    int n = 0;

    if (!isdigit((unsigned char)**p))
        return -1;
    while (isdigit((unsigned char)**p)) {
        n = n * 10 + (**p - '0');
        if (n > max)
            return -1;
        (*p)++;
    }
    *v = n;
    return 0;
}

/* [+-]hh[:mm[:ss]] into seconds; advances *p. */
static int
read_hms(const char **p, int max_h, int32_t *out)
{
    int sign = 1, h, m = 0, s = 0;

    if (**p == '+' || **p == '-')
        sign = *(*p)++ == '-' ? -1 : 1;
    if (read_num(p, max_h, &h) != 0)
        return -1;
    if (**p == ':') {
        (*p)++;
        if (read_num(p, 59, &m) != 0)
            return -1;
        if (**p == ':') {
            (*p)++;
            if (read_num(p, 59, &s) != 0)
                return -1;
        }
    }
    *out = sign * (h * 3600 + m * 60 + s);
    return 0;
}

/* A zone abbreviation: 3+ letters, or <...> quoted (may hold +-digits). */
static int
skip_name(const char **p)
{
    const char *s = *p;

    if (*s == '<') {
        while (*s != '\0' && *s != '>')
            s++;
        if (*s != '>')
            return -1;
        *p = s + 1;
        return 0;
    }
    while (isalpha((unsigned char)*s))
        s++;
    if (s - *p < 3)
        return -1;
    *p = s;
    return 0;
}

static int
read_date(const char **p, struct tz_rule_date *d)
{
    d->time_s = 2 * 3600;
    if (**p == 'M') {
        (*p)++;
        d->kind = 'M';
        if (read_num(p, 12, &d->n) != 0 || d->n < 1 || *(*p)++ != '.' ||
            read_num(p, 5, &d->week) != 0 || d->week < 1 || *(*p)++ != '.' ||
            read_num(p, 6, &d->wday) != 0)
            return -1;
    } else if (**p == 'J') {
        (*p)++;
        d->kind = 'J';
        if (read_num(p, 365, &d->n) != 0 || d->n < 1)
            return -1;
    } else {
        d->kind = 'N';
        if (read_num(p, 365, &d->n) != 0)
            return -1;
    }
    if (**p == '/') {
        (*p)++;
        return read_hms(p, 167, &d->time_s);
    }
    return 0;
}

int
tz_rule_parse(const char *s, struct tz_rule *r)
{
    const char    *p = s;
    int32_t        off;
    struct tz_rule t = {0};

    if (skip_name(&p) != 0 || read_hms(&p, 24, &off) != 0)
        return -1;
    t.std_utoff = -off;
    if (*p != '\0') {
        if (skip_name(&p) != 0)
            return -1;
        t.has_dst = true;
        t.dst_utoff = t.std_utoff + 3600;
        if (*p != ',' && *p != '\0') {
            if (read_hms(&p, 24, &off) != 0)
                return -1;
            t.dst_utoff = -off;
        }
        /* TZif footers always carry rules; a bare "EST5EDT" would mean
         * the old US rules, which no current zone file relies on. */
        if (*p++ != ',' || read_date(&p, &t.start) != 0 || *p++ != ',' ||
            read_date(&p, &t.end) != 0)
            return -1;
    }
    if (*p != '\0')
        return -1;
    *r = t;
    return 0;
}

static bool
is_leap(int32_t y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* Day (since the epoch) on which rule date d falls in year y. */
static int64_t
rule_day(const struct tz_rule_date *d, int32_t y)
{
    static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int64_t          jan1 = velo_tz_days_from_civil(y, 1, 1);
    int64_t          first;
    int              fwday, day, last;

    if (d->kind == 'N')
        return jan1 + d->n;
    if (d->kind == 'J') /* Feb 29 is never counted */
        return jan1 + d->n - 1 + (is_leap(y) && d->n >= 60 ? 1 : 0);
    first = velo_tz_days_from_civil(y, d->n, 1);
    fwday = (int)(((first % 7) + 7 + 4) % 7); /* 1970-01-01: Thursday */
    day = 1 + (d->wday - fwday + 7) % 7 + (d->week - 1) * 7;
    last = mdays[d->n - 1] + (d->n == 2 && is_leap(y) ? 1 : 0);
    while (day > last)
        day -= 7;
    return first + day - 1;
}

int32_t
tz_rule_offset(const struct tz_rule *r, int64_t utc_s, int *is_dst)
{
    int32_t y;
    int     m, d;
    int64_t start, end;
    int     dst;

    if (!r->has_dst) {
        *is_dst = 0;
        return r->std_utoff;
    }
    /* The year as standard time counts it: the rules of year y decide. */
    velo_tz_civil_from_days((utc_s + r->std_utoff) / 86400 -
                                ((utc_s + r->std_utoff) % 86400 < 0),
                            &y, &m, &d);
    /* Start is given in standard time, end in daylight time. */
    start = rule_day(&r->start, y) * 86400 + r->start.time_s - r->std_utoff;
    end = rule_day(&r->end, y) * 86400 + r->end.time_s - r->dst_utoff;
    if (start < end)
        dst = utc_s >= start && utc_s < end;
    else /* southern hemisphere: DST spans the new year */
        dst = !(utc_s >= end && utc_s < start);
    *is_dst = dst;
    return dst ? r->dst_utoff : r->std_utoff;
}
