/* echo.c: velo-bench-nng-echo, the baseline for the RPC benchmarks.
 *
 * A bare nng REQ/REP echo (no protobuf, no velo RPC layer) in one process:
 * a REP server with --workers contexts echoing each message on nng's
 * threads (the same shape as velo_rpc_server), and --threads client
 * threads, each with its own REQ socket, sending --size-byte messages back
 * to back for --duration-s seconds. Prints round trips per second and the
 * p50/p99 round trip. What velo-bench-rpc measures on top of this is the
 * cost of the RPC layer and of the service itself. */
#include <getopt.h>
#include <nng/nng.h>
#include <nng/protocol/reqrep0/rep.h>
#include <nng/protocol/reqrep0/req.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../bench_util.h"
#include "velo/clock.h"
#include "velo/parse.h"

struct opts {
    uint32_t    size, threads, workers, duration_s;
    const char *url;
    const char *connect; /* client only, against another process */
    bool        serve;   /* server only, until stdin closes */
    bool        json;
};

/* One server context: RECV -> SEND the same message -> RECV. */
struct echo_worker {
    nng_aio *aio;
    nng_ctx  ctx;
    bool     sending;
};

struct client {
    const char      *url;
    uint32_t         size;
    int64_t          end_ns;
    struct bench_lat lat;
    int              rv; /* nng error that stopped the thread, or 0 */
};

static void
echo_cb(void *arg)
{
    struct echo_worker *w = arg;
    int                 rv = nng_aio_result(w->aio);

    if (rv != 0) {
        if (w->sending)
            nng_msg_free(nng_aio_get_msg(w->aio));
        if (rv == NNG_ECLOSED || rv == NNG_ECANCELED)
            return;
    } else if (!w->sending) {
        w->sending = true; /* the received message goes straight back */
        nng_ctx_send(w->ctx, w->aio);
        return;
    }
    w->sending = false;
    nng_ctx_recv(w->ctx, w->aio);
}

static void *
client_run(void *arg)
{
    struct client *c = arg;
    nng_socket     s = NNG_SOCKET_INITIALIZER;
    char          *buf, *rbuf;
    size_t         rlen;
    int64_t        t0;

    buf = calloc(1, c->size ? c->size : 1);
    c->rv = buf == NULL ? NNG_ENOMEM : nng_req0_open(&s);
    if (c->rv == 0)
        c->rv = nng_dial(s, c->url, NULL, 0);
    while (c->rv == 0 && (t0 = velo_mono_ns()) < c->end_ns) {
        if (nng_send(s, buf, c->size, 0) != 0 ||
            nng_recv(s, &rbuf, &rlen, NNG_FLAG_ALLOC) != 0) {
            c->lat.errors++;
            continue;
        }
        bench_lat_add(&c->lat, velo_mono_ns() - t0);
        nng_free(rbuf, rlen);
    }
    nng_close(s);
    free(buf);
    return NULL;
}

static void
usage(FILE *f)
{
    fprintf(f, "usage: velo-bench-nng-echo [options]\n"
               "Raw nng REQ/REP echo round trips (no protobuf): the baseline\n"
               "for velo-bench-rpc.\n"
               "  --size=BYTES       payload size (default 256)\n"
               "  --threads=N        client threads, one REQ socket each "
               "(default 4)\n"
               "  --workers=N        server contexts (default 8)\n"
               "  --duration-s=S     how long to run (default 5)\n"
               "  --url=URL          where to listen (default "
               "tcp://127.0.0.1:0)\n"
               "  --serve            server only: print the bound URL, echo\n"
               "                     until standard input closes\n"
               "  --connect=URL      clients only, against a --serve process\n"
               "                     (server in its own process, like a "
               "service)\n"
               "  --json             one JSON line instead of text\n"
               "  --help\n");
}

/* Parses argv; returns 0 to run, 1 after --help, 2 on bad usage. */
static int
parse_opts(struct opts *o, int argc, char **argv)
{
    static const struct option lo[] = {
        {"size", 1, 0, 's'},    {"threads", 1, 0, 't'},
        {"workers", 1, 0, 'w'}, {"duration-s", 1, 0, 'd'},
        {"url", 1, 0, 'u'},     {"json", 0, 0, 'j'},
        {"serve", 0, 0, 'S'},   {"connect", 1, 0, 'c'},
        {"help", 0, 0, 'h'},    {0, 0, 0, 0}};
    int c, bad = 0;

    *o = (struct opts){256, 4, 8, 5, "tcp://127.0.0.1:0", NULL, false, false};
    while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
        if (c == 's')
            bad |= velo_parse_u32(optarg, &o->size);
        else if (c == 't')
            bad |= velo_parse_u32(optarg, &o->threads) || o->threads == 0;
        else if (c == 'w')
            bad |= velo_parse_u32(optarg, &o->workers) || o->workers == 0;
        else if (c == 'd')
            bad |= velo_parse_u32(optarg, &o->duration_s);
        else if (c == 'u')
            o->url = optarg;
        else if (c == 'j')
            o->json = true;
        else if (c == 'S')
            o->serve = true;
        else if (c == 'c')
            o->connect = optarg;
        else if (c == 'h')
            return 1;
        else
            bad = 1;
    }
    return bad || optind != argc || o->threads > 1024 || o->workers > 4096 ? 2
                                                                           : 0;
}

