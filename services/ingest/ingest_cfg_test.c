/* ingest_cfg_test.c: configuration errors are found before anything
 * starts (exit 78 in main), every one of them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ingest_cfg.h"

static int
load(struct ingest_cfg *cfg, const char *const *args, int n)
{
    char *argv[16];
    int   i;

    argv[0] = "velo-ingest";
    for (i = 0; i < n; i++)
        argv[i + 1] = (char *)args[i];
    return ingest_cfg_load(cfg, n + 1, argv);
}

static void
test_bad_source_urls_fail_config(void **state)
{
    static const char *const bad[][2] = {
        {"--source", "g:x=gbfs:file:///etc/passwd"},
        {"--source", "g:x=gbfs:gopher://h/gbfs.json"},
        {"--source", "j:x=jcdecaux-v3:https://api.jcdecaux.com?q#frag"},
    };
    struct ingest_cfg cfg;
    size_t            i;

    (void)state;
    setenv("JCDECAUX_API_KEY", "k", 1);
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(load(&cfg, bad[i], 2), VELO_EINVAL);
}

static void
test_good_sources_load(void **state)
{
    static const char *const ok[] = {
        "--source",     "g:x=gbfs:http://127.0.0.1:8080/gbfs.json?key=1",
        "--source",     "jcdecaux:dublin=jcdecaux-v3:https://api.jcdecaux.com",
        "--source",     "j:x=jcdecaux-v1:https://h,contract=Lyon",
        "--source",     "j:y=jcdecaux-v1:https://h,tz=Europe/Berlin",
        "--source",     "s:x=simulate:seed.json,tz=Europe/Dublin",
        "--max-wait-s", "600"};
    struct ingest_cfg cfg;

    (void)state;
    setenv("JCDECAUX_API_KEY", "k", 1);
    assert_int_equal(load(&cfg, ok, 12), VELO_OK);
    assert_int_equal(cfg.nspecs, 5);
    assert_int_equal(cfg.max_wait_s, 600);
    assert_string_equal(cfg.systems_topic, "velib_systems");
    ingest_cfg_fini(&cfg);
}

/* A system's zone must be known at start: a JCDecaux contract outside the
 * table without tz=, a simulator without tz=, or a zone that is not in
 * the zone database is a configuration error, never a silent UTC. */
static void
test_unknown_or_missing_zone_fails_config(void **state)
{
    static const char *const bad[][2] = {
        {"--source", "j:atlantis=jcdecaux-v3:https://api.jcdecaux.com"},
        {"--source", "s:x=simulate:seed.json"},
        {"--source", "j:dublin=jcdecaux-v1:https://h,tz=Mars/Olympus"},
        {"--source", "g:x=gbfs:https://h/gbfs.json,tz=../../etc/passwd"},
        {"--source", "g:x=gbfs:https://h/gbfs.json,tz=/etc/localtime"},
        {"--source", "r:x=replay:/tmp/x,tz=Europe"}, /* a directory */
    };
    struct ingest_cfg cfg;
    size_t            i;

    (void)state;
    setenv("JCDECAUX_API_KEY", "k", 1);
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(load(&cfg, bad[i], 2), VELO_EINVAL);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bad_source_urls_fail_config),
        cmocka_unit_test(test_good_sources_load),
        cmocka_unit_test(test_unknown_or_missing_zone_fails_config),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
