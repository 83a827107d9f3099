/* gbfs_discovery_test.c: gbfs.json auto-discovery on the spec examples
 * (2.3, 3.0) and the written 1.x feed, then malformed, truncated and
 * byte-flipped variants. */
#include "test_util.h"

static const char *const fixtures[] = {"gbfs/spec-v2.3/gbfs.json",
                                       "gbfs/spec-v3.0/gbfs.json",
                                       "gbfs/v1.1-written/gbfs.json"};

static int
discover(const char *rel, const char *lang, struct ingest_gbfs_feeds *f)
{
    char   err[160];
    size_t len;
    char  *body = test_fixture(&len, "gbfs/%s", rel);
    int    rv;

    rv = ingest_gbfs_discovery_parse(body, len, lang, f, err, sizeof(err));
    free(body);
    return rv;
}

static void
test_discovery_v23_picks_the_language(void **state)
{
    struct ingest_gbfs_feeds f;

    (void)state;
    assert_int_equal(discover("spec-v2.3/gbfs.json", NULL, &f), VELO_OK);
    assert_string_equal(f.version, "2.3");
    assert_int_equal(f.ttl_s, 0);
    assert_string_equal(f.station_information,
                        "https://www.example.com/gbfs/1/en/"
                        "station_information");
    assert_string_equal(f.system_information,
                        "https://www.example.com/gbfs/1/en/"
                        "system_information");
    /* The spec example announces no status or vehicle types. */
    assert_null(f.station_status);
    assert_null(f.vehicle_types);
    ingest_gbfs_feeds_fini(&f);
    assert_int_equal(discover("spec-v2.3/gbfs.json", "fr", &f), VELO_OK);
    assert_string_equal(f.station_information,
                        "https://www.example.com/gbfs/1/fr/"
                        "station_information");
    ingest_gbfs_feeds_fini(&f);
    /* A language the feed does not have: the first one. */
    assert_int_equal(discover("spec-v2.3/gbfs.json", "de", &f), VELO_OK);
    assert_non_null(strstr(f.station_information, "/en/"));
    ingest_gbfs_feeds_fini(&f);
}

static void
test_discovery_v30_has_one_feed_list(void **state)
{
    struct ingest_gbfs_feeds f;

    (void)state;
    assert_int_equal(discover("spec-v3.0/gbfs.json", "en", &f), VELO_OK);
    assert_string_equal(f.version, "3.0");
    assert_string_equal(f.station_information,
                        "https://www.example.com/gbfs/1/station_information");
    assert_null(f.station_status);
    ingest_gbfs_feeds_fini(&f);
}

static void
test_discovery_v1_without_version_reads_as_1_0(void **state)
{
    struct ingest_gbfs_feeds f;

    (void)state;
    assert_int_equal(discover("v1.1-written/gbfs.json", NULL, &f), VELO_OK);
    assert_string_equal(f.version, "1.0");
    assert_int_equal(f.ttl_s, 10);
    assert_string_equal(f.station_status, "https://gbfs.example.invalid/v1/nb/"
                                          "station_status.json");
    ingest_gbfs_feeds_fini(&f);
    assert_int_equal(discover("v1.1-written/gbfs.json", "en", &f), VELO_OK);
    assert_non_null(strstr(f.station_status, "/en/"));
    ingest_gbfs_feeds_fini(&f);
}

static void
test_discovery_malformed_is_eproto_and_out_untouched(void **state)
{
    static const char *bad[] = {
        "[]",
        "{\"version\":\"2.3\"}",
        "{\"data\":[]}",
        "{\"data\":{\"en\":{\"feeds\":{}}}}",
        "{\"data\":{\"feeds\":[{\"name\":\"station_status\"}]}}",
        "{\"data\":{\"feeds\":[7]}}",
        "{\"version\":2.3,\"data\":{\"feeds\":[]}}",
        "{\"version\":\"x\",\"data\":{\"feeds\":[]}}",
        "{\"data\":{\"feeds\":[]}",
    };
    static const char *ttl_str = "{\"ttl\":\"60\",\"data\":{\"feeds\":[]}}";
    struct ingest_gbfs_feeds f;
    char                     err[160];
    size_t                   i;

    (void)state;
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        memset(&f, 0, sizeof(f));
        f.ttl_s = 1234;
        err[0] = '\0';
        if (ingest_gbfs_discovery_parse(bad[i], strlen(bad[i]), NULL, &f, err,
                                        sizeof(err)) != VELO_EPROTO)
            fail_msg("accepted %s", bad[i]);
        assert_int_equal(f.ttl_s, 1234);
        assert_null(f.station_information);
        assert_true(err[0] != '\0');
    }
    /* A ttl of the wrong type only costs the ttl. */
    assert_int_equal(ingest_gbfs_discovery_parse(ttl_str, strlen(ttl_str), NULL,
                                                 &f, err, sizeof(err)),
                     VELO_OK);
    assert_int_equal(f.ttl_s, 0);
    ingest_gbfs_feeds_fini(&f);
}

/* A cut gbfs.json (arg: its name) must fail and leave out untouched. */
static void
check_cut(const char *part, size_t cut, const void *arg)
{
    struct ingest_gbfs_feeds f;
    char                     err[160];

    memset(&f, 0, sizeof(f));
    if (ingest_gbfs_discovery_parse(part, cut, NULL, &f, err, sizeof(err)) !=
        VELO_EPROTO)
        fail_msg("%s cut at %zu accepted", (const char *)arg, cut);
    assert_null(f.station_information);
}

/* Cuts at ~60 lengths before the closing brace, including 0 and the cut
 * that drops only that brace. */
static void
test_truncated_discovery_is_eproto(void **state)
{
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(fixtures) / sizeof(fixtures[0]); i++)
        test_truncations(fixtures[i], 61, check_cut, fixtures[i]);
}

/* Flipped bytes: OK or EPROTO, never a crash or a leak; on OK the
 * version is still one that can name a source format. */
static void
check_flipped(const char *part, size_t len, const void *arg)
{
    struct ingest_gbfs_feeds f;
    char                     err[160];
    int                      rv;

    (void)arg;
    rv = ingest_gbfs_discovery_parse(part, len, "fr", &f, err, sizeof(err));
    assert_true(rv == VELO_OK || rv == VELO_EPROTO);
    if (rv != VELO_OK)
        return;
    assert_true(f.version[0] >= '0' && f.version[0] <= '9');
    ingest_gbfs_feeds_fini(&f);
}

static void
test_flipped_bytes_never_crash(void **state)
{
    uint32_t seed = 0x5bd1e995u; /* one sequence across the fixtures */
    size_t   i;

    (void)state;
    for (i = 0; i < sizeof(fixtures) / sizeof(fixtures[0]); i++)
        test_flips(fixtures[i], 800, &seed, check_flipped, NULL);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_discovery_v23_picks_the_language),
        cmocka_unit_test(test_discovery_v30_has_one_feed_list),
        cmocka_unit_test(test_discovery_v1_without_version_reads_as_1_0),
        cmocka_unit_test(test_discovery_malformed_is_eproto_and_out_untouched),
        cmocka_unit_test(test_truncated_discovery_is_eproto),
        cmocka_unit_test(test_flipped_bytes_never_crash),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
