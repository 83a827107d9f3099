/* sysinfo_test.c: SystemInfo from GBFS system_information, from the
 * JCDecaux contract table and from options; the zone checks that make a
 * bad or missing zone a configuration error; a record is sent when new
 * or changed and never again while it stays the same. */
#include "test_util.h"

#include <cjson/cJSON.h>

#include "sysinfo.h"

static void
spec(const char *text, struct ingest_source_spec *s)
{
    char err[256];

    assert_int_equal(ingest_source_spec_parse(text, s, err, sizeof(err)),
                     VELO_OK);
}

static void
feed_parse(const char *path, const char *lang, const char *feed_lang,
           struct ingest_feed_info *fi)
{
    size_t len;
    char   err[256];
    char  *body = test_fixture(&len, "%s", path);

    assert_int_equal(ingest_gbfs_system_parse(body, len, lang, feed_lang, fi,
                                              err, sizeof(err)),
                     VELO_OK);
    free(body);
}

static void
test_gbfs_v23_system_information_fills_systeminfo(void **state)
{
    struct ingest_source_spec s;
    struct ingest_feed_info   fi;
    Velo__V1__SystemInfo      si;

    (void)state;
    feed_parse("gbfs/spec-v2.3/system_information.json", NULL, "fr", &fi);
    spec("gbfs:ex=gbfs:https://h/gbfs.json", &s);
    ingest_sysinfo_build(&s, &fi, NULL, &si);
    assert_string_equal(si.system_id, "gbfs:ex");
    assert_string_equal(si.name, "Example Bike Rental");
    assert_string_equal(si.operator_, "Example Sharing, Inc");
    assert_string_equal(si.timezone, "America/Chicago");
    /* 2.x says its language in system_information: that wins. */
    assert_string_equal(si.language, "en");
    assert_string_equal(si.source_url, "https://h/gbfs.json");
    assert_string_equal(si.source_format, "gbfs");
    assert_false(si.has_station_count);
    ingest_source_spec_fini(&s);
}

static void
test_gbfs_v30_localized_text_follows_the_language(void **state)
{
    static const char body[] =
        "{\"data\":{\"languages\":[\"fr\",\"nl\"],\"timezone\":"
        "\"Europe/Brussels\",\"name\":[{\"text\":\"Villo FR\",\"language\":"
        "\"fr\"},{\"text\":\"Villo NL\",\"language\":\"nl\"}],\"operator\":"
        "[{\"text\":\"JCDecaux\",\"language\":\"fr\"}]}}";
    struct ingest_feed_info fi;
    char                    err[256];

    (void)state;
    feed_parse("gbfs/spec-v3.0/system_information.json", NULL, NULL, &fi);
    assert_string_equal(fi.name, "Example Bike Rental");
    assert_string_equal(fi.language, "en");
    assert_string_equal(fi.timezone, "America/Chicago");
    assert_int_equal(ingest_gbfs_system_parse(body, sizeof(body) - 1, "nl",
                                              NULL, &fi, err, sizeof(err)),
                     VELO_OK);
    assert_string_equal(fi.language, "nl");
    assert_string_equal(fi.name, "Villo NL");
    assert_string_equal(fi.operator_, "JCDecaux"); /* only in fr: first */
    assert_int_equal(ingest_gbfs_system_parse(body, sizeof(body) - 1, "de",
                                              NULL, &fi, err, sizeof(err)),
                     VELO_OK);
    assert_string_equal(fi.language, "fr");
    assert_string_equal(fi.name, "Villo FR");
}

