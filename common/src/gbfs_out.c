/* gbfs_out.c: GBFS 2.3 and 3.0 documents (see velo/gbfs_out.h): the JSON
 * writer, the envelope every feed shares, auto-discovery, system
 * information and the 3.0 manifest. The station feeds are in
 * gbfs_out_station.c. */
#include "velo/gbfs_out.h"

#include <inttypes.h>
#include <math.h>
#include <string.h>
#include <time.h>

#include "gbfs_out_int.h"
#include "velo/jsonw.h"
#include "velo/parse.h"

/* A URL is short; a template or system_id past this is a config error. */
#define GBFS_URL_MAX 2048

static const char *const feed_names[] = {
    [VELO_GBFS_FEED_GBFS] = "gbfs",
    [VELO_GBFS_FEED_SYSTEM_INFORMATION] = "system_information",
    [VELO_GBFS_FEED_STATION_INFORMATION] = "station_information",
    [VELO_GBFS_FEED_STATION_STATUS] = "station_status",
    [VELO_GBFS_FEED_VEHICLE_TYPES] = "vehicle_types",
    [VELO_GBFS_FEED_MANIFEST] = "manifest",
};
#define N_FEEDS (sizeof(feed_names) / sizeof(feed_names[0]))

/* The gbfs_jw calls are key + value in one call over the one JSON writer
 * (velo/jsonw.h): the feeds read as a list of members. */
void
gbfs_jw_key(struct gbfs_jw *w, const char *key)
{
    if (key != NULL)
        velo_jsonw_key(&w->j, key);
}

void
gbfs_jw_open(struct gbfs_jw *w, const char *key, char brace)
{
    gbfs_jw_key(w, key);
    if (brace == '{')
        velo_jsonw_obj_begin(&w->j);
    else
        velo_jsonw_arr_begin(&w->j);
}

void
gbfs_jw_close(struct gbfs_jw *w, char brace)
{
    if (brace == '}')
        velo_jsonw_obj_end(&w->j);
    else
        velo_jsonw_arr_end(&w->j);
}

void
gbfs_jw_str(struct gbfs_jw *w, const char *key, const char *s)
{
    gbfs_jw_key(w, key);
    velo_jsonw_str(&w->j, s);
}

void
gbfs_jw_i64(struct gbfs_jw *w, const char *key, int64_t v)
{
    gbfs_jw_key(w, key);
    velo_jsonw_i64(&w->j, v);
}

/* Callers filter non-finite values out; the writer would write null,
 * which fails validation where 0 would lie. */
void
gbfs_jw_dbl(struct gbfs_jw *w, const char *key, double v)
{
    gbfs_jw_key(w, key);
    velo_jsonw_dbl(&w->j, v);
}

void
gbfs_jw_bool(struct gbfs_jw *w, const char *key, bool v)
{
    gbfs_jw_key(w, key);
    velo_jsonw_bool(&w->j, v);
}

void
gbfs_jw_time(struct gbfs_jw *w, const char *key, enum velo_gbfs_version v,
             int64_t ms)
{
    time_t    t = (time_t)(ms / 1000);
    struct tm tm;
    char      ts[32];

    if (v == VELO_GBFS_2_3) {
        gbfs_jw_i64(w, key, ms / 1000);
        return;
    }
    /* Whole seconds: GBFS consumers compare seconds, and RFC 3339 without
     * a fraction is the form every 3.0 example uses. */
    gmtime_r(&t, &tm);
    strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm);
    gbfs_jw_str(w, key, ts);
}

void
gbfs_jw_text(struct gbfs_jw *w, const char *key, const char *s,
             const char *lang)
{
    gbfs_jw_open(w, key, '[');
    gbfs_jw_open(w, NULL, '{');
    gbfs_jw_str(w, "text", s);
    gbfs_jw_str(w, "language", lang);
    gbfs_jw_close(w, '}');
    gbfs_jw_close(w, ']');
}

const char *
velo_gbfs_out_feed_name(enum velo_gbfs_feed feed)
{
    return (size_t)feed < N_FEEDS ? feed_names[feed] : "unknown";
}

