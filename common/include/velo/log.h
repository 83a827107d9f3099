/* velo/log.h: JSON-lines logging on one file descriptor.
 *
 *   velo_info("poll.done", VELO_S("url", u), VELO_I("status", 200),
 *             VELO_D("elapsed_ms", 41.7));
 *   {"ts":"2026-11-25T12:00:00.123Z","level":"info","svc":"ingest",
 *    "event":"poll.done","url":"...","status":200,"elapsed_ms":41.7}
 *
 * Each event is one write(2), so lines from different threads never
 * interleave. Lines are written by velo/jsonw.h, so they follow its UTF-8
 * policy: strings are JSON-escaped, invalid UTF-8 bytes become U+FFFD, and
 * non-finite doubles become null. A line is at most 4 KiB: the string that
 * overflows it is cut on a character boundary, later fields are dropped,
 * and the line gets "truncated":true. The level test runs before any
 * argument is formatted.
 *
 * Thread: velo_log_init() once in main before any thread starts; everything
 * else from any thread. */
#ifndef VELO_LOG_H
#define VELO_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum velo_log_level {
    VELO_LOG_DEBUG = 0,
    VELO_LOG_INFO,
    VELO_LOG_WARN,
    VELO_LOG_ERROR,
    VELO_LOG_OFF,
};

enum velo_log_type {
    VELO_LOG_T_NONE = 0, /* the leading placeholder, never printed */
    VELO_LOG_T_STR,
    VELO_LOG_T_INT,
    VELO_LOG_T_UINT,
    VELO_LOG_T_DBL,
    VELO_LOG_T_BOOL,
};

struct velo_log_field {
    const char        *key;
    enum velo_log_type type;
    union {
        const char *s; /* NULL prints null */
        int64_t     i;
        uint64_t    u;
        double      d;
        bool        b;
    } v;
};

#define VELO_S(k, x)                                                           \
    ((struct velo_log_field){.key = (k), .type = VELO_LOG_T_STR, .v.s = (x)})
#define VELO_I(k, x)                                                           \
    ((struct velo_log_field){                                                  \
        .key = (k), .type = VELO_LOG_T_INT, .v.i = (int64_t)(x)})
#define VELO_U(k, x)                                                           \
    ((struct velo_log_field){                                                  \
        .key = (k), .type = VELO_LOG_T_UINT, .v.u = (uint64_t)(x)})
#define VELO_D(k, x)                                                           \
    ((struct velo_log_field){                                                  \
        .key = (k), .type = VELO_LOG_T_DBL, .v.d = (double)(x)})
#define VELO_B(k, x)                                                           \
    ((struct velo_log_field){                                                  \
        .key = (k), .type = VELO_LOG_T_BOOL, .v.b = (bool)(x)})

/* Sets the service name, minimum level and output fd. Process-wide. */
void velo_log_init(const char *svc, enum velo_log_level min, int fd);

/* True when events at lvl are written. */
bool velo_log_enabled(enum velo_log_level lvl);

/* Writes one event. fields[0] is skipped (the placeholder the macros add so
 * that an event may have no fields); n counts it. */
void velo_log_emit(enum velo_log_level lvl, const char *event,
                   const struct velo_log_field *fields, size_t n);

/* Parses "debug", "info", "warn", "error", "off". VELO_EINVAL otherwise. */
int         velo_log_level_parse(const char *s, enum velo_log_level *out);
const char *velo_log_level_name(enum velo_log_level lvl);

#define VELO_LOG_(lvl, ev, ...)                                                \
    do {                                                                       \
        if (velo_log_enabled(lvl)) {                                           \
            const struct velo_log_field velo_f_[] = {{0}, ##__VA_ARGS__};      \
            velo_log_emit(lvl, ev, velo_f_,                                    \
                          sizeof(velo_f_) / sizeof(velo_f_[0]));               \
        }                                                                      \
    } while (0)

#define velo_debug(ev, ...) VELO_LOG_(VELO_LOG_DEBUG, ev, ##__VA_ARGS__)
#define velo_info(ev, ...) VELO_LOG_(VELO_LOG_INFO, ev, ##__VA_ARGS__)
#define velo_warn(ev, ...) VELO_LOG_(VELO_LOG_WARN, ev, ##__VA_ARGS__)
#define velo_error(ev, ...) VELO_LOG_(VELO_LOG_ERROR, ev, ##__VA_ARGS__)

#endif
