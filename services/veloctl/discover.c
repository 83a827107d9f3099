/* discover.c: veloctl's Consul lookups (see discover.h). One blocking
 * request each: a command line tool has no use for a watch thread. */
#include "discover.h"

#include <stdlib.h>
#include <string.h>

#include "table.h"
#include "velo/json.h"
#include "velo/jsonw.h"

#define LOOKUP_TIMEOUT_MS 3000u
#define SERVICES_MAX 32

int
veloctl_consul_open(const struct veloctl_args *a, velo_consul **out)
{
    struct velo_consul_cfg cfg = {
        .addr = a->consul != NULL ? a->consul : getenv("VELO_CONSUL_ADDR"),
        .token = getenv("CONSUL_HTTP_TOKEN"),
        .token_file = getenv("CONSUL_HTTP_TOKEN_FILE"),
        .cacert = getenv("CONSUL_CACERT"),
        .timeout_ms = LOOKUP_TIMEOUT_MS,
    };

    return velo_consul_new(out, &cfg);
}

/* GET path from the agent into res; an exit status, reason printed. */
static int
consul_get(struct veloctl_ctx *x, velo_consul *c, const char *path,
           struct velo_fetch_result *res)
{
    int rv;

    rv = velo_consul_request(c, NULL, path, NULL, 0, res);
    if (rv == VELO_OK && res->status == 200)
        return VELOCTL_EXIT_OK;
    if (rv == VELO_OK)
        veloctl_errorf(x, "Consul at %s answered HTTP %ld to %s",
                       velo_consul_addr(c), res->status, path);
    else
        veloctl_errorf(x, "cannot reach Consul at %s: %s", velo_consul_addr(c),
                       res->cause[0] ? res->cause : velo_strerror(rv));
    return rv == VELO_OK ? VELOCTL_EXIT_ERROR : VELOCTL_EXIT_UNREACHABLE;
}

int
veloctl_discover(struct veloctl_ctx *x, velo_consul *c, const char *service,
                 char (*urls)[VELO_CONSUL_URL_MAX], size_t max, size_t *n)
{
    struct velo_consul_instance in[VELOCTL_MAX_URLS];
    struct velo_fetch_result    res;
    char                        path[256];
    size_t                      k = 0, i;
    int                         ex;

    snprintf(path, sizeof(path), "/v1/health/service/%s?passing=1", service);
    ex = consul_get(x, c, path, &res);
    if (ex == VELOCTL_EXIT_OK &&
        velo_consul_parse_health(res.body.data, res.body.len, in,
                                 VELOCTL_MAX_URLS, &k) != VELO_OK) {
        veloctl_errorf(x, "Consul's answer for %s is not a health list",
                       service);
        ex = VELOCTL_EXIT_ERROR;
    }
    velo_fetch_result_fini(&res);
    if (ex != VELOCTL_EXIT_OK)
        return ex;
    if (k == 0) {
        veloctl_errorf(x, "no passing %s instance registered in Consul at %s",
                       service, velo_consul_addr(c));
        return VELOCTL_EXIT_UNREACHABLE;
    }
    for (i = 0; i < k && i < max; i++)
        memcpy(urls[i], in[i].url, sizeof(urls[i]));
    *n = i;
    return VELOCTL_EXIT_OK;
}

/* The names of the services tagged velopipe, from /v1/catalog/services. */
static int
status_services(struct veloctl_ctx *x, velo_consul *c, char (*names)[64],
                size_t *n)
{
    struct velo_fetch_result res;
    cJSON                   *root = NULL;
    const cJSON             *svc, *tag, *list;
    int                      ex;

    *n = 0;
    ex = consul_get(x, c, "/v1/catalog/services", &res);
    if (ex == VELOCTL_EXIT_OK &&
        (velo_json_parse(res.body.data, res.body.len, &root) != VELO_OK ||
         !cJSON_IsObject(root))) {
        veloctl_errorf(x, "Consul's service catalog is not a JSON object");
        ex = VELOCTL_EXIT_ERROR;
    }
    list = ex == VELOCTL_EXIT_OK ? root : NULL;
    cJSON_ArrayForEach(svc, list)
    {
        cJSON_ArrayForEach(tag, svc)
        {
            if (cJSON_IsString(tag) &&
                strcmp(tag->valuestring, "velopipe") == 0 &&
                *n < SERVICES_MAX && strlen(svc->string) < 64) {
                snprintf(names[*n], 64, "%s", svc->string);
                (*n)++;
                break;
            }
        }
    }
    cJSON_Delete(root);
    velo_fetch_result_fini(&res);
    return ex;
}

