/* jsonw_test.c: the JSON writer: commas, escaping, the UTF-8 policy,
 * bounds, sticky errors and rewinds. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "velo/json.h"
#include "velo/jsonw.h"
#include "velo/utf8.h"

/* Writes s as the only value into a fresh buffer of max bytes. */
static int
write_str(struct velo_buf *b, size_t max, const char *s)
{
    struct velo_jsonw w;

    velo_buf_init(b, max);
    velo_jsonw_init(&w, b);
    velo_jsonw_str(&w, s);
    return velo_jsonw_finish(&w);
}

/* Escapes s, parses the result back and checks it is s again. */
static void
assert_round_trip(const char *s)
{
    struct velo_buf b;
    cJSON          *v = NULL;

    assert_int_equal(write_str(&b, 4096, s), VELO_OK);
    assert_int_equal(velo_json_parse(b.data, b.len, &v), VELO_OK);
    assert_true(cJSON_IsString(v));
    assert_string_equal(v->valuestring, s);
    cJSON_Delete(v);
    velo_buf_fini(&b);
}

static void
test_jsonw_writes_nested_document_with_commas(void **state)
{
    struct velo_buf   b;
    struct velo_jsonw w;

    (void)state;
    velo_buf_init(&b, 4096);
    velo_jsonw_init(&w, &b);
    velo_jsonw_obj_begin(&w);
    velo_jsonw_key(&w, "a");
    velo_jsonw_i64(&w, -3);
    velo_jsonw_key(&w, "l");
    velo_jsonw_arr_begin(&w);
    velo_jsonw_u64(&w, UINT64_MAX);
    velo_jsonw_dbl(&w, 41.7);
    velo_jsonw_dbl(&w, NAN);
    velo_jsonw_dbl(&w, INFINITY);
    velo_jsonw_obj_begin(&w);
    velo_jsonw_obj_end(&w);
    velo_jsonw_arr_begin(&w);
    velo_jsonw_arr_end(&w);
    velo_jsonw_bool(&w, true);
    velo_jsonw_null(&w);
    velo_jsonw_str(&w, NULL);
    velo_jsonw_arr_end(&w);
    velo_jsonw_key(&w, "r");
    velo_jsonw_raw(&w, "{\"x\":[1]}", 9);
    velo_jsonw_obj_end(&w);
    assert_int_equal(velo_jsonw_finish(&w), VELO_OK);
    assert_string_equal(b.data, "{\"a\":-3,\"l\":[18446744073709551615,41.7,"
                                "null,null,{},[],true,null,null],"
                                "\"r\":{\"x\":[1]}}");
    velo_buf_fini(&b);
}

static void
test_jsonw_escapes_per_rfc8259(void **state)
{
    struct velo_buf b;

    (void)state;
    assert_int_equal(write_str(&b, 4096, "a\"b\\c\n\t\x01\x1f/\x7f"), VELO_OK);
    assert_string_equal(b.data,
                        "\"a\\\"b\\\\c\\u000a\\u0009\\u0001\\u001f/\x7f\"");
    velo_buf_fini(&b);
    assert_int_equal(write_str(&b, 4096, ""), VELO_OK);
    assert_string_equal(b.data, "\"\"");
    velo_buf_fini(&b);
    assert_round_trip("Gare de l'Est \"Nord\" \\ \r\n\b\f end");
}

static void
test_jsonw_strn_escapes_embedded_nul(void **state)
{
    struct velo_buf   b;
    struct velo_jsonw w;

    (void)state;
    velo_buf_init(&b, 64);
    velo_jsonw_init(&w, &b);
    velo_jsonw_strn(&w, "a\0b", 3);
    assert_int_equal(velo_jsonw_finish(&w), VELO_OK);
    assert_string_equal(b.data, "\"a\\u0000b\"");
    velo_buf_fini(&b);
}

static void
test_jsonw_passes_utf8_through(void **state)
{
    struct velo_buf b;
    const char     *s =
        "Place de la R\xc3\xa9publique \xe2\x82\xac \xf0\x9f\x9a\xb2";

    (void)state;
    assert_int_equal(write_str(&b, 4096, s), VELO_OK);
    assert_int_equal(b.len, strlen(s) + 2);
    assert_memory_equal(b.data + 1, s, strlen(s));
    velo_buf_fini(&b);
    assert_round_trip(s);
}

