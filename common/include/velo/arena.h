/* velo/arena.h: per-request memory for RPC replies (h2o mem pool, STYLE §6).
 *
 * A handler builds its whole reply (messages, arrays, copied strings) in
 * one arena and hands it to the RPC layer as reply_free_ctx; the layer
 * frees everything at once with velo_arena_reply_free after packing.
 * Nothing outlives the request. Thread: one thread at a time. */
#ifndef VELO_ARENA_H
#define VELO_ARENA_H

#include <protobuf-c/protobuf-c.h>
#include <stddef.h>

typedef struct velo_arena velo_arena;

/* NULL when out of memory. */
velo_arena *velo_arena_new(void);
/* Frees every block. NULL is a no-op. */
void velo_arena_free(velo_arena *a);

/* n zeroed bytes, aligned for any type; NULL when out of memory. */
void *velo_arena_alloc(velo_arena *a, size_t n);
/* A copy of s; NULL when s is NULL or memory ran out (check s first). */
char *velo_arena_strdup(velo_arena *a, const char *s);

/* The reply_free of struct velo_rpc_call: ctx is the arena. */
void velo_arena_reply_free(ProtobufCMessage *reply, void *ctx);

#endif
