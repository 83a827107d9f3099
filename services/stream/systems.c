/* systems.c: SystemInfo per system from velib_systems (see systems.h). */
#include "systems.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <uthash.h>

#include "velo/clock.h"
#include "velo/kafka.h"
#include "velo/log.h"

#define POLL_MS 200
#define ASSIGN_TIMEOUT_MS 5000

struct sys_entry {
    char                 *system_id; /* the map key; owned */
    Velo__V1__SystemInfo *info;      /* owned (free_unpacked) */
    UT_hash_handle        hh;
};

struct stream_systems {
    struct stream_systems_cfg cfg;
    pthread_mutex_t           mtx; /* guards map */
    struct sys_entry         *map; /* uthash by system_id */
    velo_kafka_consumer      *kc;  /* systems thread only */
    pthread_t                 thread;
    bool                      running;
    atomic_bool               stop;
};

int
stream_systems_new(stream_systems **out, const struct stream_systems_cfg *cfg)
{
    stream_systems *ss = calloc(1, sizeof(*ss));

    if (ss == NULL)
        return VELO_ENOMEM;
    ss->cfg = *cfg;
    if (ss->cfg.retry_ms == 0)
        ss->cfg.retry_ms = 5000;
    pthread_mutex_init(&ss->mtx, NULL);
    atomic_init(&ss->stop, false);
    *out = ss;
    return VELO_OK;
}

static void
entry_free(struct sys_entry *e)
{
    velo__v1__system_info__free_unpacked(e->info, NULL);
    free(e->system_id);
    free(e);
}

/* Replaces (or with info NULL removes) id's entry; takes ownership of
 * info. */
static int
map_put(stream_systems *ss, const char *id, size_t idlen,
        Velo__V1__SystemInfo *info)
{
    struct sys_entry *e = NULL, *old = NULL;

    if (info != NULL) {
        e = calloc(1, sizeof(*e));
        if (e == NULL || (e->system_id = strndup(id, idlen)) == NULL) {
            free(e);
            velo__v1__system_info__free_unpacked(info, NULL);
            return VELO_ENOMEM;
        }
        e->info = info;
    }
    pthread_mutex_lock(&ss->mtx);
    HASH_FIND(hh, ss->map, id, idlen, old);
    if (old != NULL)
        HASH_DEL(ss->map, old);
    if (e != NULL)
        HASH_ADD_KEYPTR(hh, ss->map, e->system_id, idlen, e);
    pthread_mutex_unlock(&ss->mtx);
    if (old != NULL)
        entry_free(old);
    return VELO_OK;
}

int
stream_systems_apply(stream_systems *ss, const void *key, size_t keylen,
                     const void *value, size_t len)
{
    Velo__V1__SystemInfo *si;

    if (value == NULL)
        return key != NULL && keylen > 0 ? map_put(ss, key, keylen, NULL)
                                         : VELO_EPROTO;
    if (ss->cfg.max_record_bytes > 0 && len > ss->cfg.max_record_bytes)
        return VELO_ETOOBIG;
    si = velo__v1__system_info__unpack(NULL, len, value);
    if (si == NULL)
        return VELO_EPROTO;
    if (si->system_id == NULL || si->system_id[0] == '\0') {
        velo__v1__system_info__free_unpacked(si, NULL);
        return VELO_EPROTO;
    }
    return map_put(ss, si->system_id, strlen(si->system_id), si);
}

/* strdup into a; false when memory ran out. */
static bool
dup_str(velo_arena *a, char **dst, const char *src)
{
    *dst = velo_arena_strdup(a, src);
    return src == NULL || *dst != NULL;
}

