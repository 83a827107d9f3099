/* source_spec.h: what one configured source is, parsed from its spec string.
 *
 *   SYSTEM_ID=KIND:URL[,opt=value...]
 *   jcdecaux:dublin=jcdecaux-v3:https://api.jcdecaux.com
 *   gbfs:lyon=gbfs:https://api.cyclocity.fr/contracts/lyon/gbfs/gbfs.json,lang=fr
 *   demo:dublin=simulate:tests/fixtures/jcdecaux/v1_stations_dublin.json,seed=7
 *   rec:dublin=replay:/var/lib/velo/rec,loop=1
 *
 * Options: interval=SECONDS (poll period, fractions allowed; 0 = as fast
 * as possible, for replay benchmarks), lang=xx (GBFS), contract=NAME (JCDecaux;
 * default: the part of SYSTEM_ID after the first ':'), loop=0|1 (replay),
 * seed=N and speed=X (simulate), allow=HOST[:PORT];... (hosts besides the
 * source URL's own whose addresses may be internal: loopback, private...),
 * tz=ZONE (the system's IANA time zone: overrides the GBFS feed's or the
 * JCDecaux contract table's; required for simulate), name=TEXT (the
 * system's display name in its SystemInfo).
 * Virtual time (simulate only): start=YYYY-MM-DDTHH:MM:SSZ, step=SECONDS
 * (default 60), polls=N (0 = no end): poll k observes the instant
 * start + k * step, and after N polls the source is finished; without
 * interval= such a source polls back to back. speed= does not combine
 * with start=.
 * HTTP kinds need an http(s) URL with a host; a JCDecaux base has no query
 * or fragment. Pure parsing: no I/O (whether a zone exists is checked by
 * ingest_sysinfo_check_spec). */
#ifndef INGEST_SOURCE_SPEC_H
#define INGEST_SOURCE_SPEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "velo/err.h"

#define INGEST_ALLOW_MAX 16

enum ingest_kind {
    INGEST_JCDECAUX_V1,
    INGEST_JCDECAUX_V3,
    INGEST_GBFS,
    INGEST_REPLAY,
    INGEST_SIMULATE,
};

struct ingest_source_spec {
    char            *system_id; /* owned */
    enum ingest_kind kind;
    char            *url;      /* owned: base URL, gbfs.json, file or dir */
    char            *contract; /* owned, JCDecaux only */
    char            *lang;     /* owned, NULL = feed's first language */
    uint32_t         interval_ms;
    bool             has_interval; /* false: the service default applies */
    bool             loop;
    uint64_t         seed;
    double           speed;
    bool             has_speed;               /* speed= given */
    char            *allow[INGEST_ALLOW_MAX]; /* owned, from allow= */
    size_t           nallow;
    char            *tz;   /* owned, from tz=, NULL: none */
    char            *name; /* owned, from name=, NULL: none */
    /* Virtual time (simulate): set by start=. */
    bool     virtual_time;
    int64_t  start_ms; /* the instant of poll 0 */
    uint32_t step_ms;  /* virtual time between polls */
    uint32_t polls;    /* 0: no end */
};

/* Parses one spec. VELO_EINVAL with a one-line reason in err. */
VELO_MUST_CHECK int ingest_source_spec_parse(const char                *text,
                                             struct ingest_source_spec *out,
                                             char *err, size_t err_size);
void                ingest_source_spec_fini(struct ingest_source_spec *s);

/* "jcdecaux-v1", "gbfs", ... */
const char *ingest_kind_name(enum ingest_kind k);

#endif
