/* db_mssql_live_test.c (integration.db_mssql): the velo_db contract on a
 * real SQL Server, when VELO_TEST_MSSQL names one
 * (mssql://user@host:1433/db, an empty database; password from
 * VELO_WAREHOUSE_PASSWORD or VELO_WAREHOUSE_PASSWORD_FILE). Without it the
 * test exits 77, which ctest reports as skipped: no SQL Server can run on
 * the build machines. */
#include <stdlib.h>

#include "db_test_util.h"

static void
test_mssql_conformance(void **state)
{
    struct velo_db_opts o = {0};
    char               *pw = NULL;

    (void)state;
    assert_int_equal(velo_db_password_load(&pw), VELO_OK);
    o.password = pw;
    dbt_conformance(getenv("VELO_TEST_MSSQL"), &o);
    free(pw);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mssql_conformance),
    };
    const char *url = getenv("VELO_TEST_MSSQL");

    if (url == NULL || url[0] == '\0') {
        printf("skipped: VELO_TEST_MSSQL is not set (no SQL Server here); "
               "set it to mssql://user@host:1433/emptydb to run\n");
        return 77;
    }
    return cmocka_run_group_tests(tests, NULL, NULL);
}
