/* http_server_stream.c: streaming responses (Server-Sent Events).
 *
 * A stream's body comes from MHD's content-reader callback. On MHD 0.9.75
 * a reader that returns 0 while it has nothing to send makes the internal
 * polling thread call it again at once: a busy loop (PLATFORM.md). So a
 * reader that finds the queue empty suspends its connection
 * (MHD_suspend_connection, allowed from a content reader) and returns 0;
 * the connection then leaves MHD's poll set entirely. A writer that queues
 * bytes while the connection is suspended resumes it, from any thread.
 *
 * Suspend and resume are both issued under st->mtx, and only by the thread
 * that flips st->suspended, so a resume never overtakes its suspend.
 *
 * Lifetime: two references, the caller's (velo_http_stream_close) and the
 * server's (dropped when MHD frees the response, i.e. the connection is
 * done). A suspended connection is not polled, so a departed client is
 * only noticed on the next send: the sweep thread's heartbeat provides
 * one every stream_heartbeat_ms. */
#include <stdlib.h>
#include <string.h>

#include "http_server_int.h"
#include "velo/clock.h"
#include "velo/log.h"

#define STREAM_BLOCK 4096
#define STREAM_QUEUE_DEFAULT ((size_t)256 << 10)
#define STREAM_HEARTBEAT ": \n\n" /* an SSE comment: clients ignore it */

int
velo_http_stream_open(struct velo_http_resp *resp, velo_http_stream **out)
{
    velo_http_stream *st;

    if (resp->stream != NULL)
        return VELO_EINVAL;
    st = calloc(1, sizeof(*st));
    if (st == NULL)
        return VELO_ENOMEM;
    if (pthread_mutex_init(&st->mtx, NULL) != 0) {
        free(st);
        return VELO_ENOMEM;
    }
    /* The server sets its configured bound when the response starts. */
    velo_buf_init(&st->q, STREAM_QUEUE_DEFAULT);
    st->refs = 2;
    st->last_write_ms = velo_mono_ms();
    resp->status = MHD_HTTP_OK;
    resp->content_type = "text/event-stream";
    resp->etag = false;
    resp->gzip = false;
    resp->stream = st;
    *out = st;
    return VELO_OK;
}

/* Drops one reference; the last one frees. */
void
server_stream_release(velo_http_stream *st)
{
    int left;

    pthread_mutex_lock(&st->mtx);
    left = --st->refs;
    pthread_mutex_unlock(&st->mtx);
    if (left > 0)
        return;
    velo_buf_fini(&st->q);
    pthread_mutex_destroy(&st->mtx);
    free(st);
}

/* The server will never start st: ends it and drops the server's
 * reference. */
void
server_stream_abandon(velo_http_stream *st)
{
    pthread_mutex_lock(&st->mtx);
    st->dead = true;
    pthread_mutex_unlock(&st->mtx);
    server_stream_release(st);
}

/* Wakes a suspended connection. Locks: caller holds st->mtx. */
static void
stream_wake(velo_http_stream *st)
{
    if (!st->suspended)
        return;
    st->suspended = false;
    MHD_resume_connection(st->conn);
}

/* The client is too far behind: cut it off. Locks: caller holds st->mtx. */
static int
stream_cut(velo_http_stream *st)
{
    st->dead = true;
    if (st->overflows != NULL)
        velo_metric_inc(st->overflows);
    stream_wake(st);
    return VELO_EFULL;
}

/* An event larger than the whole queue: as a queue overflow. */
static int
stream_overflow(velo_http_stream *st)
{
    int rv = VELO_ECLOSED;

    pthread_mutex_lock(&st->mtx);
    if (!st->dead && !st->ending)
        rv = stream_cut(st);
    pthread_mutex_unlock(&st->mtx);
    return rv;
}

