/* gbfs_out_test.c: GBFS 2.3 / 3.0 feeds from snapshots: the values the
 * source sent and nothing else, the version-specific shapes, URLs, times,
 * all-or-nothing writes. With VELO_GBFS_OUT_DIR set it also writes every
 * feed of three systems there, for tests/gbfs_schema.py to validate
 * against the official schemas. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "velo/gbfs_out.h"
#include "velo/json.h"

#define NOW_MS 1764072100000LL /* 2025-11-25T12:01:40Z */

/* A JCDecaux v1-like system: OPEN/CLOSED status, no e-bike split. */
static const struct velo_gbfs_system jcd_sys = {
    .system_id = "jcdecaux:dublin",
    .name = "dublinbikes",
    .operator_name = "JCDecaux",
    .timezone = "Europe/Dublin",
    .language = "en",
    .url = "https://www.dublinbikes.ie/",
    .feed_contact_email = "ops@example.org",
    .opening_hours = "24/7",
};

/* A GBFS-like system with the e-bike split and a known e-bike range. */
static const struct velo_gbfs_system lyon_sys = {
    .system_id = "gbfs:lyon",
    .name = "Vélo'v",
    .timezone = "Europe/Paris",
    .language = "fr",
    .feed_contact_email = "ops@example.org",
    .opening_hours = "24/7",
    .ebike_range_m = 60000,
};

/* A 2.3-only system: no contact email, no opening hours. */
static const struct velo_gbfs_system bare_sys = {
    .system_id = "simulate:demo city",
    .name = "Demo",
    .timezone = "UTC",
    .language = "en-GB",
    .feed_contact_email = "nobody", /* not an address: left out */
};

static Velo__V1__StationSnapshot jcd_st[3], lyon_st[2], bare_st[1];

static void
base_fill(Velo__V1__StationSnapshot *s, const char *sys, const char *id,
          const char *name, double lat, double lon)
{
    velo__v1__station_snapshot__init(s);
    s->system_id = (char *)sys;
    s->station_id = (char *)id;
    s->name = (char *)name;
    s->has_lat = s->has_lon = true;
    s->lat = lat;
    s->lon = lon;
    s->has_fetched_at_ms = true;
    s->fetched_at_ms = NOW_MS - 20000;
    s->has_last_reported_ms = true;
    s->last_reported_ms = NOW_MS - 65000;
}

static void
counts(Velo__V1__StationSnapshot *s, uint32_t cap, uint32_t bikes,
       uint32_t docks)
{
    s->has_capacity = s->has_bikes_available = s->has_docks_available = true;
    s->capacity = cap;
    s->bikes_available = bikes;
    s->docks_available = docks;
}

static void
fixtures_fill(void)
{
    base_fill(&jcd_st[0], "jcdecaux:dublin", "42", "SMITHFIELD NORTH",
              53.349562, -6.278198);
    counts(&jcd_st[0], 30, 7, 23);
    jcd_st[0].has_status = true;
    jcd_st[0].status = VELO__V1__STATION_STATUS__STATION_STATUS_OPEN;
    jcd_st[0].address = "Smithfield North";
    /* Closed, and fetched later than the others: sets last_updated. */
    base_fill(&jcd_st[1], "jcdecaux:dublin", "43", "PORTOBELLO", 53.33, -6.26);
    counts(&jcd_st[1], 20, 0, 0);
    jcd_st[1].has_status = true;
    jcd_st[1].status = VELO__V1__STATION_STATUS__STATION_STATUS_CLOSED;
    jcd_st[1].fetched_at_ms = NOW_MS - 5000;
    /* The source sent no counts: in station_information only. */
    base_fill(&jcd_st[2], "jcdecaux:dublin", "44", "NO COUNTS", 53.34, -6.25);
    jcd_st[2].has_status = true;
    jcd_st[2].status = VELO__V1__STATION_STATUS__STATION_STATUS_OPEN;

    /* A weird name: quote, backslash, control byte, invalid UTF-8. */
    base_fill(&lyon_st[0], "gbfs:lyon", "10001",
              "Gare \"Part-Dieu\" \\ \x01 caf\xe9 \xff\xfe end", 45.7606,
              4.8595);
    counts(&lyon_st[0], 40, 12, 25);
    lyon_st[0].has_mechanical_bikes = lyon_st[0].has_electric_bikes = true;
    lyon_st[0].mechanical_bikes = 8;
    lyon_st[0].electric_bikes = 4;
    lyon_st[0].has_is_installed = lyon_st[0].has_is_renting = true;
    lyon_st[0].has_is_returning = true;
    lyon_st[0].is_installed = lyon_st[0].is_renting = true;
    lyon_st[0].is_returning = false;
    lyon_st[0].has_bikes_disabled = lyon_st[0].has_docks_disabled = true;
    lyon_st[0].bikes_disabled = 2;
    lyon_st[0].docks_disabled = 1;
    /* Flags and status unknown: not in station_status. */
    base_fill(&lyon_st[1], "gbfs:lyon", "10002", "Bellecour", 45.7578, 4.832);
    counts(&lyon_st[1], 20, 3, 17);

    base_fill(&bare_st[0], "simulate:demo city", "s1", "Demo 1", 0.5, 0.5);
    counts(&bare_st[0], 10, 5, 5);
    bare_st[0].has_status = true;
    bare_st[0].status = VELO__V1__STATION_STATUS__STATION_STATUS_OPEN;
    bare_st[0].has_simulated = true;
    bare_st[0].simulated = true;
}