static void
test_jsonw_replaces_invalid_utf8_in_values_and_keys(void **state)
{
    static const struct {
        const char *in, *out;
    } cases[] = {
        {"a\xff"
         "b",
         "\"a\xef\xbf\xbd"
         "b\""},                                      /* stray byte */
        {"\xc3", "\"\xef\xbf\xbd\""},                 /* cut at end */
        {"\xc0\xaf", "\"\xef\xbf\xbd\xef\xbf\xbd\""}, /* overlong */
        {"\xed\xa0\x80", "\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\""},
        {"\xf4\x90\x80\x80x", /* > U+10FFFF */
         "\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbdx\""},
        {"ok \xc3\xa9", "\"ok \xc3\xa9\""}, /* valid */
    };
    struct velo_buf   b;
    struct velo_jsonw w;
    size_t            i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        assert_int_equal(write_str(&b, 4096, cases[i].in), VELO_OK);
        assert_string_equal(b.data, cases[i].out);
        velo_buf_fini(&b);
    }
    velo_buf_init(&b, 4096);
    velo_jsonw_init(&w, &b);
    velo_jsonw_obj_begin(&w);
    velo_jsonw_key(&w, "k\xfe");
    velo_jsonw_i64(&w, 1);
    velo_jsonw_obj_end(&w);
    assert_int_equal(velo_jsonw_finish(&w), VELO_OK);
    assert_string_equal(b.data, "{\"k\xef\xbf\xbd\":1}");
    velo_buf_fini(&b);
}

/* A 4-byte character straddles the limit: the cut lands before it, and
 * the output is valid UTF-8 and valid JSON. */
static void
test_jsonw_str_fit_cuts_on_character_boundary(void **state)
{
    const char        s[] = "ab\xff\xf0\x9f\x9a\xb2xyz";
    struct velo_buf   b;
    struct velo_jsonw w;
    cJSON            *v = NULL;
    bool              cut = false;

    (void)state;
    /* "ab" + U+FFFD = 5 bytes of body; the bicycle needs 4 more, the
     * quotes 2: a max of 10 leaves room for 8 bytes of body. */
    velo_buf_init(&b, 10);
    velo_jsonw_init(&w, &b);
    velo_jsonw_str_fit(&w, s, sizeof(s) - 1, &cut);
    assert_int_equal(velo_jsonw_finish(&w), VELO_OK);
    assert_true(cut);
    assert_string_equal(b.data, "\"ab\xef\xbf\xbd\"");
    assert_true(velo_utf8_valid(b.data, b.len));
    assert_int_equal(velo_json_parse(b.data, b.len, &v), VELO_OK);
    cJSON_Delete(v);
    velo_buf_fini(&b);

    /* Everything fits: not cut. */
    velo_buf_init(&b, 64);
    velo_jsonw_init(&w, &b);
    velo_jsonw_str_fit(&w, s, sizeof(s) - 1, &cut);
    assert_int_equal(velo_jsonw_finish(&w), VELO_OK);
    assert_false(cut);
    assert_string_equal(b.data, "\"ab\xef\xbf\xbd\xf0\x9f\x9a\xb2xyz\"");
    velo_buf_fini(&b);

    /* An escape is never split either. */
    velo_buf_init(&b, 7);
    velo_jsonw_init(&w, &b);
    velo_jsonw_str_fit(&w, "a\nb", 3, &cut);
    assert_int_equal(velo_jsonw_finish(&w), VELO_OK);
    assert_true(cut);
    assert_string_equal(b.data, "\"a\"");
    velo_buf_fini(&b);
}

static void
test_jsonw_over_limit_rolls_back_whole_value(void **state)
{
    struct velo_buf   b;
    struct velo_jsonw w;

    (void)state;
    velo_buf_init(&b, 12);
    assert_int_equal(velo_buf_puts(&b, "x="), VELO_OK);
    velo_jsonw_init(&w, &b);
    velo_jsonw_arr_begin(&w);
    velo_jsonw_i64(&w, 1);
    /* Escaping makes this "ab\u000acd": over the limit. */
    velo_jsonw_str(&w, "ab\ncd");
    velo_jsonw_i64(&w, 2); /* no-op after the error */
    velo_jsonw_arr_end(&w);
    assert_int_equal(velo_jsonw_finish(&w), VELO_ETOOBIG);
    assert_int_equal(b.len, 2);
    assert_string_equal(b.data, "x=");
    velo_buf_fini(&b);
}

