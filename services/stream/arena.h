/* arena.h: per-request memory for RPC replies (h2o's mem pool, STYLE §6).
 *
 * A handler builds its whole reply (messages, arrays, copied strings) in
 * one arena and hands it to the RPC layer as reply_free_ctx; the layer
 * frees everything at once with stream_arena_reply_free after packing.
 * Nothing outlives the request. Thread: one thread at a time. */
#ifndef STREAM_ARENA_H
#define STREAM_ARENA_H

#include <protobuf-c/protobuf-c.h>
#include <stddef.h>

typedef struct stream_arena stream_arena;

/* NULL when out of memory. */
stream_arena *stream_arena_new(void);
/* Frees every block. NULL is a no-op. */
void stream_arena_free(stream_arena *a);

/* n zeroed bytes, aligned for any type; NULL when out of memory. */
void *stream_arena_alloc(stream_arena *a, size_t n);
/* A copy of s; NULL when s is NULL or memory ran out (check s first). */
char *stream_arena_strdup(stream_arena *a, const char *s);

/* The reply_free of struct velo_rpc_call: ctx is the arena. */
void stream_arena_reply_free(ProtobufCMessage *reply, void *ctx);

#endif