static const Velo__V1__StationSnapshot *jcd_p[] = {&jcd_st[0], &jcd_st[1],
                                                   &jcd_st[2]};
static const Velo__V1__StationSnapshot *lyon_p[] = {&lyon_st[0], &lyon_st[1]};
static const Velo__V1__StationSnapshot *bare_p[] = {&bare_st[0]};

static struct velo_gbfs_input
input(const struct velo_gbfs_system          *sys,
      const Velo__V1__StationSnapshot *const *st, size_t n)
{
    struct velo_gbfs_input in = {
        .sys = sys,
        .stations = st,
        .n_stations = n,
        .url_template = "https://host.example/gbfs/{version}/{system}/",
        .manifest_url = "https://host.example/gbfs/3.0/manifest.json",
        .now_ms = NOW_MS,
        .status_ttl_s = 30,
        .info_ttl_s = 3600,
    };
    return in;
}

/* Writes one feed and parses it back (caller frees with cJSON_Delete). */
static cJSON *
feed(const struct velo_gbfs_input *in, enum velo_gbfs_version v,
     enum velo_gbfs_feed f)
{
    struct velo_buf b;
    cJSON          *root = NULL;

    velo_buf_init(&b, 1 << 20);
    assert_int_equal(velo_gbfs_out_write(in, v, f, &b), VELO_OK);
    assert_int_equal(velo_json_parse(b.data, b.len, &root), VELO_OK);
    velo_buf_fini(&b);
    return root;
}

static cJSON *
stations_of(cJSON *root)
{
    return cJSON_GetObjectItem(cJSON_GetObjectItem(root, "data"), "stations");
}

static cJSON *
station_by_id(cJSON *stations, const char *id)
{
    cJSON *s;

    cJSON_ArrayForEach(s, stations)
    {
        if (strcmp(cJSON_GetObjectItem(s, "station_id")->valuestring, id) == 0)
            return s;
    }
    return NULL;
}

static void
test_jcdecaux_has_no_vehicle_types(void **state)
{
    struct velo_gbfs_input in = input(&jcd_sys, jcd_p, 3);
    struct velo_buf        b;
    cJSON                 *root, *s, *feeds, *f;

    (void)state;
    assert_false(velo_gbfs_out_has_feed(&in, VELO_GBFS_2_3,
                                        VELO_GBFS_FEED_VEHICLE_TYPES));
    velo_buf_init(&b, 4096);
    assert_int_equal(velo_gbfs_out_write(&in, VELO_GBFS_2_3,
                                         VELO_GBFS_FEED_VEHICLE_TYPES, &b),
                     VELO_ENOTFOUND);
    assert_int_equal(b.len, 0);
    velo_buf_fini(&b);
    root = feed(&in, VELO_GBFS_2_3, VELO_GBFS_FEED_GBFS);
    feeds = cJSON_GetObjectItem(
        cJSON_GetObjectItem(cJSON_GetObjectItem(root, "data"), "en"), "feeds");
    assert_int_equal(cJSON_GetArraySize(feeds), 3);
    cJSON_ArrayForEach(f, feeds)
    {
        assert_string_not_equal(cJSON_GetObjectItem(f, "name")->valuestring,
                                "vehicle_types");
    }
    cJSON_Delete(root);
    root = feed(&in, VELO_GBFS_2_3, VELO_GBFS_FEED_STATION_STATUS);
    s = station_by_id(stations_of(root), "42");
    assert_non_null(s);
    assert_null(cJSON_GetObjectItem(s, "vehicle_types_available"));
    assert_int_equal(cJSON_GetObjectItem(s, "num_bikes_available")->valueint,
                     7);
    assert_null(cJSON_GetObjectItem(s, "num_bikes_disabled"));
    cJSON_Delete(root);
}

