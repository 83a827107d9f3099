/* velo_test_rpc_call.h: one RPC through velo_rpc_dispatch, no socket, for
 * service handler tests (header only; unit tests get tests/util on their
 * include path from velo_unit_test).
 *
 *   status = velo_test_rpc_call(&svc, "velo.v1.StationService",
 *                               "GetStation", &rq.base,
 *                               &velo__v1__station_state__descriptor,
 *                               (ProtobufCMessage **)&out, err, sizeof(err),
 *                               now_ms);
 *
 * Packs an RpcRequest for service/method with req, dispatches it on svc,
 * checks the reply's id, and returns its status: on RPC_OK *out is the
 * decoded reply (free it with protobuf_c_message_free_unpacked), else err
 * holds the error text. Asserts on what a test cannot go on from. */
#ifndef VELO_TEST_RPC_CALL_H
#define VELO_TEST_RPC_CALL_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "velo/buf.h"
#include "velo/rpc.h"
#include "velo/v1/rpc.pb-c.h"

#define VELO_TEST_RPC_FRAME_MAX (4u << 20)
#define VELO_TEST_RPC_ID 77

static inline int
velo_test_rpc_call(const struct velo_rpc_service *svc, const char *service,
                   const char *method, const ProtobufCMessage *req,
                   const ProtobufCMessageDescriptor *out_desc,
                   ProtobufCMessage **out, char *err, size_t err_size,
                   int64_t now_ms)
{
    Velo__V1__RpcRequest rq = VELO__V1__RPC_REQUEST__INIT;
    Velo__V1__RpcReply  *rr;
    struct velo_buf      ob;
    char                 path[256];
    uint8_t             *payload, *frame;
    size_t               flen;
    int                  status;

    snprintf(path, sizeof(path), "%s/%s", service, method);
    payload = malloc(protobuf_c_message_get_packed_size(req) + 1);
    assert_non_null(payload);
    rq.method = path;
    rq.has_id = rq.has_payload = true;
    rq.id = VELO_TEST_RPC_ID;
    rq.payload.data = payload;
    rq.payload.len = protobuf_c_message_pack(req, payload);
    frame = malloc(velo__v1__rpc_request__get_packed_size(&rq));
    assert_non_null(frame);
    flen = velo__v1__rpc_request__pack(&rq, frame);
    velo_buf_init(&ob, VELO_TEST_RPC_FRAME_MAX);
    assert_int_equal(velo_rpc_dispatch(svc, 1, frame, flen, now_ms, NULL, &ob),
                     VELO_OK);
    rr = velo__v1__rpc_reply__unpack(NULL, ob.len, (const uint8_t *)ob.data);
    assert_non_null(rr);
    assert_int_equal(rr->id, VELO_TEST_RPC_ID);
    status = rr->status;
    err[0] = '\0';
    if (status == VELO__V1__RPC_STATUS__RPC_OK) {
        *out = protobuf_c_message_unpack(out_desc, NULL, rr->payload.len,
                                         rr->payload.data);
        assert_non_null(*out);
    } else {
        snprintf(err, err_size, "%s", rr->error ? rr->error : "");
    }
    velo__v1__rpc_reply__free_unpacked(rr, NULL);
    velo_buf_fini(&ob);
    free(frame);
    free(payload);
    return status;
}

#endif
