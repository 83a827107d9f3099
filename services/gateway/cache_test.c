/* cache_test.c: a rendered list is served again only for the same
 * request, under the same stamp (no change of its system since) and
 * within the ttl; a newer answer replaces it; oversize bodies are not
 * kept; the ETag is the one the server would compute. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "cache.h"
#include "velo/http_server.h"

static gw_cache *
make(size_t max_body)
{
    gw_cache *c = NULL;

    assert_int_equal(gw_cache_new(&c, 4, 1000, max_body), VELO_OK);
    return c;
}

static bool
get(gw_cache *c, const char *key, uint64_t stamp, int64_t now, char *body,
    size_t size)
{
    struct velo_buf b;
    char            etag[GW_ETAG_SIZE], want[GW_ETAG_SIZE];
    bool            hit;

    velo_buf_init(&b, 1 << 20);
    hit = gw_cache_get(c, key, strlen(key), stamp, now, &b, etag);
    if (hit) {
        snprintf(body, size, "%s", b.data);
        velo_http_etag(b.data, b.len, want, sizeof(want));
        assert_string_equal(etag, want);
    }
    velo_buf_fini(&b);
    return hit;
}

static void
test_cache_hit_only_same_key_stamp_and_fresh(void **state)
{
    gw_cache *c = make(1024);
    char      etag[GW_ETAG_SIZE], body[64];

    (void)state;
    gw_cache_put(c, "k1", 2, 7, 1000, "{\"a\":1}", 7, etag);
    assert_true(get(c, "k1", 7, 1500, body, sizeof(body)));
    assert_string_equal(body, "{\"a\":1}");
    assert_false(get(c, "k2", 7, 1500, body, sizeof(body))); /* other key */
    assert_false(get(c, "k1", 8, 1500, body, sizeof(body))); /* a change */
    assert_false(get(c, "k1", 7, 999, body, sizeof(body)));  /* clock back */
    /* Past the ttl: the first caller renders, the others get the old
     * answer for one more ttl, then nobody does. */
    assert_false(get(c, "k1", 7, 2000, body, sizeof(body)));
    assert_true(get(c, "k1", 7, 2001, body, sizeof(body)));
    assert_true(get(c, "k1", 7, 2999, body, sizeof(body)));
    assert_false(get(c, "k1", 7, 3000, body, sizeof(body)));
    gw_cache_put(c, "k1", 2, 8, 1600, "{\"a\":2}", 7, etag);
    assert_true(get(c, "k1", 8, 1700, body, sizeof(body)));
    assert_string_equal(body, "{\"a\":2}");
    gw_cache_free(c);
}

static void
test_cache_keeps_no_oversize_body(void **state)
{
    gw_cache *c = make(4);
    char      etag[GW_ETAG_SIZE], body[64];

    (void)state;
    gw_cache_put(c, "k", 1, 1, 0, "12345", 5, etag);
    assert_int_equal(etag[0], '"'); /* the tag is still computed */
    assert_false(get(c, "k", 1, 1, body, sizeof(body)));
    gw_cache_free(c);
    gw_cache_free(NULL);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cache_hit_only_same_key_stamp_and_fresh),
        cmocka_unit_test(test_cache_keeps_no_oversize_body),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
