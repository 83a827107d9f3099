/* cron.c: parse into bit sets, then step day by day and minute by minute
 * (at most five years of days: cheap, and obviously right). */
#include "cron.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "velo/tz.h"

#define MINUTE_MS 60000LL
#define DAY_MS 86400000LL

static int
num(const char **p, int *v)
{
    int n = 0, k = 0;

    while (isdigit((unsigned char)**p) && k < 3) {
        n = n * 10 + (*(*p)++ - '0');
        k++;
    }
    if (k == 0 || isdigit((unsigned char)**p))
        return -1;
    *v = n;
    return 0;
}

/* One comma-separated item: "*", "a", "a-b", each with an optional "/n". */
static int
item(const char **p, int lo, int hi, uint64_t *bits)
{
    int a = lo, b = hi, step = 1, i;

    if (**p == '*') {
        (*p)++;
    } else {
        if (num(p, &a) != 0)
            return -1;
        b = a;
        if (**p == '-') {
            (*p)++;
            if (num(p, &b) != 0)
                return -1;
        }
    }
    if (**p == '/') {
        (*p)++;
        if (num(p, &step) != 0 || step == 0)
            return -1;
        if (a == b && b != hi) /* "a/n" means a-hi/n */
            b = hi;
    }
    if (a < lo || b > hi || a > b)
        return -1;
    for (i = a; i <= b; i += step)
        *bits |= 1ULL << i;
    return 0;
}

/* One field up to the next space or the end. */
static int
field(const char **p, int lo, int hi, uint64_t *bits, bool *any)
{
    *bits = 0;
    *any = **p == '*' && ((*p)[1] == ' ' || (*p)[1] == '\0');
    for (;;) {
        if (item(p, lo, hi, bits) != 0)
            return -1;
        if (**p != ',')
            break;
        (*p)++;
    }
    if (**p != ' ' && **p != '\0')
        return -1;
    while (**p == ' ')
        (*p)++;
    return 0;
}

int
batch_cron_parse(struct batch_cron *out, const char *spec)
{
    struct batch_cron c = {0};
    const char       *p = spec;
    uint64_t          b[5];
    bool              any[5];
    static const int  lo[5] = {0, 0, 1, 1, 0}, hi[5] = {59, 23, 31, 12, 7};
    int               i;

    while (*p == ' ')
        p++;
    for (i = 0; i < 5; i++)
        if (*p == '\0' || field(&p, lo[i], hi[i], &b[i], &any[i]) != 0)
            return VELO_EINVAL;
    if (*p != '\0')
        return VELO_EINVAL;
    c.minute = b[0];
    c.hour = (uint32_t)b[1];
    c.dom = (uint32_t)b[2];
    c.month = (uint16_t)b[3];
    c.dow = (uint8_t)((b[4] | (b[4] >> 7)) & 0x7f); /* 7 is Sunday too */
    c.dom_any = any[2];
    c.dow_any = any[4];
    *out = c;
    return VELO_OK;
}

static bool
day_matches(const struct batch_cron *c, int64_t days)
{
    int32_t y;
    int     m, d;
    int     wd = (int)(((days % 7) + 7 + 4) % 7); /* 1970-01-01: Thursday */
    bool    dom, dow;

    velo_tz_civil_from_days(days, &y, &m, &d);
    if (!(c->month >> m & 1))
        return false;
    dom = c->dom >> d & 1;
    dow = c->dow >> wd & 1;
    if (c->dom_any || c->dow_any)
        return dom && dow;
    return dom || dow;
}

int64_t
batch_cron_next(const struct batch_cron *c, int64_t after_ms)
{
    int64_t t = (after_ms / MINUTE_MS + 1) * MINUTE_MS;
    int64_t days = t / DAY_MS, end = days + 5 * 366;

    for (; days < end; days++) {
        int64_t m = t > days * DAY_MS ? (t - days * DAY_MS) / MINUTE_MS : 0;

        if (!day_matches(c, days))
            continue;
        for (; m < 1440; m++)
            if ((c->hour >> (m / 60) & 1) && (c->minute >> (m % 60) & 1))
                return days * DAY_MS + m * MINUTE_MS;
    }
    return -1;
}
