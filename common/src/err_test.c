/* err_test.c: every code has a distinct name; retry advice is right. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "velo/err.h"

static void
test_err_every_code_has_a_distinct_name(void **state)
{
    int i, j;

    (void)state;
    for (i = VELO_OK; i <= VELO_CFG_HELP; i++) {
        assert_non_null(velo_strerror(i));
        assert_string_not_equal(velo_strerror(i), "unknown error");
        for (j = VELO_OK; j < i; j++)
            assert_string_not_equal(velo_strerror(i), velo_strerror(j));
    }
    assert_string_equal(velo_strerror(VELO_OK), "ok");
}

static void
test_err_unknown_code_is_never_null(void **state)
{
    (void)state;
    assert_string_equal(velo_strerror(VELO_CFG_HELP + 1), "unknown error");
    assert_string_equal(velo_strerror(-1), "unknown error");
}

static void
test_err_only_transient_errors_are_retryable(void **state)
{
    int i;

    (void)state;
    for (i = VELO_OK; i <= VELO_CFG_HELP; i++) {
        bool want =
            i == VELO_EUNAVAIL || i == VELO_ETIMEDOUT || i == VELO_EFULL;
        if (velo_err_retryable(i) != want)
            fail_msg("retryable(%s) should be %d", velo_strerror(i), want);
    }
    assert_false(velo_err_retryable(-1));
}

static void
test_err_exit_config_is_sysexits_ex_config(void **state)
{
    (void)state;
    assert_int_equal(VELO_EXIT_CONFIG, 78);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_err_every_code_has_a_distinct_name),
        cmocka_unit_test(test_err_unknown_code_is_never_null),
        cmocka_unit_test(test_err_only_transient_errors_are_retryable),
        cmocka_unit_test(test_err_exit_config_is_sysexits_ex_config),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
