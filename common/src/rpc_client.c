/* rpc_client.c: velo_rpc_call over nng REQ, with one socket per instance
 * and failover between them.
 *
 * A call has one deadline (timeout_ms from its start). Each try hands the
 * request to an instance: waiting for a connection to it may take at most
 * an even share of what is left (so a down instance cannot eat the whole
 * budget), and once sent, the reply may take everything that is left.
 * An instance that is unreachable, times out, or answers RPC_UNAVAILABLE
 * sends the call on to the next one; any other answer ends the call. The
 * next call starts with the instance that answered last, or, with
 * cfg.spread, with the next instance in turn that has not failed lately.
 *
 * With a resolver (service discovery) the list is refreshed at the start
 * of each call from the resolver's cache; sockets of instances still
 * listed are kept, the others closed. */
#include "velo/rpc.h"

#include <inttypes.h>
#include <nng/nng.h>
#include <nng/protocol/reqrep0/req.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rpc_int.h"
#include "velo/clock.h"
#include "velo/log.h"

struct rpc_peer {
    char      *url;
    nng_socket sock;
    bool       open;    /* socket opened and dialed (lazily, on first use) */
    bool       down;    /* last try failed: logged once until it answers */
    int64_t    down_ms; /* when it last failed (monotonic), for spread */
};

/* Thread: one call at a time (velo_rpc_call), so no lock. */
struct velo_rpc_client {
    struct rpc_peer         *peers;
    size_t                   npeers;
    size_t                   last_good; /* where the next call starts */
    uint64_t                 next_id;
    uint32_t                 timeout_ms;
    size_t                   max_frame;
    struct velo_rpc_resolver resolver;
    uint64_t                 gen;    /* of the resolver's list we hold */
    bool                     spread; /* round robin start */
    size_t                   next;   /* spread: where the next call starts */
};

/* An instance that failed less than this ago is not a spread start. */
#define RPC_DOWN_SKIP_MS 1000

/* How one try ended. */
enum rpc_try {
    TRY_ANSWERED,   /* a reply frame came back */
    TRY_UNREACHED,  /* never handed over: no connection in time */
    TRY_TIMEDOUT,   /* handed over, no reply before the deadline */
    TRY_UNAVAILABLE /* answered RPC_UNAVAILABLE: try elsewhere */
};

static void
rpc_err_set(struct velo_rpc_error *err, int status, const char *text)
{
    if (err == NULL)
        return;
    err->status = status;
    snprintf(err->text, sizeof(err->text), "%s", text);
}

static void
rpc_peers_free(struct rpc_peer *peers, size_t n)
{
    size_t i;

    for (i = 0; peers != NULL && i < n; i++) {
        if (peers[i].open)
            nng_close(peers[i].sock);
        free(peers[i].url);
    }
    free(peers);
}

void
velo_rpc_client_free(velo_rpc_client *c)
{
    if (c == NULL)
        return;
    rpc_peers_free(c->peers, c->npeers);
    free(c);
}

static bool
rpc_urls_ok(const char *const *urls, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++)
        if (urls[i] == NULL || strlen(urls[i]) >= RPC_URL_MAX)
            return false;
    return true;
}

/* Builds the peer array for urls, taking over the open sockets of c's
 * peers with the same URL (closed in c). On failure c is untouched. */
static int
rpc_peers_build(velo_rpc_client *c, const char *const *urls, size_t n,
                struct rpc_peer **out)
{
    struct rpc_peer *peers, *o;
    size_t           i, j;

    peers = calloc(n > 0 ? n : 1, sizeof(*peers));
    if (peers == NULL)
        return VELO_ENOMEM;
    for (i = 0; i < n; i++) {
        if ((peers[i].url = strdup(urls[i])) == NULL) {
            rpc_peers_free(peers, n);
            return VELO_ENOMEM;
        }
    }
    /* Nothing can fail from here on. */
    for (i = 0; i < n; i++) {
        for (j = 0; j < c->npeers; j++) {
            o = &c->peers[j];
            if (o->open && strcmp(o->url, urls[i]) == 0) {
                peers[i].sock = o->sock;
                peers[i].open = true;
                peers[i].down = o->down;
                peers[i].down_ms = o->down_ms;
                o->open = false;
                break;
            }
        }
    }
    *out = peers;
    return VELO_OK;
}

