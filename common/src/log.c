/* log.c: JSON lines, one write(2) per event. */
#include "velo/log.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "velo/clock.h"
#include "velo/parse.h"

#define LOG_LINE_MAX 4096

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
    snprintf(log_cfg.svc, sizeof(log_cfg.svc), "%s", svc);
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

/* A fixed line buffer; appends stop silently at the cap and mark it. */
struct line {
    char   buf[LOG_LINE_MAX];
    size_t len;
    bool   full;
};

static void
put(struct line *l, const char *s, size_t n)
{
    /* Keep room for the closing `,"truncated":true}\n`. */
    const size_t room = LOG_LINE_MAX - 32;

    if (l->full || l->len + n > room) {
        l->full = true;
        return;
    }
    memcpy(l->buf + l->len, s, n);
    l->len += n;
}

static void
puts_raw(struct line *l, const char *s)
{
    put(l, s, strlen(s));
}

static void
put_str(struct line *l, const char *s)
{
    char        esc[8];
    const char *p;

    if (s == NULL) {
        puts_raw(l, "null");
        return;
    }
    put(l, "\"", 1);
    for (p = s; *p != '\0' && !l->full; p++) {
        unsigned char c = (unsigned char)*p;
        if (c == '"' || c == '\\') {
            esc[0] = '\\';
            esc[1] = (char)c;
            put(l, esc, 2);
        } else if (c < 0x20) {
            snprintf(esc, sizeof(esc), "\\u%04x", c);
            put(l, esc, 6);
        } else {
            put(l, (const char *)p, 1);
        }
    }
    put(l, "\"", 1);
}

static void
put_field(struct line *l, const struct velo_log_field *f)
{
    char num[64];

    put(l, ",", 1);
    put_str(l, f->key);
    put(l, ":", 1);
    switch (f->type) {
    case VELO_LOG_T_STR:
        put_str(l, f->v.s);
        return;
    case VELO_LOG_T_INT:
        snprintf(num, sizeof(num), "%lld", (long long)f->v.i);
        break;
    case VELO_LOG_T_UINT:
        snprintf(num, sizeof(num), "%llu", (unsigned long long)f->v.u);
        break;
    case VELO_LOG_T_DBL:
        if (isfinite(f->v.d))
            velo_format_double(f->v.d, num, sizeof(num));
        else
            snprintf(num, sizeof(num), "null");
        break;
    case VELO_LOG_T_BOOL:
        snprintf(num, sizeof(num), "%s", f->v.b ? "true" : "false");
        break;
    default:
        snprintf(num, sizeof(num), "null");
    }
    puts_raw(l, num);
}

void
velo_log_emit(enum velo_log_level lvl, const char *event,
              const struct velo_log_field *fields, size_t n)
{
    struct line l;
    char        ts[32];
    size_t      i;
    ssize_t     w;

    l.len = 0;
    l.full = false;
    velo_time_format_iso(velo_now_ms(), ts, sizeof(ts));
    puts_raw(&l, "{\"ts\":\"");
    puts_raw(&l, ts);
    puts_raw(&l, "\",\"level\":\"");
    puts_raw(&l, velo_log_level_name(lvl));
    puts_raw(&l, "\",\"svc\":");
    put_str(&l, log_cfg.svc);
    puts_raw(&l, ",\"event\":");
    put_str(&l, event);
    for (i = 1; i < n && !l.full; i++) {
        size_t mark = l.len;
        put_field(&l, &fields[i]);
        if (l.full)
            l.len = mark; /* drop the field that did not fit, whole */
    }
    if (l.full) {
        memcpy(l.buf + l.len, ",\"truncated\":true", 17);
        l.len += 17;
    }
    l.buf[l.len++] = '}';
    l.buf[l.len++] = '\n';
    do {
        w = write(log_cfg.fd, l.buf, l.len);
    } while (w < 0 && errno == EINTR);
}
