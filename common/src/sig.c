/* sig.c: block INT/TERM in every thread, wait for them synchronously. */
#include "velo/sig.h"

#include <errno.h>
#include <signal.h>
#include <time.h>

static void
sig_set(sigset_t *set)
{
    sigemptyset(set);
    sigaddset(set, SIGINT);
    sigaddset(set, SIGTERM);
}

int
velo_sig_block(void)
{
    struct sigaction sa = {0};
    sigset_t         set;

    sa.sa_handler = SIG_IGN;
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGPIPE, &sa, NULL) != 0)
        return VELO_EINVAL;
    sig_set(&set);
    if (pthread_sigmask(SIG_BLOCK, &set, NULL) != 0)
        return VELO_EINVAL;
    return VELO_OK;
}

int
velo_sig_wait(int timeout_ms)
{
    sigset_t        set;
    struct timespec ts;
    int             sig;

    sig_set(&set);
    if (timeout_ms < 0) {
        while (sigwait(&set, &sig) != 0)
            ;
        return sig;
    }
    ts.tv_sec = timeout_ms / 1000;
    ts.tv_nsec = (long)(timeout_ms % 1000) * 1000000L;
    do {
        sig = sigtimedwait(&set, NULL, &ts);
    } while (sig < 0 && errno == EINTR);
    return sig < 0 ? 0 : sig;
}
