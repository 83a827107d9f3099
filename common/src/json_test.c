/* json_test.c: bounded parsing and typed getters. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "velo/json.h"

/* Parses a C string literal (without its NUL) or fails the test. */
static cJSON *
parse_ok(const char *s)
{
    cJSON *root = NULL;

    assert_int_equal(velo_json_parse(s, strlen(s), &root), VELO_OK);
    assert_non_null(root);
    return root;
}

static void
test_json_parse_accepts_unterminated_buffer(void **state)
{
    /* No NUL anywhere: a heap copy makes ASan catch any read past len. */
    const char src[] = "{\"a\":[1,2,3],\"b\":\"x\"}";
    size_t     len = sizeof(src) - 1;
    char      *raw = malloc(len);
    cJSON     *root = NULL;

    (void)state;
    assert_non_null(raw);
    memcpy(raw, src, len);
    assert_int_equal(velo_json_parse(raw, len, &root), VELO_OK);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(root, "a")), 3);
    cJSON_Delete(root);
    /* Only the first len bytes count: a prefix that is a whole value. */
    assert_int_equal(velo_json_parse("[1] trailing", 3, &root), VELO_OK);
    assert_true(cJSON_IsArray(root));
    cJSON_Delete(root);
    free(raw);
}

static void
test_json_parse_allows_surrounding_whitespace(void **state)
{
    cJSON *root = parse_ok(" \n\t{\"k\":1}\r\n  ");

    (void)state;
    assert_true(cJSON_IsObject(root));
    cJSON_Delete(root);
}

static void
test_json_parse_rejects_trailing_garbage_and_truncation(void **state)
{
    static const char *bad[] = {
        "{\"k\":1} x", "{\"k\":1}{}", "{\"k\":", "[1,2",  "",
        "   ",         "{'k':1}",     "nul",     "\"abc",
    };
    cJSON *root = (cJSON *)0x1;
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(velo_json_parse(bad[i], strlen(bad[i]), &root),
                         VELO_EPROTO);
    /* A NUL inside the given length is not whitespace. */
    assert_int_equal(velo_json_parse("{}\0", 3, &root), VELO_EPROTO);
    /* Cut in the middle of a value. */
    assert_int_equal(velo_json_parse("{\"k\":123}", 6, &root), VELO_EPROTO);
    assert_ptr_equal(root, (cJSON *)0x1); /* untouched on failure */
}

static void
test_json_null_is_notfound(void **state)
{
    cJSON      *o = parse_ok("{\"n\":null}");
    const char *s = "keep";
    int64_t     i = 7;
    uint32_t    u = 7;
    double      d = 7;
    bool        b = true;
    char        id[8] = "keep";

    (void)state;
    assert_int_equal(velo_json_str(o, "n", &s), VELO_ENOTFOUND);
    assert_int_equal(velo_json_i64(o, "n", &i), VELO_ENOTFOUND);
    assert_int_equal(velo_json_u32(o, "n", &u), VELO_ENOTFOUND);
    assert_int_equal(velo_json_dbl(o, "n", &d), VELO_ENOTFOUND);
    assert_int_equal(velo_json_bool(o, "n", &b), VELO_ENOTFOUND);
    assert_int_equal(velo_json_id(o, "n", id, sizeof(id)), VELO_ENOTFOUND);
    assert_int_equal(velo_json_str(o, "absent", &s), VELO_ENOTFOUND);
    assert_int_equal(velo_json_u32(NULL, "n", &u), VELO_ENOTFOUND);
    /* Outputs untouched. */
    assert_string_equal(s, "keep");
    assert_true(i == 7 && u == 7 && d == 7 && b);
    assert_string_equal(id, "keep");
    cJSON_Delete(o);
}

static void
test_json_keys_are_case_sensitive(void **state)
{
    cJSON   *o = parse_ok("{\"Capacity\":5}");
    uint32_t u;

    (void)state;
    assert_int_equal(velo_json_u32(o, "capacity", &u), VELO_ENOTFOUND);
    assert_int_equal(velo_json_u32(o, "Capacity", &u), VELO_OK);
    assert_int_equal(u, 5);
    cJSON_Delete(o);
}

static void
test_json_wrong_type_is_proto(void **state)
{
    cJSON      *o = parse_ok("{\"s\":\"12\",\"n\":12,\"b\":true,\"a\":[],"
                                  "\"o\":{}}");
    const char *s;
    int64_t     i;
    double      d;
    bool        b;

    (void)state;
    assert_int_equal(velo_json_str(o, "n", &s), VELO_EPROTO);
    assert_int_equal(velo_json_str(o, "o", &s), VELO_EPROTO);
    assert_int_equal(velo_json_i64(o, "s", &i), VELO_EPROTO);
    assert_int_equal(velo_json_i64(o, "b", &i), VELO_EPROTO);
    assert_int_equal(velo_json_dbl(o, "a", &d), VELO_EPROTO);
    assert_int_equal(velo_json_bool(o, "s", &b), VELO_EPROTO);
    assert_int_equal(velo_json_str(o, "s", &s), VELO_OK);
    assert_string_equal(s, "12");
    cJSON_Delete(o);
}

