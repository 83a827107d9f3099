/* ready_test.c: the ready file appears whole, or not at all. */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "velo/ready.h"

struct dir {
    char path[64];
};

static int
setup(void **state)
{
    struct dir *d = calloc(1, sizeof(*d));

    if (d == NULL)
        return -1;
    snprintf(d->path, sizeof(d->path), "/tmp/velo-ready-test-XXXXXX");
    if (mkdtemp(d->path) == NULL) {
        free(d);
        return -1;
    }
    *state = d;
    return 0;
}

/* Removes the directory's entries (files, or empty subdirectories). */
static int
teardown(void **state)
{
    struct dir    *d = *state;
    DIR           *dh = opendir(d->path);
    struct dirent *e;
    char           p[600];

    while (dh != NULL && (e = readdir(dh)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        snprintf(p, sizeof(p), "%s/%s", d->path, e->d_name);
        if (unlink(p) != 0)
            rmdir(p);
    }
    if (dh != NULL)
        closedir(dh);
    rmdir(d->path);
    free(d);
    return 0;
}

static void
file_in(void **state, const char *name, char *out, size_t size)
{
    snprintf(out, size, "%s/%s", ((struct dir *)*state)->path, name);
}

/* Reads a whole small file into buf. */
static void
slurp(const char *path, char *buf, size_t size)
{
    FILE  *f = fopen(path, "r");
    size_t n;

    assert_non_null(f);
    n = fread(buf, 1, size - 1, f);
    buf[n] = '\0';
    fclose(f);
}

/* Number of entries in the test directory. */
static int
entries(void **state)
{
    DIR           *dh = opendir(((struct dir *)*state)->path);
    struct dirent *e;
    int            n = 0;

    assert_non_null(dh);
    while ((e = readdir(dh)) != NULL)
        n += e->d_name[0] != '.';
    closedir(dh);
    return n;
}

static void
test_ready_writes_one_address_per_line(void **state)
{
    const char *lines[] = {"127.0.0.1:9101", "tcp://127.0.0.1:7701"};
    char        path[128], got[256];

    file_in(state, "ready", path, sizeof(path));
    assert_int_equal(velo_ready_write(path, lines, 2), VELO_OK);
    slurp(path, got, sizeof(got));
    assert_string_equal(got, "127.0.0.1:9101\ntcp://127.0.0.1:7701\n");
    assert_int_equal(entries(state), 1); /* no temp file left behind */
}

static void
test_ready_replaces_an_existing_file_whole(void **state)
{
    const char *first[] = {"127.0.0.1:1", "127.0.0.1:2", "127.0.0.1:3"};
    const char *second[] = {"127.0.0.1:4"};
    char        path[128], got[256];

    file_in(state, "ready", path, sizeof(path));
    assert_int_equal(velo_ready_write(path, first, 3), VELO_OK);
    assert_int_equal(velo_ready_write(path, second, 1), VELO_OK);
    slurp(path, got, sizeof(got));
    assert_string_equal(got, "127.0.0.1:4\n");
}

static void
test_ready_empty_or_null_path_is_a_noop(void **state)
{
    const char *lines[] = {"x"};

    assert_int_equal(velo_ready_write(NULL, lines, 1), VELO_OK);
    assert_int_equal(velo_ready_write("", lines, 1), VELO_OK);
    assert_int_equal(entries(state), 0);
}

static void
test_ready_unwritable_path_is_eio_and_leaves_nothing(void **state)
{
    const char *lines[] = {"127.0.0.1:1"};
    char        path[128];

    file_in(state, "missing-dir/ready", path, sizeof(path));
    assert_int_equal(velo_ready_write(path, lines, 1), VELO_EIO);
    /* rename() onto a directory fails after the temp file was written. */
    file_in(state, "adir", path, sizeof(path));
    assert_int_equal(mkdir(path, 0700), 0);
    assert_int_equal(velo_ready_write(path, lines, 1), VELO_EIO);
    assert_int_equal(entries(state), 1); /* just adir */
}

static void
test_ready_overlong_path_is_einval(void **state)
{
    const char *lines[] = {"x"};
    char       *path = malloc(5000);

    (void)state;
    assert_non_null(path);
    memset(path, 'a', 4999);
    path[4999] = '\0';
    assert_int_equal(velo_ready_write(path, lines, 1), VELO_EINVAL);
    free(path);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
        T(test_ready_writes_one_address_per_line),
        T(test_ready_replaces_an_existing_file_whole),
        T(test_ready_empty_or_null_path_is_a_noop),
        T(test_ready_unwritable_path_is_eio_and_leaves_nothing),
        T(test_ready_overlong_path_is_einval),
#undef T
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
