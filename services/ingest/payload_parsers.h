/* payload_parsers.h: payload parsers, one per source format. Pure functions:
 * bytes in, a batch out; no I/O, so every case is tested on recorded payloads.
 *
 * Contract shared by every parser:
 * - body is len bytes, not necessarily NUL-terminated.
 * - VELO_OK: out holds every station of the payload, valid ones as items,
 *   invalid ones as rejects (with their raw JSON and a reason).
 * - VELO_EPROTO: the payload as a whole is unusable (malformed or truncated
 *   JSON, wrong root type, missing `data`); err says why in one line; out
 *   is left empty. VELO_ETOOBIG: more stations than out->max.
 * - Fields the source did not send (or sent as null) stay absent (has_* 0,
 *   string NULL); a field of the wrong type rejects that station. A null
 *   last update gives last_reported_ms = 0 (has_ set), as DESIGN §3 says.
 * - Every item gets system_id = ctx->system_id, fetched_at_ms =
 *   ctx->fetched_at_ms and source_format (e.g. "jcdecaux-v1", "gbfs-2.3").
 */
#ifndef INGEST_PAYLOAD_PARSERS_H
#define INGEST_PAYLOAD_PARSERS_H

#include <stddef.h>
#include <stdint.h>

#include "batch.h"

struct ingest_parse_ctx {
    const char *system_id;     /* "jcdecaux:dublin" */
    int64_t     fetched_at_ms; /* when the body arrived */
};

/* JCDecaux VLS v1 `GET /vls/v1/stations?contract=..` (a JSON array). */
VELO_MUST_CHECK int ingest_jcdecaux_v1_parse(const char *body, size_t len,
                                             const struct ingest_parse_ctx *ctx,
                                             struct ingest_batch           *out,
                                             char *err, size_t err_size);

/* JCDecaux VLS v3 `GET /vls/v3/stations?contract=..` (a JSON array; one
 * object is accepted too, as in the documentation example). */
VELO_MUST_CHECK int ingest_jcdecaux_v3_parse(const char *body, size_t len,
                                             const struct ingest_parse_ctx *ctx,
                                             struct ingest_batch           *out,
                                             char *err, size_t err_size);

/* ---- GBFS 1.x / 2.x / 3.x ---- */

/* What gbfs.json (auto-discovery) announces. Owned strings. */
struct ingest_gbfs_feeds {
    char    *station_information; /* URL, NULL when not announced */
    char    *station_status;
    char    *vehicle_types;
    char    *system_information;
    char     version[16]; /* "1.1", "2.3", "3.0"; "1.0" when absent */
    char     lang[36];    /* the data.<lang> picked (1.x/2.x), else "" */
    uint32_t ttl_s;
};

/* Picks the feed list of language lang (2.x has data.<lang>.feeds), or
 * the first language when lang is NULL or absent; 3.x has data.feeds. */
VELO_MUST_CHECK int ingest_gbfs_discovery_parse(const char *body, size_t len,
                                                const char               *lang,
                                                struct ingest_gbfs_feeds *out,
                                                char *err, size_t err_size);
void                ingest_gbfs_feeds_fini(struct ingest_gbfs_feeds *f);

/* What a source says about itself (GBFS system_information). "" is a
 * field it did not send. Text is valid UTF-8, cut on a character
 * boundary to fit. */
struct ingest_feed_info {
    char name[128];
    char operator_[128];
    char timezone[64]; /* as sent: not checked against the zone database */
    char language[36];
};

/* system_information (1.x/2.x: plain strings and `language`; 3.x:
 * localized name/operator arrays and `languages`). The language is the
 * feed's: 1.x/2.x `language`, else feed_lang (the gbfs.json language
 * picked); 3.x lang when the feed lists it, else its first language;
 * localized text in that language, else the first. A field missing or of
 * the wrong type stays "". VELO_EPROTO (err says why) when the JSON is
 * malformed or has no `data` object. */
VELO_MUST_CHECK int ingest_gbfs_system_parse(const char *body, size_t len,
                                             const char              *lang,
                                             const char              *feed_lang,
                                             struct ingest_feed_info *out,
                                             char *err, size_t err_size);

/* Static station data (station_information) and the vehicle types, kept
 * between polls. Opaque; built by the parsers below, freed by _free. */
typedef struct ingest_gbfs_static ingest_gbfs_static;

VELO_MUST_CHECK int ingest_gbfs_static_new(ingest_gbfs_static **out);
void                ingest_gbfs_static_free(ingest_gbfs_static *st);

/* Replaces the station table from station_information. On error the old
 * table stays. lang picks a localized name (3.x), NULL: first. */
VELO_MUST_CHECK int ingest_gbfs_info_parse(ingest_gbfs_static *st,
                                           const char *body, size_t len,
                                           const char *lang, char *err,
                                           size_t err_size);

/* Replaces the vehicle type table (vehicle_types.json): which type ids
 * are mechanical (propulsion "human") and which electric. */
VELO_MUST_CHECK int ingest_gbfs_vtypes_parse(ingest_gbfs_static *st,
                                             const char *body, size_t len,
                                             char *err, size_t err_size);

/* station_status joined with the static tables by station_id. version is
 * the feed version ("2.3"); *ttl_s gets the feed's ttl. Stations missing
 * from station_information are emitted without name and position. */
VELO_MUST_CHECK int ingest_gbfs_status_parse(
    const ingest_gbfs_static *st, const char *body, size_t len,
    const char *version, const struct ingest_parse_ctx *ctx,
    struct ingest_batch *out, uint32_t *ttl_s, char *err, size_t err_size);

#endif
