/* source_spec_test.c: source spec parsing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <string.h>

#include "source_spec.h"

static void
test_source_jcdecaux_contract_comes_from_system_id(void **state)
{
    struct ingest_source_spec s;
    char                      err[256];

    (void)state;
    assert_int_equal(ingest_source_spec_parse(
                         "jcdecaux:dublin=jcdecaux-v3:https://api.jcdecaux.com",
                         &s, err, sizeof(err)),
                     VELO_OK);
    assert_string_equal(s.system_id, "jcdecaux:dublin");
    assert_int_equal(s.kind, INGEST_JCDECAUX_V3);
    assert_string_equal(s.url, "https://api.jcdecaux.com");
    assert_string_equal(s.contract, "dublin");
    assert_false(s.has_interval);
    ingest_source_spec_fini(&s);
}

static void
test_source_options_after_comma(void **state)
{
    struct ingest_source_spec s;
    char                      err[256];

    (void)state;
    assert_int_equal(
        ingest_source_spec_parse("gbfs:lyon=gbfs:https://x.example/gbfs.json,"
                                 "interval=30,lang=fr",
                                 &s, err, sizeof(err)),
        VELO_OK);
    assert_int_equal(s.kind, INGEST_GBFS);
    assert_string_equal(s.url, "https://x.example/gbfs.json");
    assert_true(s.has_interval);
    assert_int_equal(s.interval_ms, 30000);
    assert_string_equal(s.lang, "fr");
    assert_null(s.contract);
    ingest_source_spec_fini(&s);
}

static void
test_source_url_keeps_its_colons(void **state)
{
    struct ingest_source_spec s;
    char                      err[256];

    (void)state;
    assert_int_equal(ingest_source_spec_parse("a:b=replay:/tmp/x:y,loop=1", &s,
                                              err, sizeof(err)),
                     VELO_OK);
    assert_string_equal(s.url, "/tmp/x:y");
    assert_true(s.loop);
    ingest_source_spec_fini(&s);
    assert_int_equal(ingest_source_spec_parse("a:b=replay:/x,interval=0.05", &s,
                                              err, sizeof(err)),
                     VELO_OK);
    assert_int_equal(s.interval_ms, 50);
    ingest_source_spec_fini(&s);
}

static void
expect_bad(const char *spec, const char *needle)
{
    struct ingest_source_spec s;
    char                      err[256] = "";

    assert_int_equal(ingest_source_spec_parse(spec, &s, err, sizeof(err)),
                     VELO_EINVAL);
    if (strstr(err, needle) == NULL)
        fail_msg("error for '%s' was '%s', wanted '%s'", spec, err, needle);
}

static void
test_source_bad_specs_say_why(void **state)
{
    (void)state;
    expect_bad("no-equals-sign", "SYSTEM_ID=KIND:URL");
    expect_bad("=gbfs:http://x", "SYSTEM_ID=KIND:URL");
    expect_bad("a b=gbfs:http://x", "SYSTEM_ID=KIND:URL");
    expect_bad("x:y=ftp:http://x", "kind must be");
    expect_bad("x:y=gbfs:", "missing URL");
    expect_bad("x:y=gbfs:http://x,interval=abc", "interval");
    expect_bad("x:y=gbfs:http://x,interval=-5", "interval");
    expect_bad("x:y=gbfs:http://x,colour=red", "unknown source option");
    expect_bad("x:y=gbfs:http://x,loop", "key=value");
    expect_bad("x:y=simulate:f,speed=0", "speed");
}

static void
test_source_bad_urls_are_config_errors(void **state)
{
    (void)state;
    expect_bad("x:y=gbfs:file:///etc/passwd", "http:// or https://");
    expect_bad("x:y=gbfs:gopher://h/gbfs.json", "http:// or https://");
    expect_bad("x:y=jcdecaux-v3:ftp://api.jcdecaux.com", "http:// or https://");
    expect_bad("x:y=gbfs:http:///gbfs.json", "no host");
    expect_bad("x:y=jcdecaux-v3:https://api.jcdecaux.com?q=1#frag",
               "query or fragment");
    expect_bad("x:y=jcdecaux-v1:https://api.jcdecaux.com/?apiKey=x", "query");
    expect_bad("x:y=gbfs:https://h/gbfs.json#x", "fragment");
    expect_bad("x:y=gbfs:https://h/gbfs.json,allow=a/b", "allow");
}

static void
test_source_allow_list(void **state)
{
    struct ingest_source_spec s;
    char                      err[256];

    (void)state;
    assert_int_equal(
        ingest_source_spec_parse("g:x=GBFS:HTTPS://h/gbfs.json?token=1,"
                                 "allow=feeds.internal;10.0.0.7:8080",
                                 &s, err, sizeof(err)),
        VELO_EINVAL); /* kind names are lower case */
    assert_int_equal(
        ingest_source_spec_parse("g:x=gbfs:HTTPS://h/gbfs.json?token=1,"
                                 "allow=feeds.internal;10.0.0.7:8080",
                                 &s, err, sizeof(err)),
        VELO_OK);
    assert_int_equal(s.nallow, 2);
    assert_string_equal(s.allow[0], "feeds.internal");
    assert_string_equal(s.allow[1], "10.0.0.7:8080");
    ingest_source_spec_fini(&s);
}