static void
test_gbfs_system_information_odd_or_broken(void **state)
{
    static const char       noinfo[] = "{\"data\":{\"name\":7}}";
    static const char       bad[] = "{\"data\":{\"name\":\"x\"";
    static const char       nodata[] = "{\"data\":[]}";
    struct ingest_feed_info fi, keep;
    char                    err[256], longname[400];
    char                    body[600];
    size_t                  i;

    (void)state;
    /* Wrong types are absent; the feed language from gbfs.json stands in
     * for a missing `language`. */
    assert_int_equal(ingest_gbfs_system_parse(noinfo, sizeof(noinfo) - 1, NULL,
                                              "sv", &fi, err, sizeof(err)),
                     VELO_OK);
    assert_string_equal(fi.name, "");
    assert_string_equal(fi.timezone, "");
    assert_string_equal(fi.language, "sv");
    memset(&keep, 'k', sizeof(keep));
    fi = keep;
    assert_int_equal(ingest_gbfs_system_parse(bad, sizeof(bad) - 1, NULL, NULL,
                                              &fi, err, sizeof(err)),
                     VELO_EPROTO);
    assert_int_equal(ingest_gbfs_system_parse(nodata, sizeof(nodata) - 1, NULL,
                                              NULL, &fi, err, sizeof(err)),
                     VELO_EPROTO);
    assert_memory_equal(&fi, &keep, sizeof(fi)); /* untouched on failure */
    /* An over-long name is cut on a character boundary. */
    memset(longname, 0, sizeof(longname));
    for (i = 0; i + 2 < 390; i += 2)
        memcpy(longname + i, "\xc3\xa9", 2); /* é */
    snprintf(body, sizeof(body), "{\"data\":{\"name\":\"%s\"}}", longname);
    assert_int_equal(ingest_gbfs_system_parse(body, strlen(body), NULL, NULL,
                                              &fi, err, sizeof(err)),
                     VELO_OK);
    assert_true(strlen(fi.name) <= sizeof(fi.name) - 1);
    assert_true(strlen(fi.name) % 2 == 0);
}

/* Every contract of the VLS contract list has a zone that exists. */
static void
test_every_jcdecaux_contract_has_a_real_zone(void **state)
{
    size_t len, n, i;
    char  *body = test_fixture(&len, "%s", "jcdecaux/v1_contracts_2015.json");
    cJSON *root = cJSON_ParseWithLength(body, len);
    const cJSON                      *c;
    const struct ingest_jcd_contract *t, *all;

    (void)state;
    assert_non_null(root);
    assert_true(cJSON_GetArraySize(root) >= 27);
    cJSON_ArrayForEach(c, root)
    {
        const cJSON *name = cJSON_GetObjectItemCaseSensitive(c, "name");
        assert_true(cJSON_IsString(name));
        t = ingest_jcdecaux_contract(name->valuestring);
        if (t == NULL)
            fail_msg("contract %s is not in the table", name->valuestring);
    }
    cJSON_Delete(root);
    free(body);
    all = ingest_jcdecaux_contracts(&n);
    for (i = 0; i < n; i++) {
        if (!ingest_sysinfo_zone_ok(all[i].tz))
            fail_msg("%s: zone %s missing", all[i].name, all[i].tz);
    }
    assert_string_equal(ingest_jcdecaux_contract("dublin")->tz,
                        "Europe/Dublin");
    assert_string_equal(ingest_jcdecaux_contract("Lyon")->tz, "Europe/Paris");
    assert_string_equal(ingest_jcdecaux_contract("bruxelles")->tz,
                        "Europe/Brussels");
    assert_string_equal(ingest_jcdecaux_contract("Ljubljana")->tz,
                        "Europe/Ljubljana");
    assert_string_equal(ingest_jcdecaux_contract("lund")->tz,
                        "Europe/Stockholm");
    assert_string_equal(ingest_jcdecaux_contract("toyama")->tz, "Asia/Tokyo");
    assert_string_equal(ingest_jcdecaux_contract("brisbane")->tz,
                        "Australia/Brisbane");
    assert_null(ingest_jcdecaux_contract("atlantis"));
}

