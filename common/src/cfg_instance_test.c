/* cfg_instance_test.c: the default instance name is host:pid, and a
 * configured one is kept. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "velo/cfg.h"

static void
test_default_is_host_and_pid(void **state)
{
    const char *name = NULL, *given = "replica-a", *empty = "";
    char        buf[128], pid[32];

    (void)state;
    velo_cfg_instance_default(&name, buf, sizeof(buf));
    assert_ptr_equal(name, buf);
    snprintf(pid, sizeof(pid), ":%ld", (long)getpid());
    assert_non_null(strstr(buf, pid));
    assert_true(strlen(buf) > strlen(pid)); /* a host name before it */
    velo_cfg_instance_default(&given, buf, sizeof(buf));
    assert_string_equal(given, "replica-a");
    velo_cfg_instance_default(&empty, buf, sizeof(buf));
    assert_ptr_equal(empty, buf);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_default_is_host_and_pid),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
