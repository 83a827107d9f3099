/* devbroker.h: the embedded dev broker behind `make run`.
 *
 * A librdkafka mock cluster (one broker, in memory) with the pipeline's
 * topics created up front, reachable at a fixed 127.0.0.1 port through a
 * small relay (forward.h) or at the mock's own ephemeral port. For local
 * use only: see README.md for what the mock does not do.
 *
 * Thread: _new and _free from one thread (main); the mock and the relay
 * run on their own threads. */
#ifndef DEVBROKER_H
#define DEVBROKER_H

#include <stddef.h>
#include <stdint.h>

#include "velo/err.h"

struct devbroker_opts {
    uint16_t    port;   /* 0: the mock's own ephemeral port */
    const char *topics; /* "name:partitions,..." (borrowed during _new) */
};

typedef struct devbroker devbroker;

/* Checks a topics list ("velib_data:6,velib_data.dlq:1"): names of 1..249
 * characters, 1..1000 partitions. Appends one line per problem to errs
 * and returns how many there were (0: valid). */
int devbroker_topics_check(const char *topics, char *errs, size_t errs_size);

/* Starts the mock cluster, creates the topics and, when o->port is not 0,
 * relays 127.0.0.1:o->port to it. The caller frees *out with
 * devbroker_free. Errors: VELO_EINVAL (bad topics), VELO_EIO (the port
 * cannot be bound), VELO_EUNAVAIL (the mock did not start). */
VELO_MUST_CHECK int devbroker_new(devbroker                  **out,
                                  const struct devbroker_opts *o);

/* The bootstrap address clients use, "127.0.0.1:PORT". Borrowed. */
const char *devbroker_addr(const devbroker *db);

/* Stops the relay and the mock; all data is gone. NULL is a no-op. */
void devbroker_free(devbroker *db);

#endif
