/* rpc_pubsub_test.c: velo_pub / velo_sub over loopback nng PUB/SUB.
 *
 * PUB/SUB has a slow joiner: a subscriber connects in the background and
 * misses whatever was published before. Tests publish until the first
 * message arrives, drain the leftovers, then check exactly what follows. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <nng/nng.h>
#include <nng/protocol/pubsub0/pub.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rpc_test_util.h"
#include "velo/clock.h"
#include "velo/log.h"
#include "velo/rpc.h"

#define STATE_DESC (&velo__v1__station_state__descriptor)

struct fx {
    velo_pub *p;
};

static int
setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));

    assert_non_null(f);
    assert_int_equal(velo_pub_start(&f->p, "tcp://127.0.0.1:0"), VELO_OK);
    *state = f;
    return 0;
}

static int
teardown(void **state)
{
    struct fx *f = *state;

    velo_pub_stop(f->p);
    free(f);
    return 0;
}

static void
publish(velo_pub *p, const char *system, const char *station, uint32_t bikes)
{
    Velo__V1__StationState    st;
    Velo__V1__StationSnapshot snap;
    char                      topic[128];

    rts_state_fill(&st, &snap, system, station, bikes);
    snprintf(topic, sizeof(topic), "%s/%s", system, station);
    assert_int_equal(velo_pub_send(p, topic, &st.base), VELO_OK);
}

/* Receives one StationState; asserts on failure. */
static Velo__V1__StationState *
recv_state(velo_sub *s, char *topic, size_t size, int timeout_ms)
{
    ProtobufCMessage *m = NULL;

    assert_int_equal(velo_sub_recv(s, STATE_DESC, topic, size, &m, timeout_ms),
                     VELO_OK);
    return (Velo__V1__StationState *)m;
}

/* Publishes "warm-up" messages on both systems until s gets one, then
 * drains what is left, so that the subscription is known to be live. */
static void
join(velo_pub *p, velo_sub *s)
{
    ProtobufCMessage *m = NULL;
    char              topic[128];
    int               i, rv = VELO_ETIMEDOUT;

    for (i = 0; i < 250 && rv == VELO_ETIMEDOUT; i++) {
        publish(p, "sysB", "warm", 0);
        publish(p, "sysA", "warm", 0);
        rv = velo_sub_recv(s, STATE_DESC, topic, sizeof(topic), &m, 20);
    }
    assert_int_equal(rv, VELO_OK);
    protobuf_c_message_free_unpacked(m, NULL);
    while (velo_sub_recv(s, STATE_DESC, topic, sizeof(topic), &m, 100) ==
           VELO_OK)
        protobuf_c_message_free_unpacked(m, NULL);
}

static void
test_url_has_the_bound_port(void **state)
{
    struct fx  *f = *state;
    const char *url = velo_pub_url(f->p);

    assert_true(strncmp(url, "tcp://127.0.0.1:", 16) == 0);
    assert_string_not_equal(url + 16, "0");
}

static void
test_prefix_subscriber_gets_only_its_system(void **state)
{
    struct fx              *f = *state;
    velo_sub               *s;
    Velo__V1__StationState *st;
    ProtobufCMessage       *m = NULL;
    char                    topic[64];
    int                     i;

    assert_int_equal(velo_sub_new(&s, velo_pub_url(f->p), "sysA/"), VELO_OK);
    join(f->p, s);
    for (i = 0; i < 3; i++)
        publish(f->p, "sysB", "7", 100 + (uint32_t)i);
    publish(f->p, "sysA", "42", 5);
    publish(f->p, "sysAB", "1", 6); /* "sysAB/1" lacks the "sysA/" prefix */
    publish(f->p, "sysA", "43", 9);
    st = recv_state(s, topic, sizeof(topic), 2000);
    assert_string_equal(topic, "sysA/42");
    assert_string_equal(st->snapshot->station_id, "42");
    assert_int_equal(st->snapshot->bikes_available, 5);
    assert_string_equal(st->snapshot->name, RTS_NAME);
    protobuf_c_message_free_unpacked(&st->base, NULL);
    st = recv_state(s, topic, sizeof(topic), 2000);
    assert_string_equal(topic, "sysA/43");
    assert_int_equal(st->snapshot->bikes_available, 9);
    protobuf_c_message_free_unpacked(&st->base, NULL);
    assert_int_equal(
        velo_sub_recv(s, STATE_DESC, topic, sizeof(topic), &m, 200),
        VELO_ETIMEDOUT);
    velo_sub_free(s);
}

static void
test_empty_prefix_gets_everything(void **state)
{
    struct fx              *f = *state;
    velo_sub               *s;
    Velo__V1__StationState *st;
    char                    topic[64];

    assert_int_equal(velo_sub_new(&s, velo_pub_url(f->p), ""), VELO_OK);
    join(f->p, s);
    publish(f->p, "sysB", "7", 1);
    publish(f->p, "sysA", "42", 2);
    st = recv_state(s, topic, sizeof(topic), 2000);
    assert_string_equal(topic, "sysB/7");
    protobuf_c_message_free_unpacked(&st->base, NULL);
    st = recv_state(s, topic, sizeof(topic), 2000);
    assert_string_equal(topic, "sysA/42");
    assert_int_equal(st->snapshot->bikes_available, 2);
    protobuf_c_message_free_unpacked(&st->base, NULL);
    velo_sub_free(s);
}