void
velo_rpc_client_set_urls(void *arg, const char *const *urls, size_t n)
{
    velo_rpc_client *c = arg;
    struct rpc_peer *peers = NULL;
    char             good[RPC_URL_MAX] = "";
    size_t           i;

    if (n == 0 || !rpc_urls_ok(urls, n) ||
        rpc_peers_build(c, urls, n, &peers) != VELO_OK) {
        velo_warn("rpc.client.urls_kept", VELO_U("offered", n));
        return;
    }
    if (c->last_good < c->npeers)
        snprintf(good, sizeof(good), "%s", c->peers[c->last_good].url);
    rpc_peers_free(c->peers, c->npeers);
    c->peers = peers;
    c->npeers = n;
    c->last_good = 0;
    for (i = 0; i < n; i++)
        if (strcmp(c->peers[i].url, good) == 0)
            c->last_good = i;
    c->next %= n;
    velo_info("rpc.client.urls", VELO_U("instances", n),
              VELO_S("first", urls[0]));
}

int
velo_rpc_client_new(velo_rpc_client                 **out,
                    const struct velo_rpc_client_cfg *cfg)
{
    velo_rpc_client *c;
    int              rv;

    if ((cfg->nurls > 0 && cfg->urls == NULL) ||
        (cfg->nurls == 0 && cfg->resolver.refresh == NULL) ||
        !rpc_urls_ok(cfg->urls, cfg->nurls))
        return VELO_EINVAL;
    c = calloc(1, sizeof(*c));
    if (c == NULL)
        return VELO_ENOMEM;
    rv = rpc_peers_build(c, cfg->urls, cfg->nurls, &c->peers);
    if (rv != VELO_OK) {
        free(c);
        return rv;
    }
    c->npeers = cfg->nurls;
    c->resolver = cfg->resolver;
    c->spread = cfg->spread;
    c->next_id = 1;
    c->timeout_ms = cfg->timeout_ms ? cfg->timeout_ms : 2000;
    c->max_frame =
        cfg->max_frame_bytes ? cfg->max_frame_bytes : RPC_MAX_FRAME_DEFAULT;
    *out = c;
    return VELO_OK;
}

/* Opens the peer's socket and starts dialing in the background
 * (NNG_FLAG_NONBLOCK: a down instance does not block, and nng keeps
 * redialing it with backoff). */
static int
rpc_peer_open(velo_rpc_client *c, struct rpc_peer *p)
{
    int rv;

    if (p->open)
        return VELO_OK;
    rv = nng_req0_open(&p->sock);
    if (rv != 0)
        return rpc_err_from_nng(rv);
    rv = nng_socket_set_size(p->sock, NNG_OPT_RECVMAXSZ, c->max_frame);
    if (rv == 0)
        rv = nng_socket_set_ms(p->sock, NNG_OPT_RECONNMINT, 50);
    if (rv == 0)
        rv = nng_socket_set_ms(p->sock, NNG_OPT_RECONNMAXT, 1000);
    if (rv == 0)
        rv = nng_dial(p->sock, p->url, NULL, NNG_FLAG_NONBLOCK);
    if (rv != 0) {
        velo_error("rpc.client.dial_failed", VELO_S("url", p->url),
                   VELO_S("cause", nng_strerror(rv)));
        nng_close(p->sock);
        return rpc_err_from_nng(rv);
    }
    p->open = true;
    return VELO_OK;
}

static nng_duration
rpc_ms_left(int64_t end_ms)
{
    int64_t left = end_ms - velo_mono_ms();

    return left > 0 ? (nng_duration)left : 0;
}

/* Sends a copy of req to p and waits for the reply frame. */
static enum rpc_try
rpc_try_peer(struct rpc_peer *p, nng_msg *req, nng_duration send_ms,
             int64_t end_ms, nng_msg **reply, const char **cause)
{
    nng_msg *m;
    int      rv;

    rv = nng_msg_dup(&m, req);
    if (rv == 0)
        rv = nng_socket_set_ms(p->sock, NNG_OPT_SENDTIMEO, send_ms);
    if (rv == 0) {
        rv = nng_sendmsg(p->sock, m, 0);
        if (rv != 0)
            nng_msg_free(m); /* not consumed on failure */
    }
    if (rv != 0) {
        *cause = nng_strerror(rv);
        return TRY_UNREACHED;
    }
    rv = nng_socket_set_ms(p->sock, NNG_OPT_RECVTIMEO, rpc_ms_left(end_ms));
    if (rv == 0)
        rv = nng_recvmsg(p->sock, reply, 0);
    if (rv != 0) {
        *cause = nng_strerror(rv);
        return TRY_TIMEDOUT;
    }
    return TRY_ANSWERED;
}

