/* velo/sig.h: synchronous signal handling (no handler code).
 *
 * velo_sig_block() must run first in main, before any library creates a
 * thread, so every thread inherits the mask: it blocks SIGINT and SIGTERM
 * and ignores SIGPIPE. main then waits with velo_sig_wait(). */
#ifndef VELO_SIG_H
#define VELO_SIG_H

#include "velo/err.h"

VELO_MUST_CHECK int velo_sig_block(void);

/* Waits up to timeout_ms (-1: forever) for SIGINT or SIGTERM. Returns the
 * signal number, or 0 on timeout. */
int velo_sig_wait(int timeout_ms);

#endif
