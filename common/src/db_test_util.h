/* db_test_util.h: the behaviour every velo_db backend must show, run by
 * db_sqlite_test.c on SQLite and by the PostgreSQL / SQL Server integration
 * tests on real servers. Include it once, in a cmocka test file. The
 * database must start empty. */
#ifndef VELO_DB_TEST_UTIL_H
#define VELO_DB_TEST_UTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "velo/buf.h"
#include "velo/db.h"

/* Not every includer uses every helper. */
#define DBT_FN static __attribute__((unused))

#define T0 1764547200000LL /* 2025-12-01T00:00:00Z */
#define HOUR_MS 3600000LL

static const char *const dbt_tables[] __attribute__((unused)) = {
    "dim_system",          "dim_station",        "dim_time",
    "fact_station_hourly", "fact_station_daily", "schema_migrations",
};

/* A row with values derived from (station, hour) so every column differs. */
DBT_FN struct velo_db_row
dbt_row(enum velo_db_gran gran, const char *station, int hour)
{
    struct velo_db_row r;

    memset(&r, 0, sizeof(r));
    r.gran = gran;
    r.system_id = "gbfs:test";
    r.station_id = station;
    r.window_start_ms = T0 + hour * HOUR_MS;
    r.local_date = "2025-12-01";
    r.local_hour = (hour + 1) % 24;
    r.local_dow = 1;
    r.samples = 12 + hour;
    r.bikes_avg = 3.25 + hour;
    r.bikes_min = 1.0 / 3.0; /* needs all 17 digits to round-trip */
    r.bikes_max = 7;
    r.docks_avg = 0.1 + hour; /* not exact in binary: must round-trip */
    r.docks_min = 2;
    r.docks_max = 9;
    r.minutes_empty = station[1] == '1' ? 5.5 : 30;
    r.minutes_full = station[1] == '1' ? 20 : 1.5;
    r.bikes_in = 4 + hour;
    r.bikes_out = station[1] == '1' ? 9 : 2;
    r.flow_reliable = hour % 2 == 0;
    r.status = "OPEN";
    r.capacity = 20;
    r.has_electric_avg = station[1] == '1';
    r.electric_avg = 1.75;
    /* Tab, newline, backslash and quotes: COPY and SQL must not care. */
    r.station_name = station[1] == '1' ? "Quai d'Orsay\t\"1\"\\n\nx" : "Gare";
    r.lat = 48.8566;
    r.lon = 2.3522;
    r.station_capacity = 20;
    r.system_name = "Test Bikes";
    r.time_zone = "Europe/Paris";
    return r;
}

/* Hours 0..2 of s1 and s2 plus their day rows. */
DBT_FN size_t
dbt_batch(struct velo_db_row *rows)
{
    static const char *const st[] = {"s1", "s2"};
    size_t                   n = 0;
    int                      s, h;

    for (s = 0; s < 2; s++) {
        for (h = 0; h < 3; h++)
            rows[n++] = dbt_row(VELO_DB_HOUR, st[s], h);
        rows[n] = dbt_row(VELO_DB_DAY, st[s], -1);
        rows[n].local_hour = 0;
        n++;
    }
    return n;
}

DBT_FN void
dbt_load(velo_db *db, const struct velo_db_row *rows, size_t n)
{
    assert_int_equal(velo_db_begin(db), VELO_OK);
    assert_int_equal(velo_db_upsert(db, rows, n), VELO_OK);
    assert_int_equal(velo_db_commit(db), VELO_OK);
}

/* Every table, in key order, as one string (caller frees). */
DBT_FN char *
dbt_dump(velo_db *db)
{
    struct velo_buf b;
    size_t          i, len;

    velo_buf_init(&b, 1 << 20);
    for (i = 0; i < sizeof(dbt_tables) / sizeof(dbt_tables[0]); i++) {
        assert_int_equal(velo_buf_printf(&b, "== %s\n", dbt_tables[i]),
                         VELO_OK);
        assert_int_equal(velo_db_dump(db, dbt_tables[i], &b), VELO_OK);
    }
    return velo_buf_steal(&b, &len);
}

struct dbt_rows {
    struct velo_db_row v[16];
    char               ids[16][32];
    size_t             n;
};

DBT_FN int
dbt_collect(void *ctx, const struct velo_db_row *row)
{
    struct dbt_rows *c = ctx;

    assert_true(c->n < 16);
    c->v[c->n] = *row;
    snprintf(c->ids[c->n], sizeof(c->ids[0]), "%s", row->station_id);
    c->v[c->n].station_id = c->ids[c->n];
    c->v[c->n].system_id = NULL; /* borrowed: gone after the callback */
    c->v[c->n].status = NULL;
    c->v[c->n].local_date = NULL;
    c->n++;
    return 0;
}

