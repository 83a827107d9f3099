/* record_decode_test.c: the apply-or-dead-letter decision on good records and
 * on garbage. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "record_decode.h"
#include "test_util.h"
#include "velo/file.h"
#include "velo/snapshot.h"

#define MAX_BYTES 4096

static uint8_t packed[MAX_BYTES * 2];

static size_t
pack(const Velo__V1__StationSnapshot *s)
{
    assert_true(velo__v1__station_snapshot__get_packed_size(s) <=
                sizeof(packed));
    return velo__v1__station_snapshot__pack(s, packed);
}

static struct stream_record
rec(const char *key, const void *value, size_t len)
{
    struct stream_record r = {key, key ? strlen(key) : 0, value, len, NULL, 0};

    return r;
}

/* r must be a dead letter for reason want. */
static void
dead(const struct stream_record *r, enum stream_dead want)
{
    Velo__V1__StationSnapshot *s = NULL;
    enum stream_dead           why = STREAM_DEAD_COUNT;
    char                       detail[256] = "";

    assert_int_equal(
        stream_record_decode(&s, r, MAX_BYTES, &why, detail, sizeof(detail)),
        VELO_EPROTO);
    assert_null(s);
    assert_int_equal(why, want);
    assert_true(detail[0] != '\0');
}

static void
test_good_record_decodes(void **state)
{
    Velo__V1__StationSnapshot  s = t_snap("jcdecaux:dublin", "42", 3, 7, 5);
    Velo__V1__StationSnapshot *out = NULL;
    struct stream_record       r;
    enum stream_dead           why;
    char                       detail[64];

    (void)state;
    r = rec("jcdecaux:dublin/42", packed, pack(&s));
    assert_int_equal(
        stream_record_decode(&out, &r, MAX_BYTES, &why, detail, sizeof(detail)),
        VELO_OK);
    assert_string_equal(out->system_id, "jcdecaux:dublin");
    assert_int_equal(out->bikes_available, 3);
    velo__v1__station_snapshot__free_unpacked(out, NULL);
    /* With the right content-type header too. */
    r.content_type = VELO_SNAPSHOT_CONTENT_TYPE;
    r.content_type_len = strlen(VELO_SNAPSHOT_CONTENT_TYPE);
    assert_int_equal(
        stream_record_decode(&out, &r, MAX_BYTES, &why, detail, sizeof(detail)),
        VELO_OK);
    velo__v1__station_snapshot__free_unpacked(out, NULL);
}

static void
test_garbage_bytes_are_dead_letters(void **state)
{
    static const char *const junk[] = {
        "\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff",
        "not protobuf at all",
        "{\"system_id\":\"x\",\"station_id\":\"1\"}",
        "\x0a\x7f" /* a string field claiming 127 bytes */,
    };
    Velo__V1__StationSnapshot *s = NULL;
    enum stream_dead           why;
    char                       detail[256];
    uint8_t                    rnd[512];
    uint64_t                   x = 88172645463325252ull;
    struct stream_record       r;
    size_t                     i, j;

    (void)state;
    for (i = 0; i < sizeof(junk) / sizeof(junk[0]); i++) {
        r = rec("x/1", junk[i], strlen(junk[i]));
        dead(&r, STREAM_DEAD_UNDECODABLE);
    }
    /* Random bytes: whatever protobuf-c makes of them, never a station
     * to apply, never a crash (ASan watches). */
    for (i = 0; i < 500; i++) {
        for (j = 0; j < sizeof(rnd); j++) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            rnd[j] = (uint8_t)x;
        }
        r = rec("x/1", rnd, 1 + i % sizeof(rnd));
        assert_int_equal(stream_record_decode(&s, &r, MAX_BYTES, &why, detail,
                                              sizeof(detail)),
                         VELO_EPROTO);
        assert_null(s);
        assert_true(why < STREAM_DEAD_COUNT);
    }
}

static void
test_truncated_record_is_undecodable(void **state)
{
    Velo__V1__StationSnapshot s = t_snap("jcdecaux:dublin", "42", 3, 7, 5);
    struct stream_record      r;
    const uint8_t            *p;
    size_t                    n;

    (void)state;
    s.name = (char *)"a long enough station name to cut in the middle";
    n = pack(&s);
    p = memmem(packed, n, s.name, strlen(s.name));
    assert_non_null(p);
    /* Cut in the middle of the name: its length prefix now lies. */
    r = rec("jcdecaux:dublin/42", packed, (size_t)(p - packed) + 5);
    dead(&r, STREAM_DEAD_UNDECODABLE);
}

