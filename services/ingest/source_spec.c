/* source_spec.c: parsing of SYSTEM_ID=KIND:URL[,opt=value...] source specs. */
#include "source_spec.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "velo/clock.h"
#include "velo/parse.h"

#define ALLOW_MAX INGEST_ALLOW_MAX

static const char *kind_names[] = {
    [INGEST_JCDECAUX_V1] = "jcdecaux-v1",
    [INGEST_JCDECAUX_V3] = "jcdecaux-v3",
    [INGEST_GBFS] = "gbfs",
    [INGEST_REPLAY] = "replay",
    [INGEST_SIMULATE] = "simulate",
};

const char *
ingest_kind_name(enum ingest_kind k)
{
    return kind_names[k];
}

static int
kind_parse(const char *s, size_t n, enum ingest_kind *out)
{
    size_t i;

    /* "jcdecaux" alone means v3, the current API. */
    if (n == 8 && strncmp(s, "jcdecaux", 8) == 0) {
        *out = INGEST_JCDECAUX_V3;
        return VELO_OK;
    }
    for (i = 0; i < sizeof(kind_names) / sizeof(kind_names[0]); i++) {
        if (strlen(kind_names[i]) == n && strncmp(s, kind_names[i], n) == 0) {
            *out = (enum ingest_kind)i;
            return VELO_OK;
        }
    }
    return VELO_EINVAL;
}

/* System ids become Kafka keys and metric labels: keep them tame. */
static bool
system_id_ok(const char *s, size_t n)
{
    size_t i;

    if (n == 0 || n > 64)
        return false;
    for (i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (c >= '0' && c <= '9') || c == ':' || c == '-' || c == '_' ||
              c == '.'))
            return false;
    }
    return true;
}

/* allow=host[:port];host[:port]: hosts besides the source's own that may
 * resolve to internal addresses (velo/http_client.h's fetch policy). */
static int
allow_parse(struct ingest_source_spec *s, const char *val, char *err,
            size_t err_size)
{
    const char *p = val, *end;
    size_t      n;

    while (*p != '\0') {
        end = strchr(p, ';');
        n = end != NULL ? (size_t)(end - p) : strlen(p);
        if (n == 0 || n > 255 || memchr(p, '/', n) != NULL ||
            memchr(p, '@', n) != NULL || s->nallow == ALLOW_MAX) {
            snprintf(err, err_size,
                     "bad value '%s' for source option 'allow' (want "
                     "host[:port];... at most %d, no scheme or path)",
                     val, ALLOW_MAX);
            return VELO_EINVAL;
        }
        s->allow[s->nallow] = strndup(p, n);
        if (s->allow[s->nallow] == NULL)
            return VELO_ENOMEM;
        s->nallow++;
        p += n + (end != NULL);
    }
    return VELO_OK;
}

/* tz= and name=: non-empty text; a zone name's form (and existence) is
 * checked later by ingest_sysinfo_check_spec. */
static int
text_opt(struct ingest_source_spec *s, const char *key, const char *val,
         char *err, size_t err_size)
{
    char **slot = strcmp(key, "tz") == 0 ? &s->tz : &s->name;

    if (*val == '\0' || strlen(val) > 200) {
        snprintf(err, err_size,
                 "bad value '%s' for source option '%s' (1-200 bytes)", val,
                 key);
        return VELO_EINVAL;
    }
    free(*slot);
    *slot = strdup(val);
    return *slot != NULL ? VELO_OK : VELO_ENOMEM;
}

/* start=, step=, polls=: the simulator's virtual clock. */
static int
virtual_opt(struct ingest_source_spec *s, const char *key, const char *val,
            char *err, size_t err_size)
{
    double secs;

    if (strcmp(key, "start") == 0) {
        /* Only a UTC instant: the same text must mean the same instant on
         * every machine. */
        if (velo_time_parse_iso(val, &s->start_ms) != VELO_OK ||
            val[strlen(val) - 1] != 'Z' || s->start_ms < 0)
            goto bad;
        s->virtual_time = true;
    } else if (strcmp(key, "step") == 0) {
        if (velo_parse_double(val, &secs) != VELO_OK || secs < 0.001 ||
            secs > 86400)
            goto bad;
        s->step_ms = (uint32_t)(secs * 1000 + 0.5);
    } else if (velo_parse_u32(val, &s->polls) != VELO_OK) {
        goto bad;
    }
    return VELO_OK;
bad:
    snprintf(err, err_size, "bad value '%s' for source option '%s'", val, key);
    return VELO_EINVAL;
}

