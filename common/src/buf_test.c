/* buf_test.c: the bounded buffer never passes its max and stays a C string. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "velo/buf.h"

static void
test_buf_init_allocates_nothing(void **state)
{
    struct velo_buf b;

    (void)state;
    velo_buf_init(&b, 100);
    assert_null(b.data);
    assert_int_equal(b.len, 0);
    assert_int_equal(b.max, 100);
    velo_buf_fini(&b);
}

static void
test_buf_append_keeps_data_nul_terminated(void **state)
{
    struct velo_buf b;

    (void)state;
    velo_buf_init(&b, 100);
    assert_int_equal(velo_buf_append(&b, "abcXXX", 3), VELO_OK);
    assert_int_equal(velo_buf_puts(&b, "def"), VELO_OK);
    assert_int_equal(b.len, 6);
    assert_string_equal(b.data, "abcdef");
    assert_int_equal(velo_buf_append(&b, NULL, 0), VELO_OK);
    assert_string_equal(b.data, "abcdef");
    velo_buf_fini(&b);
    /* An empty append still yields a valid empty string. */
    velo_buf_init(&b, 10);
    assert_int_equal(velo_buf_append(&b, "", 0), VELO_OK);
    assert_non_null(b.data);
    assert_string_equal(b.data, "");
    velo_buf_fini(&b);
}

static void
test_buf_append_past_max_is_toobig_and_changes_nothing(void **state)
{
    struct velo_buf b;

    (void)state;
    velo_buf_init(&b, 8);
    assert_int_equal(velo_buf_puts(&b, "12345"), VELO_OK);
    assert_int_equal(velo_buf_puts(&b, "6789"), VELO_ETOOBIG);
    assert_int_equal(b.len, 5);
    assert_string_equal(b.data, "12345");
    /* Exactly max is allowed: the NUL does not count. */
    assert_int_equal(velo_buf_puts(&b, "678"), VELO_OK);
    assert_int_equal(b.len, 8);
    assert_string_equal(b.data, "12345678");
    assert_int_equal(velo_buf_append(&b, "9", 1), VELO_ETOOBIG);
    /* A length that would overflow size_t is refused, not wrapped. */
    assert_int_equal(velo_buf_append(&b, "x", SIZE_MAX), VELO_ETOOBIG);
    assert_string_equal(b.data, "12345678");
    velo_buf_fini(&b);
}

static void
test_buf_grows_through_many_appends(void **state)
{
    struct velo_buf b;
    char            chunk[100];
    size_t          i;

    (void)state;
    memset(chunk, 'x', sizeof(chunk));
    velo_buf_init(&b, 100000);
    for (i = 0; i < 1000; i++)
        assert_int_equal(velo_buf_append(&b, chunk, sizeof(chunk)), VELO_OK);
    assert_int_equal(b.len, 100000);
    assert_true(b.cap <= b.max + 1); /* never allocates past the cap */
    assert_int_equal(b.data[99999], 'x');
    assert_int_equal(b.data[100000], '\0');
    assert_int_equal(velo_buf_append(&b, "y", 1), VELO_ETOOBIG);
    velo_buf_fini(&b);
}

static void
test_buf_unbounded_max_still_appends(void **state)
{
    struct velo_buf b;

    (void)state;
    /* SIZE_MAX means "no limit of our own"; max + 1 must not wrap. */
    velo_buf_init(&b, SIZE_MAX);
    assert_int_equal(velo_buf_puts(&b, "hello"), VELO_OK);
    assert_int_equal(velo_buf_printf(&b, " %d", 42), VELO_OK);
    assert_string_equal(b.data, "hello 42");
    velo_buf_fini(&b);
}

static void
test_buf_printf_formats_and_respects_max(void **state)
{
    struct velo_buf b;

    (void)state;
    velo_buf_init(&b, 12);
    assert_int_equal(velo_buf_printf(&b, "%s=%d", "n", 42), VELO_OK);
    assert_string_equal(b.data, "n=42");
    assert_int_equal(velo_buf_printf(&b, ",%s", "too long!"), VELO_ETOOBIG);
    assert_string_equal(b.data, "n=42");
    assert_int_equal(b.len, 4);
    assert_int_equal(velo_buf_printf(&b, "%s", ""), VELO_OK);
    assert_int_equal(velo_buf_printf(&b, ",%05.1f", 2.25), VELO_OK);
    assert_string_equal(b.data, "n=42,002.2");
    velo_buf_fini(&b);
}

