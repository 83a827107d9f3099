/* velo-aggfeed: produces a deterministic set of velib_aggregates records
 * (HourlyStationStats and DailyStationStats, keys and content-type as
 * velo-batch writes them) in one Kafka transaction, for velo-warehouse's
 * integration tests (tests/integration/warehouse_e2e.py computes the same
 * values).
 *
 *   velo-aggfeed --brokers B --topic T --system S --stations N --hours H
 *                [--first F] [--variant V] [--abort] [--garbage]
 *                [--txn-id ID] [--start-day-ms MS]
 *
 * Station s (F..F+N-1, F default 1), hour h (0..H-1) after 2025-12-01T00:00Z
 * (or after --start-day-ms, a UTC midnight: the gateway's browser test
 * feeds the last days), zone UTC; one daily row per station and day
 * touched. --variant shifts
 * bikes_avg and bikes_in; --abort aborts the transaction instead of committing
 * it (read_committed consumers must never see it); --garbage adds two records
 * that must be rejected: a value that is not protobuf and a key that is not
 * system/station/granularity/window. Exit 0 when the transaction ended as
 * asked, 1 otherwise, 2 for bad flags. */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "velo/kafka_txn.h"
#include "velo/log.h"
#include "velo/parse.h"
#include "velo/tz.h"
#include "velo/v1/aggregate.pb-c.h"

#define T0 1764547200000LL /* 2025-12-01T00:00:00Z */
#define HOUR_MS 3600000LL
#define DAY_MS (24 * HOUR_MS)
#define CT "application/x-protobuf; message=velo.v1."

struct feed {
    const char     *brokers, *topic, *system, *txn_id;
    int             first, stations, hours, variant;
    int64_t         t0; /* UTC midnight of hour 0 */
    bool            abort_txn, garbage;
    velo_kafka_txn *kt;
};

static void
date_of(int64_t ms, char date[11], int *dow)
{
    int64_t days = ms / DAY_MS;
    int32_t y;
    int     m, d;

    velo_tz_civil_from_days(days, &y, &m, &d);
    snprintf(date, 11, "%04d-%02d-%02d", (int)y, m, d);
    *dow = (int)((days + 4) % 7);
}

static int
send(struct feed *f, const char *key, const ProtobufCMessage *msg,
     const char *type)
{
    struct velo_kafka_header h = {"content-type", NULL, 0};
    char                     ct[128];
    uint8_t                  buf[1024];
    size_t                   len = protobuf_c_message_pack(msg, buf);

    snprintf(ct, sizeof(ct), CT "%s", type);
    h.value = ct;
    h.len = strlen(ct);
    return velo_kafka_txn_produce(f->kt, f->topic, key, strlen(key), buf, len,
                                  &h, 1, 0);
}