int
velo_gbfs_out_feed_parse(const char *name, enum velo_gbfs_feed *out)
{
    size_t n = strlen(name);
    size_t i;

    if (n > 5 && strcmp(name + n - 5, ".json") == 0)
        n -= 5;
    for (i = 0; i < N_FEEDS; i++) {
        if (strlen(feed_names[i]) == n &&
            strncmp(feed_names[i], name, n) == 0) {
            *out = (enum velo_gbfs_feed)i;
            return VELO_OK;
        }
    }
    return VELO_ENOTFOUND;
}

bool
velo_gbfs_out_has_feed(const struct velo_gbfs_input *in,
                       enum velo_gbfs_version v, enum velo_gbfs_feed feed)
{
    (void)v;
    switch (feed) {
    case VELO_GBFS_FEED_GBFS:
    case VELO_GBFS_FEED_SYSTEM_INFORMATION:
    case VELO_GBFS_FEED_STATION_INFORMATION:
    case VELO_GBFS_FEED_STATION_STATUS:
        return true;
    case VELO_GBFS_FEED_VEHICLE_TYPES:
        return in->sys->ebike_range_m > 0 && gbfs_has_ebike_split(in);
    default:
        return false;
    }
}

/* BCP 47 as both schemas restrict it: ^[a-z]{2,3}(-[A-Z]{2})?$ */
static bool
lang_ok(const char *s)
{
    size_t i = 0;

    while (s[i] >= 'a' && s[i] <= 'z')
        i++;
    if (i < 2 || i > 3)
        return false;
    if (s[i] == '\0')
        return true;
    return s[i] == '-' && s[i + 1] >= 'A' && s[i + 1] <= 'Z' &&
           s[i + 2] >= 'A' && s[i + 2] <= 'Z' && s[i + 3] == '\0';
}

/* An address as the schemas' "email" format needs: text@text. */
static bool
email_ok(const char *s)
{
    const char *at = s != NULL ? strchr(s, '@') : NULL;

    return at != NULL && at != s && at[1] != '\0';
}

/* The newest fetched_at among the stations, never after now: the time the
 * data in the feed last changed. now when no station says. */
static int64_t
last_updated_ms(const struct velo_gbfs_input *in)
{
    int64_t best = 0;
    size_t  i;

    for (i = 0; i < in->n_stations; i++) {
        const Velo__V1__StationSnapshot *s = in->stations[i];

        if (s->has_fetched_at_ms && s->fetched_at_ms > best)
            best = s->fetched_at_ms;
    }
    return best > 0 && best <= in->now_ms ? best : in->now_ms;
}

/* Appends s percent-encoded as one path segment (RFC 3986 pchar). */
static int
segment_put(struct velo_buf *b, const char *s)
{
    static const char keep[] = "-._~:@!$&'()*+,;=";
    int               rv = VELO_OK;

    for (; rv == VELO_OK && *s != '\0'; s++) {
        unsigned char c = (unsigned char)*s;

        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
            (c >= '0' && c <= '9') || strchr(keep, c) != NULL)
            rv = velo_buf_append(b, s, 1);
        else
            rv = velo_buf_printf(b, "%%%02X", c);
    }
    return rv;
}

/* Writes key: template with {version} and {system} replaced, then file. */
static void
url_put(struct gbfs_jw *w, const char *key, const char *tmpl,
        enum velo_gbfs_version v, const char *system_id, const char *file)
{
    struct velo_buf u;
    const char     *p;
    int             rv = VELO_OK;

    velo_buf_init(&u, GBFS_URL_MAX);
    for (p = tmpl; rv == VELO_OK && *p != '\0'; p++) {
        if (strncmp(p, "{version}", 9) == 0) {
            rv = velo_buf_puts(&u, v == VELO_GBFS_2_3 ? "2.3" : "3.0");
            p += 8;
        } else if (strncmp(p, "{system}", 8) == 0) {
            rv = segment_put(&u, system_id);
            p += 7;
        } else {
            rv = velo_buf_append(&u, p, 1);
        }
    }
    if (rv == VELO_OK)
        rv = velo_buf_printf(&u, "%s.json", file);
    if (rv == VELO_OK)
        gbfs_jw_str(w, key, u.data);
    else
        velo_jsonw_fail(&w->j, rv == VELO_ETOOBIG ? VELO_EINVAL : rv);
    velo_buf_fini(&u);
}