static void
test_buf_reset_keeps_allocation(void **state)
{
    struct velo_buf b;
    char           *before;

    (void)state;
    velo_buf_init(&b, 100);
    assert_int_equal(velo_buf_puts(&b, "abc"), VELO_OK);
    before = b.data;
    velo_buf_reset(&b);
    assert_int_equal(b.len, 0);
    assert_ptr_equal(b.data, before);
    assert_string_equal(b.data, "");
    assert_int_equal(velo_buf_puts(&b, "z"), VELO_OK);
    assert_string_equal(b.data, "z");
    velo_buf_fini(&b);
    velo_buf_reset(&b); /* on an empty buffer: no crash */
}

static void
test_buf_steal_hands_over_the_data(void **state)
{
    struct velo_buf b;
    size_t          len = 99;
    char           *p;

    (void)state;
    velo_buf_init(&b, 100);
    assert_null(velo_buf_steal(&b, &len));
    assert_int_equal(len, 0);
    assert_int_equal(velo_buf_puts(&b, "mine"), VELO_OK);
    p = velo_buf_steal(&b, &len);
    assert_string_equal(p, "mine");
    assert_int_equal(len, 4);
    assert_null(b.data);
    assert_int_equal(b.len, 0);
    /* Still usable afterwards, with the same max. */
    assert_int_equal(velo_buf_puts(&b, "again"), VELO_OK);
    assert_string_equal(b.data, "again");
    velo_buf_fini(&b);
    free(p);
}

static void
test_buf_fini_is_safe_twice_and_on_zeroed(void **state)
{
    struct velo_buf b;

    (void)state;
    memset(&b, 0, sizeof(b));
    velo_buf_fini(&b);
    velo_buf_init(&b, 10);
    assert_int_equal(velo_buf_puts(&b, "x"), VELO_OK);
    velo_buf_fini(&b);
    velo_buf_fini(&b);
    assert_null(b.data);
}

static void
test_buf_fixed_never_allocates_and_stops_at_size(void **state)
{
    char            mem[8];
    struct velo_buf b;
    size_t          len = 99;

    (void)state;
    velo_buf_init_fixed(&b, mem, sizeof(mem));
    assert_int_equal(velo_buf_puts(&b, "abcd"), VELO_OK);
    assert_int_equal(velo_buf_printf(&b, "%d", 567), VELO_OK);
    assert_ptr_equal(b.data, mem); /* never reallocated */
    assert_string_equal(mem, "abcd567");
    assert_int_equal(velo_buf_puts(&b, "x"), VELO_ETOOBIG);
    assert_string_equal(mem, "abcd567");
    assert_null(velo_buf_steal(&b, &len)); /* stack memory stays put */
    assert_int_equal(len, 0);
    assert_int_equal(b.len, 0);
    assert_int_equal(velo_buf_puts(&b, "ok"), VELO_OK);
    velo_buf_fini(&b); /* no free() of mem: ASan would catch it */
    assert_int_equal(b.len, 0);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_buf_init_allocates_nothing),
        cmocka_unit_test(test_buf_append_keeps_data_nul_terminated),
        cmocka_unit_test(
            test_buf_append_past_max_is_toobig_and_changes_nothing),
        cmocka_unit_test(test_buf_grows_through_many_appends),
        cmocka_unit_test(test_buf_unbounded_max_still_appends),
        cmocka_unit_test(test_buf_printf_formats_and_respects_max),
        cmocka_unit_test(test_buf_reset_keeps_allocation),
        cmocka_unit_test(test_buf_steal_hands_over_the_data),
        cmocka_unit_test(test_buf_fini_is_safe_twice_and_on_zeroed),
        cmocka_unit_test(test_buf_fixed_never_allocates_and_stops_at_size),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