static int
opt_apply(struct ingest_source_spec *s, const char *key, const char *val,
          char *err, size_t err_size)
{
    bool   b;
    double secs;

    if (strcmp(key, "interval") == 0) {
        /* Seconds, fractions allowed (replay benchmarks poll at 0.05). */
        if (velo_parse_double(val, &secs) != VELO_OK || secs < 0 ||
            secs > 86400)
            goto bad;
        s->interval_ms = (uint32_t)(secs * 1000 + 0.5);
        s->has_interval = true;
    } else if (strcmp(key, "lang") == 0) {
        free(s->lang);
        s->lang = strdup(val);
    } else if (strcmp(key, "contract") == 0) {
        free(s->contract);
        s->contract = strdup(val);
    } else if (strcmp(key, "loop") == 0) {
        if (velo_parse_bool(val, &b) != VELO_OK)
            goto bad;
        s->loop = b;
    } else if (strcmp(key, "seed") == 0) {
        if (velo_parse_u64(val, &s->seed) != VELO_OK)
            goto bad;
    } else if (strcmp(key, "allow") == 0) {
        if (allow_parse(s, val, err, err_size) != VELO_OK)
            return VELO_EINVAL;
    } else if (strcmp(key, "speed") == 0) {
        if (velo_parse_double(val, &s->speed) != VELO_OK || s->speed <= 0)
            goto bad;
        s->has_speed = true;
    } else if (strcmp(key, "tz") == 0 || strcmp(key, "name") == 0) {
        return text_opt(s, key, val, err, err_size);
    } else if (strcmp(key, "start") == 0 || strcmp(key, "step") == 0 ||
               strcmp(key, "polls") == 0) {
        return virtual_opt(s, key, val, err, err_size);
    } else {
        snprintf(err, err_size, "unknown source option '%s'", key);
        return VELO_EINVAL;
    }
    return VELO_OK;
bad:
    snprintf(err, err_size, "bad value '%s' for source option '%s'", val, key);
    return VELO_EINVAL;
}

/* An HTTP source's URL: http(s) with a host. A JCDecaux base gets a path
 * and a query appended, so a query or fragment there would be lost (a
 * fragment is never sent: the key and contract would silently vanish). A
 * fragment on a gbfs.json URL is never sent either. */
static int
url_check(const struct ingest_source_spec *s, char *err, size_t err_size)
{
    const char *u = s->url, *host;
    bool jcd = s->kind == INGEST_JCDECAUX_V1 || s->kind == INGEST_JCDECAUX_V3;

    if (s->kind == INGEST_REPLAY || s->kind == INGEST_SIMULATE)
        return VELO_OK;
    if (strncasecmp(u, "http://", 7) == 0)
        host = u + 7;
    else if (strncasecmp(u, "https://", 8) == 0)
        host = u + 8;
    else {
        snprintf(err, err_size,
                 "source %s: URL '%s' must start with http:// or https://",
                 s->system_id, u);
        return VELO_EINVAL;
    }
    if (*host == '\0' || strchr("/?#:", *host) != NULL) {
        snprintf(err, err_size, "source %s: URL '%s' has no host", s->system_id,
                 u);
        return VELO_EINVAL;
    }
    if (strchr(u, '#') != NULL || (jcd && strchr(u, '?') != NULL)) {
        snprintf(err, err_size,
                 "source %s: URL '%s' must not have a %s (it would never "
                 "be sent)",
                 s->system_id, u, jcd ? "query or fragment" : "fragment");
        return VELO_EINVAL;
    }
    return VELO_OK;
}

/* start=/step=/polls= belong to simulate, and step=/polls= need start=.
 * A virtual source polls back to back unless interval= says otherwise:
 * its records carry virtual time, so waiting gains nothing. */
