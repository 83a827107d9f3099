/* velo-ingest: polls bike-share sources, produces StationSnapshots. */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "ingest.h"
#include "velo/admin.h"
#include "velo/kafka.h"
#include "velo/log.h"
#include "velo/ready.h"
#include "velo/sig.h"

/* Waits for SIGINT/SIGTERM, or for --exit-after-polls to be reached. */
static int
wait_for_end(ingest *p)
{
    int sig;

    for (;;) {
        sig = velo_sig_wait(100);
        if (sig != 0) {
            velo_info("svc.stopping", VELO_I("signal", sig));
            return sig;
        }
        if (ingest_done(p)) {
            velo_info("svc.stopping", VELO_S("reason", "exit-after-polls"));
            return 0;
        }
    }
}

static int
serve(const struct ingest_cfg *cfg, velo_metrics *m)
{
    struct ingest_kafka_sink_cfg kc = {cfg->common.kafka_brokers, cfg->topic,
                                       cfg->dlq_topic,
                                       cfg->common.shutdown_timeout_ms};
    struct ingest_sink           sink;
    ingest_kafka_sink           *ks = NULL;
    ingest                      *p = NULL;
    velo_admin                  *a = NULL;
    char                         addr[64];
    const char                  *lines[1] = {addr};
    int                          rv;

    if (velo_kafka_ensure_topic(kc.brokers, kc.topic, (int)cfg->partitions,
                                10000) != VELO_OK)
        velo_warn("kafka.topic_unverified", VELO_S("topic", kc.topic));
    rv = ingest_kafka_sink_new(&ks, &kc, &sink);
    if (rv == VELO_OK)
        rv = ingest_new(&p, cfg, &sink, m);
    if (rv == VELO_OK)
        rv = velo_admin_start(
            &a, &(struct velo_admin_cfg){cfg->common.admin_bind,
                                         (uint16_t)cfg->common.admin_port, m,
                                         ingest_ready, p});
    if (rv == VELO_OK)
        rv = ingest_start(p);
    if (rv == VELO_OK) {
        snprintf(addr, sizeof(addr), "%s:%u", cfg->common.admin_bind,
                 velo_admin_port(a));
        rv = velo_ready_write(cfg->common.ready_file, lines, 1);
    }
    if (rv == VELO_OK) {
        velo_info("svc.ready", VELO_S("admin", addr));
        wait_for_end(p);
        rv = ingest_stop(p, cfg->common.shutdown_timeout_ms);
    }
    velo_admin_stop(a);
    ingest_free(p);
    ingest_kafka_sink_free(ks);
    return rv;
}

int
main(int argc, char **argv)
{
    struct ingest_cfg cfg;
    velo_metrics     *m = NULL;
    int               rv;

    if (velo_sig_block() != VELO_OK)
        return EXIT_FAILURE;
    rv = ingest_cfg_load(&cfg, argc, argv);
    if (rv != VELO_OK)
        return rv == VELO_CFG_HELP ? EXIT_SUCCESS : VELO_EXIT_CONFIG;
    velo_log_init("ingest", cfg.common.log_level, STDOUT_FILENO);
    velo_cfg_log(&ingest_cfg_spec, &cfg);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    rv = velo_metrics_new(&m);
    if (rv == VELO_OK)
        rv = serve(&cfg, m);
    velo_metrics_free(m);
    curl_global_cleanup();
    ingest_cfg_fini(&cfg);
    velo_info("svc.stopped", VELO_S("result", velo_strerror(rv)));
    return rv == VELO_OK ? EXIT_SUCCESS : EXIT_FAILURE;
}