static void
test_status_derived_from_open_closed_and_missing_counts_left_out(void **state)
{
    struct velo_gbfs_input in = input(&jcd_sys, jcd_p, 3);
    cJSON                 *root, *st, *s;

    (void)state;
    root = feed(&in, VELO_GBFS_2_3, VELO_GBFS_FEED_STATION_STATUS);
    st = stations_of(root);
    assert_int_equal(cJSON_GetArraySize(st), 2);
    assert_null(station_by_id(st, "44")); /* no bikes_available sent */
    s = station_by_id(st, "43");
    assert_true(cJSON_IsTrue(cJSON_GetObjectItem(s, "is_installed")));
    assert_true(cJSON_IsFalse(cJSON_GetObjectItem(s, "is_renting")));
    assert_true(cJSON_IsFalse(cJSON_GetObjectItem(s, "is_returning")));
    s = station_by_id(st, "42");
    assert_true(cJSON_IsTrue(cJSON_GetObjectItem(s, "is_renting")));
    cJSON_Delete(root);
    root = feed(&in, VELO_GBFS_2_3, VELO_GBFS_FEED_STATION_INFORMATION);
    st = stations_of(root);
    assert_int_equal(cJSON_GetArraySize(st), 3);
    s = station_by_id(st, "44");
    assert_null(cJSON_GetObjectItem(s, "capacity"));
    assert_int_equal(
        cJSON_GetObjectItem(station_by_id(st, "42"), "capacity")->valueint, 30);
    cJSON_Delete(root);
}

static void
test_ebike_split_gives_vehicle_types_in_both_versions(void **state)
{
    struct velo_gbfs_input in = input(&lyon_sys, lyon_p, 2);
    cJSON                 *root, *s, *vta, *types;

    (void)state;
    root = feed(&in, VELO_GBFS_3_0, VELO_GBFS_FEED_STATION_STATUS);
    assert_int_equal(cJSON_GetArraySize(stations_of(root)), 1);
    s = station_by_id(stations_of(root), "10001");
    assert_int_equal(cJSON_GetObjectItem(s, "num_vehicles_available")->valueint,
                     12);
    assert_int_equal(cJSON_GetObjectItem(s, "num_vehicles_disabled")->valueint,
                     2);
    assert_true(cJSON_IsFalse(cJSON_GetObjectItem(s, "is_returning")));
    vta = cJSON_GetObjectItem(s, "vehicle_types_available");
    assert_int_equal(cJSON_GetArraySize(vta), 2);
    assert_int_equal(
        cJSON_GetObjectItem(cJSON_GetArrayItem(vta, 1), "count")->valueint, 4);
    cJSON_Delete(root);
    root = feed(&in, VELO_GBFS_2_3, VELO_GBFS_FEED_VEHICLE_TYPES);
    types =
        cJSON_GetObjectItem(cJSON_GetObjectItem(root, "data"), "vehicle_types");
    assert_int_equal(cJSON_GetArraySize(types), 2);
    assert_int_equal(
        cJSON_GetObjectItem(cJSON_GetArrayItem(types, 1), "max_range_meters")
            ->valueint,
        60000);
    cJSON_Delete(root);
}

