/* discover.h: veloctl and Consul: finding velo-stream (or any velopipe
 * service) through the agent, and `veloctl status`.
 *
 * Consul is used when --consul, VELO_CONSUL_ADDR or CONSUL_HTTP_ADDR names
 * an agent and no --rpc / VELO_STREAM_RPC was given: explicit addresses
 * always win, so scripts that pass them behave exactly as before. */
#ifndef VELOCTL_DISCOVER_H
#define VELOCTL_DISCOVER_H

#include <stddef.h>

#include "call.h"
#include "velo/consul.h"

/* The most rows `status` shows (checks of every instance). */
#define VELOCTL_STATUS_MAX 256

/* Opens the Consul client a asks for. VELO_ENOTFOUND when none is
 * configured; VELO_EINVAL for a bad address or token file. */
VELO_MUST_CHECK int veloctl_consul_open(const struct veloctl_args *a,
                                        velo_consul              **out);

/* Asks Consul for the passing instances of service ("velo-stream") and
 * writes up to max RPC URLs into urls. Returns an exit status; prints the
 * reason on x->err (3 when Consul cannot be reached or no instance
 * passes). */
int veloctl_discover(struct veloctl_ctx *x, velo_consul *c, const char *service,
                     char (*urls)[VELO_CONSUL_URL_MAX], size_t max, size_t *n);

/* `veloctl status`: every instance registered with tag velopipe, each of
 * its checks with status and output; 0 when all pass, 1 otherwise, 3 when
 * Consul cannot be reached. x->c is unused. */
int veloctl_status_consul(struct veloctl_ctx *x, velo_consul *c);

#endif
