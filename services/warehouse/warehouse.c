/* warehouse.c: wires status, loader, query pool and RPC together (see
 * warehouse.h). */
#include "warehouse.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "history.h"
#include "loader.h"
#include "query.h"
#include "status.h"
#include "velo/db.h"
#include "velo/log.h"
#include "velo/rpc.h"

struct warehouse {
    const struct warehouse_cfg *cfg;
    char                       *password; /* never logged */
    struct wh_status            status;
    struct wh_history           hist; /* the handlers' view */
    struct velo_rpc_service     rpc_svc;
    wh_query                   *query;
    wh_loader                  *loader;
    velo_rpc_server            *rpc;
};

/* SQLite creates the file, not its directory: make the directory of a
 * relative default like run/warehouse.db (one level). */
static void
sqlite_dir(const char *url)
{
    struct velo_db_url u;
    char               dir[1024];
    char              *slash;

    if (velo_db_url_parse(&u, url, NULL, 0) != VELO_OK ||
        u.kind != VELO_DB_SQLITE)
        return;
    snprintf(dir, sizeof(dir), "%s", u.dbname);
    slash = strrchr(dir, '/');
    if (slash == NULL || slash == dir)
        return;
    *slash = '\0';
    if (mkdir(dir, 0750) != 0 && errno != EEXIST)
        velo_warn("warehouse.mkdir", VELO_S("cause", strerror(errno)));
}

static int
warehouse_loader_make(warehouse *w, velo_metrics *m)
{
    const struct warehouse_cfg *cfg = w->cfg;
    struct wh_loader_cfg        lc = {
               .brokers = cfg->common.kafka_brokers,
               .topic = cfg->topic,
               .group_id = cfg->group_id,
               .dlq_topic = cfg->dlq_topic,
               .db_url = cfg->db_url,
               .password = w->password,
               .batch_size = cfg->batch_size,
               .batch_wait_ms = cfg->batch_wait_ms,
               .retry_max_ms = cfg->retry_max_ms,
               .crash_after_rows = cfg->crash_after_rows,
    };

    return wh_loader_new(&w->loader, &lc, &w->status, m);
}

static int
warehouse_rpc_make(warehouse *w, velo_metrics *m)
{
    struct velo_rpc_server_cfg rc = {
        .url = w->cfg->rpc_url,
        .svcs = &w->rpc_svc,
        .nsvcs = 1,
        .workers = w->cfg->rpc_workers,
        .max_frame_bytes = w->cfg->max_frame_bytes,
        .metrics = m,
    };

    w->hist = (struct wh_history){
        .query = w->query,
        .status = &w->status,
        .instance = w->cfg->instance,
    };
    w->rpc_svc = wh_history_rpc(&w->hist);
    return velo_rpc_server_start(&w->rpc, &rc);
}

int
warehouse_new(warehouse **out, const struct warehouse_cfg *cfg, velo_metrics *m)
{
    char       where[512];
    warehouse *w;
    int        rv;

    w = calloc(1, sizeof(*w));
    if (w == NULL)
        return VELO_ENOMEM;
    w->cfg = cfg;
    wh_status_init(&w->status);
    velo_db_url_redact(cfg->db_url, where, sizeof(where));
    velo_info("warehouse.db.url", VELO_S("url", where));
    sqlite_dir(cfg->db_url);
    rv = velo_db_password_load(&w->password);
    if (rv == VELO_OK)
        rv = wh_query_new(&w->query, cfg->db_url, w->password, cfg->query_conns,
                          &w->status);
    if (rv == VELO_OK)
        rv = warehouse_loader_make(w, m);
    if (rv == VELO_OK)
        rv = warehouse_rpc_make(w, m);
    if (rv != VELO_OK) {
        warehouse_free(w);
        return rv;
    }
    *out = w;
    return VELO_OK;
}

int
warehouse_start(warehouse *w)
{
    return wh_loader_start(w->loader);
}

int
warehouse_stop(warehouse *w)
{
    int rv;

    rv = wh_loader_stop(w->loader);
    velo_rpc_server_stop(w->rpc);
    w->rpc = NULL;
    return rv;
}

void
warehouse_free(warehouse *w)
{
    if (w == NULL)
        return;
    /* Readers first: the RPC workers use the query pool and the status. */
    velo_rpc_server_stop(w->rpc);
    wh_loader_free(w->loader);
    wh_query_free(w->query);
    if (w->password != NULL) {
        memset(w->password, 0, strlen(w->password));
        free(w->password);
    }
    wh_status_fini(&w->status);
    free(w);
}

const char *
warehouse_rpc_url(const warehouse *w)
{
    return velo_rpc_server_url(w->rpc);
}

bool
warehouse_ready(void *ctx, char *why, size_t why_size)
{
    warehouse *w = ctx;

    return wh_status_ready(&w->status, why, why_size);
}
