/* clock.c: wall and monotonic clocks, RFC 3339 parse and format. */
#include "velo/clock.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

int64_t
velo_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t
velo_mono_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int64_t
velo_mono_ms(void)
{
    return velo_mono_ns() / 1000000;
}

/* Reads exactly n digits. */
static int
digits(const char **p, int n, int *out)
{
    int v = 0;

    while (n-- > 0) {
        if (!isdigit((unsigned char)**p))
            return -1;
        v = v * 10 + (**p - '0');
        (*p)++;
    }
    *out = v;
    return 0;
}

static int
expect(const char **p, char c)
{
    if (**p != c)
        return -1;
    (*p)++;
    return 0;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant). */
static int64_t
days_from_civil(int y, int m, int d)
{
    int64_t  era;
    unsigned yoe, doy, doe;

    y -= m <= 2;
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = (unsigned)(y - era * 400);
    doy = (unsigned)((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1);
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

/* Days in month m (1-12) of year y, Gregorian leap rules. */
static int
month_days(int y, int m)
{
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool             leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

    return m == 2 && leap ? 29 : days[m - 1];
}

/* Fraction ".123456" -> ms, and the zone "Z" / "+hh:mm" -> offset secs. */
static int
parse_tail(const char *p, int *ms, int *off_s)
{
    int h, m, scale = 100;

    *ms = 0;
    if (*p == '.') {
        p++;
        if (!isdigit((unsigned char)*p))
            return -1;
        for (; isdigit((unsigned char)*p); p++, scale /= 10)
            *ms += (*p - '0') * scale;
    }
    if ((*p == 'Z' || *p == 'z') && p[1] == '\0') {
        *off_s = 0;
        return 0;
    }
    if (*p != '+' && *p != '-')
        return -1;
    {
        const char *q = p + 1;
        if (digits(&q, 2, &h) || expect(&q, ':') || digits(&q, 2, &m) ||
            *q != '\0' || h > 23 || m > 59)
            return -1;
        *off_s = (h * 3600 + m * 60) * (*p == '-' ? -1 : 1);
    }
    return 0;
}

int
velo_time_parse_iso(const char *s, int64_t *out_ms)
{
    const char *p = s;
    int         y, mo, d, h, mi, se, ms, off;
    int64_t     secs;

    if (s == NULL || digits(&p, 4, &y) || expect(&p, '-') ||
        digits(&p, 2, &mo) || expect(&p, '-') || digits(&p, 2, &d))
        return VELO_EINVAL;
    if ((*p != 'T' && *p != 't' && *p != ' ') || (p++, 0))
        return VELO_EINVAL;
    if (digits(&p, 2, &h) || expect(&p, ':') || digits(&p, 2, &mi) ||
        expect(&p, ':') || digits(&p, 2, &se))
        return VELO_EINVAL;
    if (mo < 1 || mo > 12 || d < 1 || d > month_days(y, mo) || h > 23 ||
        mi > 59 || se > 60)
        return VELO_EINVAL;
    if (parse_tail(p, &ms, &off) != 0)
        return VELO_EINVAL;
    secs = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + se - off;
    *out_ms = secs * 1000 + ms;
    return VELO_OK;
}

void
velo_time_format_iso(int64_t ms, char *buf, size_t size)
{
    time_t    t = (time_t)(ms >= 0 ? ms / 1000 : (ms - 999) / 1000);
    int       frac = (int)(ms - (int64_t)t * 1000);
    struct tm tm;

    gmtime_r(&t, &tm);
    snprintf(buf, size, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
             tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
             tm.tm_min, tm.tm_sec, frac);
}

void
velo_sleep_ms(int64_t ms)
{
    struct timespec ts;

    if (ms <= 0)
        return;
    ts.tv_sec = ms / 1000;
    ts.tv_nsec = (long)(ms % 1000) * 1000000L;
    while (nanosleep(&ts, &ts) != 0)
        ;
}
