/* velo-kdump: prints a topic's records as JSON lines, for tests and
 * debugging.
 *
 *   velo-kdump --brokers 127.0.0.1:9092 --topic velib_data [--raw]
 *   {"topic":"velib_data","partition":3,"offset":17,"key":"demo:x/42",
 *    "headers":{"content-type":"application/x-protobuf; ..."},
 *    "value":{"system_id":"demo:x","station_id":"42",...}}
 *
 * Reads every partition from the beginning (or from --start-ms), with no
 * group balancing and no commits, until --idle-ms pass without a record or
 * --max records were printed. A value is decoded as a SystemInfo when its
 * content-type header says so (velib_systems), else as a StationSnapshot;
 * one that does not decode (or every value, with --raw) is printed as
 * "value_b64".
 * Records go to stdout, the tool's own log to stderr. Exit status: 0 done,
 * 1 Kafka failed (unknown topic, unreachable), 78 bad flags. */
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "velo/buf.h"
#include "velo/cfg.h"
#include "velo/clock.h"
#include "velo/kafka.h"
#include "velo/log.h"
#include "velo/parse.h"
#include "velo/snapshot.h"
#include "velo/v1/system.pb-c.h"

#define KDUMP_LINE_MAX (64u << 20) /* one record's JSON line */

struct kdump_cfg {
    const char         *brokers;
    const char         *topic;
    uint32_t            idle_ms;
    uint32_t            max;
    bool                raw;
    bool                read_committed;
    const char         *start_ms;
    enum velo_log_level log_level;
};

#define CFG(f) .off = offsetof(struct kdump_cfg, f)
static const struct velo_opt kdump_opts[] = {
    {.name = "brokers",
     .env = "VELO_KAFKA_BROKERS",
     .def = "127.0.0.1:9092",
     .type = VELO_OPT_STR,
     CFG(brokers),
     .help = "bootstrap servers"},
    {.name = "topic",
     .type = VELO_OPT_STR,
     CFG(topic),
     .help = "topic to read (every partition)"},
    {.name = "idle-ms",
     .def = "3000",
     .type = VELO_OPT_U32,
     CFG(idle_ms),
     .help = "stop after this long without a new record",
     .min = 1,
     .max = 3600000},
    {.name = "max",
     .def = "0",
     .type = VELO_OPT_U32,
     CFG(max),
     .help = "stop after this many records (0: no limit)"},
    {.name = "raw",
     .def = "false",
     .type = VELO_OPT_BOOL,
     CFG(raw),
     .help = "print every value as value_b64, never decoded"},
    {.name = "read-committed",
     .def = "false",
     .type = VELO_OPT_BOOL,
     CFG(read_committed),
     .help = "skip records of aborted or open transactions"},
    {.name = "start-ms",
     .type = VELO_OPT_STR,
     CFG(start_ms),
     .help = "start at the first record with a timestamp >= this (ms since "
             "the epoch); default: the beginning",
     .optional = true},
    {.name = "log-level",
     .env = "VELO_LOG_LEVEL",
     .def = "warn",
     .type = VELO_OPT_LEVEL,
     CFG(log_level),
     .help = "debug, info, warn, error or off (on stderr)"},
};

static const struct velo_cfg_spec kdump_spec = {
    .svc = "kdump",
    .summary = "print a Kafka topic as JSON lines (test tool)",
    .opts = kdump_opts,
    .nopts = sizeof(kdump_opts) / sizeof(kdump_opts[0]),
};

/* Length of the valid UTF-8 sequence at p, or 0 when it is not one. */
static size_t
utf8_len(const unsigned char *p, size_t n)
{
    size_t need, i;

    if (p[0] >= 0xc2 && p[0] <= 0xdf)
        need = 2;
    else if (p[0] >= 0xe0 && p[0] <= 0xef)
        need = 3;
    else if (p[0] >= 0xf0 && p[0] <= 0xf4)
        need = 4;
    else
        return 0;
    if (need > n)
        return 0;
    for (i = 1; i < need; i++)
        if ((p[i] & 0xc0) != 0x80)
            return 0;
    return need;
}

/* Appends n bytes as a JSON string; bytes that are not UTF-8 become
 * U+FFFD, so the line stays valid JSON whatever the record holds. */
static int
json_bytes(struct velo_buf *b, const void *data, size_t n)
{
    const unsigned char *p = data;
    size_t               i = 0, k;
    int                  rv;

    rv = velo_buf_puts(b, "\"");
    while (rv == VELO_OK && i < n) {
        if (p[i] == '"' || p[i] == '\\') {
            rv = velo_buf_printf(b, "\\%c", p[i]);
            k = 1;
        } else if (p[i] < 0x20) {
            rv = velo_buf_printf(b, "\\u%04x", p[i]);
            k = 1;
        } else if (p[i] < 0x80) {
            rv = velo_buf_append(b, p + i, 1);
            k = 1;
        } else if ((k = utf8_len(p + i, n - i)) > 0) {
            rv = velo_buf_append(b, p + i, k);
        } else {
            rv = velo_buf_puts(b, "\\ufffd");
            k = 1;
        }
        i += k;
    }
    return rv == VELO_OK ? velo_buf_puts(b, "\"") : rv;
}

