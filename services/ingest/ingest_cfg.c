/* ingest_cfg.c: the option table and source list of velo-ingest. */
#include "ingest_cfg.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sysinfo.h"

#define CFG(f) offsetof(struct ingest_cfg, f)

static const struct velo_opt ingest_opts[] = {
    VELO_COMMON_OPTS(struct ingest_cfg, common),
    {"source", "VELO_SOURCES", "", VELO_OPT_LIST, CFG(sources),
     "a source SYSTEM_ID=KIND:URL[,opt=v]"},
    {"sources-file", "VELO_SOURCES_FILE", NULL, VELO_OPT_STR, CFG(sources_file),
     "file with one source spec per line (# comments)", .optional = true},
    {"topic", "VELO_TOPIC", "velib_data", VELO_OPT_STR, CFG(topic),
     "topic of station snapshots"},
    {"dlq-topic", "VELO_DLQ_TOPIC", "velib_data.dlq", VELO_OPT_STR,
     CFG(dlq_topic), "dead-letter topic for records that fail validation"},
    {"systems-topic", "VELO_SYSTEMS_TOPIC", "velib_systems", VELO_OPT_STR,
     CFG(systems_topic),
     "compacted topic of SystemInfo records (time zone, name...), keyed by "
     "system id; created compacted if missing"},
    {"partitions", "VELO_PARTITIONS", "6", VELO_OPT_U32, CFG(partitions),
     "partitions of the topic when ingest creates it", .min = 1, .max = 1024},
    {"interval-s", "VELO_INTERVAL_S", "60", VELO_OPT_U32, CFG(interval_s),
     "default poll period of a source (a GBFS ttl can lengthen it)",
     .max = 86400},
    {"heartbeat-s", "VELO_HEARTBEAT_S", "300", VELO_OPT_U32, CFG(heartbeat_s),
     "re-emit an unchanged station at least this often", .min = 1,
     .max = 86400},
    {"http-timeout-ms", "VELO_HTTP_TIMEOUT_MS", "15000", VELO_OPT_U32,
     CFG(http_timeout_ms), "the most one HTTP request may take", .min = 100,
     .max = 600000},
    {"max-body-bytes", "VELO_MAX_BODY_BYTES", "16777216", VELO_OPT_U32,
     CFG(max_body_bytes), "larger source responses are rejected", .min = 1024,
     .max = 1073741824},
    {"max-stations", "VELO_MAX_STATIONS", "100000", VELO_OPT_U32,
     CFG(max_stations), "larger payloads are rejected", .min = 1,
     .max = 10000000},
    {"jcdecaux-api-key", "JCDECAUX_API_KEY", NULL, VELO_OPT_STR, CFG(api_key),
     "JCDecaux VLS API key (jcdecaux-v1/v3 sources)", .secret = true,
     .optional = true},
    {"exit-after-polls", "VELO_EXIT_AFTER_POLLS", "0", VELO_OPT_U32,
     CFG(exit_after_polls),
     "exit 0 once every source polled this often (0: run until signalled, "
     "or until every source is finished)"},
    {"ready-max-age-s", "VELO_READY_MAX_AGE_S", "0", VELO_OPT_U32,
     CFG(ready_max_age_s),
     "/readyz fails when no source succeeded this recently (0: 3x the "
     "longest interval, at least 60)"},
    {"max-wait-s", "VELO_MAX_WAIT_S", "3600", VELO_OPT_U32, CFG(max_wait_s),
     "the longest a source's ttl or Retry-After may delay its next poll "
     "(larger values are cut and logged as poll.wait_capped)",
     .min = 1, .max = 604800},
    {"leader-key", "VELO_INGEST_LEADER_KEY", "velopipe/ingest/leader",
     VELO_OPT_STR, CFG(leader_key),
     "with Consul: the KV lock only the active replica holds (others stand "
     "by); empty: every replica polls"},
    {"leader-ttl-s", "VELO_INGEST_LEADER_TTL_S", "10", VELO_OPT_U32,
     CFG(leader_ttl_s),
     "session TTL of the leader lock: a crashed leader is replaced within "
     "about twice this (Consul's minimum: 10 unless its session_ttl_min)",
     .min = 1, .max = 3600},
};

const struct velo_cfg_spec ingest_cfg_spec = {
    .svc = "ingest",
    .summary = "polls bike-share sources and produces station snapshots to "
               "Kafka",
    .opts = ingest_opts,
    .nopts = sizeof(ingest_opts) / sizeof(ingest_opts[0]),
    .admin_port_default = "9101",
};

