/* arena.c: a bump allocator over a list of blocks (see velo/arena.h). */
#include "velo/arena.h"

#include <stdalign.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define ARENA_BLOCK 16384u /* a GetStation reply fits in the first block */

struct arena_block {
    struct arena_block *next;
    size_t              used, size;
    alignas(max_align_t) unsigned char data[];
};

struct velo_arena {
    struct arena_block *head; /* the block being filled; others follow */
};

velo_arena *
velo_arena_new(void)
{
    return calloc(1, sizeof(struct velo_arena));
}

void
velo_arena_free(velo_arena *a)
{
    struct arena_block *b, *next;

    if (a == NULL)
        return;
    for (b = a->head; b != NULL; b = next) {
        next = b->next;
        free(b);
    }
    free(a);
}

/* A new block for at least n bytes, made the head unless it is a big
 * one-off allocation (then the current head keeps filling). */
static struct arena_block *
arena_grow(velo_arena *a, size_t n)
{
    size_t              size = n > ARENA_BLOCK ? n : ARENA_BLOCK;
    struct arena_block *b;

    b = malloc(sizeof(*b) + size);
    if (b == NULL)
        return NULL;
    b->used = 0;
    b->size = size;
    if (a->head != NULL && size > ARENA_BLOCK) {
        b->next = a->head->next;
        a->head->next = b;
    } else {
        b->next = a->head;
        a->head = b;
    }
    return b;
}

void *
velo_arena_alloc(velo_arena *a, size_t n)
{
    const size_t        align = alignof(max_align_t);
    struct arena_block *b = a->head;
    void               *p;

    if (n > SIZE_MAX - align)
        return NULL;
    n = (n + align - 1) & ~(align - 1);
    if (b == NULL || b->size - b->used < n) {
        b = arena_grow(a, n);
        if (b == NULL)
            return NULL;
    }
    p = b->data + b->used;
    b->used += n;
    memset(p, 0, n);
    return p;
}

char *
velo_arena_strdup(velo_arena *a, const char *s)
{
    size_t n;
    char  *p;

    if (s == NULL)
        return NULL;
    n = strlen(s) + 1;
    p = velo_arena_alloc(a, n);
    if (p != NULL)
        memcpy(p, s, n);
    return p;
}

void
velo_arena_reply_free(ProtobufCMessage *reply, void *ctx)
{
    (void)reply; /* it lives in the arena */
    velo_arena_free(ctx);
}
