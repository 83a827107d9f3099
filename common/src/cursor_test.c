/* cursor_test.c: keyset cursors round-trip exactly and reject anything
 * they did not write. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "velo/cursor.h"

static void
test_round_trip_keeps_number_bits_and_parts(void **state)
{
    const struct velo_cursor c = {
        .has_num = true,
        .num = 1234.5678901234567,
        .nparts = 2,
        .parts = {"jcdecaux:dublin", "St\xc3\xa9phane/42"},
    };
    char               text[VELO_CURSOR_TEXT_MAX], buf[VELO_CURSOR_TEXT_MAX];
    struct velo_cursor d;
    size_t             i;

    (void)state;
    assert_int_equal(velo_cursor_encode(&c, text, sizeof(text)), VELO_OK);
    for (i = 0; text[i] != '\0'; i++) /* URL- and JSON-safe */
        assert_non_null(strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrs"
                               "tuvwxyz0123456789-_",
                               text[i]));
    assert_int_equal(velo_cursor_decode(&d, text, buf), VELO_OK);
    assert_true(d.has_num);
    assert_memory_equal(&d.num, &c.num, sizeof(d.num));
    assert_int_equal(d.nparts, 2);
    assert_string_equal(d.parts[0], "jcdecaux:dublin");
    assert_string_equal(d.parts[1], "St\xc3\xa9phane/42");
}

static void
test_longest_cursor_fits_the_text_max(void **state)
{
    static char        part[VELO_CURSOR_PART_MAX + 2];
    char               text[VELO_CURSOR_TEXT_MAX], buf[VELO_CURSOR_TEXT_MAX];
    struct velo_cursor c = {.has_num = true, .num = -0.0, .nparts = 3};
    struct velo_cursor d;

    (void)state;
    memset(part, 'x', VELO_CURSOR_PART_MAX);
    c.parts[0] = c.parts[1] = c.parts[2] = part;
    assert_int_equal(velo_cursor_encode(&c, text, sizeof(text)), VELO_OK);
    assert_int_equal(velo_cursor_decode(&d, text, buf), VELO_OK);
    assert_int_equal(strlen(d.parts[2]), VELO_CURSOR_PART_MAX);
    part[VELO_CURSOR_PART_MAX] = 'x'; /* one byte over */
    assert_int_equal(velo_cursor_encode(&c, text, sizeof(text)), VELO_ETOOBIG);
    assert_int_equal(velo_cursor_encode(&c, text, 8), VELO_ETOOBIG);
}

static void
test_bad_cursors_are_einval(void **state)
{
    const struct velo_cursor c = {.nparts = 2, .parts = {"sys", "12"}};
    char               text[VELO_CURSOR_TEXT_MAX], buf[VELO_CURSOR_TEXT_MAX];
    char               bad[VELO_CURSOR_TEXT_MAX + 10];
    struct velo_cursor d = {.nparts = 99};
    size_t             n;

    (void)state;
    assert_int_equal(velo_cursor_encode(&c, text, sizeof(text)), VELO_OK);
    n = strlen(text);
    assert_int_equal(velo_cursor_decode(&d, "", buf), VELO_EINVAL);
    assert_int_equal(velo_cursor_decode(&d, "100", buf), VELO_EINVAL);
    assert_int_equal(velo_cursor_decode(&d, "a+b/c=", buf), VELO_EINVAL);
    memcpy(bad, text, n + 1);
    bad[n - 1] = '\0'; /* cut */
    assert_int_equal(velo_cursor_decode(&d, bad, buf), VELO_EINVAL);
    memcpy(bad, text, n + 1);
    bad[n / 2] = bad[n / 2] == 'A' ? 'B' : 'A'; /* edited */
    assert_int_equal(velo_cursor_decode(&d, bad, buf), VELO_EINVAL);
    memset(bad, 'A', sizeof(bad) - 1); /* too long */
    bad[sizeof(bad) - 1] = '\0';
    assert_int_equal(velo_cursor_decode(&d, bad, buf), VELO_EINVAL);
    assert_int_equal(d.nparts, 99); /* untouched on failure */
}

static void
test_encode_rejects_nan_and_too_many_parts(void **state)
{
    char               text[VELO_CURSOR_TEXT_MAX];
    struct velo_cursor c = {.has_num = true, .num = 0.0};

    (void)state;
    c.num = c.num / c.num; /* NaN without <math.h> */
    assert_int_equal(velo_cursor_encode(&c, text, sizeof(text)), VELO_EINVAL);
    c.has_num = false;
    c.nparts = VELO_CURSOR_PARTS + 1;
    assert_int_equal(velo_cursor_encode(&c, text, sizeof(text)), VELO_EINVAL);
    c.nparts = 1; /* parts[0] NULL */
    assert_int_equal(velo_cursor_encode(&c, text, sizeof(text)), VELO_EINVAL);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip_keeps_number_bits_and_parts),
        cmocka_unit_test(test_longest_cursor_fits_the_text_max),
        cmocka_unit_test(test_bad_cursors_are_einval),
        cmocka_unit_test(test_encode_rejects_nan_and_too_many_parts),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