static void
test_jsonw_misuse_is_einval(void **state)
{
    struct velo_buf   b;
    struct velo_jsonw w;

    (void)state;
    velo_buf_init(&b, 64);
    velo_jsonw_init(&w, &b); /* nothing written */
    assert_int_equal(velo_jsonw_finish(&w), VELO_EINVAL);
    velo_jsonw_init(&w, &b); /* left open */
    velo_jsonw_obj_begin(&w);
    assert_int_equal(velo_jsonw_finish(&w), VELO_EINVAL);
    velo_jsonw_init(&w, &b); /* value without key */
    velo_jsonw_obj_begin(&w);
    velo_jsonw_i64(&w, 1);
    assert_int_equal(velo_jsonw_finish(&w), VELO_EINVAL);
    velo_jsonw_init(&w, &b); /* key in an array */
    velo_jsonw_arr_begin(&w);
    velo_jsonw_key(&w, "k");
    assert_int_equal(velo_jsonw_finish(&w), VELO_EINVAL);
    velo_jsonw_init(&w, &b); /* mismatched end */
    velo_jsonw_arr_begin(&w);
    velo_jsonw_obj_end(&w);
    assert_int_equal(velo_jsonw_finish(&w), VELO_EINVAL);
    velo_jsonw_init(&w, &b); /* two top-level values */
    velo_jsonw_i64(&w, 1);
    velo_jsonw_i64(&w, 2);
    assert_int_equal(velo_jsonw_finish(&w), VELO_EINVAL);
    assert_int_equal(b.len, 0);
    velo_buf_fini(&b);
}

static void
test_jsonw_raw_rejects_invalid_text(void **state)
{
    static const char *bad[] = {"", "{", "1 2", "\"\xff\"", "nul"};
    struct velo_buf    b;
    struct velo_jsonw  w;
    size_t             i;

    (void)state;
    velo_buf_init(&b, 64);
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        velo_jsonw_init(&w, &b);
        velo_jsonw_raw(&w, bad[i], strlen(bad[i]));
        assert_int_equal(velo_jsonw_finish(&w), VELO_EPROTO);
    }
    velo_buf_fini(&b);
}

static void
test_jsonw_depth_is_bounded(void **state)
{
    struct velo_buf   b;
    struct velo_jsonw w;
    int               i;

    (void)state;
    velo_buf_init(&b, 4096);
    velo_jsonw_init(&w, &b);
    for (i = 0; i <= VELO_JSONW_MAX_DEPTH; i++)
        velo_jsonw_arr_begin(&w);
    assert_int_equal(velo_jsonw_finish(&w), VELO_ETOOBIG);
    velo_buf_fini(&b);
}

/* A member that does not fit is dropped whole and the writer goes on. */
static void
test_jsonw_rewind_drops_member_and_continues(void **state)
{
    struct velo_buf        b;
    struct velo_jsonw      w;
    struct velo_jsonw_mark m;

    (void)state;
    velo_buf_init(&b, 20);
    velo_jsonw_init(&w, &b);
    velo_jsonw_obj_begin(&w);
    velo_jsonw_key(&w, "a");
    velo_jsonw_i64(&w, 1);
    m = velo_jsonw_mark(&w);
    velo_jsonw_key(&w, "long");
    velo_jsonw_str(&w, "far too long for this");
    assert_int_equal(velo_jsonw_status(&w), VELO_ETOOBIG);
    velo_jsonw_rewind(&w, &m);
    velo_jsonw_key(&w, "b");
    velo_jsonw_i64(&w, 2);
    velo_jsonw_obj_end(&w);
    assert_int_equal(velo_jsonw_finish(&w), VELO_OK);
    assert_string_equal(b.data, "{\"a\":1,\"b\":2}");
    velo_buf_fini(&b);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_jsonw_writes_nested_document_with_commas),
        cmocka_unit_test(test_jsonw_escapes_per_rfc8259),
        cmocka_unit_test(test_jsonw_strn_escapes_embedded_nul),
        cmocka_unit_test(test_jsonw_passes_utf8_through),
        cmocka_unit_test(test_jsonw_replaces_invalid_utf8_in_values_and_keys),
        cmocka_unit_test(test_jsonw_str_fit_cuts_on_character_boundary),
        cmocka_unit_test(test_jsonw_over_limit_rolls_back_whole_value),
        cmocka_unit_test(test_jsonw_misuse_is_einval),
        cmocka_unit_test(test_jsonw_raw_rejects_invalid_text),
        cmocka_unit_test(test_jsonw_depth_is_bounded),
        cmocka_unit_test(test_jsonw_rewind_drops_member_and_continues),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