static void
test_recv_times_out_when_nothing_comes(void **state)
{
    struct fx        *f = *state;
    velo_sub         *s;
    ProtobufCMessage *m = NULL;
    char              topic[64];
    int64_t           t0;

    assert_int_equal(velo_sub_new(&s, velo_pub_url(f->p), "none/"), VELO_OK);
    publish(f->p, "sysA", "42", 1);
    t0 = velo_mono_ms();
    assert_int_equal(
        velo_sub_recv(s, STATE_DESC, topic, sizeof(topic), &m, 150),
        VELO_ETIMEDOUT);
    assert_true(velo_mono_ms() - t0 >= 140);
    assert_null(m);
    velo_sub_free(s);
}

/* Frames a velo_pub never sends, from a raw nng PUB socket: no NUL, a
 * payload that does not decode, a topic too long for the caller. Each is
 * dropped with its own error and the next good one still arrives. */
static void
test_bad_messages_are_dropped(void **state)
{
    static const char no_nul[] = "sysA/42";
    static const char bad_payload[] = "sysA/42\0\x0a\x64xy";
    static const char long_topic[] = "sysA/0123456789abcdef\0";
    nng_socket        pub;
    nng_listener      l;
    char              url[128], topic[16];
    velo_sub         *s;
    ProtobufCMessage *m = NULL;
    int               port, i, rv = VELO_ETIMEDOUT;

    (void)state;
    assert_int_equal(nng_pub0_open(&pub), 0);
    assert_int_equal(nng_listen(pub, "tcp://127.0.0.1:0", &l, 0), 0);
    assert_int_equal(nng_listener_get_int(l, NNG_OPT_TCP_BOUND_PORT, &port), 0);
    snprintf(url, sizeof(url), "tcp://127.0.0.1:%d", port);
    assert_int_equal(velo_sub_new(&s, url, "sysA/"), VELO_OK);
    for (i = 0; i < 250 && rv == VELO_ETIMEDOUT; i++) {
        assert_int_equal(nng_send(pub, (void *)no_nul, strlen(no_nul), 0), 0);
        rv = velo_sub_recv(s, STATE_DESC, topic, sizeof(topic), &m, 20);
    }
    assert_int_equal(rv, VELO_EPROTO);
    while (velo_sub_recv(s, STATE_DESC, topic, sizeof(topic), &m, 100) !=
           VELO_ETIMEDOUT)
        ;
    assert_int_equal(
        nng_send(pub, (void *)bad_payload, sizeof(bad_payload) - 1, 0), 0);
    assert_int_equal(nng_send(pub, (void *)long_topic, sizeof(long_topic), 0),
                     0);
    assert_int_equal(nng_send(pub, "sysA/1\0", 7, 0), 0); /* empty state */
    assert_int_equal(
        velo_sub_recv(s, STATE_DESC, topic, sizeof(topic), &m, 2000),
        VELO_EPROTO);
    assert_int_equal(
        velo_sub_recv(s, STATE_DESC, topic, sizeof(topic), &m, 2000),
        VELO_ETOOBIG);
    assert_null(m);
    assert_int_equal(
        velo_sub_recv(s, STATE_DESC, topic, sizeof(topic), &m, 2000), VELO_OK);
    assert_string_equal(topic, "sysA/1");
    assert_null(((Velo__V1__StationState *)m)->snapshot);
    protobuf_c_message_free_unpacked(m, NULL);
    velo_sub_free(s);
    nng_close(pub);
}

/* Connected once the background dial is through, not before, and not
 * after the publisher is gone. */
static void
test_connected_follows_the_publisher(void **state)
{
    velo_pub *p = NULL;
    velo_sub *s = NULL;
    int       i;

    (void)state;
    assert_int_equal(velo_pub_start(&p, "tcp://127.0.0.1:0"), VELO_OK);
    assert_int_equal(velo_sub_new(&s, velo_pub_url(p), ""), VELO_OK);
    for (i = 0; i < 200 && !velo_sub_connected(s); i++)
        velo_sleep_ms(10);
    assert_true(velo_sub_connected(s));
    velo_pub_stop(p);
    for (i = 0; i < 200 && velo_sub_connected(s); i++)
        velo_sleep_ms(10);
    assert_false(velo_sub_connected(s));
    velo_sub_free(s);
}

static void
test_bad_urls_are_rejected(void **state)
{
    struct fx *f = *state;
    velo_pub  *p = NULL;
    velo_sub  *s = NULL;

    assert_int_equal(velo_pub_start(&p, velo_pub_url(f->p)), VELO_EUNAVAIL);
    assert_int_equal(velo_pub_start(&p, "nope://x"), VELO_EINVAL);
    assert_int_equal(velo_sub_new(&s, "nope://x", ""), VELO_EINVAL);
    assert_null(p);
    assert_null(s);
    velo_pub_stop(NULL);
    velo_sub_free(NULL);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
        T(test_url_has_the_bound_port),
        T(test_prefix_subscriber_gets_only_its_system),
        T(test_empty_prefix_gets_everything),
        T(test_recv_times_out_when_nothing_comes),
        T(test_bad_messages_are_dropped),
        T(test_bad_urls_are_rejected),
        T(test_connected_follows_the_publisher),
#undef T
    };

    velo_log_init("rpc_pubsub_test", VELO_LOG_ERROR, 1);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