static void
test_limits_and_content_type(void **state)
{
    Velo__V1__StationSnapshot s = t_snap("x", "1", 1, 1, 5);
    struct stream_record      r;

    (void)state;
    r = rec("x/1", packed, MAX_BYTES + 1); /* never even looked at */
    dead(&r, STREAM_DEAD_TOO_BIG);
    r = rec("x/1", packed, pack(&s));
    r.content_type = "application/json";
    r.content_type_len = strlen("application/json");
    dead(&r, STREAM_DEAD_CONTENT_TYPE);
}

static void
test_identity_checks(void **state)
{
    Velo__V1__StationSnapshot s = t_snap("x", "1", 1, 1, 5);
    struct stream_record      r;

    (void)state;
    r = rec("x/2", packed, pack(&s));
    dead(&r, STREAM_DEAD_KEY_MISMATCH);
    r = rec("x/1x", packed, pack(&s));
    dead(&r, STREAM_DEAD_KEY_MISMATCH);
    r = rec(NULL, packed, pack(&s));
    dead(&r, STREAM_DEAD_KEY_MISMATCH);
    s.station_id = NULL;
    r = rec("x/", packed, pack(&s));
    dead(&r, STREAM_DEAD_MISSING_ID);
    s = t_snap("", "1", 1, 1, 5);
    r = rec("/1", packed, pack(&s));
    dead(&r, STREAM_DEAD_MISSING_ID);
    s = t_snap("x/y", "1", 1, 1, 5);
    r = rec("x/y/1", packed, pack(&s));
    dead(&r, STREAM_DEAD_BAD_ID);
    /* A tombstone: no value at all. */
    r = rec("x/1", NULL, 0);
    dead(&r, STREAM_DEAD_MISSING_ID);
}

static void
test_reason_names_are_distinct(void **state)
{
    int i, j;

    (void)state;
    for (i = 0; i < STREAM_DEAD_COUNT; i++) {
        assert_non_null(stream_dead_name((enum stream_dead)i));
        for (j = 0; j < i; j++)
            assert_string_not_equal(stream_dead_name((enum stream_dead)i),
                                    stream_dead_name((enum stream_dead)j));
    }
    assert_string_equal(stream_dead_name(STREAM_DEAD_KEY_MISMATCH),
                        "key-mismatch");
    assert_string_equal(stream_dead_name(STREAM_DEAD_COUNT), "unknown");
}

/* Fault 12: docs/operations.md listed reasons (`decode`, `ids`, ...) that
 * are not the label values. Its row for the metric must name exactly the
 * labels the code uses, in order. */
static void
test_operations_doc_names_the_real_reasons(void **state)
{
    const char *fixtures = getenv("VELO_FIXTURES");
    char        path[1024], want[256];
    char       *doc = NULL, *row, *eol;
    size_t      len, o = 0;
    int         i;

    (void)state;
    assert_non_null(fixtures);
    snprintf(path, sizeof(path), "%s/../../docs/operations.md", fixtures);
    assert_int_equal(velo_file_read(path, 1 << 20, &doc, &len), VELO_OK);
    row = strstr(doc, "| `velo_stream_dead_letters_total{reason}` |");
    assert_non_null(row);
    eol = strchr(row, '\n');
    assert_non_null(eol);
    *eol = '\0';
    for (i = 0; i < STREAM_DEAD_COUNT; i++)
        o += (size_t)snprintf(want + o, sizeof(want) - o, "%s`%s`",
                              i > 0 ? ", " : "(",
                              stream_dead_name((enum stream_dead)i));
    snprintf(want + o, sizeof(want) - o, ")");
    if (strstr(row, want) == NULL)
        fail_msg("operations.md row \"%s\" lacks \"%s\"", row, want);
    free(doc);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good_record_decodes),
        cmocka_unit_test(test_garbage_bytes_are_dead_letters),
        cmocka_unit_test(test_truncated_record_is_undecodable),
        cmocka_unit_test(test_limits_and_content_type),
        cmocka_unit_test(test_identity_checks),
        cmocka_unit_test(test_reason_names_are_distinct),
        cmocka_unit_test(test_operations_doc_names_the_real_reasons),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
