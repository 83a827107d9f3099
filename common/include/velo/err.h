/* velo/err.h: the error codes every velo_ function returns.
 *
 * A function that can fail returns int (a velo_err) and writes results
 * through out-params only on success. Adapters map foreign errors (CURLcode,
 * rd_kafka_resp_err_t, nng, errno) into these codes and log the original
 * text as `cause` where they handle it. */
#ifndef VELO_ERR_H
#define VELO_ERR_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

#define VELO_MUST_CHECK __attribute__((warn_unused_result))

enum velo_err {
    VELO_OK = 0,
    VELO_EINVAL, /* bug or bad config: never retry */
    VELO_ENOMEM,
    VELO_ETOOBIG,   /* input over a configured limit */
    VELO_EPROTO,    /* peer sent something malformed: drop and log */
    VELO_EUNAVAIL,  /* dependency down: retry with backoff */
    VELO_ETIMEDOUT, /* retry with backoff */
    VELO_EFULL,     /* local queue full: slow down */
    VELO_ECLOSED,   /* shutting down: unwind quietly */
    VELO_ENOTFOUND, /* no such key, file or route */
    VELO_EIO,       /* local I/O failed (file, socket) */
    VELO_EFENCED,   /* fatal: another instance (same transactional id) took
                       over, or the client hit another fatal error; stop */
    VELO_EABORTED,  /* transaction must be aborted, then may be retried */
    VELO_CFG_HELP,  /* not an error: --help was printed, exit 0 */
};

/* Exit status for invalid configuration (sysexits.h EX_CONFIG). */
#define VELO_EXIT_CONFIG 78

/* A short stable name ("EINVAL" style words are avoided: "invalid argument").
 * Never NULL; unknown codes give "unknown error". */
const char *velo_strerror(int err);

/* Writes a printf-style reason into buf (cut to size) and returns err, for
 * one-line error paths:
 *   return velo_errf(VELO_EINVAL, why, n, "limit %u over %u", lim, max); */
int velo_errf(int err, char *buf, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
int velo_verrf(int err, char *buf, size_t size, const char *fmt, va_list ap)
    __attribute__((format(printf, 4, 0)));

/* True for errors worth retrying with backoff (EUNAVAIL, ETIMEDOUT, EFULL). */
bool velo_err_retryable(int err);

#endif