/* Loading the same batch again, in any order, changes no byte. */
DBT_FN void
dbt_idempotent(velo_db *db)
{
    struct velo_db_row rows[8], rev[8];
    size_t             n = dbt_batch(rows), i;
    char              *d1, *d2, *d3;

    dbt_load(db, rows, n);
    d1 = dbt_dump(db);
    dbt_load(db, rows, n);
    d2 = dbt_dump(db);
    assert_string_equal(d1, d2);
    for (i = 0; i < n; i++)
        rev[i] = rows[n - 1 - i];
    dbt_load(db, rev, n);
    d3 = dbt_dump(db);
    assert_string_equal(d1, d3);
    assert_non_null(strstr(d1, "Quai d'Orsay\t\"1\"\\n\nx"));
    free(d1);
    free(d2);
    free(d3);
}

DBT_FN void
dbt_history(velo_db *db)
{
    struct velo_db_history_q q = {VELO_DB_HOUR, "gbfs:test",      "s1",
                                  T0 + HOUR_MS, T0 + 3 * HOUR_MS, 0};
    struct dbt_rows          c = {.n = 0};
    struct velo_db_row       want = dbt_row(VELO_DB_HOUR, "s1", 1);

    assert_int_equal(velo_db_history(db, &q, dbt_collect, &c), VELO_OK);
    assert_int_equal(c.n, 2);
    assert_true(c.v[0].window_start_ms == T0 + HOUR_MS);
    assert_true(c.v[1].window_start_ms == T0 + 2 * HOUR_MS);
    assert_true(c.v[0].docks_avg == want.docks_avg); /* exact */
    assert_true(c.v[0].bikes_avg == want.bikes_avg);
    assert_true(c.v[0].bikes_min == want.bikes_min);
    assert_true(c.v[0].samples == want.samples);
    assert_true(c.v[0].bikes_in == want.bikes_in);
    assert_false(c.v[0].flow_reliable);
    assert_true(c.v[1].flow_reliable);
    assert_true(c.v[0].has_electric_avg);
    assert_true(c.v[0].electric_avg == 1.75);
    q.station_id = "s2";
    q.gran = VELO_DB_DAY;
    q.from_ms = 0;
    q.to_ms = T0 + 24 * HOUR_MS;
    c.n = 0;
    assert_int_equal(velo_db_history(db, &q, dbt_collect, &c), VELO_OK);
    assert_int_equal(c.n, 1);
    assert_false(c.v[0].has_electric_avg); /* NULL stays NULL, not 0 */
    q.limit = 1;
    q.gran = VELO_DB_HOUR;
    c.n = 0;
    assert_int_equal(velo_db_history(db, &q, dbt_collect, &c), VELO_OK);
    assert_int_equal(c.n, 1);
}

DBT_FN void
dbt_top(velo_db *db)
{
    struct velo_db_top_q q = {"gbfs:test", "2025-12-01", VELO_DB_RANK_FLOW, 0};
    struct dbt_rows      c = {.n = 0};

    /* s1: flow 3+9, empty 5.5, full 20; s2: flow 3+2, empty 30, full 1.5 */
    assert_int_equal(velo_db_top(db, &q, dbt_collect, &c), VELO_OK);
    assert_int_equal(c.n, 2);
    assert_string_equal(c.ids[0], "s1");
    q.by = VELO_DB_RANK_MINUTES_EMPTY;
    c.n = 0;
    assert_int_equal(velo_db_top(db, &q, dbt_collect, &c), VELO_OK);
    assert_string_equal(c.ids[0], "s2");
    q.by = VELO_DB_RANK_MINUTES_FULL;
    q.limit = 1;
    c.n = 0;
    assert_int_equal(velo_db_top(db, &q, dbt_collect, &c), VELO_OK);
    assert_int_equal(c.n, 1);
    assert_string_equal(c.ids[0], "s1");
    q.by = (enum velo_db_rank)7;
    assert_int_equal(velo_db_top(db, &q, dbt_collect, &c), VELO_EINVAL);
}

/* A rename at hour 5 opens a second version; reloading the old hours
 * afterwards changes nothing. */
