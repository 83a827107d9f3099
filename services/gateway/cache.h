/* cache.h: a small cache of rendered list answers (GET /api/v1/stations).
 *
 * Rendering 3,000 stations means an RPC and 1.5 MB of JSON; the same
 * answer asked for again within ttl_ms, while no change of its system
 * arrived (the SSE hub's sequence number, `stamp`), is served from here
 * with its ETag, so a popular list costs a copy. Once an answer is
 * older than ttl_ms, one caller renders it anew while the others are
 * still served the old one for up to another ttl_ms (no stampede of
 * renders). The derived fields in a cached body (age_s, stale) are at
 * most 2 x ttl_ms old.
 *
 * Direct-mapped: `slots` entries, a key (the packed RPC request) hashes to
 * one; a newer answer replaces whatever was there. Bodies over max_body
 * are not kept. Memory is bounded by slots x max_body.
 *
 * Thread: any; one mutex guards the entries. */
#ifndef GW_CACHE_H
#define GW_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "velo/buf.h"
#include "velo/err.h"

typedef struct gw_cache gw_cache;

#define GW_ETAG_SIZE 24

VELO_MUST_CHECK int gw_cache_new(gw_cache **out, size_t slots, uint32_t ttl_ms,
                                 size_t max_body);
void                gw_cache_free(gw_cache *c);

/* On a usable entry for key with this stamp (see above): appends its body
 * to out, copies its ETag into etag (GW_ETAG_SIZE bytes) and returns true.
 * False: render the answer and gw_cache_put it. */
bool gw_cache_get(gw_cache *c, const void *key, size_t klen, uint64_t stamp,
                  int64_t now_ms, struct velo_buf *out, char *etag);

/* Keeps a copy of body (and its ETag, computed here into etag) for key. */
void gw_cache_put(gw_cache *c, const void *key, size_t klen, uint64_t stamp,
                  int64_t now_ms, const void *body, size_t len, char *etag);

#endif