static void
test_weird_name_is_valid_json_with_replacement(void **state)
{
    struct velo_gbfs_input in = input(&lyon_sys, lyon_p, 2);
    cJSON                 *root, *name;

    (void)state;
    root = feed(&in, VELO_GBFS_3_0, VELO_GBFS_FEED_STATION_INFORMATION);
    name =
        cJSON_GetObjectItem(station_by_id(stations_of(root), "10001"), "name");
    assert_true(cJSON_IsArray(name));
    assert_string_equal(
        cJSON_GetObjectItem(cJSON_GetArrayItem(name, 0), "language")
            ->valuestring,
        "fr");
    assert_string_equal(
        cJSON_GetObjectItem(cJSON_GetArrayItem(name, 0), "text")->valuestring,
        "Gare \"Part-Dieu\" \\ \x01 caf\xef\xbf\xbd \xef\xbf\xbd\xef\xbf\xbd "
        "end");
    cJSON_Delete(root);
}

static void
test_times_and_ttl_per_version(void **state)
{
    struct velo_gbfs_input in = input(&jcd_sys, jcd_p, 3);
    cJSON                 *root, *s;

    (void)state;
    root = feed(&in, VELO_GBFS_2_3, VELO_GBFS_FEED_STATION_STATUS);
    /* newest fetched_at: station 43, NOW - 5 s */
    assert_int_equal(cJSON_GetObjectItem(root, "last_updated")->valuedouble,
                     (NOW_MS - 5000) / 1000);
    assert_int_equal(cJSON_GetObjectItem(root, "ttl")->valueint, 30);
    assert_string_equal(cJSON_GetObjectItem(root, "version")->valuestring,
                        "2.3");
    s = station_by_id(stations_of(root), "42");
    assert_int_equal(cJSON_GetObjectItem(s, "last_reported")->valuedouble,
                     (NOW_MS - 65000) / 1000);
    cJSON_Delete(root);
    root = feed(&in, VELO_GBFS_3_0, VELO_GBFS_FEED_SYSTEM_INFORMATION);
    assert_string_equal(cJSON_GetObjectItem(root, "last_updated")->valuestring,
                        "2025-11-25T12:01:35Z");
    assert_int_equal(cJSON_GetObjectItem(root, "ttl")->valueint, 3600);
    assert_string_equal(cJSON_GetObjectItem(root, "version")->valuestring,
                        "3.0");
    cJSON_Delete(root);
    root = feed(&in, VELO_GBFS_3_0, VELO_GBFS_FEED_STATION_STATUS);
    s = station_by_id(stations_of(root), "42");
    assert_string_equal(cJSON_GetObjectItem(s, "last_reported")->valuestring,
                        "2025-11-25T12:00:35Z");
    cJSON_Delete(root);
}

static void
test_feed_urls_from_template_percent_encoded(void **state)
{
    struct velo_gbfs_input in = input(&bare_sys, bare_p, 1);
    cJSON                 *root, *feeds;

    (void)state;
    root = feed(&in, VELO_GBFS_2_3, VELO_GBFS_FEED_GBFS);
    feeds = cJSON_GetObjectItem(
        cJSON_GetObjectItem(cJSON_GetObjectItem(root, "data"), "en-GB"),
        "feeds");
    assert_string_equal(
        cJSON_GetObjectItem(cJSON_GetArrayItem(feeds, 0), "url")->valuestring,
        "https://host.example/gbfs/2.3/simulate:demo%20city/"
        "system_information.json");
    cJSON_Delete(root);
}

static void
test_v3_needs_contact_and_hours(void **state)
{
    struct velo_gbfs_input in = input(&bare_sys, bare_p, 1);
    struct velo_buf        b;
    cJSON                 *root;
    int                    f;

    (void)state;
    assert_true(velo_gbfs_out_has_version(&bare_sys, VELO_GBFS_2_3));
    assert_false(velo_gbfs_out_has_version(&bare_sys, VELO_GBFS_3_0));
    velo_buf_init(&b, 4096);
    assert_int_equal(velo_buf_puts(&b, "x"), VELO_OK);
    for (f = VELO_GBFS_FEED_GBFS; f <= VELO_GBFS_FEED_VEHICLE_TYPES; f++)
        assert_int_equal(
            velo_gbfs_out_write(&in, VELO_GBFS_3_0, (enum velo_gbfs_feed)f, &b),
            VELO_EINVAL);
    assert_string_equal(b.data, "x");
    velo_buf_fini(&b);
    root = feed(&in, VELO_GBFS_2_3, VELO_GBFS_FEED_SYSTEM_INFORMATION);
    assert_null(cJSON_GetObjectItem(cJSON_GetObjectItem(root, "data"),
                                    "feed_contact_email"));
    cJSON_Delete(root);
}

