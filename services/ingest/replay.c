/* replay.c: recorded payloads from files, one file per poll.
 *
 * The spec's path is a file or a directory of *.json files, replayed in
 * name order. Each file is a JCDecaux v1 or v3 payload (told apart by its
 * fields). A directory that holds station_information.json is a GBFS
 * recording instead: its station_status*.json files are replayed, joined
 * with station_information.json (and vehicle_types.json if present).
 *
 * With loop=1 the recording restarts after its last file and event times
 * are shifted so that the first file's newest report is "now": a replay
 * then looks live to every consumer. Without loop, the source finishes. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "payload_parsers.h"
#include "source_kind.h"
#include "velo/clock.h"
#include "velo/file.h"
#include "velo/log.h"

struct replay {
    char              **files; /* owned paths */
    size_t              nfiles, next;
    bool                gbfs;
    ingest_gbfs_static *st;
    int64_t             shift_ms;
    bool                have_shift;
};

static int
add_path(struct replay *r, const char *path)
{
    char **n = realloc(r->files, (r->nfiles + 1) * sizeof(*n));

    if (n == NULL)
        return VELO_ENOMEM;
    r->files = n;
    r->files[r->nfiles] = strdup(path);
    if (r->files[r->nfiles] == NULL)
        return VELO_ENOMEM;
    r->nfiles++;
    return VELO_OK;
}

static bool
wanted(const struct replay *r, const char *name)
{
    size_t n = strlen(name);

    if (n < 6 || strcmp(name + n - 5, ".json") != 0)
        return false;
    if (r->gbfs)
        return strncmp(name, "station_status", 14) == 0;
    return true;
}

/* Loads GBFS static feeds of a recording directory. */
static int
load_static(struct ingest_src *s, struct replay *r, const char *dir)
{
    const char *names[] = {"station_information.json", "vehicle_types.json"};
    char        path[4096], why[256], *body;
    size_t      len, i;
    int         rv;

    rv = ingest_gbfs_static_new(&r->st);
    for (i = 0; i < 2 && rv == VELO_OK; i++) {
        snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
        rv = velo_file_read(path, s->cfg->max_body_bytes, &body, &len);
        if (rv == VELO_EIO && i == 1)
            return VELO_OK; /* vehicle types are optional */
        if (rv != VELO_OK)
            break;
        rv = i == 0
                 ? ingest_gbfs_info_parse(r->st, body, len, s->spec->lang, why,
                                          sizeof(why))
                 : ingest_gbfs_vtypes_parse(r->st, body, len, why, sizeof(why));
        free(body);
        if (rv != VELO_OK)
            velo_error("replay.bad_static", VELO_S("file", path),
                       VELO_S("reason", why));
    }
    return rv;
}

static int
list_dir(struct ingest_src *s, struct replay *r, const char *dir)
{
    struct dirent **ents;
    char            probe[4096], path[4096];
    struct stat     st;
    int             n, i, rv = VELO_OK;

    snprintf(probe, sizeof(probe), "%s/station_information.json", dir);
    r->gbfs = stat(probe, &st) == 0;
    if (r->gbfs && (rv = load_static(s, r, dir)) != VELO_OK)
        return rv;
    n = scandir(dir, &ents, NULL, alphasort);
    if (n < 0)
        return VELO_EIO;
    for (i = 0; i < n; i++) {
        if (rv == VELO_OK && wanted(r, ents[i]->d_name)) {
            snprintf(path, sizeof(path), "%s/%s", dir, ents[i]->d_name);
            rv = add_path(r, path);
        }
        free(ents[i]);
    }
    free(ents);
    return rv;
}

static void replay_close(struct ingest_src *s);

static int
replay_open(struct ingest_src *s)
{
    struct replay *r = calloc(1, sizeof(*r));
    struct stat    st;
    int            rv;

    if (r == NULL)
        return VELO_ENOMEM;
    s->kstate = r;
    if (stat(s->spec->url, &st) != 0)
        rv = VELO_EIO;
    else if (S_ISDIR(st.st_mode))
        rv = list_dir(s, r, s->spec->url);
    else
        rv = add_path(r, s->spec->url);
    if (rv == VELO_OK && r->nfiles == 0)
        rv = VELO_ENOTFOUND;
    if (rv != VELO_OK) {
        velo_error("replay.open_failed", VELO_S("source", s->spec->system_id),
                   VELO_S("path", s->spec->url),
                   VELO_S("reason", velo_strerror(rv)));
        replay_close(s);
    }
    return rv;
}

static void
replay_close(struct ingest_src *s)
{
    struct replay *r = s->kstate;
    size_t         i;

    if (r == NULL)
        return;
    for (i = 0; i < r->nfiles; i++)
        free(r->files[i]);
    free(r->files);
    ingest_gbfs_static_free(r->st);
    free(r);
    s->kstate = NULL;
}

static int
parse_payload(struct ingest_src *s, struct replay *r, const char *body,
              size_t len, struct ingest_batch *b, char *why, size_t n)
{
    struct ingest_parse_ctx pc = {s->spec->system_id, velo_now_ms()};
    uint32_t                ttl;

    if (r->gbfs)
        return ingest_gbfs_status_parse(r->st, body, len, NULL, &pc, b, &ttl,
                                        why, n);
    if (strstr(body, "\"totalStands\"") != NULL ||
        strstr(body, "\"contractName\"") != NULL)
        return ingest_jcdecaux_v3_parse(body, len, &pc, b, why, n);
    return ingest_jcdecaux_v1_parse(body, len, &pc, b, why, n);
}

/* Loop mode: move event times so the recording's newest is "now". */
static void
shift_times(struct replay *r, struct ingest_batch *b)
{
    int64_t newest = 0;
    size_t  i;

    if (!r->have_shift) {
        for (i = 0; i < b->len; i++) {
            if (b->items[i].last_reported_ms > newest)
                newest = b->items[i].last_reported_ms;
        }
        r->shift_ms = newest > 0 ? velo_now_ms() - newest : 0;
        r->have_shift = true;
    }
    for (i = 0; i < b->len; i++) {
        if (b->items[i].last_reported_ms > 0)
            b->items[i].last_reported_ms += r->shift_ms;
    }
}

static void
replay_poll(struct ingest_src *s, int64_t now_ms)
{
    struct replay        *r = s->kstate;
    const char           *path = r->files[r->next];
    struct ingest_outcome o = {.retry_after_ms = -1, .url = path};
    struct ingest_batch   b;
    char                  why[256] = "", *body = NULL;
    size_t                len = 0;
    int                   rv;

    (void)now_ms;
    ingest_batch_init(&b, s->cfg->max_stations);
    rv = velo_file_read(path, s->cfg->max_body_bytes, &body, &len);
    if (rv == VELO_OK)
        rv = parse_payload(s, r, body, len, &b, why, sizeof(why));
    else
        snprintf(why, sizeof(why), "cannot read: %s", velo_strerror(rv));
    if (rv == VELO_OK) {
        if (s->spec->loop)
            shift_times(r, &b);
        o.kind = "ok";
        s->done(s, &o, &b);
    } else {
        ingest_src_malformed(&o, rv, why, body, len);
        o.kind = rv == VELO_EIO ? "io_error" : o.kind;
        s->done(s, &o, NULL);
    }
    ingest_batch_fini(&b);
    free(body);
    if (++r->next == r->nfiles) {
        r->next = 0;
        s->finished = !s->spec->loop;
    }
}

const struct ingest_src_ops ingest_replay_ops = {replay_open, replay_poll,
                                                 replay_close};
