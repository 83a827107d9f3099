/* watch.h: `veloctl watch SYSTEM`: live station changes from velo-stream's
 * PUB socket (topic "system_id/station_id", payload a StationState).
 *
 * SUB alone cannot tell a silent system from an unreachable service, so
 * watch first subscribes, then asks ListSystems over RPC: a service that
 * does not answer ends the watch with exit 3, as for any other command;
 * an unknown SYSTEM only gets a note on stderr (it may appear later).
 *
 * Ends after --count changes (exit 0), after --timeout-s seconds (exit 0,
 * or 1 when --count was given and not reached), or when interrupted. */
#ifndef VELOCTL_WATCH_H
#define VELOCTL_WATCH_H

#include "call.h"

/* Runs the command; x->c is the RPC client for the probe. Returns an exit
 * status. Each change is written and flushed at once (JSON lines with
 * --json). */
int veloctl_watch_run(struct veloctl_ctx *x);

#endif
