/* sig.c: block INT/TERM in every thread, wait for them synchronously. */
#include "velo/sig.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <time.h>

#define SIG_WAKE SIGUSR2

static pthread_t   sig_waiter; /* the thread of velo_sig_block */
static atomic_bool sig_waiter_set;

static void
sig_set(sigset_t *set)
{
    sigemptyset(set);
    sigaddset(set, SIGINT);
    sigaddset(set, SIGTERM);
    sigaddset(set, SIG_WAKE);
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
    sig_waiter = pthread_self();
    atomic_store(&sig_waiter_set, true);
    return VELO_OK;
}

void
velo_sig_wake(void)
{
    if (atomic_load(&sig_waiter_set))
        (void)pthread_kill(sig_waiter, SIG_WAKE);
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
        return sig == SIG_WAKE ? 0 : sig;
    }
    ts.tv_sec = timeout_ms / 1000;
    ts.tv_nsec = (long)(timeout_ms % 1000) * 1000000L;
    do {
        sig = sigtimedwait(&set, NULL, &ts);
    } while (sig < 0 && errno == EINTR);
    return sig < 0 || sig == SIG_WAKE ? 0 : sig;
}