static int
b64_append(struct velo_buf *b, const void *data, size_t n)
{
    static const char    tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                 "abcdefghijklmnopqrstuvwxyz0123456789+/";
    const unsigned char *p = data;
    char                 q[4];
    uint32_t             v;
    size_t               i;
    int                  rv = VELO_OK;

    for (i = 0; rv == VELO_OK && i < n; i += 3) {
        v = (uint32_t)p[i] << 16;
        if (i + 1 < n)
            v |= (uint32_t)p[i + 1] << 8;
        if (i + 2 < n)
            v |= p[i + 2];
        q[0] = tab[v >> 18 & 63];
        q[1] = tab[v >> 12 & 63];
        q[2] = i + 1 < n ? tab[v >> 6 & 63] : '=';
        q[3] = i + 2 < n ? tab[v & 63] : '=';
        rv = velo_buf_append(b, q, 4);
    }
    return rv;
}

/* "headers":{...}, in record order. */
static int
headers_append(struct velo_buf *b, const struct velo_kafka_msg *m)
{
    const char *name;
    const void *val;
    size_t      i, len;
    int         rv;

    rv = velo_buf_puts(b, ",\"headers\":{");
    for (i = 0; rv == VELO_OK &&
                velo_kafka_msg_header_at(m, i, &name, &val, &len) == VELO_OK;
         i++) {
        if (i > 0)
            rv = velo_buf_puts(b, ",");
        if (rv == VELO_OK)
            rv = json_bytes(b, name, strlen(name));
        if (rv == VELO_OK)
            rv = velo_buf_puts(b, ":");
        if (rv == VELO_OK)
            rv = val != NULL ? json_bytes(b, val, len)
                             : velo_buf_puts(b, "null");
    }
    return rv == VELO_OK ? velo_buf_puts(b, "}") : rv;
}

/* True when the record's content-type header is exactly want. */
static bool
content_type_is(const struct velo_kafka_msg *m, const char *want)
{
    const void *ct;
    size_t      ctlen;

    return velo_kafka_msg_header(m, "content-type", &ct, &ctlen) == VELO_OK &&
           ctlen == strlen(want) && memcmp(ct, want, ctlen) == 0;
}

/* "value":{SystemInfo} (velib_systems); VELO_EPROTO when it does not
 * decode (b is left as it was). */
static int
sysinfo_decoded(struct velo_buf *b, const struct velo_kafka_msg *m)
{
    Velo__V1__SystemInfo *si;
    size_t                mark = b->len;
    int                   rv;

    si = velo__v1__system_info__unpack(NULL, m->len, m->value);
    if (si == NULL)
        return VELO_EPROTO;
    rv = velo_buf_puts(b, ",\"value\":");
    if (rv == VELO_OK)
        rv = velo_proto_to_json(&si->base, &velo__v1__system_info__descriptor,
                                b);
    velo__v1__system_info__free_unpacked(si, NULL);
    if (rv != VELO_OK && b->data != NULL) {
        b->len = mark;
        b->data[mark] = '\0';
    }
    return rv;
}

/* "value":{snapshot} when it decodes and nothing says it is something
 * else, "value":{SystemInfo} when the content-type says it is one;
 * VELO_EPROTO otherwise (b is left as it was). */
static int
value_decoded(struct velo_buf *b, const struct velo_kafka_msg *m)
{
    Velo__V1__StationSnapshot *snap;
    const void                *ct;
    size_t                     ctlen, mark = b->len;
    int                        rv;

    if (content_type_is(m, VELO_SYSINFO_CONTENT_TYPE))
        return sysinfo_decoded(b, m);
    if (velo_kafka_msg_header(m, "content-type", &ct, &ctlen) == VELO_OK &&
        (ctlen != strlen(VELO_SNAPSHOT_CONTENT_TYPE) ||
         memcmp(ct, VELO_SNAPSHOT_CONTENT_TYPE, ctlen) != 0))
        return VELO_EPROTO;
    snap = velo__v1__station_snapshot__unpack(NULL, m->len, m->value);
    if (snap == NULL)
        return VELO_EPROTO;
    rv = velo_buf_puts(b, ",\"value\":");
    if (rv == VELO_OK)
        rv = velo_snapshot_to_json(snap, b);
    velo__v1__station_snapshot__free_unpacked(snap, NULL);
    if (rv != VELO_OK && b->data != NULL) {
        b->len = mark;
        b->data[mark] = '\0';
    }
    return rv;
}

