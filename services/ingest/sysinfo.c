/* sysinfo.c: the SystemInfo of a source, the JCDecaux contract table, and
 * sending a record only when it changed. */
#include "sysinfo.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "velo/tz.h"

/* JCDecaux publishes no time zone, so this table gives each contract's.
 * It covers every contract of the VLS v1 contract list
 * (tests/fixtures/jcdecaux/v1_contracts_2015.json) and the later ones
 * (brisbane, malmo, maribor). A contract missing here needs tz=. */
static const struct ingest_jcd_contract contracts[] = {
    {"amiens", "Europe/Paris", "Velam", "fr"},
    {"besancon", "Europe/Paris", "VéloCité", "fr"},
    {"brisbane", "Australia/Brisbane", "CityCycle", "en"},
    {"bruxelles", "Europe/Brussels", "villo", "fr"},
    {"bruxelles-capitale", "Europe/Brussels", "villo", "fr"},
    {"cergy-pontoise", "Europe/Paris", "Velo2", "fr"},
    {"creteil", "Europe/Paris", "Cristolib", "fr"},
    {"dublin", "Europe/Dublin", "dublinbikes", "en"},
    {"goteborg", "Europe/Stockholm", "Göteborg", "sv"},
    {"kazan", "Europe/Moscow", "Veli'k", "ru"},
    {"lillestrom", "Europe/Oslo", "Bysykkel", "nb"},
    {"ljubljana", "Europe/Ljubljana", "Bicikelj", "sl"},
    {"lund", "Europe/Stockholm", "Lundahoj", "sv"},
    {"luxembourg", "Europe/Luxembourg", "Veloh", "fr"},
    {"lyon", "Europe/Paris", "Vélo'V", "fr"},
    {"malmo", "Europe/Stockholm", "Malmö by bike", "sv"},
    {"maribor", "Europe/Ljubljana", "MBajk", "sl"},
    {"marseille", "Europe/Paris", "Le vélo", "fr"},
    {"mulhouse", "Europe/Paris", "VéloCité", "fr"},
    {"namur", "Europe/Brussels", "Li bia velo", "fr"},
    {"nancy", "Europe/Paris", "vélOstan'lib", "fr"},
    {"nantes", "Europe/Paris", "Bicloo", "fr"},
    {"paris", "Europe/Paris", "Velib", "fr"},
    {"rouen", "Europe/Paris", "cy'clic", "fr"},
    {"santander", "Europe/Madrid", "Tusbic", "es"},
    {"seville", "Europe/Madrid", "SEVICI", "es"},
    {"stockholm", "Europe/Stockholm", "Cyclocity", "sv"},
    {"toulouse", "Europe/Paris", "Vélô", "fr"},
    {"toyama", "Asia/Tokyo", "cyclocity", "ja"},
    {"valence", "Europe/Madrid", "Valenbisi", "es"},
    {"vilnius", "Europe/Vilnius", "Cyclocity", "lt"},
};

#define NCONTRACTS (sizeof(contracts) / sizeof(contracts[0]))

const struct ingest_jcd_contract *
ingest_jcdecaux_contracts(size_t *n)
{
    *n = NCONTRACTS;
    return contracts;
}

const struct ingest_jcd_contract *
ingest_jcdecaux_contract(const char *contract)
{
    size_t i;

    for (i = 0; contract != NULL && i < NCONTRACTS; i++) {
        if (strcasecmp(contracts[i].name, contract) == 0)
            return &contracts[i];
    }
    return NULL;
}

bool
ingest_sysinfo_zone_ok(const char *zone)
{
    velo_tz *tz = NULL;

    /* velo_tz_load refuses absolute names, "..", odd characters and
     * anything but a regular TZif file. */
    if (zone == NULL || velo_tz_load(&tz, zone) != VELO_OK)
        return false;
    velo_tz_free(tz);
    return true;
}

static bool
is_jcdecaux(const struct ingest_source_spec *s)
{
    return s->kind == INGEST_JCDECAUX_V1 || s->kind == INGEST_JCDECAUX_V3;
}

