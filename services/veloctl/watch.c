/* watch.c: `veloctl watch` (see watch.h). */
#include "watch.h"

#include <math.h>
#include <string.h>

#include "fmt.h"
#include "velo/clock.h"
#include "velo/station_json.h"
#include "velo/v1/stream.pb-c.h"

#define TOPIC_MAX 1024

/* Subscribes to "SYSTEM/" on a->pub. */
static int
watch_subscribe(struct veloctl_ctx *x, velo_sub **s)
{
    char prefix[TOPIC_MAX];
    int  rv;

    snprintf(prefix, sizeof(prefix), "%s/", x->a->system);
    rv = velo_sub_new(s, x->a->pub, prefix);
    if (rv == VELO_OK)
        return VELOCTL_EXIT_OK;
    veloctl_errorf(x, "cannot subscribe to velo-stream PUB at %s: %s",
                   x->a->pub, velo_strerror(rv));
    return VELOCTL_EXIT_UNREACHABLE;
}

/* Is the service there, and does it know the system? */
static int
watch_probe(struct veloctl_ctx *x)
{
    Velo__V1__ListSystemsRequest rq = VELO__V1__LIST_SYSTEMS_REQUEST__INIT;
    Velo__V1__ListSystemsReply  *r = NULL;
    size_t                       i;
    bool                         known = false;
    int                          ex;

    ex =
        veloctl_call(x, "ListSystems", &rq.base, (ProtobufCMessage **)&r, NULL);
    if (ex != VELOCTL_EXIT_OK)
        return ex;
    for (i = 0; i < r->n_systems && !known; i++)
        known = r->systems[i]->system_id != NULL &&
                strcmp(r->systems[i]->system_id, x->a->system) == 0;
    if (!known)
        veloctl_errorf(x,
                       "note: velo-stream has no station of system %s "
                       "yet; waiting for changes",
                       x->a->system);
    velo__v1__list_systems_reply__free_unpacked(r, NULL);
    return VELOCTL_EXIT_OK;
}

/* Writes one change and flushes it. */
static int
watch_print(struct veloctl_ctx *x, const Velo__V1__StationState *st)
{
    struct velo_buf b;
    int64_t at = st->has_applied_at_ms ? st->applied_at_ms : velo_now_ms();
    int     rv, ex;

    velo_buf_init(&b, VELOCTL_OUT_MAX);
    if (x->a->json) {
        rv = velo_station_state_to_json(st, NAN, &b);
        if (rv == VELO_OK)
            rv = velo_buf_puts(&b, "\n");
    } else {
        rv = veloctl_fmt_watch_line(&b, st, at);
    }
    ex = rv == VELO_OK ? veloctl_emit(x, &b) : veloctl_out_fail(x, rv);
    velo_buf_fini(&b);
    return ex;
}

/* How long the next receive may wait: -1 forever, 0 time is up. */
static int
wait_ms(const struct veloctl_args *a, int64_t end_ms)
{
    int64_t left;

    if (!a->has_timeout_s)
        return -1;
    left = end_ms - velo_mono_ms();
    return left > 0 ? (int)left : 0;
}

/* Receives until --count, --timeout-s or a failure; *got counts changes
 * printed. Returns an exit status. */
static int
watch_loop(struct veloctl_ctx *x, velo_sub *s, uint32_t *got)
{
    const struct veloctl_args *a = x->a;
    int64_t           end_ms = velo_mono_ms() + (int64_t)a->timeout_s * 1000;
    ProtobufCMessage *m;
    char              topic[TOPIC_MAX];
    int               ms, rv, ex = VELOCTL_EXIT_OK;

    while (ex == VELOCTL_EXIT_OK && (!a->has_count || *got < a->count)) {
        ms = wait_ms(a, end_ms);
        if (ms == 0)
            break;
        m = NULL;
        rv = velo_sub_recv(s, &velo__v1__station_state__descriptor, topic,
                           sizeof(topic), &m, ms);
        if (rv == VELO_ETIMEDOUT)
            continue; /* wait_ms says whether time is up */
        if (rv == VELO_EPROTO || rv == VELO_ETOOBIG) {
            veloctl_errorf(x, "dropped a change message that did not decode");
            continue;
        }
        if (rv != VELO_OK) {
            veloctl_errorf(x, "subscription to %s failed: %s", a->pub,
                           velo_strerror(rv));
            return VELOCTL_EXIT_UNREACHABLE;
        }
        ex = watch_print(x, (const Velo__V1__StationState *)m);
        protobuf_c_message_free_unpacked(m, NULL);
        (*got)++;
    }
    return ex;
}

int
veloctl_watch_run(struct veloctl_ctx *x)
{
    struct velo_buf b;
    velo_sub       *s = NULL;
    uint32_t        got = 0;
    int             ex, rv;

    ex = watch_subscribe(x, &s);
    if (ex == VELOCTL_EXIT_OK)
        ex = watch_probe(x);
    if (ex == VELOCTL_EXIT_OK && !x->a->json) {
        velo_buf_init(&b, 4096);
        rv = veloctl_fmt_watch_header(&b);
        ex = rv == VELO_OK ? veloctl_emit(x, &b) : veloctl_out_fail(x, rv);
        velo_buf_fini(&b);
    }
    if (ex == VELOCTL_EXIT_OK)
        ex = watch_loop(x, s, &got);
    if (ex == VELOCTL_EXIT_OK && x->a->has_count && got < x->a->count) {
        veloctl_errorf(x, "watch: %u of %u changes within %u s", (unsigned)got,
                       (unsigned)x->a->count, (unsigned)x->a->timeout_s);
        ex = VELOCTL_EXIT_ERROR;
    }
    velo_sub_free(s);
    return ex;
}