static void
test_jcdecaux_systeminfo_from_the_table(void **state)
{
    struct ingest_source_spec  s;
    struct ingest_batch        b;
    Velo__V1__SystemInfo       si;
    Velo__V1__StationSnapshot *o;
    char                       err[256];

    (void)state;
    spec("jcdecaux:dublin=jcdecaux-v1:https://api.jcdecaux.com", &s);
    assert_int_equal(ingest_sysinfo_check_spec(&s, err, sizeof(err)), VELO_OK);
    ingest_batch_init(&b, 10);
    assert_int_equal(ingest_batch_add(&b, &o), VELO_OK);
    o->source_format = ingest_batch_strdup(&b, "jcdecaux-v1");
    ingest_sysinfo_build(&s, NULL, &b, &si);
    assert_string_equal(si.timezone, "Europe/Dublin");
    assert_string_equal(si.name, "dublinbikes");
    assert_string_equal(si.operator_, "JCDecaux");
    assert_string_equal(si.language, "en");
    assert_string_equal(si.source_url, "https://api.jcdecaux.com");
    assert_string_equal(si.source_format, "jcdecaux-v1");
    assert_true(si.has_station_count);
    assert_int_equal(si.station_count, 1);
    ingest_batch_fini(&b);
    ingest_source_spec_fini(&s);
}

/* tz= beats the table and the feed; name= beats both too. */
static void
test_tz_and_name_options_override(void **state)
{
    struct ingest_source_spec s;
    struct ingest_feed_info   fi = {.name = "Feed", .timezone = "UTC"};
    Velo__V1__SystemInfo      si;
    char                      err[256];

    (void)state;
    spec("jcdecaux:dublin=jcdecaux-v1:https://h,tz=Europe/London,name=DB", &s);
    assert_int_equal(ingest_sysinfo_check_spec(&s, err, sizeof(err)), VELO_OK);
    assert_string_equal(ingest_sysinfo_spec_tz(&s), "Europe/London");
    ingest_sysinfo_build(&s, NULL, NULL, &si);
    assert_string_equal(si.timezone, "Europe/London");
    assert_string_equal(si.name, "DB");
    ingest_source_spec_fini(&s);
    spec("gbfs:x=gbfs:https://h/gbfs.json,tz=Asia/Tokyo", &s);
    ingest_sysinfo_build(&s, &fi, NULL, &si);
    assert_string_equal(si.timezone, "Asia/Tokyo");
    assert_string_equal(si.name, "Feed");
    ingest_source_spec_fini(&s);
    /* simulate: tz= and lang= from the options, the name from the id. */
    spec("sim:lund=simulate:seed.json,tz=Europe/Stockholm,lang=sv", &s);
    assert_int_equal(ingest_sysinfo_check_spec(&s, err, sizeof(err)), VELO_OK);
    ingest_sysinfo_build(&s, NULL, NULL, &si);
    assert_string_equal(si.timezone, "Europe/Stockholm");
    assert_string_equal(si.name, "sim:lund");
    assert_string_equal(si.language, "sv");
    assert_null(si.operator_);
    assert_string_equal(si.source_format, "simulate");
    ingest_source_spec_fini(&s);
}

static void
expect_config_error(const char *text, const char *why)
{
    struct ingest_source_spec s;
    char                      err[256] = "";

    spec(text, &s);
    assert_int_equal(ingest_sysinfo_check_spec(&s, err, sizeof(err)),
                     VELO_EINVAL);
    if (strstr(err, why) == NULL)
        fail_msg("%s: '%s' lacks '%s'", text, err, why);
    ingest_source_spec_fini(&s);
}

static void
test_unknown_contract_or_zone_is_a_config_error(void **state)
{
    (void)state;
    expect_config_error("j:atlantis=jcdecaux-v3:https://h", "tz=");
    expect_config_error("j:x=jcdecaux-v3:https://h,contract=nowhere",
                        "nowhere");
    expect_config_error("s:x=simulate:f.json", "simulate needs tz=");
    expect_config_error("s:x=simulate:f.json,tz=Europe/Atlantis",
                        "Europe/Atlantis");
    expect_config_error("s:x=simulate:f.json,tz=../zoneinfo/UTC", "zoneinfo");
    expect_config_error("s:x=simulate:f.json,tz=/usr/share/zoneinfo/UTC",
                        "not in");
    assert_false(ingest_sysinfo_zone_ok("Europe"));
    assert_true(ingest_sysinfo_zone_ok("Europe/Dublin"));
}

