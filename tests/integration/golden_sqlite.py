#!/usr/bin/env python3
"""golden_sqlite: the golden day (golden.py) through a real Kafka broker,
velo-batch and velo-warehouse on SQLite.

- every fact row (hourly and daily, every field) equals the independent
  reference computed from the raw records, no row missing, none extra;
- veloctl history (hourly, --daily) and top --by flow equal the reference;
- velo-batch --once again adds nothing; the loader again over the same
  topic leaves the tables byte for byte identical; batch and loader again
  from scratch give identical tables;
- velo-batch killed (kill -9) at several record counts inside open
  transactions and at random times, then restarted: every row committed
  once, identical tables;
- the loader killed (kill -9, --crash-after-rows) inside load
  transactions, twice, then restarted: identical tables.
"""
import os
import random
import sqlite3
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import golden as g  # noqa: E402
from velotest import RUN, check, kafka_addr, unique, wait_for  # noqa: E402
from warehouse_e2e import dump  # noqa: E402


def facts(db):
    con = sqlite3.connect("file:%s?mode=ro" % db, uri=True, timeout=30)
    con.row_factory = sqlite3.Row
    out = {}
    try:
        for gran, table in (("hour", "fact_station_hourly"),
                            ("day", "fact_station_daily")):
            for row in con.execute("SELECT * FROM %s" % table):
                row = dict(row)
                out[g.fact_key(gran, row)] = row
    finally:
        con.close()
    return out


def table(db, name):
    con = sqlite3.connect("file:%s?mode=ro" % db, uri=True, timeout=30)
    con.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in con.execute("SELECT * FROM %s" % name)]
    finally:
        con.close()


def count(db, table):
    """Rows in table, -1 while the loader has not made it."""
    if not os.path.exists(db):
        return -1
    con = sqlite3.connect("file:%s?mode=ro" % db, uri=True, timeout=30)
    try:
        return con.execute("SELECT COUNT(*) FROM %s" % table).fetchone()[0]
    except sqlite3.Error:
        return -1
    finally:
        con.close()


def new_db():
    return os.path.join(RUN, unique("golden") + ".db")


def load(brokers, topic, db, ref, what, *extra):
    """A loader from the start of topic into db until the reference's row
    counts are there; returns the running service."""
    wh = g.warehouse(brokers, topic, "sqlite://" + db, unique("golden_wg"),
                     None, *extra)
    g.wait_loaded(lambda t: count(db, t), ref, what)
    return wh


def reload_same_db(brokers, topic, db, ref, first):
    """The loader again over the same topic (a new group: every record
    again) into the same database: byte for byte the same tables."""
    wh = g.warehouse(brokers, topic, "sqlite://" + db, unique("golden_wg"),
                     None)
    wait_for("the reload", lambda: wh.metric(
        "velo_warehouse_rows_loaded_total") >= len(ref["rows"]), 120, 0.3)
    check(dump(db) == first, "loading the same topic again changed the "
          "tables")
    check(wh.stop() == 0, "velo-warehouse: SIGTERM after the reload")
    g.log("loader again over the same data: identical tables")


def batch_killed(brokers, names, ref, stable):
    """velo-batch kill -9 at several points, restarted each time."""
    rnd_seed = int(os.environ.get("GOLDEN_SEED", os.getpid()))
    rnd = random.Random(rnd_seed)
    b = g.Batch(brokers, names, "kill")
    n = ref["records"]
    # Records handled by each run, replays not counted: together less than
    # n, so every run gets there.
    points = [n // 10, n // 5 + 37, n // 7, n // 4 + 101]
    for p in points:
        b.crash_after(p)
    delays = [round(rnd.uniform(1.0, 3.5), 2) for _ in range(2)]
    for d in delays:
        b.kill_after(d)
    b.once()
    g.log("velo-batch killed after %s more records and after %s s "
          "(GOLDEN_SEED=%d)"
          % (points, delays, rnd_seed))
    recs = b.committed()
    g.check_no_twice(recs, ref, "velo-batch killed and restarted")
    db = new_db()
    wh = load(brokers, b.out, db, ref, "load of the killed batch's rows")
    g.compare_facts(facts(db), ref, "SQLite, velo-batch killed 6 times")
    check(dump(db) == stable, "velo-batch killed: the tables differ")
    check(wh.stop() == 0, "velo-warehouse: SIGTERM")


def loader_killed(brokers, topic, ref, stable):
    """The loader kill -9 inside load transactions, twice, then a clean
    restart: the tables of a clean load."""
    db = new_db()
    group = unique("golden_wk")
    url = "sqlite://" + db
    g.loader_crash(brokers, topic, url, group, None, 450, 200)
    first = count(db, "fact_station_hourly") + count(db, "fact_station_daily")
    check(0 < first < 450, "first crash: %d rows committed" % first)
    g.loader_crash(brokers, topic, url, group, None, 700, 300)
    second = count(db, "fact_station_hourly") + count(db, "fact_station_daily")
    check(first < second < first + 700, "second crash: %d rows committed "
          "(%d before)" % (second, first))
    wh = g.warehouse(brokers, topic, url, group, None)
    g.wait_loaded(lambda t: count(db, t), ref, "the load after two kills")
    g.compare_facts(facts(db), ref, "SQLite, loader killed twice")
    check(dump(db) == stable, "loader killed: the tables differ")
    check(wh.stop() == 0, "velo-warehouse: SIGTERM")
    g.log("loader kill -9 mid-batch (twice) and restart: identical tables")


def main():
    brokers = kafka_addr()
    names = g.topics()
    g.ingest_day(brokers, names)
    ref = g.reference(brokers, names)

    a = g.Batch(brokers, names, "a")
    a.once()
    recs = a.committed()
    g.check_no_twice(recs, ref, "velo-batch --once")
    a.once()
    check(len(a.committed()) == len(recs), "a second --once added rows")

    db = new_db()
    wh = load(brokers, a.out, db, ref, "the clean load")
    g.compare_facts(facts(db), ref, "SQLite")
    g.check_dims(table(db, "dim_time"), table(db, "dim_system"),
                 table(db, "dim_station"), ref, "SQLite")
    g.check_history(wh, ref, g.history_picks(ref))
    g.check_top(wh, ref)
    first = stable = dump(db)
    check(wh.stop() == 0, "velo-warehouse: SIGTERM")
    reload_same_db(brokers, a.out, db, ref, first)

    b = g.Batch(brokers, names, "b")
    b.once()
    db_b = new_db()
    wh = load(brokers, b.out, db_b, ref, "batch and loader from scratch")
    check(dump(db_b) == stable, "batch and loader again from scratch: "
          "the tables differ")
    check(wh.stop() == 0, "velo-warehouse: SIGTERM")
    g.log("batch and loader again from scratch: identical tables")

    batch_killed(brokers, names, ref, stable)
    loader_killed(brokers, a.out, ref, stable)
    print("PASS")


if __name__ == "__main__":
    main()