DBT_FN void
dbt_type2(velo_db *db)
{
    struct velo_db_row rows[8], r;
    size_t             n = dbt_batch(rows);
    struct velo_buf    b;
    char              *d1, *d2;

    r = dbt_row(VELO_DB_HOUR, "s2", 5);
    r.station_name = "Gare (nouvelle)";
    dbt_load(db, &r, 1);
    velo_buf_init(&b, 1 << 16);
    assert_int_equal(velo_db_dump(db, "dim_station", &b), VELO_OK);
    /* s1 current; s2 closed at hour 5 and reopened under the new name */
    assert_non_null(strstr(b.data, "s2\t1764543600000\t1764565200000\t0\t"
                                   "Gare\t"));
    assert_non_null(strstr(b.data, "s2\t1764565200000\t\\N\t1\t"
                                   "Gare (nouvelle)\t"));
    velo_buf_fini(&b);
    d1 = dbt_dump(db);
    dbt_load(db, rows, n);
    d2 = dbt_dump(db);
    assert_string_equal(d1, d2);
    free(d1);
    free(d2);
}

/* The dim_station versions of one station of gbfs:test, one line each,
 * without the system and station ids (caller frees). */
DBT_FN char *
dbt_versions(velo_db *db, const char *station)
{
    struct velo_buf b, out;
    char            prefix[64];
    const char     *p, *nl;
    size_t          len;

    velo_buf_init(&b, 1 << 20);
    velo_buf_init(&out, 1 << 16);
    assert_int_equal(velo_db_dump(db, "dim_station", &b), VELO_OK);
    snprintf(prefix, sizeof(prefix), "gbfs:test\t%s\t", station);
    for (p = b.data; p != NULL && *p != '\0'; p = nl + 1) {
        nl = strchr(p, '\n');
        assert_non_null(nl);
        if (strncmp(p, prefix, strlen(prefix)) == 0)
            assert_int_equal(
                velo_buf_append(&out, p + strlen(prefix),
                                (size_t)(nl + 1 - p) - strlen(prefix)),
                VELO_OK);
    }
    assert_int_equal(velo_buf_puts(&out, ""), VELO_OK); /* never NULL */
    velo_buf_fini(&b);
    return velo_buf_steal(&out, &len);
}

/* Loads hours [from, to) of station as one batch, named
 * "Gare (nouvelle)" from hour renamed_at on. */
DBT_FN void
dbt_load_hours(velo_db *db, const char *station, int from, int to,
               int renamed_at)
{
    struct velo_db_row rows[8];
    size_t             n = 0;
    int                h;

    assert_true(to - from <= 8);
    for (h = from; h < to; h++) {
        rows[n] = dbt_row(VELO_DB_HOUR, station, h);
        if (h >= renamed_at)
            rows[n].station_name = "Gare (nouvelle)";
        n++;
    }
    dbt_load(db, rows, n);
}

/* Loads one batch of hourly rows of station from "hour:name hour:name":
 * each hour with its own station name. */
DBT_FN void
dbt_load_named(velo_db *db, const char *station, const char *spec)
{
    static char        names[8][64];
    struct velo_db_row rows[8];
    size_t             n = 0;
    const char        *p = spec;
    int                h, used;

    while (*p != '\0') {
        assert_true(n < 8);
        assert_int_equal(sscanf(p, "%d:%63[^0-9]%n", &h, names[n], &used), 2);
        p += used;
        /* the name runs up to the next "N:" (its trailing space dropped) */
        if (names[n][0] != '\0' && names[n][strlen(names[n]) - 1] == ' ')
            names[n][strlen(names[n]) - 1] = '\0';
        rows[n] = dbt_row(VELO_DB_HOUR, station, h);
        rows[n].station_name = names[n];
        n++;
    }
    dbt_load(db, rows, n);
}

/* Lines in s. */
DBT_FN int
dbt_lines(const char *s)
{
    int n = 0;

    for (; *s != '\0'; s++)
        n += *s == '\n';
    return n;
}

/* dim_station depends on the rows loaded, not on how batches were cut or
 * ordered (a kill -9 and restart cuts them elsewhere): late windows first
 * or early ones first give the same versions, renames included. */
