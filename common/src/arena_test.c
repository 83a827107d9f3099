/* arena_test.c: the per-request bump allocator. */
#include <setjmp.h>
#include <stdalign.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "velo/arena.h"

static void
test_alloc_is_zeroed_and_aligned(void **state)
{
    velo_arena    *a = velo_arena_new();
    unsigned char *p;
    size_t         i;
    int            n;

    (void)state;
    assert_non_null(a);
    for (n = 1; n < 200; n += 7) {
        p = velo_arena_alloc(a, (size_t)n);
        assert_non_null(p);
        assert_int_equal((uintptr_t)p % alignof(max_align_t), 0);
        for (i = 0; i < (size_t)n; i++)
            assert_int_equal(p[i], 0);
        memset(p, 0xab, (size_t)n); /* ASan: the whole n is ours */
    }
    velo_arena_free(a);
}

static void
test_big_allocation_keeps_filling_the_current_block(void **state)
{
    velo_arena *a = velo_arena_new();
    char       *small1, *big, *small2;

    (void)state;
    small1 = velo_arena_alloc(a, 16);
    big = velo_arena_alloc(a, 100000); /* over one block: its own */
    small2 = velo_arena_alloc(a, 16);
    assert_non_null(small1);
    assert_non_null(big);
    assert_non_null(small2);
    memset(big, 1, 100000);
    /* The small ones share the first block, right after each other. */
    assert_ptr_equal(small2, small1 + ((16 + alignof(max_align_t) - 1) &
                                       ~(alignof(max_align_t) - 1)));
    velo_arena_free(a);
}

static void
test_strdup_copies_and_null_is_null(void **state)
{
    velo_arena *a = velo_arena_new();
    char       *s;

    (void)state;
    s = velo_arena_strdup(a, "jcdecaux:dublin");
    assert_string_equal(s, "jcdecaux:dublin");
    assert_null(velo_arena_strdup(a, NULL));
    assert_null(velo_arena_alloc(a, SIZE_MAX - 2));
    velo_arena_free(a);
    velo_arena_free(NULL);
}

static void
test_reply_free_frees_the_arena(void **state)
{
    velo_arena       *a = velo_arena_new();
    ProtobufCMessage *m = velo_arena_alloc(a, sizeof(*m));

    (void)state;
    velo_arena_reply_free(m, a); /* ASan reports a leak if it did not */
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_alloc_is_zeroed_and_aligned),
        cmocka_unit_test(test_big_allocation_keeps_filling_the_current_block),
        cmocka_unit_test(test_strdup_copies_and_null_is_null),
        cmocka_unit_test(test_reply_free_frees_the_arena),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
