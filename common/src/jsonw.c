/* jsonw.c: the streaming JSON writer (see velo/jsonw.h). */
#include "velo/jsonw.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "velo/json.h"
#include "velo/parse.h"
#include "velo/utf8.h"

static const char REPLACEMENT[] = "\xef\xbf\xbd"; /* U+FFFD */

void
velo_jsonw_init(struct velo_jsonw *w, struct velo_buf *out)
{
    memset(w, 0, sizeof(*w));
    w->out = out;
    w->start = out->len;
    w->rv = VELO_OK;
}

static bool
jw_in_obj(const struct velo_jsonw *w)
{
    return w->depth > 0 && (w->in_obj >> (w->depth - 1) & 1u) != 0;
}

static void
jw_put(struct velo_jsonw *w, const void *p, size_t n)
{
    if (w->rv == VELO_OK)
        w->rv = velo_buf_append(w->out, p, n);
}

/* Checks that a value may come here and writes the comma before it. A
 * misuse (value in an object without a key, second top-level value) is a
 * bug in the caller: VELO_EINVAL, reported by finish. */
static bool
jw_pre_value(struct velo_jsonw *w)
{
    bool ok;

    if (w->rv != VELO_OK)
        return false;
    if (w->depth == 0)
        ok = !w->comma;
    else
        ok = jw_in_obj(w) ? w->want_val : true;
    if (!ok) {
        w->rv = VELO_EINVAL;
        return false;
    }
    if (w->comma)
        jw_put(w, ",", 1);
    return w->rv == VELO_OK;
}

static void
jw_post_value(struct velo_jsonw *w)
{
    w->comma = true;
    w->want_val = false;
}

static void
jw_begin(struct velo_jsonw *w, bool obj)
{
    if (!jw_pre_value(w))
        return;
    if (w->depth >= VELO_JSONW_MAX_DEPTH) {
        w->rv = VELO_ETOOBIG;
        return;
    }
    jw_put(w, obj ? "{" : "[", 1);
    if (obj)
        w->in_obj |= 1u << w->depth;
    else
        w->in_obj &= ~(1u << w->depth);
    w->depth++;
    w->comma = false;
    w->want_val = false;
}

static void
jw_end(struct velo_jsonw *w, bool obj)
{
    if (w->rv != VELO_OK)
        return;
    if (w->depth == 0 || jw_in_obj(w) != obj || w->want_val) {
        w->rv = VELO_EINVAL;
        return;
    }
    jw_put(w, obj ? "}" : "]", 1);
    w->depth--;
    jw_post_value(w);
}

void
velo_jsonw_obj_begin(struct velo_jsonw *w)
{
    jw_begin(w, true);
}

void
velo_jsonw_obj_end(struct velo_jsonw *w)
{
    jw_end(w, true);
}

void
velo_jsonw_arr_begin(struct velo_jsonw *w)
{
    jw_begin(w, false);
}

void
velo_jsonw_arr_end(struct velo_jsonw *w)
{
    jw_end(w, false);
}

/* The escape of the unit at p (seq is its valid UTF-8 length, 0 when the
 * byte is invalid) into esc, or 0 when it is copied as is. */
static size_t
jw_escape_unit(const unsigned char *p, size_t seq, char *esc, size_t size)
{
    if (seq == 0) {
        memcpy(esc, REPLACEMENT, 3);
        return 3;
    }
    if (seq > 1 || (*p >= 0x20 && *p != '"' && *p != '\\'))
        return 0;
    if (*p == '"' || *p == '\\') {
        esc[0] = '\\';
        esc[1] = (char)*p;
        return 2;
    }
    snprintf(esc, size, "\\u%04x", *p);
    return 6;
}

/* Appends the escaped, repaired body of s[0, len) to b, stopping before
 * the first character whose output would pass room bytes; *cut says
 * whether it stopped early. Plain runs are copied in one append. */
static int
jw_escape(struct velo_buf *b, const unsigned char *s, size_t len, size_t room,
          bool *cut)
{
    size_t i = 0, run = 0, used = 0, seq, elen, step;
    char   esc[8];
    int    rv = VELO_OK;

    *cut = false;
    while (i < len && rv == VELO_OK) {
        seq = velo_utf8_seq_len(s + i, len - i);
        elen = jw_escape_unit(s + i, seq, esc, sizeof(esc));
        step = seq == 0 ? 1 : seq;
        if (used + (elen > 0 ? elen : step) > room) {
            *cut = true;
            break;
        }
        used += elen > 0 ? elen : step;
        if (elen > 0) {
            rv = velo_buf_append(b, s + run, i - run);
            if (rv == VELO_OK)
                rv = velo_buf_append(b, esc, elen);
            run = i + step;
        }
        i += step;
    }
    if (rv == VELO_OK)
        rv = velo_buf_append(b, s + run, i - run);
    return rv;
}