DBT_FN void
dbt_batch_order(velo_db *db)
{
    char *a, *b, *c;

    dbt_load_hours(db, "va", 5, 7, 99); /* late windows first */
    dbt_load_hours(db, "va", 0, 2, 99);
    dbt_load_hours(db, "vb", 0, 2, 99);
    dbt_load_hours(db, "vb", 5, 7, 99);
    a = dbt_versions(db, "va");
    b = dbt_versions(db, "vb");
    /* One version, from the earliest window (lat/lon: dialect digits) */
    assert_true(strstr(a, "1764547200000\t\\N\t1\tGare\t") == a);
    assert_true(strchr(a, '\n')[1] == '\0');
    assert_string_equal(a, b);
    free(a);
    free(b);

    /* Renamed at hour 3: Gare 0-1, new name 3 and 5, three orders. */
    dbt_load_hours(db, "ra", 0, 2, 3);
    dbt_load_hours(db, "ra", 5, 6, 3);
    dbt_load_hours(db, "ra", 3, 4, 3);
    dbt_load_hours(db, "rb", 3, 4, 3);
    dbt_load_hours(db, "rb", 0, 2, 3);
    dbt_load_hours(db, "rb", 5, 6, 3);
    dbt_load_hours(db, "rc", 5, 6, 3);
    dbt_load_hours(db, "rc", 3, 4, 3);
    dbt_load_hours(db, "rc", 0, 2, 3);
    a = dbt_versions(db, "ra");
    b = dbt_versions(db, "rb");
    c = dbt_versions(db, "rc");
    assert_true(strstr(a, "1764547200000\t1764558000000\t0\tGare\t") == a);
    assert_non_null(strstr(a, "\n1764558000000\t\\N\t1\tGare (nouvelle)\t"));
    assert_string_equal(a, b);
    assert_string_equal(a, c);
    free(b);
    free(c);

    /* The same rows as one batch: the rename inside it keeps both. */
    dbt_load_named(db, "rd",
                   "0:Gare 1:Gare 3:Gare (nouvelle) 5:Gare (nouvelle)");
    b = dbt_versions(db, "rd");
    assert_string_equal(a, b);
    free(a);
    free(b);

    /* Back to the old name: three versions, one batch or three. */
    dbt_load_named(db, "re", "0:Gare 1:Gare 3:Gare (nouvelle) 5:Gare");
    dbt_load_named(db, "rf", "0:Gare 1:Gare");
    dbt_load_named(db, "rf", "3:Gare (nouvelle)");
    dbt_load_named(db, "rf", "5:Gare");
    a = dbt_versions(db, "re");
    b = dbt_versions(db, "rf");
    assert_int_equal(dbt_lines(a), 3);
    assert_string_equal(a, b);
    free(a);
    free(b);
}

/* Rollback leaves nothing; an invalid row fails the batch up front; the
 * later of two rows with one key wins. */
DBT_FN void
dbt_tx(velo_db *db)
{
    struct velo_db_history_q q = {VELO_DB_HOUR, "gbfs:test",  "s1",
                                  T0,           T0 + HOUR_MS, 0};
    struct velo_db_row       r[2];
    struct dbt_rows          c = {.n = 0};

    r[0] = dbt_row(VELO_DB_HOUR, "s1", 0);
    r[0].samples = 999;
    assert_int_equal(velo_db_begin(db), VELO_OK);
    assert_int_equal(velo_db_upsert(db, r, 1), VELO_OK);
    velo_db_rollback(db);
    assert_int_equal(velo_db_history(db, &q, dbt_collect, &c), VELO_OK);
    assert_true(c.v[0].samples == 12);

    r[1] = r[0];
    r[1].local_date = "2025-13-1";
    assert_int_equal(velo_db_begin(db), VELO_OK);
    assert_int_equal(velo_db_upsert(db, r, 2), VELO_EINVAL);
    velo_db_rollback(db);
    assert_int_equal(velo_db_upsert(db, r, 1), VELO_EINVAL); /* no tx */

    r[1] = r[0];
    r[1].samples = 13;
    dbt_load(db, r, 2);
    c.n = 0;
    assert_int_equal(velo_db_history(db, &q, dbt_collect, &c), VELO_OK);
    assert_true(c.v[0].samples == 13);
    r[0] = dbt_row(VELO_DB_HOUR, "s1", 0);
    dbt_load(db, r, 1); /* back to the batch's value */
}

/* The whole contract against an empty database at url. */
DBT_FN void
dbt_conformance(const char *url, const struct velo_db_opts *opts)
{
    velo_db *db;
    int64_t  v;

    assert_int_equal(velo_db_open(&db, url, opts), VELO_OK);
    assert_int_equal(velo_db_schema_version(db, &v), VELO_OK);
    assert_true(v == velo_db_schema_latest(db));
    assert_true(v >= 1);
    assert_int_equal(velo_db_ping(db), VELO_OK);
    dbt_idempotent(db);
    dbt_history(db);
    dbt_top(db);
    dbt_tx(db);
    dbt_type2(db);
    dbt_batch_order(db);
    /* Migrating again is a no-op. */
    assert_int_equal(velo_db_migrate(db), VELO_OK);
    assert_int_equal(velo_db_schema_version(db, &v), VELO_OK);
    assert_true(v == velo_db_schema_latest(db));
    velo_db_close(db);
}

#endif
