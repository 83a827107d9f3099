/* table_test.c: alignment, "-" for absent cells, and cleaning of peer
 * text: UTF-8-safe truncation, invalid bytes and terminal escapes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "table.h"

static void
test_clean_keeps_short_text(void **state)
{
    char dst[64];

    (void)state;
    assert_int_equal(veloctl_utf8_clean(dst, sizeof(dst), "Bastille", 10), 8);
    assert_string_equal(dst, "Bastille");
    /* "Gare de l’Est": 13 columns, 15 bytes. */
    assert_int_equal(veloctl_utf8_clean(dst, sizeof(dst),
                                        "Gare de l\xe2\x80\x99"
                                        "Est",
                                        0),
                     13);
    assert_int_equal(veloctl_utf8_width(dst), 13);
}

static void
test_clean_cuts_on_a_character_boundary(void **state)
{
    char dst[64];

    (void)state;
    /* "Édouard" is 7 columns; 4 keep "Édo" plus the ellipsis. */
    assert_int_equal(veloctl_utf8_clean(dst, sizeof(dst),
                                        "\xc3\x89"
                                        "douard",
                                        4),
                     4);
    assert_string_equal(dst, "\xc3\x89"
                             "do\xe2\x80\xa6");
    /* Exactly max_cols: no cut. */
    assert_int_equal(veloctl_utf8_clean(dst, sizeof(dst), "abcd", 4), 4);
    assert_string_equal(dst, "abcd");
    /* Multi-byte characters all the way: each counts one column. */
    assert_int_equal(veloctl_utf8_clean(dst, sizeof(dst),
                                        "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e",
                                        2),
                     2);
    assert_string_equal(dst, "\xe6\x97\xa5\xe2\x80\xa6");
}

static void
test_clean_replaces_invalid_and_control_bytes(void **state)
{
    char dst[64];

    (void)state;
    /* A lone continuation byte, a cut sequence, an overlong '/', ESC. */
    veloctl_utf8_clean(dst, sizeof(dst),
                       "a\x80"
                       "b\xc3"
                       "c\xc0\xaf"
                       "d\x1b[31m",
                       0);
    assert_string_equal(dst, "a?b?c??d?[31m");
    /* Newline and tab would break the table; a bidi override would
     * reorder the rest of the line. */
    veloctl_utf8_clean(dst, sizeof(dst), "x\ny\tz\xe2\x80\xae", 0);
    assert_string_equal(dst, "x?y?z?");
}

static void
test_clean_respects_a_small_buffer(void **state)
{
    char dst[6];

    (void)state;
    memset(dst, 'Z', sizeof(dst));
    veloctl_utf8_clean(dst, sizeof(dst), "\xc3\xa9\xc3\xa9\xc3\xa9", 0);
    /* Two 2-byte characters fit in 5 bytes; the third is not split. */
    assert_string_equal(dst, "\xc3\xa9\xc3\xa9");
}

static const struct veloctl_col cols[] = {
    {"NAME", false, 0, 6},
    {"N", true, 0, 0},
    {"NOTE", false, 0, 0},
};

static void
test_render_aligns_columns(void **state)
{
    veloctl_table  *t = NULL;
    struct velo_buf b;
    const char *r1[] = {"Gare", "7", "ok"}, *r2[] = {"République", "12", NULL};

    (void)state;
    velo_buf_init(&b, 4096);
    assert_int_equal(veloctl_table_new(&t, cols, 3), VELO_OK);
    assert_int_equal(veloctl_table_add(t, r1), VELO_OK);
    assert_int_equal(veloctl_table_add(t, r2), VELO_OK);
    assert_int_equal(veloctl_table_rows(t), 2);
    assert_int_equal(veloctl_table_render(t, true, &b), VELO_OK);
    /* Names left, numbers right, "-" for the absent cell, "République"
     * cut to 6 columns without splitting "é". */
    assert_string_equal(b.data, "NAME     N  NOTE\n"
                                "Gare     7  ok\n"
                                "Répub…  12  -\n");
    velo_buf_reset(&b);
    assert_int_equal(veloctl_table_render(t, false, &b), VELO_OK);
    assert_string_equal(b.data, "Gare     7  ok\n"
                                "Répub…  12  -\n");
    veloctl_table_free(t);
    velo_buf_fini(&b);
}

static void
test_render_has_no_trailing_spaces_and_honours_min_width(void **state)
{
    static const struct veloctl_col fixed[] = {
        {"A", false, 5, 0},
        {"B", false, 0, 0},
    };
    veloctl_table  *t = NULL;
    struct velo_buf b;
    const char     *r[] = {"x", ""};

    (void)state;
    velo_buf_init(&b, 4096);
    assert_int_equal(veloctl_table_new(&t, fixed, 2), VELO_OK);
    assert_int_equal(veloctl_table_add(t, r), VELO_OK);
    assert_int_equal(veloctl_table_render(t, true, &b), VELO_OK);
    assert_string_equal(b.data, "A      B\n"
                                "x\n");
    veloctl_table_free(t);
    velo_buf_fini(&b);
}

static void
test_render_fails_cleanly_when_out_is_full(void **state)
{
    veloctl_table  *t = NULL;
    struct velo_buf b;
    const char     *r1[] = {"Gare", "7", "ok"};

    (void)state;
    velo_buf_init(&b, 8);
    assert_int_equal(veloctl_table_new(&t, cols, 3), VELO_OK);
    assert_int_equal(veloctl_table_add(t, r1), VELO_OK);
    assert_int_equal(veloctl_table_render(t, true, &b), VELO_ETOOBIG);
    veloctl_table_free(t);
    velo_buf_fini(&b);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_clean_keeps_short_text),
        cmocka_unit_test(test_clean_cuts_on_a_character_boundary),
        cmocka_unit_test(test_clean_replaces_invalid_and_control_bytes),
        cmocka_unit_test(test_clean_respects_a_small_buffer),
        cmocka_unit_test(test_render_aligns_columns),
        cmocka_unit_test(
            test_render_has_no_trailing_spaces_and_honours_min_width),
        cmocka_unit_test(test_render_fails_cleanly_when_out_is_full),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
