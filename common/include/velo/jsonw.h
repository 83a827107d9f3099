/* velo/jsonw.h: the one JSON writer. Everything velopipe writes as JSON
 * (log lines, station and snapshot JSON, veloctl --json) goes through it,
 * so there is one escaping and one UTF-8 policy (velo/utf8.h):
 *
 *  - strings are escaped per RFC 8259 ('"', '\\' and control bytes);
 *  - bytes that are not valid UTF-8 become U+FFFD, one per byte, so the
 *    output is always valid UTF-8 whatever a peer sent;
 *  - velo_jsonw_str_fit cuts on a character boundary, never inside one;
 *  - non-finite doubles are written as null (JSON has no NaN or Inf).
 *
 * A streaming writer over a caller's velo_buf: it allocates nothing of its
 * own and the buffer's max bounds the output. Commas are the writer's job.
 * Errors are sticky: after the first failure every call is a no-op, and
 * velo_jsonw_finish() reports it once, so call sites need no checks:
 *
 *   struct velo_jsonw w;
 *   velo_jsonw_init(&w, &buf);
 *   velo_jsonw_obj_begin(&w);
 *   velo_jsonw_key(&w, "name");
 *   velo_jsonw_str(&w, st->name);
 *   velo_jsonw_obj_end(&w);
 *   rv = velo_jsonw_finish(&w);
 *
 * Thread: a writer and its buffer belong to one thread at a time. */
#ifndef VELO_JSONW_H
#define VELO_JSONW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "velo/buf.h"
#include "velo/err.h"

/* Nesting deeper than this fails with VELO_ETOOBIG. */
#define VELO_JSONW_MAX_DEPTH 32

/* Caller storage (libuv style); fields are private to jsonw.c. */
struct velo_jsonw {
    struct velo_buf *out;    /* borrowed; the writer appends to it */
    size_t           start;  /* out->len at init: where finish rolls back */
    int              rv;     /* first error, sticky */
    uint32_t         in_obj; /* bit d set: nesting level d is an object */
    uint8_t          depth;
    bool             comma;    /* the next key or value needs a ',' */
    bool             want_val; /* a key was written; its value is next */
};

/* A point to rewind to, taken by velo_jsonw_mark. */
struct velo_jsonw_mark {
    struct velo_jsonw w;
    size_t            len;
};

/* Starts a writer that appends one JSON value (usually an object) to out.
 * Borrows out until velo_jsonw_finish. */
void velo_jsonw_init(struct velo_jsonw *w, struct velo_buf *out);

void velo_jsonw_obj_begin(struct velo_jsonw *w);
void velo_jsonw_obj_end(struct velo_jsonw *w);
void velo_jsonw_arr_begin(struct velo_jsonw *w);
void velo_jsonw_arr_end(struct velo_jsonw *w);

/* A member name inside an object; the next call writes its value. Keys
 * are escaped and repaired like strings. */
void velo_jsonw_key(struct velo_jsonw *w, const char *key);

/* A string value; NULL writes null. */
void velo_jsonw_str(struct velo_jsonw *w, const char *s);
/* The len bytes at s (NULs in it become \u0000). */
void velo_jsonw_strn(struct velo_jsonw *w, const char *s, size_t len);
/* Like velo_jsonw_strn, but when the whole string does not fit in the
 * buffer's max, writes its longest prefix that does, cut on a character
 * boundary, and sets *cut (when not NULL). Fails (VELO_ETOOBIG) only when
 * not even "" fits. For bounded records such as a 4 KiB log line. */
void velo_jsonw_str_fit(struct velo_jsonw *w, const char *s, size_t len,
                        bool *cut);

void velo_jsonw_i64(struct velo_jsonw *w, int64_t v);
void velo_jsonw_u64(struct velo_jsonw *w, uint64_t v);
/* Shortest form that reads back to the same double; NaN/Inf write null. */
void velo_jsonw_dbl(struct velo_jsonw *w, double v);
void velo_jsonw_bool(struct velo_jsonw *w, bool v);
void velo_jsonw_null(struct velo_jsonw *w);

/* len bytes of JSON text written as one value, after checking that they
 * are valid UTF-8 and exactly one JSON value (VELO_EPROTO otherwise). For
 * embedding a document made elsewhere; it parses, so it allocates. */
void velo_jsonw_raw(struct velo_jsonw *w, const char *json, size_t len);

/* The first error so far (VELO_OK when none): for a caller that wants to
 * rewind a member that failed, rather than fail the whole value. */
int velo_jsonw_status(const struct velo_jsonw *w);

/* The current point, for velo_jsonw_rewind. */
struct velo_jsonw_mark velo_jsonw_mark(const struct velo_jsonw *w);

/* Drops everything written since m was taken (and any error since), so a
 * caller can skip a member that does not fit and go on. */
void velo_jsonw_rewind(struct velo_jsonw *w, const struct velo_jsonw_mark *m);

/* Records err (a caller's own failure while producing a value) as the
 * writer's error unless it already has one; later calls do nothing. */
void velo_jsonw_fail(struct velo_jsonw *w, int err);

/* The first error of any call, or VELO_EINVAL when the value is incomplete
 * (an open object or array, a key without value, nothing written).
 * VELO_ETOOBIG when out's max was reached, VELO_ENOMEM. On error, out is
 * rolled back to its length at velo_jsonw_init (all or nothing); on
 * VELO_OK it holds the value. */
VELO_MUST_CHECK int velo_jsonw_finish(struct velo_jsonw *w);

#endif
