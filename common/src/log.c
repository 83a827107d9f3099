/* log.c: JSON lines, one write(2) per event, written by velo/jsonw.h (so
 * the one escaping and UTF-8 policy applies) into a stack buffer: logging
 * never allocates. */
#include "velo/log.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "velo/buf.h"
#include "velo/clock.h"
#include "velo/jsonw.h"
#include "velo/utf8.h"

#define LOG_LINE_MAX 4096 /* bytes, newline included */
/* Kept free for `,"truncated":true` + "}\n". */
#define LOG_TAIL 19

/* Process-wide settings, written once in main before threads start. */
static struct {
    char                svc[32];
    enum velo_log_level min;
    int                 fd;
} log_cfg = {"velo", VELO_LOG_INFO, STDOUT_FILENO};

static const char *level_names[] = {"debug", "info", "warn", "error", "off"};

void
velo_log_init(const char *svc, enum velo_log_level min, int fd)
{
    size_t n = velo_utf8_cut(svc, strlen(svc), sizeof(log_cfg.svc) - 1);

    /* Cut on a character boundary: svc is printed in every line. */
    memcpy(log_cfg.svc, svc, n);
    log_cfg.svc[n] = '\0';
    log_cfg.min = min;
    log_cfg.fd = fd;
}

bool
velo_log_enabled(enum velo_log_level lvl)
{
    return lvl >= log_cfg.min && lvl < VELO_LOG_OFF;
}

int
velo_log_level_parse(const char *s, enum velo_log_level *out)
{
    int i;

    for (i = 0; i <= VELO_LOG_OFF; i++) {
        if (s != NULL && strcmp(s, level_names[i]) == 0) {
            *out = (enum velo_log_level)i;
            return 0;
        }
    }
    return 1; /* VELO_EINVAL; log.h stays free of err.h */
}

const char *
velo_log_level_name(enum velo_log_level lvl)
{
    return lvl <= VELO_LOG_OFF ? level_names[lvl] : "?";
}

/* Writes one field; false when the line is full (the field was cut, or
 * dropped whole when not even its key fits). */
static bool
log_put_field(struct velo_jsonw *w, const struct velo_log_field *f)
{
    struct velo_jsonw_mark m = velo_jsonw_mark(w);
    bool                   cut = false;

    velo_jsonw_key(w, f->key);
    switch (f->type) {
    case VELO_LOG_T_STR:
        /* A long string is the usual reason a line fills up: keep its
         * start, cut on a character boundary, rather than lose it all. */
        if (f->v.s != NULL)
            velo_jsonw_str_fit(w, f->v.s, strlen(f->v.s), &cut);
        else
            velo_jsonw_null(w);
        break;
    case VELO_LOG_T_INT:
        velo_jsonw_i64(w, f->v.i);
        break;
    case VELO_LOG_T_UINT:
        velo_jsonw_u64(w, f->v.u);
        break;
    case VELO_LOG_T_DBL:
        velo_jsonw_dbl(w, f->v.d); /* non-finite: null */
        break;
    case VELO_LOG_T_BOOL:
        velo_jsonw_bool(w, f->v.b);
        break;
    default:
        velo_jsonw_null(w);
    }
    if (velo_jsonw_status(w) != VELO_OK) {
        velo_jsonw_rewind(w, &m);
        return false;
    }
    return !cut;
}

/* ts, level, svc, event: bounded, so they always fit; false when an
 * oversized event name had to be cut. */
static bool
log_put_head(struct velo_jsonw *w, enum velo_log_level lvl, const char *event)
{
    char ts[32];
    bool cut = false;

    velo_time_format_iso(velo_now_ms(), ts, sizeof(ts));
    velo_jsonw_obj_begin(w);
    velo_jsonw_key(w, "ts");
    velo_jsonw_str(w, ts);
    velo_jsonw_key(w, "level");
    velo_jsonw_str(w, velo_log_level_name(lvl));
    velo_jsonw_key(w, "svc");
    velo_jsonw_str(w, log_cfg.svc);
    velo_jsonw_key(w, "event");
    if (event != NULL)
        velo_jsonw_str_fit(w, event, strlen(event), &cut);
    else
        velo_jsonw_null(w);
    return !cut;
}

void
velo_log_emit(enum velo_log_level lvl, const char *event,
              const struct velo_log_field *fields, size_t n)
{
    char              mem[LOG_LINE_MAX + 1];
    struct velo_buf   b;
    struct velo_jsonw w;
    bool              full;
    size_t            i;
    ssize_t           wr;

    /* Fields may fill the line up to LOG_TAIL before its end; then max
     * goes back up so the tail always fits. Lowering max below the fixed
     * storage is safe: a fixed buffer never reallocates. */
    velo_buf_init_fixed(&b, mem, sizeof(mem));
    b.max = LOG_LINE_MAX - LOG_TAIL;
    velo_jsonw_init(&w, &b);
    full = !log_put_head(&w, lvl, event);
    for (i = 1; i < n && !full; i++)
        full = !log_put_field(&w, &fields[i]);
    b.max = LOG_LINE_MAX;
    if (full) {
        velo_jsonw_key(&w, "truncated");
        velo_jsonw_bool(&w, true);
    }
    velo_jsonw_obj_end(&w);
    /* Every part is bounded to fit, so this only fails on a bug. */
    if (velo_jsonw_finish(&w) != VELO_OK || velo_buf_puts(&b, "\n") != VELO_OK)
        return;
    do {
        wr = write(log_cfg.fd, b.data, b.len);
    } while (wr < 0 && errno == EINTR);
}
