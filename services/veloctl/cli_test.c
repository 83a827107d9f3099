/* cli_test.c: veloctl's exit status and messages for help and usage
 * errors, through veloctl_main (what main() runs). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "call.h"
#include "cli.h"

struct run {
    int    status;
    char  *out, *err;
    size_t out_len, err_len;
};

/* Runs veloctl with a NULL-terminated argv (program name added). */
static void
run(struct run *r, const char *const *args)
{
    char *argv[16];
    FILE *out, *err;
    int   argc = 1;

    argv[0] = "veloctl";
    while (args[argc - 1] != NULL) {
        argv[argc] = (char *)args[argc - 1];
        argc++;
    }
    argv[argc] = NULL;
    out = open_memstream(&r->out, &r->out_len);
    err = open_memstream(&r->err, &r->err_len);
    assert_true(out != NULL && err != NULL);
    r->status = veloctl_main(argc, argv, NULL, NULL, out, err);
    assert_int_equal(fclose(out), 0);
    assert_int_equal(fclose(err), 0);
}

#define RUN(r, ...) run(r, (const char *const[]){__VA_ARGS__, NULL})

static void
run_free(struct run *r)
{
    free(r->out);
    free(r->err);
}

/* Exit 2, nothing on stdout, the reason then the short usage on stderr. */
static void
assert_usage_error(const struct run *r, const char *reason)
{
    char want[256];

    assert_int_equal(r->status, VELOCTL_EXIT_USAGE);
    assert_int_equal(r->out_len, 0);
    snprintf(want, sizeof(want), "veloctl: %s\nusage: veloctl ", reason);
    if (strncmp(r->err, want, strlen(want)) != 0)
        fail_msg("stderr \"%s\" does not start with \"%s\"", r->err, want);
    assert_non_null(strstr(r->err, "Try 'veloctl --help'"));
}

static void
test_bad_flags_exit_2_with_reason_and_usage(void **state)
{
    struct run r;

    (void)state;
    RUN(&r, "systems", "--frobnicate");
    assert_usage_error(&r, "unknown option --frobnicate");
    run_free(&r);
    RUN(&r, "--json=yes", "systems");
    assert_usage_error(&r, "--json takes no value");
    run_free(&r);
    RUN(&r, "stations", "--limit");
    assert_usage_error(&r, "--limit needs a value");
    run_free(&r);
    RUN(&r, "stations", "--limit", "0");
    assert_usage_error(&r, "--limit: expected a whole number from 1 to 5000, "
                           "got \"0\"");
    run_free(&r);
    RUN(&r, "health", "--count", "1");
    assert_usage_error(&r, "--count does not apply to health");
    run_free(&r);
    RUN(&r, "-x", "systems");
    assert_usage_error(&r, "unknown option -x");
    run_free(&r);
    RUN(&r, "stats");
    assert_usage_error(&r, "unknown command \"stats\"");
    run_free(&r);
}

static void
test_help_exits_0_with_usage_on_stdout(void **state)
{
    struct run r;

    (void)state;
    RUN(&r, "watch", "--bogus", "--help");
    assert_int_equal(r.status, VELOCTL_EXIT_OK);
    assert_int_equal(r.err_len, 0);
    assert_non_null(strstr(r.out, "global options:"));
    assert_non_null(strstr(r.out, "--timeout-s S"));
    run_free(&r);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bad_flags_exit_2_with_reason_and_usage),
        cmocka_unit_test(test_help_exits_0_with_usage_on_stdout),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