static int
send_hourly(struct feed *f, int s, int h)
{
    Velo__V1__HourlyStationStats m = VELO__V1__HOURLY_STATION_STATS__INIT;
    char                         date[11], id[16], name[32], key[256];
    int                          dow;

    snprintf(id, sizeof(id), "%d", s);
    snprintf(name, sizeof(name), "Station %d", s);
    m.system_id = (char *)f->system;
    m.station_id = id;
    m.has_window_start_ms = m.has_window_end_ms = true;
    m.window_start_ms = f->t0 + h * HOUR_MS;
    m.window_end_ms = m.window_start_ms + HOUR_MS;
    date_of(m.window_start_ms, date, &dow);
    m.local_date = date;
    m.timezone = "UTC";
    m.has_local_hour = m.has_local_dow = true;
    m.local_hour = (uint32_t)(h % 24);
    m.local_dow = (uint32_t)dow;
    m.has_samples = m.has_bikes_avg = m.has_bikes_min = m.has_bikes_max = true;
    m.has_docks_avg = m.has_docks_min = m.has_docks_max = true;
    m.has_minutes_empty = m.has_minutes_full = m.has_bikes_in = true;
    m.has_bikes_out = m.has_flow_reliable = m.has_status = true;
    m.has_capacity = true;
    m.samples = 12;
    m.bikes_avg = s + h * 0.25 + f->variant;
    m.bikes_min = (uint32_t)s;
    m.bikes_max = (uint32_t)s + 5;
    m.docks_avg = 20 - m.bikes_avg;
    m.docks_min = 10;
    m.docks_max = 19;
    m.minutes_empty = (s * h) % 60;
    m.minutes_full = (s + h) % 7;
    m.bikes_in = (uint32_t)(s + h + f->variant);
    m.bikes_out = (uint32_t)h;
    m.flow_reliable = h % 5 != 0;
    m.status = s % 4 == 0 ? VELO__V1__STATION_STATUS__STATION_STATUS_CLOSED
                          : VELO__V1__STATION_STATUS__STATION_STATUS_OPEN;
    m.capacity = 20;
    m.has_electric_avg = s % 2 == 1;
    m.electric_avg = 0.5 * s;
    m.station_name = name;
    m.has_lat = m.has_lon = true;
    m.lat = 48.8 + s * 0.001;
    m.lon = 2.3 + s * 0.001;
    m.system_name = "Test Bikes";
    snprintf(key, sizeof(key), "%s/%s/hourly/%sT%02d:00Z", f->system, id, date,
             h % 24);
    return send(f, key, &m.base, "HourlyStationStats");
}

static int
send_daily(struct feed *f, int s, int d)
{
    Velo__V1__DailyStationStats m = VELO__V1__DAILY_STATION_STATS__INIT;
    char                        date[11], id[16], name[32], key[256];
    int                         dow;

    snprintf(id, sizeof(id), "%d", s);
    snprintf(name, sizeof(name), "Station %d", s);
    m.system_id = (char *)f->system;
    m.station_id = id;
    m.has_window_start_ms = m.has_window_end_ms = true;
    m.window_start_ms = f->t0 + d * DAY_MS;
    m.window_end_ms = m.window_start_ms + DAY_MS;
    date_of(m.window_start_ms, date, &dow);
    m.local_date = date;
    m.timezone = "UTC";
    m.has_samples = m.has_bikes_avg = m.has_bikes_min = m.has_bikes_max = true;
    m.has_docks_avg = m.has_docks_min = m.has_docks_max = true;
    m.has_minutes_empty = m.has_minutes_full = m.has_bikes_in = true;
    m.has_bikes_out = m.has_flow_reliable = m.has_status = true;
    m.has_capacity = true;
    m.samples = 288;
    m.bikes_avg = s + f->variant;
    m.bikes_min = 0;
    m.bikes_max = (uint32_t)s + 10;
    m.docks_avg = 20 - m.bikes_avg;
    m.docks_min = 0;
    m.docks_max = 20;
    m.minutes_empty = 100 - s;
    m.minutes_full = 3 * s;
    m.bikes_in = (uint32_t)(10 * s + f->variant);
    m.bikes_out = (uint32_t)(5 * s);
    m.flow_reliable = true;
    m.status = VELO__V1__STATION_STATUS__STATION_STATUS_OPEN;
    m.capacity = 20;
    m.has_electric_avg = s % 2 == 1;
    m.electric_avg = 0.5 * s;
    m.station_name = name;
    m.has_lat = m.has_lon = true;
    m.lat = 48.8 + s * 0.001;
    m.lon = 2.3 + s * 0.001;
    m.system_name = "Test Bikes";
    snprintf(key, sizeof(key), "%s/%s/daily/%s", f->system, id, date);
    return send(f, key, &m.base, "DailyStationStats");
}

static int
send_garbage(struct feed *f)
{
    static const char junk[] = "\xff\xff\xff\xff not protobuf";
    char              key[256];
    int               rv;

    snprintf(key, sizeof(key), "%s/1/hourly/2025-12-01T00:00Z", f->system);
    rv = velo_kafka_txn_produce(f->kt, f->topic, key, strlen(key), junk,
                                sizeof(junk) - 1, NULL, 0, 0);
    if (rv == VELO_OK)
        rv = velo_kafka_txn_produce(f->kt, f->topic, "no-slashes", 10, junk,
                                    sizeof(junk) - 1, NULL, 0, 0);
    return rv;
}

