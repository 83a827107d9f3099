/* ingest_cfg.h: velo-ingest's configuration (one table, DESIGN §10). */
#ifndef INGEST_CFG_H
#define INGEST_CFG_H

#include <stddef.h>
#include <stdint.h>

#include "source_spec.h"
#include "velo/cfg.h"

struct ingest_cfg {
    struct velo_common_cfg common;
    struct velo_strlist    sources;      /* raw --source / VELO_SOURCES */
    const char            *sources_file; /* one spec a line, # comments */
    const char            *topic;
    const char            *dlq_topic;
    const char            *systems_topic; /* SystemInfo, compacted */
    uint32_t               partitions;
    uint32_t               interval_s;  /* default poll period */
    uint32_t               heartbeat_s; /* re-emit unchanged stations */
    uint32_t               http_timeout_ms;
    uint32_t               max_body_bytes;
    uint32_t               max_stations;     /* per payload */
    const char            *api_key;          /* JCDECAUX_API_KEY, secret */
    uint32_t               exit_after_polls; /* 0: run until signalled */
    uint32_t               ready_max_age_s;  /* 0: 3 x longest interval */
    uint32_t               max_wait_s;   /* cap of a source's ttl/Retry-After */
    const char            *leader_key;   /* Consul KV lock; "": none */
    uint32_t               leader_ttl_s; /* its session TTL */
    /* Derived by ingest_cfg_load: the parsed sources (owned). */
    struct ingest_source_spec *specs;
    size_t                     nspecs;
};

extern const struct velo_cfg_spec ingest_cfg_spec;

/* Loads, validates (every problem at once on stderr) and parses the
 * sources. VELO_OK, VELO_CFG_HELP or VELO_EINVAL. Release with
 * ingest_cfg_fini. */
VELO_MUST_CHECK int ingest_cfg_load(struct ingest_cfg *cfg, int argc,
                                    char **argv);
void                ingest_cfg_fini(struct ingest_cfg *cfg);

/* Effective poll period of source i, in ms. */
int64_t ingest_cfg_interval_ms(const struct ingest_cfg *cfg, size_t i);

#endif
