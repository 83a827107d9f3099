/* cron.h: five-field cron schedules ("0 5 * * *"), evaluated in UTC.
 *
 * Fields: minute 0-59, hour 0-23, day of month 1-31, month 1-12, day of
 * week 0-7 (0 and 7 are Sunday). Each is "*", a number, a range "a-b",
 * any of those with a step "/n", or a comma list of them. Like cron(8),
 * when both day fields are restricted a day matching either one fires.
 * Names (JAN, MON) and "@daily" are not supported. */
#ifndef BATCH_CRON_H
#define BATCH_CRON_H

#include <stdbool.h>
#include <stdint.h>

#include "velo/err.h"

struct batch_cron {
    uint64_t minute; /* bit n: minute n */
    uint32_t hour, dom;
    uint16_t month;
    uint8_t  dow; /* bit 0 Sunday .. bit 6 Saturday */
    bool     dom_any, dow_any;
};

/* Parses spec into *out. VELO_EINVAL (out untouched) when it is not five
 * valid fields. */
VELO_MUST_CHECK int batch_cron_parse(struct batch_cron *out, const char *spec);

/* The first whole minute strictly after after_ms that matches, in ms; -1
 * when none comes within five years (e.g. "0 0 31 2 *"). */
int64_t batch_cron_next(const struct batch_cron *c, int64_t after_ms);

#endif
