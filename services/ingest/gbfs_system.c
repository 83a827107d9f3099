/* gbfs_system.c: GBFS system_information -> what the system says about
 * itself (name, operator, time zone, language) for its SystemInfo.
 *
 * 1.x/2.x send plain strings and one `language`; 3.x sends `languages`
 * and localized arrays [{"text", "language"}] for name and operator. */
#include <stdio.h>
#include <string.h>

#include "payload_json.h"
#include "payload_parsers.h"
#include "velo/json.h"
#include "velo/utf8.h"

/* Copies text into a fixed field: cut on a character boundary, invalid
 * bytes (and a source's NUL, see payload_json.h) made U+FFFD. */
static void
put(char *dst, size_t size, const char *text)
{
    velo_utf8_clip(dst, size, text, size - 1);
}

/* A localized string (3.x): the entry in lang, else the first. */
static const char *
localized(const cJSON *arr, const char *lang)
{
    const cJSON *e;
    const char  *text, *l, *firsttext = NULL;

    cJSON_ArrayForEach(e, arr)
    {
        if (velo_json_str(e, "text", &text) != VELO_OK)
            continue;
        if (firsttext == NULL)
            firsttext = text;
        if (lang != NULL && velo_json_str(e, "language", &l) == VELO_OK &&
            strcmp(l, lang) == 0)
            return text;
    }
    return firsttext;
}

/* A text field of either form; NULL when absent or of another type. */
static const char *
text_field(const cJSON *data, const char *key, const char *lang)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(data, key);

    if (cJSON_IsString(v))
        return v->valuestring;
    if (cJSON_IsArray(v))
        return localized(v, lang);
    return NULL;
}

/* The feed's language (see payload_parsers.h). */
static const char *
pick_language(const cJSON *data, const char *lang, const char *feed_lang)
{
    const cJSON *langs = cJSON_GetObjectItemCaseSensitive(data, "languages");
    const cJSON *e;
    const char  *l;

    if (velo_json_str(data, "language", &l) == VELO_OK)
        return l;
    if (!cJSON_IsArray(langs))
        return feed_lang != NULL && feed_lang[0] != '\0' ? feed_lang : NULL;
    cJSON_ArrayForEach(e, langs)
    {
        if (lang != NULL && cJSON_IsString(e) &&
            strcmp(e->valuestring, lang) == 0)
            return e->valuestring;
    }
    e = cJSON_GetArrayItem(langs, 0);
    return cJSON_IsString(e) ? e->valuestring : NULL;
}

int
ingest_gbfs_system_parse(const char *body, size_t len, const char *lang,
                         const char *feed_lang, struct ingest_feed_info *out,
                         char *err, size_t err_size)
{
    struct ingest_feed_info fi;
    cJSON                  *root = NULL;
    const cJSON            *data;
    const char             *v, *language;
    int                     rv;

    memset(&fi, 0, sizeof(fi));
    rv = ingest_payload_json_parse(body, len, &root);
    data = rv == VELO_OK && cJSON_IsObject(root)
               ? cJSON_GetObjectItemCaseSensitive(root, "data")
               : NULL;
    if (!cJSON_IsObject(data)) {
        snprintf(err, err_size, "system_information: %s",
                 rv != VELO_OK ? "malformed or truncated JSON"
                               : "no data object");
        cJSON_Delete(root);
        return rv == VELO_ENOMEM ? rv : VELO_EPROTO;
    }
    language = pick_language(data, lang, feed_lang);
    if (language != NULL)
        put(fi.language, sizeof(fi.language), language);
    if ((v = text_field(data, "name", language)) != NULL)
        put(fi.name, sizeof(fi.name), v);
    if ((v = text_field(data, "operator", language)) != NULL)
        put(fi.operator_, sizeof(fi.operator_), v);
    if (velo_json_str(data, "timezone", &v) == VELO_OK)
        put(fi.timezone, sizeof(fi.timezone), v);
    cJSON_Delete(root);
    *out = fi;
    return VELO_OK;
}
