#!/usr/bin/env python3
"""bench/warehouse: rows per second loaded into a real PostgreSQL through
the velo_db adapter (velo-bench-db-load: batches of --batch hourly rows,
each one transaction of velo_db_begin, velo_db_upsert, velo_db_commit, as
velo-warehouse loads them; the adapter stages a batch's dimension rows and
merges them, then COPYs its facts straight into the fact tables, all in
binary COPY), beside `psql \\copy` of the same rows as CSV into a plain
table of the same columns, in the same run, on the same server. Each run
loads into a fresh database; the order of the two alternates from run to
run. It also times \\copy into the same plain table with
fact_station_hourly's primary key (what the adapter's fact COPY pays for
too), and the adapter loading the same rows a second time (a rerun: every
batch conflicts and takes the merge path).

  bench/warehouse/run.py [--rows 200000] [--stations 1000] [--batch 10000]
                         [--runs 3] [--breakdown]

--batch defaults to velo-warehouse's --batch-size.

--breakdown logs every statement's duration on the server
(log_min_duration_statement = 0) and prints where the adapter's time goes.

--e2e [--e2e-stations 200 --e2e-hours 500] also measures velo-warehouse
itself, end to end, on a real Kafka broker: velo-aggfeed writes
stations x hours hourly rows (and their daily rows) to a topic in one
transaction, velo-warehouse (default batches: 10,000 rows or 1 s) loads them
into a fresh database of the same server; rows/s from the first committed
batch to the last (velo_warehouse_rows_loaded_total sampled every 0.1 s),
and from ready to the last (consumer group join included). Its rows are
velo-aggfeed's, not the adapter bench's: the ratio to \copy is indicative.

Needs a release build (scripts/build release) and PostgreSQL 15
(scripts/setup); starts its own cluster with tests/harness/postgres.sh on
a free port and stops it at the end.
"""
import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                ".."))
import benchlib  # noqa: E402

PG = os.path.join(benchlib.ROOT, "tests", "harness", "postgres.sh")
COLUMNS = """system_id TEXT NOT NULL, station_id TEXT NOT NULL,
 window_start_ms BIGINT NOT NULL, samples BIGINT NOT NULL,
 bikes_avg DOUBLE PRECISION NOT NULL, bikes_min DOUBLE PRECISION NOT NULL,
 bikes_max DOUBLE PRECISION NOT NULL, docks_avg DOUBLE PRECISION NOT NULL,
 docks_min DOUBLE PRECISION NOT NULL, docks_max DOUBLE PRECISION NOT NULL,
 minutes_empty DOUBLE PRECISION NOT NULL,
 minutes_full DOUBLE PRECISION NOT NULL, bikes_in BIGINT NOT NULL,
 bikes_out BIGINT NOT NULL, flow_reliable INTEGER NOT NULL,
 status TEXT NOT NULL, capacity INTEGER NOT NULL,
 electric_avg DOUBLE PRECISION"""
PKEY = ", PRIMARY KEY (system_id, station_id, window_start_ms)"


class Postgres:
    """A PostgreSQL cluster of our own for a `with` block."""

    def __enter__(self):
        self.run = tempfile.mkdtemp(prefix="velo-bench-pg-")
        os.chmod(self.run, 0o755)  # as root the cluster runs as postgres
        subprocess.run([PG, "start", self.run], check=True,
                       stdout=subprocess.DEVNULL)
        with open(os.path.join(self.run, "postgres.ready")) as f:
            self.url = f.read().strip()
        self.pwfile = os.path.join(self.run, "postgres.password")
        self.port = re.search(r":(\d+)/", self.url).group(1)
        self.log = os.path.join(self.run, "postgres", "log")
        return self

    def __exit__(self, *exc):
        subprocess.run([PG, "stop", self.run], stdout=subprocess.DEVNULL)

    def env(self):
        e = dict(os.environ)
        e["PGPASSWORD"] = open(self.pwfile).read().strip()
        e["VELO_WAREHOUSE_PASSWORD_FILE"] = self.pwfile
        return e

    def psql(self, db, script):
        """Runs a psql script; returns its stdout."""
        out = subprocess.run(
            ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1",
             "-p", self.port, "-U", "velo", "-d", db, "-f", "-"],
            input=script.encode(), capture_output=True, env=self.env(),
            timeout=1800)
        if out.returncode != 0:
            sys.exit("psql failed: %s" % out.stderr.decode()[-2000:])
        return out.stdout.decode()

    def db_url(self, db):
        return self.url.rsplit("/", 1)[0] + "/" + db


