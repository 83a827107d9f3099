/* velo/utf8.h: the project's one UTF-8 policy.
 *
 * Text from peers (station names, ids, RPC method names, HTTP paths) may be
 * any bytes. Everything velopipe writes is valid UTF-8 (RFC 3629: no
 * overlong forms, no surrogates, nothing past U+10FFFF): invalid sequences
 * become U+FFFD (one per invalid byte) and cuts fall on character
 * boundaries. Pure functions, any thread. */
#ifndef VELO_UTF8_H
#define VELO_UTF8_H

#include <stdbool.h>
#include <stddef.h>

#include "velo/buf.h"
#include "velo/err.h"

/* Length (1..4) of the valid UTF-8 sequence at s, within len bytes, or 0
 * when s does not start one (or len is 0). A NUL byte is a valid 1-byte
 * sequence here; callers that forbid NUL check for it themselves. */
size_t velo_utf8_seq_len(const void *s, size_t len);

/* True when the len bytes at s are valid UTF-8 (NUL bytes allowed). */
bool velo_utf8_valid(const void *s, size_t len);

/* Appends the len bytes at s to b with every invalid byte replaced by
 * U+FFFD. *replaced (may be NULL) gets the number of replacements. All or
 * nothing: VELO_ETOOBIG / VELO_ENOMEM leave b unchanged. */
VELO_MUST_CHECK int velo_utf8_repair(struct velo_buf *b, const void *s,
                                     size_t len, size_t *replaced);

/* The longest prefix of the len bytes at s that is at most max bytes and
 * does not end inside a valid multi-byte sequence. Use it to cut text for
 * a fixed-size field: the cut never splits a character. */
size_t velo_utf8_cut(const void *s, size_t len, size_t max);

/* Copies at most max bytes of the string s into dst (size >= 1 bytes),
 * cut on a character boundary, with invalid bytes replaced by U+FFFD, and
 * NUL-terminates it; stops earlier (on a boundary) when dst is full. The
 * way to quote a peer's text in a fixed-size message, where "%.64s" could
 * split a character. */
void velo_utf8_clip(char *dst, size_t size, const char *s, size_t max);

#endif
