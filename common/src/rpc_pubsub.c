/* rpc_pubsub.c: velo_pub / velo_sub, change notifications over nng
 * PUB/SUB. A message is the topic, a NUL byte, then the packed protobuf
 * message, so nng's prefix subscriptions filter on the topic alone. */
#include "velo/rpc.h"

#include <nng/nng.h>
#include <nng/protocol/pubsub0/pub.h>
#include <nng/protocol/pubsub0/sub.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rpc_int.h"
#include "velo/log.h"

/* One aio, reused for every send: nng_sendmsg would allocate (and seed)
 * an aio per message, which showed as a quarter of velo-stream's apply
 * loop in bench/freshness. mtx guards aio. */
struct velo_pub {
    nng_socket      sock;
    nng_aio        *aio;
    pthread_mutex_t mtx;
    char            url[RPC_URL_MAX];
};

struct velo_sub {
    nng_socket sock;
    atomic_int pipes; /* connections to the publisher now */
};

/* nng's pipe events (its own threads): the connection count. */
static void
rpc_sub_pipe_cb(nng_pipe p, nng_pipe_ev ev, void *arg)
{
    velo_sub *s = arg;

    (void)p;
    atomic_fetch_add(&s->pipes, ev == NNG_PIPE_EV_ADD_POST ? 1 : -1);
}

int
velo_pub_start(velo_pub **out, const char *url)
{
    velo_pub    *p;
    nng_listener l;
    int          rv;

    if (url == NULL)
        return VELO_EINVAL;
    p = calloc(1, sizeof(*p));
    if (p == NULL)
        return VELO_ENOMEM;
    pthread_mutex_init(&p->mtx, NULL);
    rv = nng_aio_alloc(&p->aio, NULL, NULL);
    if (rv == 0)
        rv = nng_pub0_open(&p->sock);
    if (rv != 0) {
        nng_aio_free(p->aio);
        pthread_mutex_destroy(&p->mtx);
        free(p);
        return rpc_err_from_nng(rv);
    }
    rv = nng_listen(p->sock, url, &l, 0);
    if (rv != 0) {
        velo_error("rpc.pub.listen_failed", VELO_S("url", url),
                   VELO_S("cause", nng_strerror(rv)));
        velo_pub_stop(p);
        rv = rpc_err_from_nng(rv);
        return rv == VELO_EINVAL || rv == VELO_ENOMEM ? rv : VELO_EUNAVAIL;
    }
    if (velo_rpc__bound_url(p->url, sizeof(p->url), url, l) != VELO_OK) {
        velo_pub_stop(p);
        return VELO_EINVAL;
    }
    velo_info("rpc.pub.started", VELO_S("url", p->url));
    *out = p;
    return VELO_OK;
}

const char *
velo_pub_url(const velo_pub *p)
{
    return p->url;
}

int
velo_pub_send(velo_pub *p, const char *topic, const ProtobufCMessage *msg)
{
    nng_msg *m;
    size_t   tlen = strlen(topic);
    size_t   n = protobuf_c_message_get_packed_size(msg);
    uint8_t *body;
    int      rv;

    /* Subscribers drop anything larger (their NNG_OPT_RECVMAXSZ). */
    if (n > RPC_MAX_FRAME_DEFAULT - tlen - 1 || tlen >= RPC_MAX_FRAME_DEFAULT)
        return VELO_ETOOBIG;
    rv = nng_msg_alloc(&m, tlen + 1 + n);
    if (rv != 0)
        return VELO_ENOMEM;
    body = nng_msg_body(m);
    memcpy(body, topic, tlen + 1); /* with its NUL */
    protobuf_c_message_pack(msg, body + tlen + 1);
    /* PUB never blocks: the send completes at once, dropping the message
     * for subscribers that are behind. */
    pthread_mutex_lock(&p->mtx);
    nng_aio_set_msg(p->aio, m);
    nng_send_aio(p->sock, p->aio);
    nng_aio_wait(p->aio);
    rv = nng_aio_result(p->aio);
    pthread_mutex_unlock(&p->mtx);
    if (rv != 0) {
        nng_msg_free(m); /* not consumed on failure */
        return rpc_err_from_nng(rv);
    }
    return VELO_OK;
}

