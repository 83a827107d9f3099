/* rpc_server_pipes.c: which connections of an RPC server ever delivered a
 * request, to tell a frame nng dropped from a peer that left.
 *
 * nng 1.5.2 closes a connection whose frame is over NNG_OPT_RECVMAXSZ and
 * counts it among its listener's "other" errors, but a peer's clean close
 * (EOF, NNG_ECONNSHUT) lands in the same count, and there is no log or
 * per-connection error to tell them apart. A connection whose first frame
 * was too big never delivered anything; a client that called and closed
 * did. So a connection that goes away while "other" grew and never
 * delivered a request is counted as a dropped frame. Misses: an oversize
 * frame after good ones (counted as a close); counts too: a peer that
 * connects and closes without a frame. */
#include "rpc_int.h"

#include <stdlib.h>
#include <uthash.h>

struct rpc_pipe_entry {
    uint32_t       id;
    UT_hash_handle hh;
};

void
rpc_pipes_init(struct rpc_pipes *ps)
{
    pthread_mutex_init(&ps->mtx, NULL);
    ps->served = NULL;
    ps->other_seen = 0;
}

void
rpc_pipes_fini(struct rpc_pipes *ps)
{
    struct rpc_pipe_entry *e, *tmp;

    HASH_ITER(hh, ps->served, e, tmp)
    {
        HASH_DEL(ps->served, e);
        free(e);
    }
    pthread_mutex_destroy(&ps->mtx);
}

void
rpc_pipes_served(struct rpc_pipes *ps, uint32_t id)
{
    struct rpc_pipe_entry *e;

    pthread_mutex_lock(&ps->mtx);
    HASH_FIND(hh, ps->served, &id, sizeof(id), e);
    if (e == NULL && (e = calloc(1, sizeof(*e))) != NULL) {
        e->id = id; /* out of memory: this one may count as a drop */
        HASH_ADD(hh, ps->served, id, sizeof(e->id), e);
    }
    pthread_mutex_unlock(&ps->mtx);
}

bool
rpc_pipes_removed(struct rpc_pipes *ps, uint32_t id, uint64_t other)
{
    struct rpc_pipe_entry *e;
    bool                   grew, dropped;

    pthread_mutex_lock(&ps->mtx);
    grew = other > ps->other_seen;
    if (grew)
        ps->other_seen = other;
    HASH_FIND(hh, ps->served, &id, sizeof(id), e);
    dropped = grew && e == NULL;
    if (e != NULL) {
        HASH_DEL(ps->served, e);
        free(e);
    }
    pthread_mutex_unlock(&ps->mtx);
    return dropped;
}
