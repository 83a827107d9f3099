/* parse.c: strict number parsing (no atoi: it hides junk and overflow). */
#include "velo/parse.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>

int
velo_parse_u64(const char *s, uint64_t *out)
{
    char              *end;
    unsigned long long v;

    /* strtoull accepts a leading '-' and wraps; reject it up front. */
    if (s == NULL || *s < '0' || *s > '9')
        return VELO_EINVAL;
    errno = 0;
    v = strtoull(s, &end, 10);
    if (errno != 0 || *end != '\0')
        return VELO_EINVAL;
    *out = (uint64_t)v;
    return VELO_OK;
}

int
velo_parse_u32(const char *s, uint32_t *out)
{
    uint64_t v;

    if (velo_parse_u64(s, &v) != VELO_OK || v > UINT32_MAX)
        return VELO_EINVAL;
    *out = (uint32_t)v;
    return VELO_OK;
}

int
velo_parse_i64(const char *s, int64_t *out)
{
    char     *end;
    long long v;

    /* strtoll would skip any leading whitespace, not just ' '. */
    if (s == NULL || *s == '\0' || isspace((unsigned char)*s) || *s == '+')
        return VELO_EINVAL;
    errno = 0;
    v = strtoll(s, &end, 10);
    if (errno != 0 || *end != '\0' || end == s)
        return VELO_EINVAL;
    *out = (int64_t)v;
    return VELO_OK;
}

int
velo_parse_double(const char *s, double *out)
{
    char  *end;
    double v;

    if (s == NULL || *s == '\0' || isspace((unsigned char)*s))
        return VELO_EINVAL;
    errno = 0;
    v = strtod(s, &end);
    if (errno != 0 || *end != '\0' || end == s || !isfinite(v))
        return VELO_EINVAL;
    *out = v;
    return VELO_OK;
}

int
velo_parse_bool(const char *s, bool *out)
{
    static const char *yes[] = {"true", "1", "yes", "on"};
    static const char *no[] = {"false", "0", "no", "off"};
    size_t             i;

    if (s == NULL)
        return VELO_EINVAL;
    for (i = 0; i < 4; i++) {
        if (strcasecmp(s, yes[i]) == 0) {
            *out = true;
            return VELO_OK;
        }
        if (strcasecmp(s, no[i]) == 0) {
            *out = false;
            return VELO_OK;
        }
    }
    return VELO_EINVAL;
}

void
velo_format_double(double v, char *buf, size_t size)
{
    int prec;

    for (prec = 15; prec < 17; prec++) {
        snprintf(buf, size, "%.*g", prec, v);
        if (strtod(buf, NULL) == v)
            return;
    }
    snprintf(buf, size, "%.17g", v);
}