void
velo_pub_stop(velo_pub *p)
{
    if (p == NULL)
        return;
    nng_close(p->sock);
    nng_aio_free(p->aio);
    pthread_mutex_destroy(&p->mtx);
    free(p);
}

int
velo_sub_new(velo_sub **out, const char *url, const char *prefix)
{
    velo_sub *s;
    int       rv;

    if (url == NULL || prefix == NULL)
        return VELO_EINVAL;
    s = calloc(1, sizeof(*s));
    if (s == NULL)
        return VELO_ENOMEM;
    rv = nng_sub0_open(&s->sock);
    if (rv != 0) {
        free(s);
        return rpc_err_from_nng(rv);
    }
    rv = nng_socket_set(s->sock, NNG_OPT_SUB_SUBSCRIBE, prefix, strlen(prefix));
    if (rv == 0)
        rv = nng_pipe_notify(s->sock, NNG_PIPE_EV_ADD_POST, rpc_sub_pipe_cb, s);
    if (rv == 0)
        rv = nng_pipe_notify(s->sock, NNG_PIPE_EV_REM_POST, rpc_sub_pipe_cb, s);
    if (rv == 0)
        rv = nng_socket_set_size(s->sock, NNG_OPT_RECVMAXSZ,
                                 RPC_MAX_FRAME_DEFAULT);
    if (rv == 0)
        rv = nng_dial(s->sock, url, NULL, NNG_FLAG_NONBLOCK);
    if (rv != 0) {
        velo_error("rpc.sub.dial_failed", VELO_S("url", url),
                   VELO_S("cause", nng_strerror(rv)));
        velo_sub_free(s);
        return rpc_err_from_nng(rv);
    }
    *out = s;
    return VELO_OK;
}

/* Splits "topic\0payload" and decodes the payload. */
static int
rpc_sub_decode(nng_msg *m, const ProtobufCMessageDescriptor *desc,
               char *topic_buf, size_t topic_size, ProtobufCMessage **msg)
{
    const uint8_t *body = nng_msg_body(m);
    size_t         len = nng_msg_len(m);
    const uint8_t *nul = memchr(body, '\0', len);
    size_t         tlen;

    if (nul == NULL)
        return VELO_EPROTO;
    tlen = (size_t)(nul - body);
    if (tlen >= topic_size)
        return VELO_ETOOBIG;
    *msg = protobuf_c_message_unpack(desc, NULL, len - tlen - 1, nul + 1);
    if (*msg == NULL)
        return VELO_EPROTO;
    memcpy(topic_buf, body, tlen + 1);
    return VELO_OK;
}

int
velo_sub_recv(velo_sub *s, const ProtobufCMessageDescriptor *desc,
              char *topic_buf, size_t topic_size, ProtobufCMessage **msg,
              int timeout_ms)
{
    ProtobufCMessage *decoded = NULL;
    nng_msg          *m;
    int               rv;

    rv = nng_socket_set_ms(s->sock, NNG_OPT_RECVTIMEO,
                           timeout_ms < 0 ? NNG_DURATION_INFINITE : timeout_ms);
    if (rv == 0)
        rv = nng_recvmsg(s->sock, &m, 0);
    if (rv != 0)
        return rpc_err_from_nng(rv);
    rv = rpc_sub_decode(m, desc, topic_buf, topic_size, &decoded);
    nng_msg_free(m);
    if (rv != VELO_OK) {
        velo_warn("rpc.sub.dropped", VELO_S("cause", velo_strerror(rv)));
        return rv;
    }
    *msg = decoded;
    return VELO_OK;
}

bool
velo_sub_connected(velo_sub *s)
{
    return atomic_load(&s->pipes) > 0;
}

void
velo_sub_free(velo_sub *s)
{
    if (s == NULL)
        return;
    nng_close(s->sock);
    free(s);
}