/* Appends the check rows of one service. */
static int
status_rows(struct veloctl_ctx *x, velo_consul *c, const char *name,
            struct velo_consul_check_row *rows, size_t max, size_t *n)
{
    struct velo_fetch_result res;
    char                     path[256];
    size_t                   k = 0;
    int                      ex;

    snprintf(path, sizeof(path), "/v1/health/service/%s", name);
    ex = consul_get(x, c, path, &res);
    if (ex == VELOCTL_EXIT_OK &&
        velo_consul_parse_checks(res.body.data, res.body.len, rows + *n,
                                 max - *n, &k) != VELO_OK) {
        veloctl_errorf(x, "Consul's answer for %s is not a health list", name);
        ex = VELOCTL_EXIT_ERROR;
    }
    velo_fetch_result_fini(&res);
    *n += k;
    return ex;
}

static int
status_json(struct velo_buf *b, const struct velo_consul_check_row *r, size_t n)
{
    struct velo_jsonw w;
    size_t            i;

    velo_jsonw_init(&w, b);
    velo_jsonw_obj_begin(&w);
    velo_jsonw_key(&w, "source");
    velo_jsonw_str(&w, "consul");
    velo_jsonw_key(&w, "checks");
    velo_jsonw_arr_begin(&w);
    for (i = 0; i < n; i++) {
        velo_jsonw_obj_begin(&w);
        velo_jsonw_key(&w, "service");
        velo_jsonw_str(&w, r[i].service);
        velo_jsonw_key(&w, "id");
        velo_jsonw_str(&w, r[i].id);
        velo_jsonw_key(&w, "address");
        velo_jsonw_str(&w, r[i].address);
        velo_jsonw_key(&w, "check");
        velo_jsonw_str(&w, r[i].check);
        velo_jsonw_key(&w, "status");
        velo_jsonw_str(&w, r[i].status);
        velo_jsonw_key(&w, "output");
        velo_jsonw_str(&w, r[i].output);
        velo_jsonw_obj_end(&w);
    }
    velo_jsonw_arr_end(&w);
    velo_jsonw_obj_end(&w);
    if (velo_jsonw_finish(&w) != VELO_OK)
        return VELO_ETOOBIG;
    return velo_buf_puts(b, "\n");
}

static int
status_table(struct velo_buf *b, const struct velo_consul_check_row *r,
             size_t n)
{
    static const struct veloctl_col cols[] = {
        {"SERVICE", false, 0, 24}, {"ID", false, 0, 48},
        {"ADDRESS", false, 0, 40}, {"CHECK", false, 0, 30},
        {"STATUS", false, 0, 10},  {"OUTPUT", false, 0, 60}};
    veloctl_table *t = NULL;
    size_t         i;
    int            rv;

    rv = veloctl_table_new(&t, cols, 6);
    for (i = 0; rv == VELO_OK && i < n; i++) {
        const char *cells[6] = {r[i].service, r[i].id,     r[i].address,
                                r[i].check,   r[i].status, r[i].output};

        rv = veloctl_table_add(t, cells);
    }
    if (rv == VELO_OK)
        rv = n > 0 ? veloctl_table_render(t, true, b)
                   : velo_buf_puts(b, "no velopipe instance registered\n");
    veloctl_table_free(t);
    return rv;
}

int
veloctl_status_consul(struct veloctl_ctx *x, velo_consul *c)
{
    struct velo_consul_check_row *rows;
    char                          names[SERVICES_MAX][64];
    struct velo_buf               b;
    size_t                        nn = 0, n = 0, i, bad = 0;
    int                           ex, rv;

    rows = calloc(VELOCTL_STATUS_MAX, sizeof(*rows));
    if (rows == NULL)
        return VELOCTL_EXIT_ERROR;
    ex = status_services(x, c, names, &nn);
    for (i = 0; ex == VELOCTL_EXIT_OK && i < nn; i++)
        ex = status_rows(x, c, names[i], rows, VELOCTL_STATUS_MAX, &n);
    if (ex == VELOCTL_EXIT_OK) {
        velo_buf_init(&b, VELOCTL_OUT_MAX);
        rv = x->a->json ? status_json(&b, rows, n) : status_table(&b, rows, n);
        ex = rv == VELO_OK ? veloctl_emit(x, &b) : veloctl_out_fail(x, rv);
        velo_buf_fini(&b);
    }
    for (i = 0; i < n; i++)
        bad += strcmp(rows[i].status, "passing") != 0;
    free(rows);
    return ex == VELOCTL_EXIT_OK && bad > 0 ? VELOCTL_EXIT_ERROR : ex;
}
