/* leader.h: one active velo-ingest among its replicas (DESIGN §6).
 *
 * With Consul configured and --leader-key set, replicas contend for a
 * Consul session + KV lock (velo_consul_lock): the holder polls, the
 * others stand by (their /readyz says "standby") and take over when the
 * lock is released (SIGTERM) or the holder's session expires (kill -9:
 * within 2 x --leader-ttl-s plus one blocking-query round). Without Consul
 * every replica is active, as before. The idempotent producer and change
 * capture make the short overlap a takeover allows harmless.
 *
 * Thread: _new/_stop/_free on main; ingest_leader_active and
 * ingest_leader_ready from any thread. */
#ifndef INGEST_LEADER_H
#define INGEST_LEADER_H

#include <stdbool.h>
#include <stddef.h>

#include "ingest_cfg.h"
#include "velo/metrics.h"

typedef struct ingest_leader ingest_leader;

/* Starts contending when Consul and a key are configured; otherwise *out
 * is a leader that is always active. m is borrowed. */
VELO_MUST_CHECK int ingest_leader_new(ingest_leader          **out,
                                      const struct ingest_cfg *cfg,
                                      velo_metrics            *m);
/* The polling gate: true while this replica may poll. ctx: the leader. */
bool ingest_leader_active(void *ctx);
/* For /readyz of a standby: writes "standby (leader: NAME)" into why and
 * returns true when standing by; false (why untouched) when active. */
bool ingest_leader_standby(ingest_leader *l, char *why, size_t why_size);
/* Releases the lock now (SIGTERM): the standby takes over at once. After
 * this the replica is no longer active. */
void ingest_leader_stop(ingest_leader *l);
/* Stops and frees. NULL: no-op. */
void ingest_leader_free(ingest_leader *l);

#endif