static void
discovery_feeds(struct gbfs_jw *w, const struct velo_gbfs_input *in,
                enum velo_gbfs_version v)
{
    static const enum velo_gbfs_feed listed[] = {
        VELO_GBFS_FEED_SYSTEM_INFORMATION,
        VELO_GBFS_FEED_STATION_INFORMATION,
        VELO_GBFS_FEED_STATION_STATUS,
        VELO_GBFS_FEED_VEHICLE_TYPES,
    };
    size_t i;

    gbfs_jw_open(w, "feeds", '[');
    for (i = 0; i < sizeof(listed) / sizeof(listed[0]); i++) {
        if (!velo_gbfs_out_has_feed(in, v, listed[i]))
            continue;
        gbfs_jw_open(w, NULL, '{');
        gbfs_jw_str(w, "name", feed_names[listed[i]]);
        url_put(w, "url", in->url_template, v, in->sys->system_id,
                feed_names[listed[i]]);
        gbfs_jw_close(w, '}');
    }
    gbfs_jw_close(w, ']');
}

/* gbfs.json: 2.3 groups the feeds by language, 3.0 has one list. */
static void
discovery(struct gbfs_jw *w, const struct velo_gbfs_input *in,
          enum velo_gbfs_version v)
{
    if (v == VELO_GBFS_2_3)
        gbfs_jw_open(w, in->sys->language, '{');
    discovery_feeds(w, in, v);
    if (v == VELO_GBFS_2_3)
        gbfs_jw_close(w, '}');
}

static void
system_information(struct gbfs_jw *w, const struct velo_gbfs_input *in,
                   enum velo_gbfs_version v)
{
    const struct velo_gbfs_system *sys = in->sys;
    const char                    *lang = sys->language;

    gbfs_jw_str(w, "system_id", sys->system_id);
    if (v == VELO_GBFS_2_3) {
        gbfs_jw_str(w, "language", lang);
        gbfs_jw_str(w, "name", sys->name);
        if (sys->operator_name != NULL)
            gbfs_jw_str(w, "operator", sys->operator_name);
    } else {
        gbfs_jw_open(w, "languages", '[');
        gbfs_jw_str(w, NULL, lang);
        gbfs_jw_close(w, ']');
        gbfs_jw_text(w, "name", sys->name, lang);
        if (sys->operator_name != NULL)
            gbfs_jw_text(w, "operator", sys->operator_name, lang);
        if (in->manifest_url != NULL)
            gbfs_jw_str(w, "manifest_url", in->manifest_url);
    }
    if (sys->url != NULL)
        gbfs_jw_str(w, "url", sys->url);
    if (sys->opening_hours != NULL)
        gbfs_jw_str(w, "opening_hours", sys->opening_hours);
    /* Both schemas check the format: an address without '@' is left out
     * (3.0 never gets here without one, see velo_gbfs_out_has_version). */
    if (email_ok(sys->feed_contact_email))
        gbfs_jw_str(w, "feed_contact_email", sys->feed_contact_email);
    gbfs_jw_str(w, "timezone", sys->timezone);
}

bool
velo_gbfs_out_has_version(const struct velo_gbfs_system *sys,
                          enum velo_gbfs_version         v)
{
    if (sys->system_id == NULL || sys->name == NULL || sys->timezone == NULL ||
        sys->language == NULL || !lang_ok(sys->language))
        return false;
    if (v == VELO_GBFS_2_3)
        return true;
    return email_ok(sys->feed_contact_email) && sys->opening_hours != NULL;
}