const char *
ingest_sysinfo_spec_tz(const struct ingest_source_spec *s)
{
    const struct ingest_jcd_contract *c;

    if (s->tz != NULL)
        return s->tz;
    c = is_jcdecaux(s) ? ingest_jcdecaux_contract(s->contract) : NULL;
    return c != NULL ? c->tz : NULL;
}

int
ingest_sysinfo_check_spec(const struct ingest_source_spec *s, char *err,
                          size_t err_size)
{
    const char *tz = ingest_sysinfo_spec_tz(s);

    if (tz == NULL && is_jcdecaux(s)) {
        snprintf(err, err_size,
                 "source %s: JCDecaux contract '%s' has no known time zone: "
                 "give tz=ZONE (e.g. tz=Europe/Paris)",
                 s->system_id, s->contract);
        return VELO_EINVAL;
    }
    if (tz == NULL && s->kind == INGEST_SIMULATE) {
        snprintf(err, err_size,
                 "source %s: simulate needs tz=ZONE (the local time of its "
                 "day, e.g. tz=Europe/Dublin)",
                 s->system_id);
        return VELO_EINVAL;
    }
    if (tz != NULL && !ingest_sysinfo_zone_ok(tz)) {
        snprintf(err, err_size,
                 "source %s: time zone '%s' is not in /usr/share/zoneinfo",
                 s->system_id, tz);
        return VELO_EINVAL;
    }
    return VELO_OK;
}

/* "" in a fixed-size feed field means the source did not say. */
static const char *
feed_str(const struct ingest_feed_info *feed, const char *field)
{
    return feed != NULL && field[0] != '\0' ? field : NULL;
}

/* The first of a, b, c that is not NULL. protobuf-c's strings are
 * char *, but packing only reads them: the record borrows const text. */
static char *
first(const char *a, const char *b, const char *c)
{
    return (char *)(a != NULL ? a : b != NULL ? b : c);
}

void
ingest_sysinfo_build(const struct ingest_source_spec *s,
                     const struct ingest_feed_info   *feed,
                     const struct ingest_batch *b, Velo__V1__SystemInfo *out)
{
    const struct ingest_jcd_contract *c =
        is_jcdecaux(s) ? ingest_jcdecaux_contract(s->contract) : NULL;

    velo__v1__system_info__init(out);
    out->system_id = s->system_id;
    out->timezone = first(s->tz, feed ? feed_str(feed, feed->timezone) : NULL,
                          c != NULL ? c->tz : NULL);
    out->name = first(s->name, feed ? feed_str(feed, feed->name) : NULL,
                      c != NULL ? c->commercial : s->system_id);
    out->operator_ = first(feed ? feed_str(feed, feed->operator_) : NULL,
                           c != NULL ? "JCDecaux" : NULL, NULL);
    out->language = first(feed ? feed_str(feed, feed->language) : NULL,
                          c != NULL ? c->language : NULL, s->lang);
    out->source_url = s->url;
    out->source_format =
        first(b != NULL && b->len > 0 ? b->items[0].source_format : NULL,
              ingest_kind_name(s->kind), NULL);
    if (b != NULL) {
        out->has_station_count = 1;
        out->station_count = (uint32_t)b->len;
    }
}

int
ingest_sysinfo_publish(struct ingest_sysinfo_sent *last,
                       const struct ingest_sink   *sink,
                       const Velo__V1__SystemInfo *si, bool *sent)
{
    size_t   n = velo__v1__system_info__get_packed_size(si);
    uint8_t *buf;
    int      rv;

    *sent = false;
    if (sink->send_system == NULL)
        return VELO_OK;
    buf = malloc(n > 0 ? n : 1);
    if (buf == NULL)
        return VELO_ENOMEM;
    velo__v1__system_info__pack(si, buf);
    if (last->bytes != NULL && last->len == n &&
        memcmp(last->bytes, buf, n) == 0) {
        free(buf);
        return VELO_OK;
    }
    rv = sink->send_system(sink->ctx, si->system_id, si);
    if (rv != VELO_OK) {
        free(buf);
        return rv;
    }
    free(last->bytes);
    last->bytes = buf;
    last->len = n;
    *sent = true;
    return VELO_OK;
}

void
ingest_sysinfo_forget(struct ingest_sysinfo_sent *last)
{
    free(last->bytes);
    last->bytes = NULL;
    last->len = 0;
}