static int
feed_all(struct feed *f)
{
    int s, h, d, days = (f->hours + 23) / 24, rv = VELO_OK;

    for (s = f->first; rv == VELO_OK && s < f->first + f->stations; s++) {
        for (h = 0; rv == VELO_OK && h < f->hours; h++)
            rv = send_hourly(f, s, h);
        for (d = 0; rv == VELO_OK && d < days; d++)
            rv = send_daily(f, s, d);
    }
    if (rv == VELO_OK && f->garbage)
        rv = send_garbage(f);
    return rv;
}

static int
parse(struct feed *f, int argc, char **argv)
{
    static const struct option lo[] = {
        {"brokers", required_argument, NULL, 'b'},
        {"topic", required_argument, NULL, 't'},
        {"system", required_argument, NULL, 's'},
        {"stations", required_argument, NULL, 'n'},
        {"first", required_argument, NULL, 'f'},
        {"hours", required_argument, NULL, 'H'},
        {"variant", required_argument, NULL, 'v'},
        {"txn-id", required_argument, NULL, 'i'},
        {"abort", no_argument, NULL, 'a'},
        {"garbage", no_argument, NULL, 'g'},
        {"start-day-ms", required_argument, NULL, 'T'},
        {NULL, 0, NULL, 0}};
    int c;

    *f = (struct feed){.brokers = "127.0.0.1:9092",
                       .topic = "velib_aggregates",
                       .system = "test:wh",
                       .txn_id = "velo-aggfeed",
                       .first = 1,
                       .stations = 3,
                       .hours = 24,
                       .t0 = T0};
    while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
        switch (c) {
        case 'b':
            f->brokers = optarg;
            break;
        case 't':
            f->topic = optarg;
            break;
        case 's':
            f->system = optarg;
            break;
        case 'n':
            f->stations = atoi(optarg);
            break;
        case 'f':
            f->first = atoi(optarg);
            break;
        case 'H':
            f->hours = atoi(optarg);
            break;
        case 'v':
            f->variant = atoi(optarg);
            break;
        case 'i':
            f->txn_id = optarg;
            break;
        case 'a':
            f->abort_txn = true;
            break;
        case 'g':
            f->garbage = true;
            break;
        case 'T':
            if (velo_parse_i64(optarg, &f->t0) != VELO_OK ||
                f->t0 % DAY_MS != 0)
                return 2;
            break;
        default:
            return 2;
        }
    }
    return f->first > 0 && f->stations > 0 && f->hours > 0 ? 0 : 2;
}

int
main(int argc, char **argv)
{
    struct feed               f;
    struct velo_kafka_txn_cfg cfg = {0};
    int                       rv;

    if (parse(&f, argc, argv) != 0) {
        fputs("usage: velo-aggfeed --brokers B --topic T [--system S] "
              "[--stations N] [--first F] [--hours H] [--variant V] [--abort] "
              "[--garbage] [--txn-id ID]\n",
              stderr);
        return 2;
    }
    velo_log_init("aggfeed", VELO_LOG_WARN, 2);
    cfg.brokers = f.brokers;
    cfg.transactional_id = f.txn_id;
    cfg.timeout_ms = 30000;
    rv = velo_kafka_txn_new(&f.kt, &cfg);
    if (rv == VELO_OK)
        rv = velo_kafka_txn_begin(f.kt);
    if (rv == VELO_OK)
        rv = feed_all(&f);
    if (rv == VELO_OK)
        rv = f.abort_txn ? velo_kafka_txn_abort(f.kt)
                         : velo_kafka_txn_commit(f.kt);
    velo_kafka_txn_free(f.kt);
    if (rv != VELO_OK)
        fprintf(stderr, "velo-aggfeed: %s\n", velo_strerror(rv));
    return rv == VELO_OK ? 0 : 1;
}
