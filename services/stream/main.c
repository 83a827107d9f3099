/* velo-stream: the live state of every station, from Kafka, over RPC and
 * PUB. */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "stream.h"
#include "velo/admin.h"
#include "velo/log.h"
#include "velo/ready.h"
#include "velo/sig.h"

/* Ready file: admin address, then the RPC URL, then the PUB URL. */
static int
write_ready(const struct stream_cfg *cfg, const stream *s, const velo_admin *a)
{
    char        admin[64];
    const char *lines[3] = {admin, stream_rpc_url(s), stream_pub_url(s)};

    snprintf(admin, sizeof(admin), "%s:%u", cfg->common.admin_bind,
             velo_admin_port(a));
    velo_info("svc.ready", VELO_S("admin", admin), VELO_S("rpc", lines[1]),
              VELO_S("pub", lines[2]));
    return velo_ready_write(cfg->common.ready_file, lines, 3);
}

static int
serve(const struct stream_cfg *cfg, velo_metrics *m)
{
    stream     *s = NULL;
    velo_admin *a = NULL;
    int         rv, sig;

    rv = stream_new(&s, cfg, m);
    if (rv == VELO_OK)
        rv = stream_start(s);
    if (rv == VELO_OK)
        rv = velo_admin_start(
            &a, &(struct velo_admin_cfg){cfg->common.admin_bind,
                                         (uint16_t)cfg->common.admin_port, m,
                                         stream_ready, s});
    if (rv == VELO_OK)
        rv = write_ready(cfg, s, a);
    if (rv == VELO_OK) {
        sig = velo_sig_wait(-1);
        velo_info("svc.stopping", VELO_I("signal", sig));
        /* Stop intake and commit what was applied, then close. */
        rv = stream_stop(s);
    }
    velo_admin_stop(a);
    stream_free(s);
    return rv;
}

int
main(int argc, char **argv)
{
    struct stream_cfg cfg;
    velo_metrics     *m = NULL;
    int               rv;

    if (velo_sig_block() != VELO_OK)
        return EXIT_FAILURE;
    rv = stream_cfg_load(&cfg, argc, argv);
    if (rv != VELO_OK)
        return rv == VELO_CFG_HELP ? EXIT_SUCCESS : VELO_EXIT_CONFIG;
    velo_log_init("stream", cfg.common.log_level, STDOUT_FILENO);
    velo_cfg_log(&stream_cfg_spec, &cfg);
    rv = velo_metrics_new(&m);
    if (rv == VELO_OK)
        rv = serve(&cfg, m);
    velo_metrics_free(m);
    stream_cfg_fini(&cfg);
    velo_info("svc.stopped", VELO_S("result", velo_strerror(rv)));
    return rv == VELO_OK ? EXIT_SUCCESS : EXIT_FAILURE;
}
