/* tz_int.h: internals shared by tz.c (TZif) and tz_rule.c (POSIX TZ). */
#ifndef VELO_TZ_INT_H
#define VELO_TZ_INT_H

#include <stdbool.h>
#include <stdint.h>

/* One end of a daylight-saving period: a date rule plus a local time. */
struct tz_rule_date {
    char    kind;   /* 'J' Julian 1-365 without Feb 29, 'N' 0-365, 'M' */
    int     n;      /* J/N: the day; M: the month */
    int     week;   /* M: 1-5 (5 = last) */
    int     wday;   /* M: 0 = Sunday */
    int32_t time_s; /* local time of the change, may be <0 or >24h */
};

/* A POSIX TZ string ("CET-1CEST,M3.5.0,M10.5.0/3"). utoff = UTC offset in
 * seconds east (the string's sign is inverted). */
struct tz_rule {
    int32_t             std_utoff;
    int32_t             dst_utoff;
    bool                has_dst;
    struct tz_rule_date start, end;
};

/* Parses s (NUL-terminated). 0 on success, -1 when malformed. */
int tz_rule_parse(const char *s, struct tz_rule *r);

/* Offset (seconds east) and DST flag at utc_s under rule r. */
int32_t tz_rule_offset(const struct tz_rule *r, int64_t utc_s, int *is_dst);

#endif