static void
test_json_integers_reject_fractions_and_out_of_range(void **state)
{
    cJSON   *o = parse_ok("{\"f\":1.5,\"neg\":-1,\"big\":4294967296,"
                            "\"max\":4294967295,\"i\":-9007199254740993,"
                            "\"huge\":1e19,\"exp\":2e3}");
    uint32_t u = 0;
    int64_t  i = 0;

    (void)state;
    assert_int_equal(velo_json_u32(o, "f", &u), VELO_EPROTO);
    assert_int_equal(velo_json_i64(o, "f", &i), VELO_EPROTO);
    assert_int_equal(velo_json_u32(o, "neg", &u), VELO_EPROTO);
    assert_int_equal(velo_json_u32(o, "big", &u), VELO_EPROTO);
    assert_int_equal(velo_json_i64(o, "huge", &i), VELO_EPROTO);
    assert_int_equal(velo_json_u32(o, "max", &u), VELO_OK);
    assert_int_equal(u, UINT32_MAX);
    assert_int_equal(velo_json_i64(o, "neg", &i), VELO_OK);
    assert_int_equal(i, -1);
    assert_int_equal(velo_json_i64(o, "i", &i), VELO_OK);
    assert_true(i < -9007199254740000LL);
    assert_int_equal(velo_json_u32(o, "exp", &u), VELO_OK);
    assert_int_equal(u, 2000);
    cJSON_Delete(o);
}

static void
test_json_i64_reads_millisecond_timestamps_exactly(void **state)
{
    cJSON  *o = parse_ok("{\"t\":1764072000123}");
    int64_t t = 0;

    (void)state;
    assert_int_equal(velo_json_i64(o, "t", &t), VELO_OK);
    assert_int_equal(t, 1764072000123LL);
    cJSON_Delete(o);
}

static void
test_json_dbl_reads_coordinates(void **state)
{
    cJSON *o = parse_ok("{\"lat\":53.349562,\"lon\":-6.278198,\"z\":0}");
    double d = 0;

    (void)state;
    assert_int_equal(velo_json_dbl(o, "lat", &d), VELO_OK);
    assert_true(d == 53.349562);
    assert_int_equal(velo_json_dbl(o, "lon", &d), VELO_OK);
    assert_true(d == -6.278198);
    assert_int_equal(velo_json_dbl(o, "z", &d), VELO_OK);
    assert_true(d == 0.0);
    cJSON_Delete(o);
}

static void
test_json_bool_accepts_true_false_and_zero_one(void **state)
{
    cJSON *o = parse_ok("{\"t\":true,\"f\":false,\"one\":1,\"zero\":0,"
                        "\"two\":2,\"s\":\"true\",\"half\":0.5}");
    bool   b;

    (void)state;
    assert_int_equal(velo_json_bool(o, "t", &b), VELO_OK);
    assert_true(b);
    assert_int_equal(velo_json_bool(o, "f", &b), VELO_OK);
    assert_false(b);
    assert_int_equal(velo_json_bool(o, "one", &b), VELO_OK);
    assert_true(b);
    assert_int_equal(velo_json_bool(o, "zero", &b), VELO_OK);
    assert_false(b);
    assert_int_equal(velo_json_bool(o, "two", &b), VELO_EPROTO);
    assert_int_equal(velo_json_bool(o, "s", &b), VELO_EPROTO);
    assert_int_equal(velo_json_bool(o, "half", &b), VELO_EPROTO);
    cJSON_Delete(o);
}

static void
test_json_id_accepts_string_or_integer(void **state)
{
    cJSON *o = parse_ok("{\"s\":\"abc-42\",\"n\":42,\"neg\":-3,\"f\":4.2,"
                        "\"b\":true,\"big\":12345678901}");
    char   id[8];

    (void)state;
    assert_int_equal(velo_json_id(o, "s", id, sizeof(id)), VELO_OK);
    assert_string_equal(id, "abc-42");
    assert_int_equal(velo_json_id(o, "n", id, sizeof(id)), VELO_OK);
    assert_string_equal(id, "42");
    assert_int_equal(velo_json_id(o, "neg", id, sizeof(id)), VELO_OK);
    assert_string_equal(id, "-3");
    assert_int_equal(velo_json_id(o, "f", id, sizeof(id)), VELO_EPROTO);
    assert_int_equal(velo_json_id(o, "b", id, sizeof(id)), VELO_EPROTO);
    assert_int_equal(velo_json_id(o, "big", id, sizeof(id)), VELO_ETOOBIG);
    assert_string_equal(id, "-3"); /* untouched */
    /* Exactly fitting: 6 chars + NUL in 7 bytes, but not in 6. */
    assert_int_equal(velo_json_id(o, "s", id, 7), VELO_OK);
    assert_int_equal(velo_json_id(o, "s", id, 6), VELO_ETOOBIG);
    cJSON_Delete(o);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_json_parse_accepts_unterminated_buffer),
        cmocka_unit_test(test_json_parse_allows_surrounding_whitespace),
        cmocka_unit_test(
            test_json_parse_rejects_trailing_garbage_and_truncation),
        cmocka_unit_test(test_json_null_is_notfound),
        cmocka_unit_test(test_json_keys_are_case_sensitive),
        cmocka_unit_test(test_json_wrong_type_is_proto),
        cmocka_unit_test(test_json_integers_reject_fractions_and_out_of_range),
        cmocka_unit_test(test_json_i64_reads_millisecond_timestamps_exactly),
        cmocka_unit_test(test_json_dbl_reads_coordinates),
        cmocka_unit_test(test_json_bool_accepts_true_false_and_zero_one),
        cmocka_unit_test(test_json_id_accepts_string_or_integer),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