static void
envelope_open(struct gbfs_jw *w, int64_t updated_ms, uint32_t ttl_s,
              enum velo_gbfs_version v)
{
    gbfs_jw_open(w, NULL, '{');
    gbfs_jw_time(w, "last_updated", v, updated_ms);
    gbfs_jw_i64(w, "ttl", ttl_s);
    gbfs_jw_str(w, "version", v == VELO_GBFS_2_3 ? "2.3" : "3.0");
    gbfs_jw_open(w, "data", '{');
}

static void
envelope_close(struct gbfs_jw *w)
{
    gbfs_jw_close(w, '}');
    gbfs_jw_close(w, '}');
}

static void
body_put(struct gbfs_jw *w, const struct velo_gbfs_input *in,
         enum velo_gbfs_version v, enum velo_gbfs_feed feed)
{
    switch (feed) {
    case VELO_GBFS_FEED_GBFS:
        discovery(w, in, v);
        break;
    case VELO_GBFS_FEED_SYSTEM_INFORMATION:
        system_information(w, in, v);
        break;
    case VELO_GBFS_FEED_STATION_INFORMATION:
        gbfs_station_information(w, in, v);
        break;
    case VELO_GBFS_FEED_STATION_STATUS:
        gbfs_station_status(w, in, v);
        break;
    default:
        gbfs_vehicle_types(w, in, v);
        break;
    }
}

int
velo_gbfs_out_write(const struct velo_gbfs_input *in, enum velo_gbfs_version v,
                    enum velo_gbfs_feed feed, struct velo_buf *out)
{
    struct gbfs_jw w;
    uint32_t       ttl;

    if (in->sys == NULL || !velo_gbfs_out_has_version(in->sys, v) ||
        (feed == VELO_GBFS_FEED_GBFS && in->url_template == NULL))
        return VELO_EINVAL;
    if (!velo_gbfs_out_has_feed(in, v, feed))
        return VELO_ENOTFOUND;
    ttl = feed == VELO_GBFS_FEED_STATION_STATUS ? in->status_ttl_s
                                                : in->info_ttl_s;
    velo_jsonw_init(&w.j, out);
    envelope_open(&w, last_updated_ms(in), ttl, v);
    body_put(&w, in, v, feed);
    envelope_close(&w);
    return velo_jsonw_finish(&w.j); /* all or nothing */
}

static void
manifest_dataset(struct gbfs_jw *w, const struct velo_gbfs_system *sys,
                 const char *url_template)
{
    static const enum velo_gbfs_version vs[] = {VELO_GBFS_2_3, VELO_GBFS_3_0};
    size_t                              i;

    gbfs_jw_open(w, NULL, '{');
    gbfs_jw_str(w, "system_id", sys->system_id);
    /* Sorted by increasing version, as the schema asks. */
    gbfs_jw_open(w, "versions", '[');
    for (i = 0; i < sizeof(vs) / sizeof(vs[0]); i++) {
        if (!velo_gbfs_out_has_version(sys, vs[i]))
            continue;
        gbfs_jw_open(w, NULL, '{');
        gbfs_jw_str(w, "version", vs[i] == VELO_GBFS_2_3 ? "2.3" : "3.0");
        url_put(w, "url", url_template, vs[i], sys->system_id, "gbfs");
        gbfs_jw_close(w, '}');
    }
    gbfs_jw_close(w, ']');
    gbfs_jw_close(w, '}');
}

int
velo_gbfs_out_manifest(const struct velo_gbfs_system *const *systems, size_t n,
                       const char *url_template, int64_t now_ms, uint32_t ttl_s,
                       struct velo_buf *out)
{
    struct gbfs_jw w;
    size_t         i;

    if (url_template == NULL)
        return VELO_EINVAL;
    for (i = 0; i < n; i++) {
        if (systems[i]->system_id == NULL)
            return VELO_EINVAL;
    }
    velo_jsonw_init(&w.j, out);
    envelope_open(&w, now_ms, ttl_s, VELO_GBFS_3_0);
    gbfs_jw_open(&w, "datasets", '[');
    for (i = 0; i < n; i++)
        manifest_dataset(&w, systems[i], url_template);
    gbfs_jw_close(&w, ']');
    envelope_close(&w);
    return velo_jsonw_finish(&w.j); /* all or nothing */
}
