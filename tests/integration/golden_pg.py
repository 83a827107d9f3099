#!/usr/bin/env python3
"""golden_pg: the golden day (golden.py) through a real Kafka broker,
velo-batch and velo-warehouse on a real PostgreSQL server (Debian's
PostgreSQL 15, its own cluster started by tests/harness/postgres.sh on a
free port and stopped by PID).

- every fact row (hourly and daily, every field) equals the independent
  reference computed from the raw records, no row missing, none extra;
- veloctl history and top --by flow (HistoryService on PostgreSQL) equal
  the reference;
- the loader again over the same topic: byte for byte identical tables;
- from an empty schema, PostgreSQL stopped for a while mid-load, then
  started: identical tables once it is back;
- the loader killed (kill -9 inside load transactions) and restarted:
  identical tables.
"""
import csv
import io
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import golden as g  # noqa: E402
from velotest import RUN, SRC, check, kafka_addr, unique, wait_for  # noqa: E402
from warehouse_pg_e2e import count, dump, psql  # noqa: E402

NAME = "golden_pg"
HARNESS = os.path.join(SRC, "tests", "harness", "postgres.sh")


def harness(cmd):
    out = subprocess.run([HARNESS, cmd, RUN, NAME], capture_output=True,
                         timeout=120)
    check(out.returncode == 0, "postgres.sh %s: %s" % (
        cmd, out.stderr.decode()))


class Pg:
    def __init__(self):
        with open(os.path.join(RUN, NAME + ".ready")) as f:
            self.url = f.read().strip()
        self.pwfile = os.path.join(RUN, NAME + ".password")
        with open(self.pwfile) as f:
            self.password = f.read().strip()
        self.env = {"VELO_WAREHOUSE_PASSWORD_FILE": self.pwfile}

    def count(self, table):
        return count(self.url, self.password, table)

    def csv(self, query):
        env = dict(os.environ, PGPASSWORD=self.password)
        out = subprocess.run(["psql", self.url, "-X", "--csv", "-v",
                              "ON_ERROR_STOP=1", "-c", query],
                             capture_output=True, timeout=60, env=env)
        check(out.returncode == 0, "psql %s: %s" % (query,
                                                      out.stderr.decode()))
        return list(csv.DictReader(io.StringIO(out.stdout.decode())))

    def facts(self):
        out = {}
        for gran, table in (("hour", "fact_station_hourly"),
                            ("day", "fact_station_daily")):
            for row in self.csv("SELECT * FROM %s" % table):
                out[g.fact_key(gran, row)] = row
        return out

    def dump_all(self):
        """Every table, every column, in key order."""
        return "".join("== %s\n" % t + psql(
            self.url, self.password, "SELECT * FROM %s ORDER BY 1, 2, 3" % t)
            for t in g.TABLES)

    def stable(self):
        return dump(self.url, self.password)

    def empty(self):
        psql(self.url, self.password,
             "DROP SCHEMA public CASCADE; CREATE SCHEMA public")


def load(brokers, topic, pg, ref, what, group=None, *extra):
    wh = g.warehouse(brokers, topic, pg.url, group or unique("golden_pg"),
                     pg.env, *extra)
    g.wait_loaded(pg.count, ref, what)
    return wh


def clean_load(brokers, topic, pg, ref):
    wh = load(brokers, topic, pg, ref, "the clean load")
    # Every batch loaded whole: none refused for its content and split
    # (a daily row between two hourly rows of its first hour once made
    # PostgreSQL refuse every batch and load row by row).
    check(not wh.events("db.error"), "database errors in a clean load: %s"
          % wh.events("db.error")[:1])
    g.compare_facts(pg.facts(), ref, "PostgreSQL")
    g.check_dims(pg.csv("SELECT * FROM dim_time"),
                 pg.csv("SELECT * FROM dim_system"),
                 pg.csv("SELECT * FROM dim_station"), ref, "PostgreSQL")
    g.check_history(wh, ref, g.history_picks(ref))
    g.check_top(wh, ref)
    check(pg.password not in wh.log_text(), "the password was logged")
    check(wh.stop() == 0, "velo-warehouse: SIGTERM")
    first = pg.dump_all()

    wh = g.warehouse(brokers, topic, pg.url, unique("golden_pg"), pg.env)
    wait_for("the reload", lambda: wh.metric(
        "velo_warehouse_rows_loaded_total") >= len(ref["rows"]), 120, 0.3)
    check(pg.dump_all() == first, "loading the same topic again changed "
          "the tables")
    check(wh.stop() == 0, "velo-warehouse: SIGTERM after the reload")
    g.log("PostgreSQL: loader again over the same data: identical tables")
    return pg.stable()