/* One quoted string; room bounds its body (SIZE_MAX: no bound but max). */
static void
jw_string(struct velo_jsonw *w, const char *s, size_t len, size_t room,
          bool *cut)
{
    jw_put(w, "\"", 1);
    if (w->rv == VELO_OK)
        w->rv = jw_escape(w->out, (const unsigned char *)s, len, room, cut);
    jw_put(w, "\"", 1);
}

void
velo_jsonw_key(struct velo_jsonw *w, const char *key)
{
    bool cut;

    if (w->rv != VELO_OK)
        return;
    if (!jw_in_obj(w) || w->want_val) {
        w->rv = VELO_EINVAL;
        return;
    }
    if (w->comma)
        jw_put(w, ",", 1);
    jw_string(w, key, strlen(key), SIZE_MAX, &cut);
    jw_put(w, ":", 1);
    w->comma = false;
    w->want_val = true;
}

void
velo_jsonw_strn(struct velo_jsonw *w, const char *s, size_t len)
{
    bool cut;

    if (!jw_pre_value(w))
        return;
    jw_string(w, s, len, SIZE_MAX, &cut);
    jw_post_value(w);
}

void
velo_jsonw_str(struct velo_jsonw *w, const char *s)
{
    if (s == NULL)
        velo_jsonw_null(w);
    else
        velo_jsonw_strn(w, s, strlen(s));
}

void
velo_jsonw_str_fit(struct velo_jsonw *w, const char *s, size_t len, bool *cut)
{
    const struct velo_buf *b = w->out;
    size_t                 room;
    bool                   was_cut = false;

    if (!jw_pre_value(w))
        return;
    /* What is left under max once both quotes are written. */
    room = b->max - b->len >= 2 ? b->max - b->len - 2 : 0;
    if (b->max - b->len < 2)
        w->rv = VELO_ETOOBIG;
    jw_string(w, s, len, room, &was_cut);
    jw_post_value(w);
    if (w->rv == VELO_OK && cut != NULL)
        *cut = was_cut;
}

/* A number or literal that needs no escaping. */
static void
jw_scalar(struct velo_jsonw *w, const char *text)
{
    if (!jw_pre_value(w))
        return;
    jw_put(w, text, strlen(text));
    jw_post_value(w);
}

void
velo_jsonw_i64(struct velo_jsonw *w, int64_t v)
{
    char num[24];

    snprintf(num, sizeof(num), "%" PRId64, v);
    jw_scalar(w, num);
}

void
velo_jsonw_u64(struct velo_jsonw *w, uint64_t v)
{
    char num[24];

    snprintf(num, sizeof(num), "%" PRIu64, v);
    jw_scalar(w, num);
}

void
velo_jsonw_dbl(struct velo_jsonw *w, double v)
{
    char num[40];

    if (!isfinite(v)) {
        jw_scalar(w, "null"); /* JSON has no NaN or Inf */
        return;
    }
    velo_format_double(v, num, sizeof(num));
    jw_scalar(w, num);
}

void
velo_jsonw_bool(struct velo_jsonw *w, bool v)
{
    jw_scalar(w, v ? "true" : "false");
}

void
velo_jsonw_null(struct velo_jsonw *w)
{
    jw_scalar(w, "null");
}

void
velo_jsonw_raw(struct velo_jsonw *w, const char *json, size_t len)
{
    cJSON *j = NULL;

    if (w->rv != VELO_OK)
        return;
    if (!velo_utf8_valid(json, len) || memchr(json, '\0', len) != NULL ||
        velo_json_parse(json, len, &j) != VELO_OK) {
        w->rv = VELO_EPROTO;
        return;
    }
    cJSON_Delete(j);
    if (!jw_pre_value(w))
        return;
    jw_put(w, json, len);
    jw_post_value(w);
}

int
velo_jsonw_status(const struct velo_jsonw *w)
{
    return w->rv;
}

struct velo_jsonw_mark
velo_jsonw_mark(const struct velo_jsonw *w)
{
    struct velo_jsonw_mark m;

    m.w = *w;
    m.len = w->out->len;
    return m;
}

void
velo_jsonw_rewind(struct velo_jsonw *w, const struct velo_jsonw_mark *m)
{
    *w = m->w;
    w->out->len = m->len;
    if (w->out->data != NULL)
        w->out->data[m->len] = '\0';
}

int
velo_jsonw_finish(struct velo_jsonw *w)
{
    int rv = w->rv;

    /* Complete means one top-level value written and nothing left open. */
    if (rv == VELO_OK && (w->depth != 0 || !w->comma))
        rv = VELO_EINVAL;
    if (rv != VELO_OK && w->out->data != NULL) {
        w->out->len = w->start;
        w->out->data[w->start] = '\0';
    }
    w->rv = rv;
    return rv;
}

void
velo_jsonw_fail(struct velo_jsonw *w, int err)
{
    if (w->rv == VELO_OK && err != VELO_OK)
        w->rv = err;
}
