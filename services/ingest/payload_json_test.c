/* payload_json_test.c: \u0000 inside strings survives parsing as a
 * visible mark; everything else parses exactly as before. */
#include "test_util.h"

#include "payload_json.h"

static const char *
str_of(const cJSON *root, const char *key)
{
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(root, key);

    assert_true(cJSON_IsString(it));
    return it->valuestring;
}

static void
test_nul_escape_becomes_mark(void **state)
{
    static const char body[] = "{\"id\":\"4\\u0000x\",\"k\\u0000\":1,"
                               "\"lit\":\"a\\\\u0000\",\"q\":\"\\\"\\u0000\"}";
    cJSON            *root = NULL;

    (void)state;
    assert_int_equal(ingest_payload_json_parse(body, sizeof(body) - 1, &root),
                     VELO_OK);
    assert_string_equal(str_of(root, "id"), "4" INGEST_NUL_MARK "x");
    assert_string_equal(str_of(root, "lit"), "a\\u0000"); /* escaped \ */
    assert_string_equal(str_of(root, "q"), "\"" INGEST_NUL_MARK);
    assert_non_null(
        cJSON_GetObjectItemCaseSensitive(root, "k" INGEST_NUL_MARK));
    cJSON_Delete(root);
}

static void
test_plain_payload_is_untouched(void **state)
{
    static const char body[] = "{\"id\":\"u0000\",\"n\":\"\\u00e9\"}";
    cJSON            *root = NULL;

    (void)state;
    assert_int_equal(ingest_payload_json_parse(body, sizeof(body) - 1, &root),
                     VELO_OK);
    assert_string_equal(str_of(root, "id"), "u0000");
    assert_string_equal(str_of(root, "n"), "\xc3\xa9");
    cJSON_Delete(root);
}

static void
test_raw_nul_and_bad_json_are_eproto(void **state)
{
    static const char nul[] = "{\"id\":\"4\0x\"}";
    static const char cut[] = "{\"id\":\"4\\u00";
    cJSON            *root = NULL;

    (void)state;
    assert_int_equal(ingest_payload_json_parse(nul, sizeof(nul) - 1, &root),
                     VELO_EPROTO);
    assert_int_equal(ingest_payload_json_parse(cut, sizeof(cut) - 1, &root),
                     VELO_EPROTO);
    assert_null(root);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_nul_escape_becomes_mark),
        cmocka_unit_test(test_plain_payload_is_untouched),
        cmocka_unit_test(test_raw_nul_and_bad_json_are_eproto),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