/* Queues bytes. Locks: caller holds st->mtx. */
static int
stream_queue(velo_http_stream *st, const void *data, size_t len)
{
    int rv;

    if (st->dead || st->ending)
        return VELO_ECLOSED;
    /* Drop the bytes MHD already took, so the bound applies to what the
     * client has not received yet, not to everything ever written. */
    if (st->qoff > 0) {
        size_t left = st->q.len - st->qoff;

        memmove(st->q.data, st->q.data + st->qoff, left);
        st->q.len = left;
        st->q.data[left] = '\0';
        st->qoff = 0;
    }
    rv = velo_buf_append(&st->q, data, len);
    if (rv == VELO_ETOOBIG)
        return stream_cut(st);
    if (rv != VELO_OK)
        return rv;
    st->last_write_ms = velo_mono_ms();
    stream_wake(st);
    return VELO_OK;
}

int
velo_http_stream_write(velo_http_stream *st, const void *data, size_t len)
{
    int rv;

    pthread_mutex_lock(&st->mtx);
    rv = stream_queue(st, data, len);
    pthread_mutex_unlock(&st->mtx);
    return rv;
}

/* Appends "data: <line>\n" for every line of data (CR, LF or CRLF end a
 * line, as the SSE parser splits them). */
static int
stream_data_lines(struct velo_buf *b, const char *data)
{
    int rv = VELO_OK;

    do {
        size_t n = strcspn(data, "\r\n");

        rv = velo_buf_puts(b, "data: ");
        if (rv == VELO_OK)
            rv = velo_buf_append(b, data, n);
        if (rv == VELO_OK)
            rv = velo_buf_puts(b, "\n");
        data += n;
        if (data[0] == '\r' && data[1] == '\n')
            data++;
        if (data[0] != '\0')
            data++;
    } while (rv == VELO_OK && data[0] != '\0');
    return rv;
}

int
velo_http_stream_event(velo_http_stream *st, const char *id, const char *event,
                       const char *data)
{
    struct velo_buf b;
    size_t          max;
    int             rv = VELO_OK;

    if ((id && strpbrk(id, "\r\n")) || (event && strpbrk(event, "\r\n")))
        return VELO_EINVAL;
    pthread_mutex_lock(&st->mtx);
    max = st->q.max; /* a larger event could never be queued */
    pthread_mutex_unlock(&st->mtx);
    velo_buf_init(&b, max);
    if (id != NULL)
        rv = velo_buf_printf(&b, "id: %s\n", id);
    if (rv == VELO_OK && event != NULL)
        rv = velo_buf_printf(&b, "event: %s\n", event);
    if (rv == VELO_OK)
        rv = stream_data_lines(&b, data ? data : "");
    if (rv == VELO_OK)
        rv = velo_buf_puts(&b, "\n");
    if (rv == VELO_OK)
        rv = velo_http_stream_write(st, b.data, b.len);
    else if (rv == VELO_ETOOBIG)
        rv = stream_overflow(st);
    velo_buf_fini(&b);
    return rv;
}

bool
velo_http_stream_alive(velo_http_stream *st)
{
    bool alive;

    pthread_mutex_lock(&st->mtx);
    alive = !st->dead && !st->ending;
    pthread_mutex_unlock(&st->mtx);
    return alive;
}

void
velo_http_stream_close(velo_http_stream *st)
{
    if (st == NULL)
        return;
    pthread_mutex_lock(&st->mtx);
    st->ending = true;
    stream_wake(st);
    pthread_mutex_unlock(&st->mtx);
    server_stream_release(st);
}

/* Feeds an idle stream a comment, so a departed client is noticed.
 * Thread: the sweeper. Locks: caller holds s->mtx. */
void
server_stream_heartbeat(velo_http_stream *st, int64_t now_ms, int64_t every_ms)
{
    pthread_mutex_lock(&st->mtx);
    if (now_ms - st->last_write_ms >= every_ms)
        (void)stream_queue(st, STREAM_HEARTBEAT, strlen(STREAM_HEARTBEAT));
    pthread_mutex_unlock(&st->mtx);
}

