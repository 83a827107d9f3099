/* poll_jcdecaux.c: JCDecaux VLS v1/v3 polling (legacy, switched off by
 * JCDecaux on 2026-12-31; its systems are keyless GBFS now).
 *
 * One GET per poll: {base}/vls/v{1,3}/stations?contract=C&apiKey=K. The key
 * never reaches a log: the URL kept for logs has no query. */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "payload_parsers.h"
#include "source_kind.h"
#include "velo/clock.h"

struct jcd {
    char url[2048];     /* with the key: never logged */
    char log_url[1024]; /* without the query */
};

static int
jcd_open(struct ingest_src *s)
{
    struct jcd *j = calloc(1, sizeof(*j));
    const char *ver = s->spec->kind == INGEST_JCDECAUX_V1 ? "v1" : "v3";
    char       *contract, *key;
    const char *base = s->spec->url;
    size_t      n = strlen(base);

    if (j == NULL)
        return VELO_ENOMEM;
    while (n > 0 && base[n - 1] == '/')
        n--;
    snprintf(j->log_url, sizeof(j->log_url), "%.*s/vls/%s/stations", (int)n,
             base, ver);
    /* Both go into a query string: escape them (a key may hold '&'). */
    contract = curl_easy_escape(NULL, s->spec->contract, 0);
    key = curl_easy_escape(NULL, s->cfg->api_key ? s->cfg->api_key : "", 0);
    if (contract != NULL && key != NULL)
        snprintf(j->url, sizeof(j->url), "%s?contract=%s&apiKey=%s", j->log_url,
                 contract, key);
    curl_free(contract);
    curl_free(key);
    s->kstate = j;
    return j->url[0] != '\0' ? VELO_OK : VELO_ENOMEM;
}

static void
jcd_done(void *ctx, struct velo_fetch_result *res)
{
    struct ingest_src      *s = ctx;
    struct jcd             *j = s->kstate;
    struct ingest_outcome   o = {.retry_after_ms = -1, .url = j->log_url};
    struct ingest_batch     b;
    struct ingest_parse_ctx pc = {s->spec->system_id, velo_now_ms()};
    char                    why[256] = "";
    int                     rv;

    if (ingest_src_classify(res, &o) != VELO_OK) {
        s->done(s, &o, NULL);
        return;
    }
    ingest_batch_init(&b, s->cfg->max_stations);
    rv = s->spec->kind == INGEST_JCDECAUX_V1
             ? ingest_jcdecaux_v1_parse(res->body.data, res->body.len, &pc, &b,
                                        why, sizeof(why))
             : ingest_jcdecaux_v3_parse(res->body.data, res->body.len, &pc, &b,
                                        why, sizeof(why));
    if (rv != VELO_OK) {
        ingest_batch_fini(&b);
        ingest_src_malformed(&o, rv, why, res->body.data, res->body.len);
        s->done(s, &o, NULL);
        return;
    }
    o.kind = "ok";
    s->done(s, &o, &b);
    ingest_batch_fini(&b);
}

static void
jcd_poll(struct ingest_src *s, int64_t now_ms)
{
    struct jcd           *j = s->kstate;
    struct velo_fetch_req req;
    struct ingest_outcome o = {.retry_after_ms = -1, .url = j->log_url};
    int                   rv;

    (void)now_ms;
    ingest_src_fetch_req(s, j->url, &req);
    rv = velo_fetcher_add(s->fetcher, &req, jcd_done, s);
    if (rv != VELO_OK) {
        o.err = rv;
        o.kind = "unavailable";
        snprintf(o.detail, sizeof(o.detail), "cannot start request: %s",
                 velo_strerror(rv));
        s->done(s, &o, NULL);
    }
}

static void
jcd_close(struct ingest_src *s)
{
    free(s->kstate);
    s->kstate = NULL;
}

const struct ingest_src_ops ingest_jcdecaux_ops = {jcd_open, jcd_poll,
                                                   jcd_close};
