/* rpc_client_test.c: velo_rpc_call against a rogue REP server (raw nng on
 * tcp://127.0.0.1:0) that answers what a velo_rpc_server never would: a
 * reply that is no RpcReply, a reply for another request id, an OK reply
 * whose payload is not the output type. Each must fail the call with
 * VELO_EPROTO, never crash or hand back a half-decoded message. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <nng/nng.h>
#include <nng/protocol/reqrep0/rep.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "velo/log.h"
#include "velo/rpc.h"
#include "velo/v1/stream.pb-c.h"

enum rogue_mode { ROGUE_GARBAGE, ROGUE_WRONG_ID, ROGUE_BAD_PAYLOAD, ROGUE_N };

struct rogue {
    nng_socket sock;
    char       url[64];
    pthread_t  th;
    int        served; /* requests answered, read after join */
};

/* Builds the rogue answer to one request frame into buf. */
static size_t
rogue_reply(enum rogue_mode mode, const void *req, size_t len, uint8_t *buf)
{
    static const uint8_t  garbage[] = {0xff, 0xff, 0xff, 0x07};
    static const uint8_t  bad[] = {0x0a, 0x64, 'x'}; /* string cut short */
    Velo__V1__RpcRequest *rq = velo__v1__rpc_request__unpack(NULL, len, req);
    Velo__V1__RpcReply    r = VELO__V1__RPC_REPLY__INIT;
    size_t                n;

    if (mode == ROGUE_GARBAGE || rq == NULL) {
        memcpy(buf, garbage, sizeof(garbage));
        n = sizeof(garbage);
    } else {
        r.has_id = true;
        r.id = mode == ROGUE_WRONG_ID ? rq->id + 1000 : rq->id;
        r.has_payload = mode == ROGUE_BAD_PAYLOAD;
        r.payload.len = sizeof(bad);
        r.payload.data = (uint8_t *)bad;
        n = velo__v1__rpc_reply__pack(&r, buf);
    }
    if (rq != NULL)
        velo__v1__rpc_request__free_unpacked(rq, NULL);
    return n;
}

/* Answers ROGUE_N requests, one of each mode in order. */
static void *
rogue_run(void *arg)
{
    struct rogue *rg = arg;
    uint8_t       out[256];
    char         *req;
    size_t        len, n;
    int           mode;

    for (mode = 0; mode < ROGUE_N; mode++) {
        if (nng_recv(rg->sock, &req, &len, NNG_FLAG_ALLOC) != 0)
            break;
        n = rogue_reply((enum rogue_mode)mode, req, len, out);
        nng_free(req, len);
        if (nng_send(rg->sock, out, n, 0) != 0)
            break;
        rg->served++;
    }
    return NULL;
}

static void
test_rogue_replies_are_eproto(void **state)
{
    static const char *const   texts[] = {"reply is not an RpcReply",
                                          "reply id does not match",
                                          "reply payload does not decode"};
    struct rogue               rg = {0};
    nng_listener               l;
    int                        port, i;
    const char                *url = rg.url;
    struct velo_rpc_client_cfg cfg = {
        .urls = &url, .nurls = 1, .timeout_ms = 5000};
    velo_rpc_client        *c;
    Velo__V1__HealthRequest in = VELO__V1__HEALTH_REQUEST__INIT;
    ProtobufCMessage       *out;
    struct velo_rpc_error   err;

    (void)state;
    assert_int_equal(nng_rep0_open(&rg.sock), 0);
    assert_int_equal(nng_socket_set_ms(rg.sock, NNG_OPT_RECVTIMEO, 10000), 0);
    assert_int_equal(nng_listen(rg.sock, "tcp://127.0.0.1:0", &l, 0), 0);
    assert_int_equal(nng_listener_get_int(l, NNG_OPT_TCP_BOUND_PORT, &port), 0);
    snprintf(rg.url, sizeof(rg.url), "tcp://127.0.0.1:%d", port);
    assert_int_equal(pthread_create(&rg.th, NULL, rogue_run, &rg), 0);
    assert_int_equal(velo_rpc_client_new(&c, &cfg), VELO_OK);
    for (i = 0; i < ROGUE_N; i++) {
        out = NULL;
        assert_int_equal(velo_rpc_call(c,
                                       &velo__v1__station_service__descriptor,
                                       "Health", &in.base, &out, &err),
                         VELO_EPROTO);
        assert_null(out);
        assert_int_equal(err.status, VELO__V1__RPC_STATUS__RPC_MALFORMED);
        assert_string_equal(err.text, texts[i]);
    }
    assert_int_equal(pthread_join(rg.th, NULL), 0);
    assert_int_equal(rg.served, ROGUE_N);
    velo_rpc_client_free(c);
    nng_close(rg.sock);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rogue_replies_are_eproto),
    };

    velo_log_init("rpc_client_test", VELO_LOG_ERROR, 1);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