Velo__V1__SystemInfo *
stream_systems_get(stream_systems *ss, const char *system_id, velo_arena *a,
                   bool *oom)
{
    struct sys_entry           *e = NULL;
    Velo__V1__SystemInfo       *c = NULL;
    const Velo__V1__SystemInfo *s;

    pthread_mutex_lock(&ss->mtx);
    HASH_FIND_STR(ss->map, system_id, e);
    if (e != NULL && (c = velo_arena_alloc(a, sizeof(*c))) != NULL) {
        s = e->info;
        velo__v1__system_info__init(c);
        c->has_station_count = s->has_station_count;
        c->station_count = s->station_count;
        if (!dup_str(a, &c->system_id, s->system_id) ||
            !dup_str(a, &c->name, s->name) ||
            !dup_str(a, &c->operator_, s->operator_) ||
            !dup_str(a, &c->timezone, s->timezone) ||
            !dup_str(a, &c->language, s->language) ||
            !dup_str(a, &c->source_url, s->source_url) ||
            !dup_str(a, &c->source_format, s->source_format))
            c = NULL;
    }
    pthread_mutex_unlock(&ss->mtx);
    if (e != NULL && c == NULL)
        *oom = true;
    return c;
}

size_t
stream_systems_count(stream_systems *ss)
{
    size_t n;

    pthread_mutex_lock(&ss->mtx);
    n = HASH_COUNT(ss->map);
    pthread_mutex_unlock(&ss->mtx);
    return n;
}

/* Sleeps ms in short steps; false when asked to stop. */
static bool
nap(stream_systems *ss, int64_t ms)
{
    int64_t end = velo_mono_ms() + ms;

    while (!atomic_load(&ss->stop) && velo_mono_ms() < end)
        velo_sleep_ms(100);
    return !atomic_load(&ss->stop);
}

/* Makes the consumer and assigns the topic from its beginning. */
static int
systems_attach(stream_systems *ss)
{
    int rv;

    rv = velo_kafka_consumer_new(
        &ss->kc,
        &(struct velo_kafka_consumer_cfg){.brokers = ss->cfg.brokers,
                                          .group_id = ss->cfg.group_id,
                                          .client_id = "velo-stream.systems"});
    if (rv != VELO_OK)
        return rv;
    rv = velo_kafka_assign_all(ss->kc, ss->cfg.topic,
                               VELO_KAFKA_OFFSET_BEGINNING, ASSIGN_TIMEOUT_MS);
    if (rv != VELO_OK) {
        velo_kafka_consumer_free(ss->kc);
        ss->kc = NULL;
    }
    return rv;
}

static void *
systems_main(void *arg)
{
    stream_systems       *ss = arg;
    struct velo_kafka_msg msg;
    int                   rv;

    while (!atomic_load(&ss->stop)) {
        if (ss->kc == NULL) {
            rv = systems_attach(ss);
            if (rv != VELO_OK) {
                velo_warn("stream.systems.unavailable",
                          VELO_S("topic", ss->cfg.topic),
                          VELO_S("cause", velo_strerror(rv)));
                nap(ss, ss->cfg.retry_ms);
                continue;
            }
            velo_info("stream.systems.assigned",
                      VELO_S("topic", ss->cfg.topic));
        }
        if (velo_kafka_consume(ss->kc, &msg, POLL_MS) != VELO_OK)
            continue;
        rv = stream_systems_apply(ss, msg.key, msg.keylen, msg.value, msg.len);
        if (rv != VELO_OK)
            velo_warn("stream.systems.rejected", VELO_I("offset", msg.offset),
                      VELO_S("cause", velo_strerror(rv)));
        velo_kafka_msg_release(&msg);
    }
    return NULL;
}

int
stream_systems_start(stream_systems *ss)
{
    if (ss->cfg.brokers == NULL)
        return VELO_OK;
    if (pthread_create(&ss->thread, NULL, systems_main, ss) != 0)
        return VELO_ENOMEM;
    ss->running = true;
    return VELO_OK;
}

void
stream_systems_stop(stream_systems *ss)
{
    if (!ss->running)
        return;
    atomic_store(&ss->stop, true);
    pthread_join(ss->thread, NULL);
    ss->running = false;
}

void
stream_systems_free(stream_systems *ss)
{
    struct sys_entry *e, *tmp;

    if (ss == NULL)
        return;
    stream_systems_stop(ss);
    velo_kafka_consumer_free(ss->kc);
    HASH_ITER(hh, ss->map, e, tmp)
    {
        HASH_DEL(ss->map, e);
        entry_free(e);
    }
    pthread_mutex_destroy(&ss->mtx);
    free(ss);
}
