/* parse_test.c: strict numbers: no junk, no overflow, *out untouched. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "velo/parse.h"

/* Inputs no number parser may accept. */
static const char *const junk[] = {
    "",   " ",  " 1",   "1 ",  "\t1", "\n1", "1\n",
    "1x", "x1", "0x10", "1,5", "--1", "1e",  "one",
};

static void
test_parse_u32_accepts_full_range(void **state)
{
    uint32_t v = 0;

    (void)state;
    assert_int_equal(velo_parse_u32("0", &v), VELO_OK);
    assert_int_equal(v, 0);
    assert_int_equal(velo_parse_u32("4294967295", &v), VELO_OK);
    assert_int_equal(v, UINT32_MAX);
    assert_int_equal(velo_parse_u32("007", &v), VELO_OK);
    assert_int_equal(v, 7);
}

static void
test_parse_u32_rejects_overflow_sign_and_junk(void **state)
{
    uint32_t v = 123;
    size_t   i;

    (void)state;
    assert_int_equal(velo_parse_u32("4294967296", &v), VELO_EINVAL);
    assert_int_equal(velo_parse_u32("-1", &v), VELO_EINVAL);
    assert_int_equal(velo_parse_u32("+1", &v), VELO_EINVAL);
    assert_int_equal(velo_parse_u32(NULL, &v), VELO_EINVAL);
    for (i = 0; i < sizeof(junk) / sizeof(junk[0]); i++)
        assert_int_equal(velo_parse_u32(junk[i], &v), VELO_EINVAL);
    assert_int_equal(v, 123);
}

static void
test_parse_u64_rejects_overflow(void **state)
{
    uint64_t v = 9;

    (void)state;
    assert_int_equal(velo_parse_u64("18446744073709551615", &v), VELO_OK);
    assert_true(v == UINT64_MAX);
    v = 9;
    assert_int_equal(velo_parse_u64("18446744073709551616", &v), VELO_EINVAL);
    assert_int_equal(velo_parse_u64("-0", &v), VELO_EINVAL);
    assert_true(v == 9);
}

static void
test_parse_i64_accepts_negative_and_limits(void **state)
{
    int64_t v = 0;

    (void)state;
    assert_int_equal(velo_parse_i64("-42", &v), VELO_OK);
    assert_int_equal(v, -42);
    assert_int_equal(velo_parse_i64("9223372036854775807", &v), VELO_OK);
    assert_true(v == INT64_MAX);
    assert_int_equal(velo_parse_i64("-9223372036854775808", &v), VELO_OK);
    assert_true(v == INT64_MIN);
}

static void
test_parse_i64_rejects_leading_whitespace_overflow_and_junk(void **state)
{
    int64_t v = 5;
    size_t  i;

    (void)state;
    assert_int_equal(velo_parse_i64("9223372036854775808", &v), VELO_EINVAL);
    assert_int_equal(velo_parse_i64("-9223372036854775809", &v), VELO_EINVAL);
    assert_int_equal(velo_parse_i64("-", &v), VELO_EINVAL);
    assert_int_equal(velo_parse_i64("+1", &v), VELO_EINVAL);
    for (i = 0; i < sizeof(junk) / sizeof(junk[0]); i++)
        assert_int_equal(velo_parse_i64(junk[i], &v), VELO_EINVAL);
    assert_int_equal(v, 5);
}

static void
test_parse_double_accepts_decimals_and_exponents(void **state)
{
    double v = 0;

    (void)state;
    assert_int_equal(velo_parse_double("53.349562", &v), VELO_OK);
    assert_true(v == 53.349562);
    assert_int_equal(velo_parse_double("-6.2", &v), VELO_OK);
    assert_true(v == -6.2);
    assert_int_equal(velo_parse_double("1e3", &v), VELO_OK);
    assert_true(v == 1000.0);
    assert_int_equal(velo_parse_double(".5", &v), VELO_OK);
    assert_true(v == 0.5);
}

static void
test_parse_double_rejects_nonfinite_overflow_and_junk(void **state)
{
    static const char *const bad[] = {"nan",      "NaN",   "inf",   "-inf",
                                      "infinity", "1e999", "-1e999"};
    double                   v = 7.5;
    size_t                   i;

    (void)state;
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(velo_parse_double(bad[i], &v), VELO_EINVAL);
    for (i = 0; i < sizeof(junk) / sizeof(junk[0]); i++) {
        if (junk[i][0] == '0') /* "0x10" is a hex float to strtod */
            continue;
        assert_int_equal(velo_parse_double(junk[i], &v), VELO_EINVAL);
    }
    assert_true(v == 7.5);
}

static void
test_parse_bool_accepts_the_usual_words_in_any_case(void **state)
{
    static const char *const yes[] = {"true", "TRUE", "1", "yes", "On"};
    static const char *const no[] = {"false", "False", "0", "NO", "off"};
    bool                     v;
    size_t                   i;

    (void)state;
    for (i = 0; i < 5; i++) {
        v = false;
        assert_int_equal(velo_parse_bool(yes[i], &v), VELO_OK);
        assert_true(v);
        v = true;
        assert_int_equal(velo_parse_bool(no[i], &v), VELO_OK);
        assert_false(v);
    }
    v = true;
    assert_int_equal(velo_parse_bool("", &v), VELO_EINVAL);
    assert_int_equal(velo_parse_bool("2", &v), VELO_EINVAL);
    assert_int_equal(velo_parse_bool("truex", &v), VELO_EINVAL);
    assert_int_equal(velo_parse_bool(" true", &v), VELO_EINVAL);
    assert_int_equal(velo_parse_bool(NULL, &v), VELO_EINVAL);
    assert_true(v);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_u32_accepts_full_range),
        cmocka_unit_test(test_parse_u32_rejects_overflow_sign_and_junk),
        cmocka_unit_test(test_parse_u64_rejects_overflow),
        cmocka_unit_test(test_parse_i64_accepts_negative_and_limits),
        cmocka_unit_test(
            test_parse_i64_rejects_leading_whitespace_overflow_and_junk),
        cmocka_unit_test(test_parse_double_accepts_decimals_and_exponents),
        cmocka_unit_test(test_parse_double_rejects_nonfinite_overflow_and_junk),
        cmocka_unit_test(test_parse_bool_accepts_the_usual_words_in_any_case),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
