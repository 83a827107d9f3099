/* utf8_test.c: one UTF-8 policy: validate, repair with U+FFFD, cut safely. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "velo/utf8.h"

static void
test_utf8_valid_accepts_ascii_and_multibyte(void **state)
{
    (void)state;
    assert_true(velo_utf8_valid("Gare Centrale", 13));
    assert_true(
        velo_utf8_valid("Malm\xc3\xb6 \xe2\x82\xac \xf0\x9f\x9a\xb2", 15));
    assert_true(velo_utf8_valid("a\0b", 3)); /* NUL is the caller's rule */
}

static void
test_utf8_valid_rejects_bad_sequences(void **state)
{
    (void)state;
    assert_false(velo_utf8_valid("\xff", 1));
    assert_false(velo_utf8_valid("\xc0\xaf", 2));         /* overlong '/' */
    assert_false(velo_utf8_valid("\xed\xa0\x80", 3));     /* surrogate */
    assert_false(velo_utf8_valid("\xf4\x90\x80\x80", 4)); /* > U+10FFFF */
    assert_false(velo_utf8_valid("\xe2\x82", 2));         /* truncated */
}

static void
test_utf8_repair_replaces_each_bad_byte(void **state)
{
    struct velo_buf b;
    size_t          n = 99;

    (void)state;
    velo_buf_init(&b, 64);
    assert_int_equal(velo_utf8_repair(&b,
                                      "a\xff\xfe"
                                      "b\xc3\xa9",
                                      6, &n),
                     VELO_OK);
    assert_int_equal(n, 2);
    assert_string_equal(b.data, "a\xef\xbf\xbd\xef\xbf\xbd"
                                "b\xc3\xa9");
    assert_true(velo_utf8_valid(b.data, b.len));
    velo_buf_fini(&b);
}

static void
test_utf8_repair_is_all_or_nothing(void **state)
{
    struct velo_buf b;

    (void)state;
    velo_buf_init(&b, 5);
    assert_int_equal(velo_buf_puts(&b, "ab"), VELO_OK);
    assert_int_equal(velo_utf8_repair(&b, "\xff\xff", 2, NULL), VELO_ETOOBIG);
    assert_string_equal(b.data, "ab");
    velo_buf_fini(&b);
}

static void
test_utf8_cut_never_splits_a_character(void **state)
{
    const char *s = "ab\xc3\xa9\xe2\x82\xac"; /* a b é € : 7 bytes */

    (void)state;
    assert_int_equal(velo_utf8_cut(s, 7, 10), 7);
    assert_int_equal(velo_utf8_cut(s, 7, 3), 2); /* not inside é */
    assert_int_equal(velo_utf8_cut(s, 7, 4), 4);
    assert_int_equal(velo_utf8_cut(s, 7, 6), 4); /* not inside € */
    assert_int_equal(velo_utf8_cut("\xff\xff\xff", 3, 2), 2);
}

static void
test_utf8_clip_cuts_repairs_and_bounds(void **state)
{
    char dst[8];

    (void)state;
    /* max falls inside the 2-byte e-acute: cut before it. */
    velo_utf8_clip(dst, sizeof(dst), "ab\xc3\xa9", 3);
    assert_string_equal(dst, "ab");
    /* A bad byte grows to U+FFFD; dst full stops on a boundary. */
    velo_utf8_clip(dst, sizeof(dst), "a\xff\xfe", 64);
    assert_string_equal(dst, "a\xef\xbf\xbd\xef\xbf\xbd");
    velo_utf8_clip(dst, sizeof(dst), "abcde\xff", 64);
    assert_string_equal(dst, "abcde");
    assert_true(velo_utf8_valid(dst, strlen(dst)));
    velo_utf8_clip(dst, 1, "abc", 64);
    assert_string_equal(dst, "");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_utf8_valid_accepts_ascii_and_multibyte),
        cmocka_unit_test(test_utf8_valid_rejects_bad_sequences),
        cmocka_unit_test(test_utf8_repair_replaces_each_bad_byte),
        cmocka_unit_test(test_utf8_repair_is_all_or_nothing),
        cmocka_unit_test(test_utf8_cut_never_splits_a_character),
        cmocka_unit_test(test_utf8_clip_cuts_repairs_and_bounds),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
