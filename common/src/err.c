/* err.c: names of velo_err codes. */
#include "velo/err.h"

#include <stdio.h>

const char *
velo_strerror(int err)
{
    switch (err) {
    case VELO_OK:
        return "ok";
    case VELO_EINVAL:
        return "invalid argument";
    case VELO_ENOMEM:
        return "out of memory";
    case VELO_ETOOBIG:
        return "over size limit";
    case VELO_EPROTO:
        return "malformed input";
    case VELO_EUNAVAIL:
        return "unavailable";
    case VELO_ETIMEDOUT:
        return "timed out";
    case VELO_EFULL:
        return "queue full";
    case VELO_ECLOSED:
        return "closed";
    case VELO_ENOTFOUND:
        return "not found";
    case VELO_EIO:
        return "i/o error";
    case VELO_EFENCED:
        return "fenced";
    case VELO_EABORTED:
        return "transaction aborted";
    case VELO_CFG_HELP:
        return "help shown";
    default:
        return "unknown error";
    }
}

bool
velo_err_retryable(int err)
{
    return err == VELO_EUNAVAIL || err == VELO_ETIMEDOUT || err == VELO_EFULL;
}

int
velo_verrf(int err, char *buf, size_t size, const char *fmt, va_list ap)
{
    if (size > 0)
        vsnprintf(buf, size, fmt, ap);
    return err;
}

int
velo_errf(int err, char *buf, size_t size, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    velo_verrf(err, buf, size, fmt, ap);
    va_end(ap);
    return err;
}