def adapter_load(pg, db, a, span=None, reload=False):
    """Loads a.rows through the adapter into a fresh database; seconds from
    the first velo_db_begin to the last commit (with reload: of the second
    load of the same rows). span, when given, gets the byte offsets of the
    server log around the load."""
    pg.psql("velo", "CREATE DATABASE %s;" % db)
    if span is not None:
        span[0] = os.path.getsize(pg.log)
    out = subprocess.run(
        [os.path.join(benchlib.BIN, "velo-bench-db-load"), "--json",
         "--url", pg.db_url(db), "--rows", str(a.rows),
         "--stations", str(a.stations), "--batch", str(a.batch),
         "--reload", "1" if reload else "0"],
        capture_output=True, env=pg.env(), timeout=1800)
    if out.returncode != 0:
        sys.exit("velo-bench-db-load failed: %s" % out.stderr.decode()[-2000:])
    if span is not None:
        span[1] = os.path.getsize(pg.log)
    r = [l for l in out.stdout.decode().splitlines() if l.startswith("{")]
    res = json.loads(r[-1])
    if reload and res["fallbacks"] != res["batches"]:
        sys.exit("reload: %d merge fallbacks, want %d"
                 % (res["fallbacks"], res["batches"]))
    n = pg.psql(db, "\\pset tuples_only on\n"
                "SELECT count(*) FROM fact_station_hourly;").split()
    if int(n[0]) != a.rows:
        sys.exit("adapter loaded %s rows, want %d" % (n[0], a.rows))
    return res["seconds"]


def copy_load(pg, db, csv, pkey, rows):
    """\\copy of csv into a fresh plain table; seconds as psql's \\timing
    reports the \\copy (client side: reading the file, sending, the
    server's answer)."""
    pg.psql("velo", "CREATE DATABASE %s;" % db)
    out = pg.psql(db, "CREATE TABLE plain_hourly (%s%s);\n\\timing on\n"
                  "\\copy plain_hourly FROM '%s' WITH (FORMAT csv)\n"
                  "\\timing off\n\\pset tuples_only on\n"
                  "SELECT count(*) FROM plain_hourly;\n"
                  % (COLUMNS, PKEY if pkey else "", csv))
    ms = float(re.search(r"Time: ([0-9.]+) ms", out).group(1))
    n = int(out.strip().split()[-1])
    if n != rows:
        sys.exit("\\copy loaded %d rows, want %d" % (n, rows))
    return ms / 1000.0


def breakdown(pg, span):
    """Server time per statement kind in the span of the log."""
    per = {}
    with open(pg.log, errors="replace") as f:
        f.seek(span[0])
        for line in f.read(span[1] - span[0]).splitlines():
            m = re.search(r"duration: ([0-9.]+) ms\s+statement: (.*)", line)
            if m:
                kind = " ".join(m.group(2).split()[:3])
                t, n = per.get(kind, (0.0, 0))
                per[kind] = (t + float(m.group(1)), n + 1)
    total = sum(t for t, _ in per.values()) or 1
    print("  server time by statement (last adapter run, migrations at open"
          " included):")
    for kind, (t, n) in sorted(per.items(), key=lambda kv: -kv[1][0])[:10]:
        print("    %7.0f ms %4.0f%% %5d x %s" % (t, 100 * t / total, n, kind))