/* Decodes a reply frame for request id. On VELO_OK *out is the output
 * message. *try_next is set when the instance said RPC_UNAVAILABLE. */
static int
rpc_reply_decode(nng_msg *frame, uint64_t id,
                 const ProtobufCMethodDescriptor *m, ProtobufCMessage **out,
                 struct velo_rpc_error *err, bool *try_next)
{
    Velo__V1__RpcReply *r;
    ProtobufCMessage   *msg;
    int                 rv;

    r = velo__v1__rpc_reply__unpack(NULL, nng_msg_len(frame),
                                    nng_msg_body(frame));
    if (r == NULL) {
        rpc_err_set(err, RPC_MALFORMED, "reply is not an RpcReply");
        return VELO_EPROTO;
    }
    /* id 0 with an error: the server could not read our envelope. */
    if (r->id != id && !(r->id == 0 && r->status != RPC_OK)) {
        rpc_err_set(err, RPC_MALFORMED, "reply id does not match");
        rv = VELO_EPROTO;
    } else if (r->status != RPC_OK) {
        rpc_err_set(err, r->status, r->error ? r->error : "");
        *try_next = r->status == RPC_UNAVAILABLE;
        rv = velo_rpc_err_from_status(r->status);
    } else {
        msg = protobuf_c_message_unpack(m->output, NULL, r->payload.len,
                                        r->payload.data);
        rv = msg != NULL ? VELO_OK : VELO_EPROTO;
        if (rv == VELO_OK)
            *out = msg;
        else
            rpc_err_set(err, RPC_MALFORMED, "reply payload does not decode");
    }
    velo__v1__rpc_reply__free_unpacked(r, NULL);
    return rv;
}

/* Packs the envelope for method m of svc into a new nng message. */
static int
rpc_request_build(velo_rpc_client *c, const ProtobufCServiceDescriptor *svc,
                  const ProtobufCMethodDescriptor *m,
                  const ProtobufCMessage *req, uint64_t id, nng_msg **out)
{
    Velo__V1__RpcRequest rq = VELO__V1__RPC_REQUEST__INIT;
    char                 path[RPC_METHOD_MAX];
    uint8_t             *payload;
    size_t               n;
    int                  rv = VELO_ETOOBIG;

    n = (size_t)snprintf(path, sizeof(path), "%s/%s", svc->name, m->name);
    if (n >= sizeof(path))
        return VELO_EINVAL;
    n = protobuf_c_message_get_packed_size(req);
    if (n > c->max_frame)
        return VELO_ETOOBIG;
    payload = malloc(n > 0 ? n : 1);
    if (payload == NULL)
        return VELO_ENOMEM;
    rq.method = path;
    rq.has_id = true;
    rq.id = id;
    rq.has_deadline_ms = true;
    rq.deadline_ms = velo_now_ms() + c->timeout_ms;
    rq.has_payload = n > 0;
    rq.payload.len = protobuf_c_message_pack(req, payload);
    rq.payload.data = payload;
    n = velo__v1__rpc_request__get_packed_size(&rq);
    if (n <= c->max_frame)
        rv = nng_msg_alloc(out, n) == 0 ? VELO_OK : VELO_ENOMEM;
    if (rv == VELO_OK)
        velo__v1__rpc_request__pack(&rq, nng_msg_body(*out));
    free(payload);
    return rv;
}

/* Notes an instance's health change, logging only transitions. */
static void
rpc_peer_mark(struct rpc_peer *p, bool down, const char *cause)
{
    if (down)
        p->down_ms = velo_mono_ms();
    if (down && !p->down)
        velo_warn("rpc.client.peer_down", VELO_S("url", p->url),
                  VELO_S("cause", cause));
    else if (!down && p->down)
        velo_info("rpc.client.peer_up", VELO_S("url", p->url));
    p->down = down;
}

/* One call in progress, across its tries. */
struct rpc_attempt {
    const ProtobufCMethodDescriptor *m;
    nng_msg                         *req; /* the request frame, ours */
    uint64_t                         id;
    int64_t                          end_ms; /* the deadline, monotonic */
    ProtobufCMessage               **reply;
    struct velo_rpc_error           *err;
    bool                             next;     /* move on to another peer */
    bool                             timedout; /* some peer got the request */
};

/* One try at peer i, with tries_left peers (this one included) still to
 * go. Returns the call's result when the call is decided (a->next false). */