static void
test_url_over_limit_is_einval(void **state)
{
    struct velo_gbfs_input in = input(&jcd_sys, jcd_p, 3);
    static char            tmpl[3000];
    struct velo_buf        b;

    (void)state;
    memset(tmpl, 'a', sizeof(tmpl) - 1);
    in.url_template = tmpl;
    velo_buf_init(&b, 1 << 16);
    assert_int_equal(
        velo_gbfs_out_write(&in, VELO_GBFS_2_3, VELO_GBFS_FEED_GBFS, &b),
        VELO_EINVAL);
    assert_int_equal(b.len, 0);
    in.url_template = NULL;
    assert_int_equal(
        velo_gbfs_out_write(&in, VELO_GBFS_2_3, VELO_GBFS_FEED_GBFS, &b),
        VELO_EINVAL);
    velo_buf_fini(&b);
}

static void
test_bad_language_is_einval(void **state)
{
    struct velo_gbfs_system sys = jcd_sys;
    struct velo_gbfs_input  in = input(&sys, jcd_p, 3);
    struct velo_buf         b;

    (void)state;
    sys.language = "english";
    velo_buf_init(&b, 4096);
    assert_int_equal(
        velo_gbfs_out_write(&in, VELO_GBFS_2_3, VELO_GBFS_FEED_GBFS, &b),
        VELO_EINVAL);
    velo_buf_fini(&b);
}

static void
test_full_buffer_leaves_it_unchanged(void **state)
{
    struct velo_gbfs_input in = input(&lyon_sys, lyon_p, 2);
    struct velo_buf        b;

    (void)state;
    velo_buf_init(&b, 200);
    assert_int_equal(velo_buf_puts(&b, "keep"), VELO_OK);
    assert_int_equal(velo_gbfs_out_write(&in, VELO_GBFS_2_3,
                                         VELO_GBFS_FEED_STATION_STATUS, &b),
                     VELO_ETOOBIG);
    assert_string_equal(b.data, "keep");
    assert_int_equal(b.len, 4);
    velo_buf_fini(&b);
}

static void
test_manifest_lists_every_system_and_version(void **state)
{
    const struct velo_gbfs_system *sys[] = {&jcd_sys, &lyon_sys, &bare_sys};
    struct velo_buf                b;
    cJSON                         *root, *ds, *vs;

    (void)state;
    velo_buf_init(&b, 1 << 16);
    assert_int_equal(velo_gbfs_out_manifest(sys, 3,
                                            "https://h/{version}/{system}/",
                                            NOW_MS, 60, &b),
                     VELO_OK);
    assert_int_equal(velo_json_parse(b.data, b.len, &root), VELO_OK);
    ds = cJSON_GetObjectItem(cJSON_GetObjectItem(root, "data"), "datasets");
    assert_int_equal(cJSON_GetArraySize(ds), 3);
    /* the bare system has no 3.0: only its 2.3 feed is listed */
    vs = cJSON_GetObjectItem(cJSON_GetArrayItem(ds, 2), "versions");
    assert_int_equal(cJSON_GetArraySize(vs), 1);
    vs = cJSON_GetObjectItem(cJSON_GetArrayItem(ds, 1), "versions");
    assert_string_equal(
        cJSON_GetObjectItem(cJSON_GetArrayItem(vs, 0), "url")->valuestring,
        "https://h/2.3/gbfs:lyon/gbfs.json");
    assert_string_equal(
        cJSON_GetObjectItem(cJSON_GetArrayItem(vs, 1), "version")->valuestring,
        "3.0");
    cJSON_Delete(root);
    velo_buf_fini(&b);
}

static void
test_feed_parse(void **state)
{
    enum velo_gbfs_feed f = VELO_GBFS_FEED_GBFS;

    (void)state;
    assert_int_equal(velo_gbfs_out_feed_parse("station_status.json", &f),
                     VELO_OK);
    assert_int_equal(f, VELO_GBFS_FEED_STATION_STATUS);
    assert_int_equal(velo_gbfs_out_feed_parse("vehicle_types", &f), VELO_OK);
    assert_int_equal(f, VELO_GBFS_FEED_VEHICLE_TYPES);
    assert_int_equal(velo_gbfs_out_feed_parse("free_bike_status.json", &f),
                     VELO_ENOTFOUND);
    assert_int_equal(velo_gbfs_out_feed_parse("station_status.js", &f),
                     VELO_ENOTFOUND);
    assert_string_equal(velo_gbfs_out_feed_name(f), "vehicle_types");
}