/* Listens on url and starts the workers; *bound gets the real URL. */
static int
server_start(nng_socket *s, struct echo_worker *w, uint32_t nw, const char *url,
             char *bound, size_t size)
{
    nng_listener l;
    const char  *colon = strrchr(url, ':');
    uint32_t     i;
    int          rv, port = 0;

    rv = nng_rep0_open(s);
    if (rv == 0)
        rv = nng_listen(*s, url, &l, 0);
    for (i = 0; rv == 0 && i < nw; i++) {
        rv = nng_aio_alloc(&w[i].aio, echo_cb, &w[i]);
        if (rv == 0)
            rv = nng_ctx_open(&w[i].ctx, *s);
        if (rv == 0)
            nng_ctx_recv(w[i].ctx, w[i].aio);
    }
    if (rv != 0)
        return rv;
    if (strncmp(url, "tcp", 3) == 0 && colon != NULL &&
        nng_listener_get_int(l, NNG_OPT_TCP_BOUND_PORT, &port) == 0)
        snprintf(bound, size, "%.*s:%d", (int)(colon - url), url, port);
    else
        snprintf(bound, size, "%s", url);
    return 0;
}

static void
server_stop(nng_socket s, struct echo_worker *w, uint32_t nw)
{
    uint32_t i;

    nng_close(s);
    for (i = 0; i < nw; i++)
        if (w[i].aio != NULL)
            nng_aio_free(w[i].aio);
}

/* --serve: the bound URL on stdout, then echo until stdin closes. */
static int
serve_until_eof(nng_socket s, struct echo_worker *w, uint32_t nw,
                const char *url)
{
    char buf[64];

    printf("%s\n", url);
    fflush(stdout);
    while (fread(buf, 1, sizeof(buf), stdin) > 0)
        ;
    server_stop(s, w, nw);
    free(w);
    return 0;
}

int
main(int argc, char **argv)
{
    struct opts         o;
    struct echo_worker *w;
    struct client      *c;
    struct bench_lat   *per, all;
    pthread_t          *th;
    nng_socket          s = NNG_SOCKET_INITIALIZER;
    char                url[256];
    int64_t             t0;
    uint32_t            i;
    int                 rv = 0;

    rv = parse_opts(&o, argc, argv);
    if (rv != 0) {
        usage(rv == 1 ? stdout : stderr);
        return rv == 1 ? 0 : 2;
    }
    w = calloc(o.workers, sizeof(*w));
    c = calloc(o.threads, sizeof(*c));
    th = calloc(o.threads, sizeof(*th));
    per = calloc(o.threads, sizeof(*per));
    if (w == NULL || c == NULL || th == NULL || per == NULL)
        return 1;
    if (o.connect != NULL)
        snprintf(url, sizeof(url), "%s", o.connect);
    else
        rv = server_start(&s, w, o.workers, o.url, url, sizeof(url));
    if (rv != 0) {
        fprintf(stderr, "velo-bench-nng-echo: %s: %s\n", o.url,
                nng_strerror(rv));
        return 1;
    }
    if (o.serve)
        return serve_until_eof(s, w, o.workers, url);
    t0 = velo_mono_ns();
    for (i = 0; i < o.threads; i++) {
        c[i] =
            (struct client){.url = url,
                            .size = o.size,
                            .end_ns = t0 + (int64_t)o.duration_s * 1000000000};
        if (pthread_create(&th[i], NULL, client_run, &c[i]) != 0)
            return 1;
    }
    for (i = 0; i < o.threads; i++) {
        pthread_join(th[i], NULL);
        if (c[i].rv != 0)
            fprintf(stderr, "velo-bench-nng-echo: client: %s\n",
                    nng_strerror(c[i].rv));
        per[i] = c[i].lat;
    }
    rv = bench_lat_merge(per, o.threads, &all) ? 0 : 1;
    if (rv == 0)
        bench_report("nng-echo", &all, (double)(velo_mono_ns() - t0) / 1e9,
                     o.threads, "payload", o.size, o.json);
    if (o.connect == NULL)
        server_stop(s, w, o.workers);
    for (i = 0; i < o.threads; i++)
        free(per[i].us);
    free(all.us);
    free(per);
    free(th);
    free(c);
    free(w);
    return rv;
}
