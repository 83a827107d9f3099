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
 * signal number, or 0 on timeout or velo_sig_wake. */
int velo_sig_wait(int timeout_ms);

/* Ends the current (or next) velo_sig_wait of the thread that called
 * velo_sig_block early, with 0: another thread has news for it (a service
 * finished by itself, a stop completed) and it need not wait for its next
 * tick. Uses SIGUSR2, blocked like INT/TERM; one sent from outside is a
 * harmless wake too. Any thread; a no-op before velo_sig_block. */
void velo_sig_wake(void);

#endif
