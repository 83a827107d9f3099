/* gbfs_discovery_test.c: gbfs.json auto-discovery on the spec examples
 * (2.3, 3.0) and the written 1.x feed, then malformed, truncated and
 * byte-flipped variants. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "parse.h"

static const char *const fixtures[] = {
    "spec-v2.3/gbfs.json", "spec-v3.0/gbfs.json", "v1.1-written/gbfs.json"};

/* Reads a fixture into a buffer of exactly its size (no NUL after it). */
static char *
fixture(const char *rel, size_t *len)
{
    const char *dir = getenv("VELO_FIXTURES");
    char        path[1024];
    FILE       *f;
    long        n;
    char       *buf;

    assert_non_null(dir);
    snprintf(path, sizeof(path), "%s/gbfs/%s", dir, rel);
    f = fopen(path, "rb");
    assert_non_null(f);
    assert_int_equal(fseek(f, 0, SEEK_END), 0);
    n = ftell(f);
    assert_true(n > 0);
    rewind(f);
    buf = malloc((size_t)n);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    *len = (size_t)n;
    return buf;
}

static int
discover(const char *rel, const char *lang, struct ingest_gbfs_feeds *f)
{
    char   err[160];
    size_t len;
    char  *body = fixture(rel, &len);
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

/* The first cut bytes of body must fail and leave out untouched. */
static void
check_cut(const char *rel, const char *body, size_t cut)
{
    struct ingest_gbfs_feeds f;
    char                     err[160];
    char                    *part = malloc(cut + 1); /* exact size: no NUL */

    assert_non_null(part);
    memcpy(part, body, cut);
    memset(&f, 0, sizeof(f));
    if (ingest_gbfs_discovery_parse(part, cut, NULL, &f, err, sizeof(err)) !=
        VELO_EPROTO)
        fail_msg("%s cut at %zu accepted", rel, cut);
    assert_null(f.station_information);
    free(part);
}

/* Cuts at ~60 lengths before the closing brace, including 0 and the cut
 * that drops only that brace. */
static void
test_truncated_discovery_is_eproto(void **state)
{
    char  *body;
    size_t i, len, end, cut;

    (void)state;
    for (i = 0; i < sizeof(fixtures) / sizeof(fixtures[0]); i++) {
        body = fixture(fixtures[i], &len);
        for (end = len; end > 0 && strchr(" \t\r\n", body[end - 1]);)
            end--;
        for (cut = 0; cut < end; cut += end / 61 + 1)
            check_cut(fixtures[i], body, cut);
        check_cut(fixtures[i], body, end - 1);
        free(body);
    }
}

static uint32_t
xorshift(uint32_t *x)
{
    *x ^= *x << 13;
    *x ^= *x >> 17;
    *x ^= *x << 5;
    return *x;
}

/* Flipped bytes: OK or EPROTO, never a crash or a leak; on OK the
 * version is still one that can name a source format. */
static void
test_flipped_bytes_never_crash(void **state)
{
    struct ingest_gbfs_feeds f;
    uint32_t                 seed = 0x5bd1e995u;
    char                     err[160];
    char                    *body, *copy;
    size_t                   i, len, k;
    int                      it, rv;

    (void)state;
    for (i = 0; i < sizeof(fixtures) / sizeof(fixtures[0]); i++) {
        body = fixture(fixtures[i], &len);
        copy = malloc(len);
        assert_non_null(copy);
        for (it = 0; it < 800; it++) {
            memcpy(copy, body, len);
            for (k = 1 + xorshift(&seed) % 4; k > 0; k--)
                copy[xorshift(&seed) % len] = (char)(xorshift(&seed) & 0xff);
            rv = ingest_gbfs_discovery_parse(copy, len, "fr", &f, err,
                                             sizeof(err));
            assert_true(rv == VELO_OK || rv == VELO_EPROTO);
            if (rv != VELO_OK)
                continue;
            assert_true(f.version[0] >= '0' && f.version[0] <= '9');
            ingest_gbfs_feeds_fini(&f);
        }
        free(copy);
        free(body);
    }
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