/* MHD content reader: hands over queued bytes, ends the body, or suspends
 * the connection until a writer resumes it. Thread: MHD. */
static ssize_t
stream_read(void *cls, uint64_t pos, char *buf, size_t max)
{
    velo_http_stream *st = cls;
    ssize_t           n;

    (void)pos;
    pthread_mutex_lock(&st->mtx);
    if (st->qoff < st->q.len) {
        n = (ssize_t)(st->q.len - st->qoff < max ? st->q.len - st->qoff : max);
        memcpy(buf, st->q.data + st->qoff, (size_t)n);
        st->qoff += (size_t)n;
    } else if (st->dead) {
        n = MHD_CONTENT_READER_END_WITH_ERROR;
    } else if (st->ending) {
        n = MHD_CONTENT_READER_END_OF_STREAM;
    } else {
        st->suspended = true;
        MHD_suspend_connection(st->conn);
        n = 0;
    }
    pthread_mutex_unlock(&st->mtx);
    return n;
}

/* MHD frees the response: the connection is done with the stream. */
static void
stream_done(void *cls)
{
    velo_http_stream *st = cls;
    velo_http_server *s;

    pthread_mutex_lock(&st->mtx);
    s = st->s;
    pthread_mutex_unlock(&st->mtx);
    if (s != NULL) {
        pthread_mutex_lock(&s->mtx);
        if (st->prev != NULL)
            st->prev->next = st->next;
        else
            s->streams = st->next;
        if (st->next != NULL)
            st->next->prev = st->prev;
        s->nstreams--;
        if (s->streams_open != NULL)
            velo_metric_set(s->streams_open, (double)s->nstreams);
        pthread_mutex_unlock(&s->mtx);
    }
    pthread_mutex_lock(&st->mtx);
    st->dead = true;
    st->s = NULL;
    st->conn = NULL;
    pthread_mutex_unlock(&st->mtx);
    server_stream_release(st);
}

/* Creates the streaming MHD response for st and registers the stream with
 * the server; NULL when MHD cannot (the caller then drops the server's
 * reference). Thread: MHD, from the access handler. */
struct MHD_Response *
server_stream_response(velo_http_server *s, struct MHD_Connection *conn,
                       velo_http_stream *st)
{
    struct MHD_Response *mr;

    mr = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, STREAM_BLOCK,
                                           stream_read, st, stream_done);
    if (mr == NULL)
        return NULL;
    pthread_mutex_lock(&s->mtx);
    pthread_mutex_lock(&st->mtx);
    st->conn = conn;
    st->s = s;
    st->q.max = s->cfg.stream_queue_bytes;
    st->overflows = s->rej_overflow;
    /* A stream opened while the server stops ends at once, so it never
     * suspends behind server_streams_end's back. */
    st->dead = s->stopping;
    pthread_mutex_unlock(&st->mtx);
    st->next = s->streams;
    st->prev = NULL;
    if (s->streams != NULL)
        s->streams->prev = st;
    s->streams = st;
    s->nstreams++;
    if (s->streams_open != NULL)
        velo_metric_set(s->streams_open, (double)s->nstreams);
    pthread_mutex_unlock(&s->mtx);
    return mr;
}

/* Ends every stream, so no connection stays suspended when MHD stops
 * (MHD_stop_daemon with suspended connections is an API violation).
 * Thread: the one stopping the server. */
void
server_streams_end(velo_http_server *s)
{
    velo_http_stream *st;

    pthread_mutex_lock(&s->mtx);
    for (st = s->streams; st != NULL; st = st->next) {
        pthread_mutex_lock(&st->mtx);
        st->dead = true;
        stream_wake(st);
        pthread_mutex_unlock(&st->mtx);
    }
    pthread_mutex_unlock(&s->mtx);
}

size_t
velo_http_server_streams(velo_http_server *s)
{
    size_t n;

    pthread_mutex_lock(&s->mtx);
    n = s->nstreams;
    pthread_mutex_unlock(&s->mtx);
    return n;
}
