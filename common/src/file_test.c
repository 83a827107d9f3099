/* file_test.c: bounded whole-file reads. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "velo/file.h"

static void
write_tmp(char *path, const char *content)
{
    int   fd = mkstemp(path);
    FILE *f;

    assert_true(fd >= 0);
    f = fdopen(fd, "w");
    assert_non_null(f);
    fputs(content, f);
    fclose(f);
}

static void
test_file_read_whole_file_with_nul(void **state)
{
    char   path[] = "/tmp/velo-file-test-XXXXXX";
    char  *p = NULL;
    size_t n = 0;

    (void)state;
    write_tmp(path, "hello, bikes");
    assert_int_equal(velo_file_read(path, 12, &p, &n), VELO_OK);
    assert_int_equal(n, 12);
    assert_string_equal(p, "hello, bikes");
    free(p);
    unlink(path);
}

static void
test_file_read_over_max_is_etoobig_and_untouched(void **state)
{
    char   path[] = "/tmp/velo-file-test-XXXXXX";
    char  *p = (char *)"unchanged";
    size_t n = 7;

    (void)state;
    write_tmp(path, "hello, bikes");
    assert_int_equal(velo_file_read(path, 11, &p, &n), VELO_ETOOBIG);
    assert_string_equal(p, "unchanged");
    assert_int_equal(n, 7);
    unlink(path);
}

static void
test_file_read_missing_or_directory_is_eio(void **state)
{
    char  *p = NULL;
    size_t n;

    (void)state;
    assert_int_equal(velo_file_read("/nonexistent/x", 100, &p, &n), VELO_EIO);
    assert_int_equal(velo_file_read("/tmp", 100, &p, &n), VELO_EIO);
    assert_null(p);
}

static void
test_file_read_empty_file_is_empty_string(void **state)
{
    char   path[] = "/tmp/velo-file-test-XXXXXX";
    char  *p = NULL;
    size_t n = 99;

    (void)state;
    write_tmp(path, "");
    assert_int_equal(velo_file_read(path, 10, &p, &n), VELO_OK);
    assert_int_equal(n, 0);
    assert_string_equal(p, "");
    free(p);
    unlink(path);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_file_read_whole_file_with_nul),
        cmocka_unit_test(test_file_read_over_max_is_etoobig_and_untouched),
        cmocka_unit_test(test_file_read_missing_or_directory_is_eio),
        cmocka_unit_test(test_file_read_empty_file_is_empty_string),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
