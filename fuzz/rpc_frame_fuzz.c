/* rpc_frame_fuzz.c: libFuzzer target for velo_rpc_dispatch, the code that
 * reads every RPC frame a peer sends. Input: one frame. Served by the test
 * StationService (common/src/rpc_test_util.h). Beyond "no crash, no
 * leak, no UB", it checks the contract: dispatch always answers with a
 * decodable RpcReply within the limit, echoing the request id. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "rpc_test_util.h"
#include "velo/buf.h"
#include "velo/log.h"
#include "velo/rpc.h"

#define FUZZ_NOW_MS 1700000000000LL
#define FUZZ_MAX_FRAME (64 * 1024)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
fuzz_check_reply(const uint8_t *frame, size_t size, const struct velo_buf *out)
{
    Velo__V1__RpcRequest *rq;
    Velo__V1__RpcReply   *r;

    if (out->len > FUZZ_MAX_FRAME)
        abort();
    r = velo__v1__rpc_reply__unpack(NULL, out->len, (const uint8_t *)out->data);
    if (r == NULL || !r->has_status)
        abort();
    if (r->status != VELO__V1__RPC_STATUS__RPC_OK && r->has_payload)
        abort();
    rq = size <= FUZZ_MAX_FRAME
             ? velo__v1__rpc_request__unpack(NULL, size, frame)
             : NULL;
    if (rq != NULL && r->id != rq->id)
        abort();
    if (rq == NULL && r->id != 0)
        abort();
    if (rq != NULL)
        velo__v1__rpc_request__free_unpacked(rq, NULL);
    velo__v1__rpc_reply__free_unpacked(r, NULL);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct rts              rts;
    static struct velo_rpc_service svc;
    static bool                    ready;
    struct velo_buf                out;

    if (!ready) {
        velo_log_init("fuzz", VELO_LOG_OFF, 2);
        rts_init(&rts);
        svc = rts_service(&rts);
        ready = true;
    }
    velo_buf_init(&out, FUZZ_MAX_FRAME);
    if (velo_rpc_dispatch(&svc, 1, data, size, FUZZ_NOW_MS, NULL, &out) !=
        VELO_OK)
        abort(); /* 64 KiB always holds an error reply */
    fuzz_check_reply(data, size, &out);
    velo_buf_fini(&out);
    return 0;
}