struct cap_sink {
    int    sent;
    int    fail; /* answer this instead of sending */
    char   key[64];
    size_t len;
};

static int
cap_send_system(void *ctx, const char *key, const Velo__V1__SystemInfo *si)
{
    struct cap_sink *c = ctx;

    if (c->fail != VELO_OK)
        return c->fail;
    c->sent++;
    snprintf(c->key, sizeof(c->key), "%s", key);
    c->len = velo__v1__system_info__get_packed_size(si);
    return VELO_OK;
}

static void
test_unchanged_info_is_not_resent_changed_is(void **state)
{
    struct cap_sink          c = {0};
    const struct ingest_sink sink = {.send_system = cap_send_system, .ctx = &c};
    struct ingest_sysinfo_sent last = {0};
    struct ingest_source_spec  s;
    struct ingest_feed_info    fi = {.name = "A", .timezone = "Europe/Paris"};
    Velo__V1__SystemInfo       si;
    bool                       sent;

    (void)state;
    spec("gbfs:x=gbfs:https://h/gbfs.json", &s);
    ingest_sysinfo_build(&s, &fi, NULL, &si);
    assert_int_equal(ingest_sysinfo_publish(&last, &sink, &si, &sent), VELO_OK);
    assert_true(sent);
    assert_string_equal(c.key, "gbfs:x");
    /* The same again: nothing. */
    ingest_sysinfo_build(&s, &fi, NULL, &si);
    assert_int_equal(ingest_sysinfo_publish(&last, &sink, &si, &sent), VELO_OK);
    assert_false(sent);
    assert_int_equal(c.sent, 1);
    /* A changed field: sent. */
    snprintf(fi.name, sizeof(fi.name), "B");
    ingest_sysinfo_build(&s, &fi, NULL, &si);
    assert_int_equal(ingest_sysinfo_publish(&last, &sink, &si, &sent), VELO_OK);
    assert_true(sent);
    assert_int_equal(c.sent, 2);
    /* A refused send is not remembered: the next call sends. */
    snprintf(fi.name, sizeof(fi.name), "C");
    ingest_sysinfo_build(&s, &fi, NULL, &si);
    c.fail = VELO_EFULL;
    assert_int_equal(ingest_sysinfo_publish(&last, &sink, &si, &sent),
                     VELO_EFULL);
    assert_false(sent);
    c.fail = VELO_OK;
    assert_int_equal(ingest_sysinfo_publish(&last, &sink, &si, &sent), VELO_OK);
    assert_true(sent);
    /* Delivery failed later (forget): the same record goes again. */
    ingest_sysinfo_forget(&last);
    assert_int_equal(ingest_sysinfo_publish(&last, &sink, &si, &sent), VELO_OK);
    assert_true(sent);
    assert_int_equal(c.sent, 4);
    ingest_sysinfo_forget(&last);
    ingest_source_spec_fini(&s);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gbfs_v23_system_information_fills_systeminfo),
        cmocka_unit_test(test_gbfs_v30_localized_text_follows_the_language),
        cmocka_unit_test(test_gbfs_system_information_odd_or_broken),
        cmocka_unit_test(test_every_jcdecaux_contract_has_a_real_zone),
        cmocka_unit_test(test_jcdecaux_systeminfo_from_the_table),
        cmocka_unit_test(test_tz_and_name_options_override),
        cmocka_unit_test(test_unknown_contract_or_zone_is_a_config_error),
        cmocka_unit_test(test_unchanged_info_is_not_resent_changed_is),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