/* One record as one JSON line (without the newline) in b. */
static int
record_format(struct velo_buf *b, const struct velo_kafka_msg *m, bool raw)
{
    int rv;

    velo_buf_reset(b);
    rv = velo_buf_puts(b, "{\"topic\":");
    if (rv == VELO_OK)
        rv = json_bytes(b, m->topic != NULL ? m->topic : "",
                        m->topic != NULL ? strlen(m->topic) : 0);
    if (rv == VELO_OK)
        rv = velo_buf_printf(b, ",\"partition\":%d,\"offset\":%lld,\"key\":",
                             (int)m->partition, (long long)m->offset);
    if (rv == VELO_OK)
        rv = m->key != NULL ? json_bytes(b, m->key, m->keylen)
                            : velo_buf_puts(b, "null");
    if (rv == VELO_OK)
        rv = headers_append(b, m);
    if (rv != VELO_OK)
        return rv;
    if (m->value == NULL)
        return velo_buf_puts(b, ",\"value\":null}");
    if (raw || value_decoded(b, m) != VELO_OK) {
        rv = velo_buf_puts(b, ",\"value_b64\":\"");
        if (rv == VELO_OK)
            rv = b64_append(b, m->value, m->len);
        if (rv == VELO_OK)
            rv = velo_buf_puts(b, "\"");
    }
    return rv == VELO_OK ? velo_buf_puts(b, "}") : rv;
}

/* Prints records until idle or max. Returns VELO_OK or the failure. */
static int
kdump_loop(velo_kafka_consumer *kc, const struct kdump_cfg *cfg)
{
    struct velo_kafka_msg m;
    struct velo_buf       line;
    int64_t               last = velo_mono_ms();
    uint32_t              count = 0;
    int                   rv = VELO_OK;

    velo_buf_init(&line, KDUMP_LINE_MAX);
    while (cfg->max == 0 || count < cfg->max) {
        rv = velo_kafka_consume(kc, &m, 100);
        if (rv == VELO_ETIMEDOUT || (rv != VELO_OK && velo_err_retryable(rv))) {
            rv = VELO_OK;
            if (velo_mono_ms() - last >= cfg->idle_ms)
                break;
            continue;
        }
        if (rv != VELO_OK)
            break;
        rv = record_format(&line, &m, cfg->raw);
        velo_kafka_msg_release(&m);
        if (rv != VELO_OK)
            break;
        if (fwrite(line.data, 1, line.len, stdout) != line.len ||
            fputc('\n', stdout) == EOF) {
            rv = VELO_EIO;
            break;
        }
        count++;
        last = velo_mono_ms();
    }
    velo_buf_fini(&line);
    velo_info("kdump.done", VELO_U("records", count));
    return rv;
}

int
main(int argc, char **argv)
{
    struct kdump_cfg               cfg = {0};
    struct velo_kafka_consumer_cfg kcfg = {0};
    velo_kafka_consumer           *kc = NULL;
    int64_t                        start = VELO_KAFKA_OFFSET_BEGINNING;
    int                            rv;

    rv = velo_cfg_load(&kdump_spec, &cfg, argc, argv);
    if (rv != VELO_OK)
        return rv == VELO_CFG_HELP ? EXIT_SUCCESS : VELO_EXIT_CONFIG;
    if (cfg.start_ms != NULL &&
        (velo_parse_i64(cfg.start_ms, &start) != VELO_OK || start < 0)) {
        fprintf(stderr, "velo-kdump: --start-ms: not a time in ms\n");
        velo_cfg_fini(&kdump_spec, &cfg);
        return VELO_EXIT_CONFIG;
    }
    velo_log_init("kdump", cfg.log_level, STDERR_FILENO);
    kcfg.brokers = cfg.brokers;
    kcfg.group_id = "velo-kdump"; /* required by librdkafka; never committed */
    kcfg.client_id = "velo-kdump";
    kcfg.read_committed = cfg.read_committed;
    rv = velo_kafka_consumer_new(&kc, &kcfg);
    if (rv == VELO_OK)
        rv = velo_kafka_assign_all(kc, cfg.topic, start, 10000);
    if (rv == VELO_OK)
        rv = kdump_loop(kc, &cfg);
    if (rv != VELO_OK)
        velo_error("kdump.fail", VELO_S("topic", cfg.topic),
                   VELO_S("cause", velo_strerror(rv)));
    velo_kafka_consumer_free(kc);
    velo_cfg_fini(&kdump_spec, &cfg);
    if (fflush(stdout) != 0)
        rv = VELO_EIO;
    return rv == VELO_OK ? EXIT_SUCCESS : EXIT_FAILURE;
}