static int
rpc_call_peer(velo_rpc_client *c, struct rpc_attempt *a, size_t i,
              size_t tries_left)
{
    struct rpc_peer *p = &c->peers[i];
    nng_msg         *frame = NULL;
    const char      *cause = "unavailable";
    nng_duration     share;
    int64_t          reply_end;
    enum rpc_try     t;
    int              rv;

    rv = rpc_peer_open(c, p);
    if (rv != VELO_OK) {
        rpc_err_set(a->err, RPC_INVALID_ARGUMENT, "cannot dial");
        a->next = false; /* a bad URL is config: no failover hides it */
        return rv;
    }
    share = rpc_ms_left(a->end_ms) / (nng_duration)tries_left;
    /* Spread: leave half of the time to the others when this one does
     * not answer (it may have died with our request). */
    reply_end = a->end_ms;
    if (c->spread && tries_left > 1)
        reply_end = velo_mono_ms() + rpc_ms_left(a->end_ms) / 2;
    t = rpc_try_peer(p, a->req, share > 0 ? share : 1, reply_end, &frame,
                     &cause);
    a->next = false;
    if (t == TRY_ANSWERED) {
        rv = rpc_reply_decode(frame, a->id, a->m, a->reply, a->err, &a->next);
        nng_msg_free(frame);
        if (a->next)
            t = TRY_UNAVAILABLE;
    }
    a->timedout = a->timedout || t == TRY_TIMEDOUT;
    a->next = t != TRY_ANSWERED;
    rpc_peer_mark(p, a->next, t == TRY_UNAVAILABLE ? "RPC_UNAVAILABLE" : cause);
    if (!a->next)
        c->last_good = i;
    return rv;
}

/* Where a call starts: the last instance that answered, or with spread
 * the next one in turn that has not failed in the last second. */
static size_t
rpc_start(velo_rpc_client *c)
{
    int64_t now = velo_mono_ms();
    size_t  k, i;

    if (!c->spread)
        return c->last_good;
    for (k = 0; k < c->npeers; k++) {
        i = (c->next + k) % c->npeers;
        if (!c->peers[i].down || now - c->peers[i].down_ms > RPC_DOWN_SKIP_MS)
            break;
    }
    i = (c->next + (k < c->npeers ? k : 0)) % c->npeers;
    c->next = (i + 1) % c->npeers;
    return i;
}

int
velo_rpc_call(velo_rpc_client *c, const ProtobufCServiceDescriptor *svc,
              const char *method, const ProtobufCMessage *req,
              ProtobufCMessage **reply, struct velo_rpc_error *err)
{
    struct rpc_attempt a = {.reply = reply, .err = err, .next = true};
    size_t             k, start;
    int                rv;

    if (c->resolver.refresh != NULL)
        (void)c->resolver.refresh(c->resolver.ctx, &c->gen,
                                  velo_rpc_client_set_urls, c);
    if (c->npeers == 0) {
        rpc_err_set(err, RPC_UNAVAILABLE, "no instance known yet");
        return VELO_EUNAVAIL;
    }
    a.end_ms = velo_mono_ms() + c->timeout_ms;
    a.id = c->next_id++;
    a.m = protobuf_c_service_descriptor_get_method_by_name(svc, method);
    if (a.m == NULL || req == NULL || req->descriptor != a.m->input) {
        rpc_err_set(err, RPC_UNIMPLEMENTED, "no such method or wrong input");
        return VELO_EINVAL;
    }
    rv = rpc_request_build(c, svc, a.m, req, a.id, &a.req);
    if (rv != VELO_OK) {
        rpc_err_set(err, RPC_RESOURCE_EXHAUSTED, velo_strerror(rv));
        return rv;
    }
    start = rpc_start(c);
    for (k = 0; a.next && k < c->npeers && rpc_ms_left(a.end_ms) > 0; k++)
        rv = rpc_call_peer(c, &a, (start + k) % c->npeers, c->npeers - k);
    nng_msg_free(a.req);
    if (!a.next)
        return rv;
    if (a.timedout) {
        rpc_err_set(err, RPC_DEADLINE_EXCEEDED, "no reply before the deadline");
        return VELO_ETIMEDOUT;
    }
    if (rv != VELO_EUNAVAIL) /* else err holds the RPC_UNAVAILABLE answer */
        rpc_err_set(err, RPC_UNAVAILABLE, "no instance reachable");
    return VELO_EUNAVAIL;
}