def e2e_load(pg, k, db, a, r):
    """velo-warehouse loading aggfeed's rows: (rows, s from the first batch,
    s from ready)."""
    topic = "bench_wh_%d_%d" % (os.getpid(), r)
    # velo-aggfeed has no flow control: at most ~20,000 records a call.
    step = max(1, 20000 // a.e2e_hours)
    for first in range(1, a.e2e_stations + 1, step):
        subprocess.run([os.path.join(benchlib.BIN, "velo-aggfeed"),
                        "--brokers", k.addr, "--topic", topic,
                        "--system", "bench:e2e", "--first", str(first),
                        "--stations",
                        str(min(step, a.e2e_stations + 1 - first)),
                        "--hours", str(a.e2e_hours),
                        "--txn-id", "%s_%d" % (topic, first)], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                       timeout=600)
    pg.psql("velo", "CREATE DATABASE %s;" % db)
    hourly = a.e2e_stations * a.e2e_hours
    total = hourly + a.e2e_stations * ((a.e2e_hours + 23) // 24)  # UTC days
    wh = benchlib.velotest.Service("velo-warehouse", [
        "--kafka-brokers", k.addr, "--admin-port", "0",
        "--rpc-url", "tcp://127.0.0.1:0", "--db", pg.db_url(db),
        "--topic", topic, "--dlq-topic", topic + ".dlq",
        "--group", topic], env={"VELO_WAREHOUSE_PASSWORD_FILE": pg.pwfile},
        ready_timeout=60)
    try:
        t0 = time.monotonic()
        first = None
        while True:
            n = wh.metric("velo_warehouse_rows_loaded_total")
            now = time.monotonic()
            if n > 0 and first is None:
                first = (now, n)
            if n >= total:
                break
            if now - t0 > 600:
                sys.exit("velo-warehouse loaded %d of %d rows in 600 s"
                         % (n, total))
            time.sleep(0.1)
    finally:
        wh.stop()
    got = pg.psql(db, "\\pset tuples_only on\n"
                  "SELECT count(*) FROM fact_station_hourly;").split()[0]
    if int(got) != hourly:
        sys.exit("velo-warehouse: %s hourly rows in the table, want %d"
                 % (got, hourly))
    return n, now - first[0], now - t0, first[1]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=200000)
    ap.add_argument("--stations", type=int, default=1000)
    ap.add_argument("--batch", type=int, default=10000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--breakdown", action="store_true")
    ap.add_argument("--e2e", action="store_true")
    ap.add_argument("--e2e-stations", type=int, default=200)
    ap.add_argument("--e2e-hours", type=int, default=500)
    a = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="velo-bench-wh-")
    csv = os.path.join(tmp, "rows.csv")
    subprocess.run([os.path.join(benchlib.BIN, "velo-bench-db-load"),
                    "--csv", csv, "--rows", str(a.rows),
                    "--stations", str(a.stations)], check=True)
    rows = []
    with Postgres() as pg:
        span = [0, 0] if a.breakdown else None
        for r in range(a.runs):
            if a.breakdown and r == a.runs - 1:
                pg.psql("velo", "ALTER SYSTEM SET log_min_duration_statement"
                        " = 0;\nSELECT pg_reload_conf();")
                time.sleep(1)  # the postmaster reloads asynchronously
            adapter = lambda: (adapter_load(pg, "adapter%d" % r, a,
                                            span if r == a.runs - 1 else None))
            if r % 2 == 0:
                ad = adapter()
                cp = copy_load(pg, "copy%d" % r, csv, False, a.rows)
            else:
                cp = copy_load(pg, "copy%d" % r, csv, False, a.rows)
                ad = adapter()
            pk = copy_load(pg, "copypk%d" % r, csv, True, a.rows)
            rl = adapter_load(pg, "reload%d" % r, a, reload=True)
            rows.append((a.rows / ad, a.rows / cp, a.rows / pk, a.rows / rl))
            print("run %d: adapter %.0f rows/s, \\copy %.0f rows/s "
                  "(with primary key %.0f), ratio %.2f (%.2f); reload %.0f"
                  " rows/s"
                  % (r + 1, a.rows / ad, a.rows / cp, a.rows / pk, cp / ad,
                     pk / ad, a.rows / rl))
        if a.breakdown:
            pg.psql("velo", "ALTER SYSTEM RESET log_min_duration_statement;"
                    "\nSELECT pg_reload_conf();")
            breakdown(pg, span)
        e2e = []
        if a.e2e:
            with benchlib.Kafka() as k:
                for r in range(a.runs):
                    n, dt, dt_ready, n_first = e2e_load(pg, k, "e2e%d" % r,
                                                        a, r)
                    e2e.append(((n - n_first) / dt if dt > 0 and
                                n > n_first else n / dt_ready,
                                n / dt_ready, n))
                    print("e2e run %d: velo-warehouse %d rows, %.0f rows/s "
                          "from the first batch, %.0f from ready"
                          % (r + 1, n, e2e[-1][0], e2e[-1][1]))
    col = lambda i: [x[i] for x in rows]
    ratios = [x[0] / x[1] for x in rows]
    ratios_pk = [x[0] / x[2] for x in rows]
    print("\nbench/warehouse: %d hourly rows of %d stations, batches of %d, "
          "%d runs, one PostgreSQL 15 (fsync off)"
          % (a.rows, a.stations, a.batch, a.runs))
    print("  velo_db adapter  %s rows/s (median)"
          % benchlib.median_range(col(0)))
    print("  psql \\copy       %s rows/s (plain table)"
          % benchlib.median_range(col(1)))
    print("  psql \\copy       %s rows/s (same table with the primary key)"
          % benchlib.median_range(col(2)))
    print("  ratio adapter/\\copy %s (target >= 0.7)"
          % benchlib.median_range(ratios, "%.2f"))
    print("  ratio adapter/\\copy with key %s"
          % benchlib.median_range(ratios_pk, "%.2f"))
    print("  adapter reload   %s rows/s (the same rows again: every batch"
          " merges)" % benchlib.median_range(col(3)))
    if e2e:
        print("  velo-warehouse end to end (Kafka -> PostgreSQL, %d rows incl."
              " daily): %s rows/s from the first batch, %s from ready; "
              "%.2f of the median \\copy rate"
              % (e2e[0][2], benchlib.median_range([x[0] for x in e2e]),
                 benchlib.median_range([x[1] for x in e2e]),
                 statistics.median(x[0] for x in e2e) / statistics.median(
                     col(1))))


if __name__ == "__main__":
    main()
