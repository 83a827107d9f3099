/* gbfs_discovery.c: gbfs.json (auto-discovery) -> the feed URLs to poll.
 *
 * 1.x and 2.x list feeds per language (data.<lang>.feeds); 3.x lists them
 * once (data.feeds). 1.0 has no `version` field at all. Entries are
 * {name, url}; names we do not poll are ignored. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "payload_json.h"
#include "payload_parsers.h"
#include "velo/json.h"
#include "velo/utf8.h"

void
ingest_gbfs_feeds_fini(struct ingest_gbfs_feeds *f)
{
    if (f == NULL)
        return;
    free(f->station_information);
    free(f->station_status);
    free(f->vehicle_types);
    free(f->system_information);
    memset(f, 0, sizeof(*f));
}

/* `version` (a short string starting with a digit, since it ends up in
 * source_format) or "1.0" when absent, and `ttl` (0 when absent or
 * unreadable: the source's configured interval applies). */
static int
disc_header(const cJSON *root, struct ingest_gbfs_feeds *f, char *err,
            size_t err_size)
{
    const char *v = "1.0";
    int         rv;

    rv = velo_json_str(root, "version", &v);
    if (rv == VELO_ENOTFOUND)
        v = "1.0";
    else if (rv != VELO_OK || v[0] < '0' || v[0] > '9' ||
             strlen(v) >= sizeof(f->version)) {
        snprintf(err, err_size, "gbfs.json: version is not a version");
        return VELO_EPROTO;
    }
    snprintf(f->version, sizeof(f->version), "%s", v);
    if (velo_json_u32(root, "ttl", &f->ttl_s) != VELO_OK)
        f->ttl_s = 0;
    return VELO_OK;
}

/* Remembers the language key picked (a short tag, else nothing). */
static void
disc_lang(struct ingest_gbfs_feeds *f, const cJSON *lng)
{
    if (lng->string != NULL && strlen(lng->string) < sizeof(f->lang) &&
        velo_utf8_valid(lng->string, strlen(lng->string)))
        snprintf(f->lang, sizeof(f->lang), "%s", lng->string);
}

/* The feeds array: data.feeds (3.x), else data.<lang>.feeds, else the
 * first language that has a feeds array. NULL when there is none. */
static const cJSON *
disc_feed_list(const cJSON *data, const char *lang, struct ingest_gbfs_feeds *f)
{
    const cJSON *feeds, *lng;

    feeds = cJSON_GetObjectItemCaseSensitive(data, "feeds");
    if (cJSON_IsArray(feeds))
        return feeds;
    lng = lang != NULL ? cJSON_GetObjectItemCaseSensitive(data, lang) : NULL;
    if (cJSON_IsObject(lng)) {
        feeds = cJSON_GetObjectItemCaseSensitive(lng, "feeds");
        if (cJSON_IsArray(feeds)) {
            disc_lang(f, lng);
            return feeds;
        }
    }
    cJSON_ArrayForEach(lng, data)
    {
        if (!cJSON_IsObject(lng))
            continue;
        feeds = cJSON_GetObjectItemCaseSensitive(lng, "feeds");
        if (cJSON_IsArray(feeds)) {
            disc_lang(f, lng);
            return feeds;
        }
    }
    return NULL;
}

/* The slot of a feed we poll, or NULL for one we do not. */
static char **
disc_slot(struct ingest_gbfs_feeds *f, const char *name)
{
    if (strcmp(name, "station_information") == 0)
        return &f->station_information;
    if (strcmp(name, "station_status") == 0)
        return &f->station_status;
    if (strcmp(name, "vehicle_types") == 0)
        return &f->vehicle_types;
    if (strcmp(name, "system_information") == 0)
        return &f->system_information;
    return NULL;
}

/* Fills the URLs. An entry without a string name and url is malformed;
 * the first entry of a name wins. */
static int
disc_feeds(const cJSON *feeds, struct ingest_gbfs_feeds *f, char *err,
           size_t err_size)
{
    const cJSON *e;
    const char  *name, *url;
    char       **slot;

    cJSON_ArrayForEach(e, feeds)
    {
        if (velo_json_str(e, "name", &name) != VELO_OK ||
            velo_json_str(e, "url", &url) != VELO_OK) {
            snprintf(err, err_size, "gbfs.json: feed without name or url");
            return VELO_EPROTO;
        }
        slot = disc_slot(f, name);
        if (slot == NULL || *slot != NULL)
            continue;
        *slot = strdup(url);
        if (*slot == NULL) {
            snprintf(err, err_size, "gbfs.json: out of memory");
            return VELO_ENOMEM;
        }
    }
    return VELO_OK;
}

int
ingest_gbfs_discovery_parse(const char *body, size_t len, const char *lang,
                            struct ingest_gbfs_feeds *out, char *err,
                            size_t err_size)
{
    struct ingest_gbfs_feeds f;
    cJSON                   *root = NULL;
    const cJSON             *data, *feeds;
    int                      rv;

    memset(&f, 0, sizeof(f));
    rv = ingest_payload_json_parse(body, len, &root);
    if (rv != VELO_OK || !cJSON_IsObject(root)) {
        snprintf(err, err_size, "gbfs.json: %s",
                 rv != VELO_OK ? "malformed or truncated JSON"
                               : "root is not an object");
        rv = VELO_EPROTO;
        goto done;
    }
    rv = disc_header(root, &f, err, err_size);
    if (rv != VELO_OK)
        goto done;
    data = cJSON_GetObjectItemCaseSensitive(root, "data");
    feeds = cJSON_IsObject(data) ? disc_feed_list(data, lang, &f) : NULL;
    if (feeds == NULL) {
        snprintf(err, err_size, "gbfs.json: no data.feeds list");
        rv = VELO_EPROTO;
        goto done;
    }
    rv = disc_feeds(feeds, &f, err, err_size);
    if (rv == VELO_OK) {
        *out = f;
        memset(&f, 0, sizeof(f)); /* out owns the URLs now */
    }
done:
    ingest_gbfs_feeds_fini(&f);
    cJSON_Delete(root);
    return rv;
}
