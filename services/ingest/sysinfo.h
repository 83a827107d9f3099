/* sysinfo.h: the SystemInfo record of each source (velib_systems).
 *
 * Where each field comes from:
 *   timezone  tz= option > GBFS system_information > the JCDecaux
 *             contract table below; simulate requires tz=, replay may
 *             have none (then the field is absent and velo-batch holds
 *             the system's daily windows).
 *   name      name= option > GBFS system_information > the contract
 *             table's commercial name > the system id.
 *   operator  GBFS system_information; "JCDecaux" for JCDecaux contracts.
 *   language  GBFS (system_information, else the feed language picked in
 *             gbfs.json); the contract table; lang= for simulate/replay.
 *   source_url, source_format, station_count: the spec's URL, the batch's
 *             source_format and its number of valid stations.
 *
 * A source's record is sent at its first successful poll and again
 * whenever one of those fields changes (compared on the packed bytes); a
 * record Kafka did not acknowledge is sent again at the next poll.
 *
 * Thread: the ingest loop thread (checks: the config loader). */
#ifndef INGEST_SYSINFO_H
#define INGEST_SYSINFO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "batch.h"
#include "payload_parsers.h"
#include "sink.h"
#include "source_spec.h"
#include "velo/err.h"
#include "velo/v1/system.pb-c.h"

/* One JCDecaux contract: its API name (lower case), IANA zone, display
 * name and main language (BCP 47). */
struct ingest_jcd_contract {
    const char *name;
    const char *tz;
    const char *commercial;
    const char *language;
};

/* The contract named contract (case-insensitive; "bruxelles-capitale" and
 * "bruxelles" are one), or NULL when the table does not know it. */
const struct ingest_jcd_contract *
ingest_jcdecaux_contract(const char *contract);

/* The contract table, for tests: *n gets its length. */
const struct ingest_jcd_contract *ingest_jcdecaux_contracts(size_t *n);

/* True when zone names a regular file under /usr/share/zoneinfo that
 * velo_tz can read ("Europe/Dublin"; never absolute, never ".."). */
bool ingest_sysinfo_zone_ok(const char *zone);

/* Configuration check of one source (velo-ingest exits 78 on failure):
 * a tz= zone must exist; a JCDecaux contract the table does not know
 * needs tz=; simulate needs tz=. VELO_OK or VELO_EINVAL with a one-line
 * reason in err. */
VELO_MUST_CHECK int
ingest_sysinfo_check_spec(const struct ingest_source_spec *s, char *err,
                          size_t err_size);

/* The zone known from the configuration alone (tz=, else the contract
 * table for JCDecaux), or NULL. Borrowed from spec or the table. */
const char *ingest_sysinfo_spec_tz(const struct ingest_source_spec *s);

/* Fills out (initialised here) from the spec, what the source said about
 * itself (feed, may be NULL) and the poll's batch b (may be NULL). Every
 * string is borrowed from those three or from static tables. */
void ingest_sysinfo_build(const struct ingest_source_spec *s,
                          const struct ingest_feed_info   *feed,
                          const struct ingest_batch       *b,
                          Velo__V1__SystemInfo            *out);

/* What was last sent for one system. Zero-initialised is "nothing". */
struct ingest_sysinfo_sent {
    uint8_t *bytes; /* owned: the packed record */
    size_t   len;
};

/* Sends si (key: its system_id) through sink->send_system unless it packs
 * to the same bytes as the record last sent; remembers it on success.
 * *sent tells whether a record was queued. A sink without send_system
 * sends nothing. VELO_ENOMEM or the sink's error (nothing remembered:
 * the next call tries again). */
VELO_MUST_CHECK int ingest_sysinfo_publish(struct ingest_sysinfo_sent *last,
                                           const struct ingest_sink   *sink,
                                           const Velo__V1__SystemInfo *si,
                                           bool                       *sent);

/* Forgets what was sent (its delivery failed): the next publish sends. */
void ingest_sysinfo_forget(struct ingest_sysinfo_sent *last);

#endif