static int
virtual_check(struct ingest_source_spec *s, char *err, size_t err_size)
{
    const char *why = NULL;

    if ((s->step_ms > 0 || s->polls > 0) && !s->virtual_time)
        why = "step= and polls= need start=";
    else if (s->virtual_time && s->kind != INGEST_SIMULATE)
        why = "start= (virtual time) is for simulate sources";
    else if (s->virtual_time && s->has_speed)
        why = "speed= does not combine with start= (step= sets the pace)";
    if (why != NULL) {
        snprintf(err, err_size, "source %s: %s", s->system_id, why);
        return VELO_EINVAL;
    }
    if (s->virtual_time && s->step_ms == 0)
        s->step_ms = 60000;
    if (s->virtual_time && !s->has_interval) {
        s->interval_ms = 0;
        s->has_interval = true;
    }
    return VELO_OK;
}

/* Applies ",k=v,k=v" (opts is a writable copy). */
static int
opts_parse(struct ingest_source_spec *s, char *opts, char *err, size_t err_size)
{
    char *save = NULL, *item, *eq;
    int   rv;

    for (item = strtok_r(opts, ",", &save); item != NULL;
         item = strtok_r(NULL, ",", &save)) {
        eq = strchr(item, '=');
        if (eq == NULL) {
            snprintf(err, err_size, "source option '%s' is not key=value",
                     item);
            return VELO_EINVAL;
        }
        *eq = '\0';
        rv = opt_apply(s, item, eq + 1, err, err_size);
        if (rv != VELO_OK)
            return rv;
    }
    return VELO_OK;
}

static int
spec_split(const char *text, struct ingest_source_spec *s, char *rest,
           char *err, size_t err_size)
{
    const char *eq = strchr(text, '=');
    const char *colon;

    if (eq == NULL || !system_id_ok(text, (size_t)(eq - text))) {
        snprintf(err, err_size,
                 "source '%s': want SYSTEM_ID=KIND:URL (system id: 1-64 of "
                 "[A-Za-z0-9:._-])",
                 text);
        return VELO_EINVAL;
    }
    s->system_id = strndup(text, (size_t)(eq - text));
    colon = strchr(eq + 1, ':');
    if (colon == NULL ||
        kind_parse(eq + 1, (size_t)(colon - eq - 1), &s->kind) != VELO_OK) {
        snprintf(err, err_size,
                 "source '%s': kind must be jcdecaux-v1, jcdecaux-v3, gbfs, "
                 "replay or simulate",
                 text);
        return VELO_EINVAL;
    }
    snprintf(rest, strlen(colon + 1) + 1, "%s", colon + 1);
    return VELO_OK;
}

int
ingest_source_spec_parse(const char *text, struct ingest_source_spec *out,
                         char *err, size_t err_size)
{
    struct ingest_source_spec s = {.speed = 1.0, .seed = 1};
    char                     *rest, *comma;
    const char               *c;
    int                       rv;

    rest = malloc(strlen(text) + 1);
    if (rest == NULL)
        return VELO_ENOMEM;
    rv = spec_split(text, &s, rest, err, err_size);
    if (rv != VELO_OK)
        goto out;
    comma = strchr(rest, ',');
    if (comma != NULL)
        *comma++ = '\0';
    if (*rest == '\0') {
        snprintf(err, err_size, "source '%s': missing URL or path", text);
        rv = VELO_EINVAL;
        goto out;
    }
    s.url = strdup(rest);
    if (comma != NULL && (rv = opts_parse(&s, comma, err, err_size)) != 0)
        goto out;
    rv = url_check(&s, err, err_size);
    if (rv == VELO_OK)
        rv = virtual_check(&s, err, err_size);
    if (rv != VELO_OK)
        goto out;
    if (s.contract == NULL &&
        (s.kind == INGEST_JCDECAUX_V1 || s.kind == INGEST_JCDECAUX_V3)) {
        c = strchr(s.system_id, ':');
        s.contract = strdup(c != NULL ? c + 1 : s.system_id);
    }
    *out = s;
    s = (struct ingest_source_spec){0};
out:
    free(rest);
    ingest_source_spec_fini(&s);
    return rv;
}

void
ingest_source_spec_fini(struct ingest_source_spec *s)
{
    free(s->system_id);
    free(s->url);
    free(s->contract);
    free(s->lang);
    free(s->tz);
    free(s->name);
    while (s->nallow > 0)
        free(s->allow[--s->nallow]);
    memset(s, 0, sizeof(*s));
}
