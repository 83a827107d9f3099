/* forward.h: a small TCP relay from a fixed port to the mock cluster.
 *
 * librdkafka 2.0.2 cannot pin the mock cluster's port, so velo-devbroker
 * listens on the port the developer asked for (9092 by default) and relays
 * each connection to the mock's ephemeral bootstrap port. Only the
 * bootstrap connection goes through here: the mock's metadata then names
 * its own address, which clients on this machine reach directly.
 *
 * One thread, poll(), non-blocking sockets, everything on 127.0.0.1. At
 * most DEVBROKER_FWD_MAX_CONNS relayed connections at a time (more are
 * accepted and closed at once) and DEVBROKER_FWD_BUF bytes buffered per
 * direction, so memory stays bounded. When either end closes or fails,
 * both ends are closed.
 *
 * Thread: _new and _free from one thread; the relay runs on its own. */
#ifndef DEVBROKER_FORWARD_H
#define DEVBROKER_FORWARD_H

#include <stdint.h>

#include "velo/err.h"

#define DEVBROKER_FWD_MAX_CONNS 32
#define DEVBROKER_FWD_BUF 65536

typedef struct devbroker_fwd devbroker_fwd;

/* Binds 127.0.0.1:listen_port (0: any free port) and starts relaying every
 * accepted connection to 127.0.0.1:target_port. The caller owns *out and
 * frees it with devbroker_fwd_free. Errors: VELO_EIO (socket, bind or
 * listen failed; cause logged), VELO_ENOMEM. */
VELO_MUST_CHECK int devbroker_fwd_new(devbroker_fwd **out, uint16_t listen_port,
                                      uint16_t target_port);

/* The bound port (the chosen one when listen_port was 0). */
uint16_t devbroker_fwd_port(const devbroker_fwd *f);

/* Stops the relay thread, closes every socket, frees. NULL is a no-op. */
void devbroker_fwd_free(devbroker_fwd *f);

#endif