/* ---- the files for the schema check ---- */

static void
file_put(const char *dir, const char *ver, const char *sys, const char *name,
         const struct velo_buf *b)
{
    char  path[512];
    FILE *fp;

    snprintf(path, sizeof(path), "%s/%s", dir, ver);
    mkdir(path, 0755);
    if (sys != NULL) {
        snprintf(path, sizeof(path), "%s/%s/%s", dir, ver, sys);
        mkdir(path, 0755);
        snprintf(path, sizeof(path), "%s/%s/%s/%s.json", dir, ver, sys, name);
    } else {
        snprintf(path, sizeof(path), "%s/%s/%s.json", dir, ver, name);
    }
    fp = fopen(path, "w");
    assert_non_null(fp);
    assert_int_equal(fwrite(b->data, 1, b->len, fp), b->len);
    assert_int_equal(fclose(fp), 0);
}

static void
system_files(const char *dir, const char *slug, struct velo_gbfs_input *in)
{
    static const enum velo_gbfs_version vs[] = {VELO_GBFS_2_3, VELO_GBFS_3_0};
    struct velo_buf                     b;
    size_t                              i;
    int                                 f, rv;

    velo_buf_init(&b, 1 << 20);
    for (i = 0; i < 2; i++) {
        for (f = VELO_GBFS_FEED_GBFS; f <= VELO_GBFS_FEED_VEHICLE_TYPES; f++) {
            velo_buf_reset(&b);
            rv = velo_gbfs_out_write(in, vs[i], (enum velo_gbfs_feed)f, &b);
            if (rv == VELO_ENOTFOUND ||
                (rv == VELO_EINVAL && in->sys == &bare_sys))
                continue;
            assert_int_equal(rv, VELO_OK);
            file_put(dir, vs[i] == VELO_GBFS_2_3 ? "2.3" : "3.0", slug,
                     velo_gbfs_out_feed_name((enum velo_gbfs_feed)f), &b);
        }
    }
    velo_buf_fini(&b);
}

static void
test_write_files_for_schema_check(void **state)
{
    const struct velo_gbfs_system *sys[] = {&jcd_sys, &lyon_sys, &bare_sys};
    const char                    *dir = getenv("VELO_GBFS_OUT_DIR");
    struct velo_gbfs_input         in;
    struct velo_buf                b;

    (void)state;
    if (dir == NULL)
        skip();
    in = input(&jcd_sys, jcd_p, 3);
    system_files(dir, "jcdecaux", &in);
    in = input(&lyon_sys, lyon_p, 2);
    system_files(dir, "lyon", &in);
    in = input(&bare_sys, bare_p, 1);
    in.manifest_url = NULL;
    system_files(dir, "bare", &in);
    velo_buf_init(&b, 1 << 16);
    assert_int_equal(
        velo_gbfs_out_manifest(sys, 3, in.url_template, NOW_MS, 60, &b),
        VELO_OK);
    file_put(dir, "3.0", NULL, "manifest", &b);
    velo_buf_fini(&b);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_jcdecaux_has_no_vehicle_types),
        cmocka_unit_test(
            test_status_derived_from_open_closed_and_missing_counts_left_out),
        cmocka_unit_test(test_ebike_split_gives_vehicle_types_in_both_versions),
        cmocka_unit_test(test_weird_name_is_valid_json_with_replacement),
        cmocka_unit_test(test_times_and_ttl_per_version),
        cmocka_unit_test(test_feed_urls_from_template_percent_encoded),
        cmocka_unit_test(test_v3_needs_contact_and_hours),
        cmocka_unit_test(test_url_over_limit_is_einval),
        cmocka_unit_test(test_bad_language_is_einval),
        cmocka_unit_test(test_full_buffer_leaves_it_unchanged),
        cmocka_unit_test(test_manifest_lists_every_system_and_version),
        cmocka_unit_test(test_feed_parse),
        cmocka_unit_test(test_write_files_for_schema_check),
    };

    fixtures_fill();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