def stopped_mid_load(brokers, topic, pg, ref, stable):
    """From an empty schema; PostgreSQL stopped (pg_ctl stop) after the
    first batches, for a while; started again: the tables of a clean
    load."""
    pg.empty()
    wh = g.warehouse(brokers, topic, pg.url, unique("golden_pg"), pg.env,
                     "--batch-size", "10")
    wait_for("some batches", lambda: wh.metric(
        "velo_warehouse_rows_loaded_total") > 0, 60, every=0.02)
    harness("halt")
    loaded = wh.metric("velo_warehouse_rows_loaded_total")
    wait_for("readyz 503", lambda: wh.http("/readyz")[0] == 503, 60)
    time.sleep(4)  # away for a while: the loader keeps retrying
    check(wh.metric("velo_warehouse_rows_loaded_total") == loaded,
          "rows loaded while PostgreSQL was stopped")
    harness("start")
    g.wait_loaded(pg.count, ref, "the load after PostgreSQL came back")
    wait_for("readyz 200 again", lambda: wh.http("/readyz")[0] == 200, 30)
    check(loaded < len(ref["rows"]), "everything was loaded before the "
          "stop (%d rows)" % loaded)
    g.compare_facts(pg.facts(), ref, "PostgreSQL stopped mid-load")
    check(pg.stable() == stable, "PostgreSQL stopped mid-load: the tables "
          "differ from a clean load")
    check(wh.stop() == 0, "velo-warehouse: SIGTERM")
    g.log("PostgreSQL stopped for 4 s at %d of %d rows, started: identical "
          "tables" % (loaded, len(ref["rows"])))


def loader_killed(brokers, topic, pg, ref, stable):
    pg.empty()
    group = unique("golden_pgk")
    g.loader_crash(brokers, topic, pg.url, group, pg.env, 450, 200)
    first = pg.count("fact_station_hourly") + pg.count("fact_station_daily")
    check(0 < first < 450, "first crash: %d rows committed" % first)
    g.loader_crash(brokers, topic, pg.url, group, pg.env, 700, 300)
    wh = load(brokers, topic, pg, ref, "the load after two kills", group)
    g.compare_facts(pg.facts(), ref, "PostgreSQL, loader killed twice")
    check(pg.stable() == stable, "loader killed: the tables differ")
    check(wh.stop() == 0, "velo-warehouse: SIGTERM")
    g.log("PostgreSQL: loader kill -9 mid-batch (twice): identical tables")


def main():
    brokers = kafka_addr()
    if not os.path.exists("/usr/lib/postgresql/15/bin/initdb"):
        print("SKIP: PostgreSQL 15 is not installed")
        sys.exit(77)
    names = g.topics()
    g.ingest_day(brokers, names)
    ref = g.reference(brokers, names)
    a = g.Batch(brokers, names, "pg")
    a.once()
    g.check_no_twice(a.committed(), ref, "velo-batch --once")
    harness("start")
    try:
        pg = Pg()
        stable = clean_load(brokers, a.out, pg, ref)
        stopped_mid_load(brokers, a.out, pg, ref, stable)
        loader_killed(brokers, a.out, pg, ref, stable)
    finally:
        harness("stop")
    print("PASS")


if __name__ == "__main__":
    main()
