/* warehouse_cfg_test.c: the option table's defaults (DESIGN §7 ports,
 * topic, group, SQLite path) and a --db carrying a password refused
 * (exit 78 in main) without the password reaching stderr. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "warehouse_cfg.h"

static void
test_defaults(void **state)
{
    struct warehouse_cfg cfg = {0};
    char                *argv[] = {"velo-warehouse", NULL};

    (void)state;
    unsetenv("VELO_WAREHOUSE_URL");
    assert_int_equal(velo_cfg_load(&warehouse_cfg_spec, &cfg, 1, argv),
                     VELO_OK);
    assert_int_equal(cfg.common.admin_port, 9104);
    assert_string_equal(cfg.rpc_url, "tcp://127.0.0.1:7711");
    assert_string_equal(cfg.db_url, "sqlite://run/warehouse.db");
    assert_string_equal(cfg.topic, "velib_aggregates");
    assert_string_equal(cfg.dlq_topic, "velib_aggregates.dlq");
    assert_string_equal(cfg.group_id, "warehouse-loader");
    assert_non_null(strchr(cfg.instance, ':')); /* host:pid */
    velo_cfg_fini(&warehouse_cfg_spec, &cfg);
}

static void
test_password_in_url_is_refused_unprinted(void **state)
{
    struct warehouse_cfg cfg = {0};
    char  *argv[] = {"velo-warehouse", "--db", "postgresql://u:s3cr3t@h/db",
                     NULL};
    char   text[4096] = "";
    FILE  *tmp = tmpfile();
    int    saved = dup(STDERR_FILENO), rv;
    size_t n;

    (void)state;
    assert_non_null(tmp);
    fflush(stderr);
    dup2(fileno(tmp), STDERR_FILENO);
    rv = velo_cfg_load(&warehouse_cfg_spec, &cfg, 3, argv);
    fflush(stderr);
    dup2(saved, STDERR_FILENO);
    close(saved);
    assert_int_equal(rv, VELO_EINVAL);
    rewind(tmp);
    n = fread(text, 1, sizeof(text) - 1, tmp);
    text[n] = '\0';
    fclose(tmp);
    assert_non_null(strstr(text, "--db"));
    assert_null(strstr(text, "s3cr3t"));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_password_in_url_is_refused_unprinted),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