static void
test_source_virtual_time_options(void **state)
{
    struct ingest_source_spec s;
    char                      err[256];

    (void)state;
    assert_int_equal(
        ingest_source_spec_parse("s:x=simulate:f,tz=Europe/Dublin,name=Demo,"
                                 "start=2026-03-29T00:00:00Z,step=30,polls=7",
                                 &s, err, sizeof(err)),
        VELO_OK);
    assert_true(s.virtual_time);
    assert_true(s.start_ms == 1774742400000LL);
    assert_int_equal(s.step_ms, 30000);
    assert_int_equal(s.polls, 7);
    assert_string_equal(s.tz, "Europe/Dublin");
    assert_string_equal(s.name, "Demo");
    /* No interval=: back to back, virtual time needs no waiting. */
    assert_true(s.has_interval);
    assert_int_equal(s.interval_ms, 0);
    ingest_source_spec_fini(&s);
    assert_int_equal(
        ingest_source_spec_parse("s:x=simulate:f,start=2026-03-29T00:00:00Z,"
                                 "interval=0.5",
                                 &s, err, sizeof(err)),
        VELO_OK);
    assert_int_equal(s.step_ms, 60000); /* the default step */
    assert_int_equal(s.polls, 0);       /* no end */
    assert_int_equal(s.interval_ms, 500);
    ingest_source_spec_fini(&s);
}

static void
test_source_bad_virtual_time_says_why(void **state)
{
    (void)state;
    expect_bad("s:x=simulate:f,start=yesterday", "start");
    expect_bad("s:x=simulate:f,start=2026-03-29T00:00:00+02:00", "start");
    expect_bad("s:x=simulate:f,start=2026-03-29T00:00:00Z,step=0", "step");
    expect_bad("s:x=simulate:f,start=2026-03-29T00:00:00Z,polls=-1", "polls");
    expect_bad("s:x=simulate:f,polls=10", "need start=");
    expect_bad("s:x=simulate:f,step=10", "need start=");
    expect_bad("r:x=replay:d,start=2026-03-29T00:00:00Z", "simulate");
    expect_bad("s:x=simulate:f,speed=60,start=2026-03-29T00:00:00Z", "speed");
    expect_bad("s:x=simulate:f,tz=", "tz");
    expect_bad("s:x=simulate:f,name=", "name");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_source_jcdecaux_contract_comes_from_system_id),
        cmocka_unit_test(test_source_options_after_comma),
        cmocka_unit_test(test_source_url_keeps_its_colons),
        cmocka_unit_test(test_source_bad_specs_say_why),
        cmocka_unit_test(test_source_bad_urls_are_config_errors),
        cmocka_unit_test(test_source_allow_list),
        cmocka_unit_test(test_source_virtual_time_options),
        cmocka_unit_test(test_source_bad_virtual_time_says_why),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