static int
specs_add(struct ingest_cfg *cfg, const char *text, const char *where)
{
    struct ingest_source_spec *n;
    char                       err[512];
    int                        rv;

    n = realloc(cfg->specs, (cfg->nspecs + 1) * sizeof(*n));
    if (n == NULL)
        return VELO_ENOMEM;
    cfg->specs = n;
    rv = ingest_source_spec_parse(text, &cfg->specs[cfg->nspecs], err,
                                  sizeof(err));
    if (rv != VELO_OK) {
        fprintf(stderr, "velo-ingest: %s: %s\n", where, err);
        return rv;
    }
    cfg->nspecs++;
    return VELO_OK;
}

/* Reads the sources file; every bad line is reported. */
static int
specs_from_file(struct ingest_cfg *cfg, const char *path)
{
    char  line[4096], where[512];
    FILE *f = fopen(path, "r");
    int   lineno = 0, bad = 0;
    char *p, *end;

    if (f == NULL) {
        fprintf(stderr, "velo-ingest: --sources-file %s: cannot open\n", path);
        return VELO_EINVAL;
    }
    while (fgets(line, sizeof(line), f) != NULL) {
        lineno++;
        for (p = line; *p == ' ' || *p == '\t'; p++)
            ;
        end = p + strcspn(p, "\r\n#");
        while (end > p && (end[-1] == ' ' || end[-1] == '\t'))
            end--;
        *end = '\0';
        if (*p == '\0')
            continue;
        snprintf(where, sizeof(where), "%s:%d", path, lineno);
        bad += specs_add(cfg, p, where) != VELO_OK;
    }
    fclose(f);
    return bad ? VELO_EINVAL : VELO_OK;
}

static int
check_specs(struct ingest_cfg *cfg)
{
    char   err[512];
    int    bad = 0;
    size_t i, j;

    if (cfg->nspecs == 0) {
        fprintf(stderr, "velo-ingest: no sources: give --source, "
                        "VELO_SOURCES or --sources-file\n");
        return VELO_EINVAL;
    }
    for (i = 0; i < cfg->nspecs; i++) {
        enum ingest_kind k = cfg->specs[i].kind;
        if ((k == INGEST_JCDECAUX_V1 || k == INGEST_JCDECAUX_V3) &&
            (cfg->api_key == NULL || *cfg->api_key == '\0')) {
            fprintf(stderr,
                    "velo-ingest: source %s needs JCDECAUX_API_KEY "
                    "(or use its keyless GBFS feed)\n",
                    cfg->specs[i].system_id);
            bad++;
        }
        if (ingest_sysinfo_check_spec(&cfg->specs[i], err, sizeof(err)) !=
            VELO_OK) {
            fprintf(stderr, "velo-ingest: %s\n", err);
            bad++;
        }
        for (j = 0; j < i; j++) {
            if (strcmp(cfg->specs[i].system_id, cfg->specs[j].system_id) == 0) {
                fprintf(stderr, "velo-ingest: source %s given twice\n",
                        cfg->specs[i].system_id);
                bad++;
            }
        }
    }
    return bad ? VELO_EINVAL : VELO_OK;
}

int
ingest_cfg_load(struct ingest_cfg *cfg, int argc, char **argv)
{
    size_t i;
    int    rv, bad = 0;

    memset(cfg, 0, sizeof(*cfg));
    rv = velo_cfg_load(&ingest_cfg_spec, cfg, argc, argv);
    if (rv != VELO_OK)
        return rv;
    for (i = 0; i < cfg->sources.len; i++)
        bad += specs_add(cfg, cfg->sources.items[i], "--source") != VELO_OK;
    if (cfg->sources_file != NULL)
        bad += specs_from_file(cfg, cfg->sources_file) != VELO_OK;
    if (bad == 0)
        bad += check_specs(cfg) != VELO_OK;
    if (bad != 0) {
        ingest_cfg_fini(cfg);
        return VELO_EINVAL;
    }
    return VELO_OK;
}

void
ingest_cfg_fini(struct ingest_cfg *cfg)
{
    size_t i;

    for (i = 0; i < cfg->nspecs; i++)
        ingest_source_spec_fini(&cfg->specs[i]);
    free(cfg->specs);
    cfg->specs = NULL;
    cfg->nspecs = 0;
    velo_cfg_fini(&ingest_cfg_spec, cfg);
}

int64_t
ingest_cfg_interval_ms(const struct ingest_cfg *cfg, size_t i)
{
    const struct ingest_source_spec *s = &cfg->specs[i];

    return s->has_interval ? (int64_t)s->interval_ms
                           : (int64_t)cfg->interval_s * 1000;
}
