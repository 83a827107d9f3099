#!/usr/bin/env python3
"""Integration: velo-aggfeed -> a real Apache Kafka broker -> velo-warehouse
on SQLite -> veloctl history/top and the tables themselves.

- every row is loaded with exactly the values produced (veloctl --json);
  an aborted transaction is never loaded (read_committed);
- top ranks by flow, minutes empty and minutes full;
- garbage records are rejected, counted and dead-lettered (once each, with
  their reason and origin), the rest loads;
- loading everything again (a second consumer group) leaves identical
  tables;
- the database locked away by another writer: /readyz 503 naming the
  database, history still answers, nothing lost: the held batch loads by
  itself once the lock is gone;
- kill -9 while a batch is held, then restart: the same tables as a clean
  load;
- velo-batch's own output loads with the values batch_e2e computes;
- SIGTERM: exit 0.
"""
import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from velotest import (BIN, RUN, Service, check, kafka_addr, kdump,  # noqa: E402
                      unique, wait_for)

T0 = 1764547200000  # 2025-12-01T00:00:00Z
HOUR = 3600000
DAY = 24 * HOUR
TABLES = ("dim_system", "dim_station", "dim_time", "fact_station_hourly",
          "fact_station_daily")


def feed(brokers, topic, system, stations, hours, *extra):
    args = [os.path.join(BIN, "velo-aggfeed"), "--brokers", brokers,
            "--topic", topic, "--system", system, "--stations", str(stations),
            "--hours", str(hours), "--txn-id", unique("aggfeed")] + list(extra)
    out = subprocess.run(args, capture_output=True, timeout=120)
    check(out.returncode == 0, "velo-aggfeed %s: %s" % (
        " ".join(extra), out.stderr.decode()))


def warehouse(brokers, topic, db, group, *extra):
    return Service("velo-warehouse", [
        "--kafka-brokers", brokers, "--admin-port", "0",
        "--rpc-url", "tcp://127.0.0.1:0", "--db", "sqlite://" + db,
        "--topic", topic, "--dlq-topic", topic + ".dlq", "--group", group,
        "--batch-wait-ms", "200", "--retry-max-ms", "1000"] + list(extra))


def sql(db, query):
    out = subprocess.run(["sqlite3", "-batch", db, query],
                         capture_output=True, timeout=60)
    check(out.returncode == 0, "sqlite3 %s: %s" % (query, out.stderr.decode()))
    return out.stdout.decode()


def count(db, table):
    """Rows in table; -1 while it does not exist yet (the service has not
    migrated the file, which the sqlite3 CLI may just have created)."""
    out = subprocess.run(["sqlite3", "-batch", db,
                          "SELECT COUNT(*) FROM %s" % table],
                         capture_output=True, timeout=60)
    try:
        return int(out.stdout.decode().strip()) if out.returncode == 0 else -1
    except ValueError:
        return -1


def dump(db):
    """Every table, every column (dim_station's valid_from/valid_to too:
    they do not depend on where batches were cut), in key order."""
    return "".join("== %s\n" % t + sql(
        db, "SELECT * FROM %s ORDER BY 1, 2, 3" % t) for t in TABLES)


def hold(db):
    """Another writer: sqlite3 with an open EXCLUSIVE transaction, held
    until its stdin closes (then it exits and the transaction rolls
    back)."""
    lock = subprocess.Popen(["sqlite3", db], stdin=subprocess.PIPE,
                            stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    # A busy timeout: the service may hold the write lock for a moment.
    lock.stdin.write(b".timeout 10000\nBEGIN EXCLUSIVE;\n"
                     b"INSERT INTO dim_system VALUES ('lock:x','x','UTC');\n")
    lock.stdin.flush()
    wait_for("the lock", lambda: subprocess.run(
        ["sqlite3", "-cmd", ".timeout 0", db, "BEGIN IMMEDIATE; ROLLBACK;"],
        capture_output=True).returncode != 0, 10)
    return lock


def release(lock):
    lock.stdin.close()
    lock.wait(30)


def loaded(db, hourly, daily):
    return lambda: (count(db, "fact_station_hourly") == hourly and
                    count(db, "fact_station_daily") == daily)


def veloctl(wh, *args, rc=0):
    cmd = [os.path.join(BIN, "veloctl"), "--warehouse-rpc", wh.addrs[1],
           "--timeout-ms", "3000"] + list(args)
    out = subprocess.run(cmd, capture_output=True, timeout=60)
    if rc is not None:
        check(out.returncode == rc, "veloctl %s -> %d: %s" % (
            " ".join(args), out.returncode, out.stderr.decode()))
    return out


def expected_hourly(s, h, v=0):
    avg = s + h * 0.25 + v
    row = {"window_start_ms": T0 + h * HOUR, "samples": 12, "bikes_avg": avg,
           "bikes_min": s, "bikes_max": s + 5, "docks_avg": 20 - avg,
           "docks_min": 10, "docks_max": 19, "minutes_empty": (s * h) % 60,
           "minutes_full": (s + h) % 7, "bikes_in": s + h + v,
           "bikes_out": h, "flow_reliable": h % 5 != 0,
           "status": "CLOSED" if s % 4 == 0 else "OPEN", "capacity": 20}
    if s % 2 == 1:
        row["electric_avg"] = 0.5 * s
    return row


def expected_daily(s, d):
    row = {"window_start_ms": T0 + d * DAY, "local_date": "2025-12-0%d" % (d + 1),
           "samples": 288, "bikes_avg": s, "bikes_min": 0, "bikes_max": s + 10,
           "docks_avg": 20 - s, "docks_min": 0, "docks_max": 20,
           "minutes_empty": 100 - s, "minutes_full": 3 * s,
           "bikes_in": 10 * s, "bikes_out": 5 * s, "flow_reliable": True,
           "status": "OPEN", "capacity": 20}
    if s % 2 == 1:
        row["electric_avg"] = 0.5 * s
    return row


def same_row(got, want, what):
    for k, v in want.items():
        check(got.get(k) == v, "%s: %s is %r, want %r" % (what, k, got.get(k), v))
    if "electric_avg" not in want:
        check("electric_avg" not in got, "%s: electric_avg made up" % what)


def check_history(wh, system, stations, hours):
    for s in range(1, stations + 1):
        out = veloctl(wh, "history", system, str(s), "--from", "2025-12-01",
                      "--to", str(T0 + hours * HOUR), "--json")
        doc = json.loads(out.stdout)
        check(len(doc["rows"]) == hours, "station %d: %d hourly rows" % (
            s, len(doc["rows"])))
        for h, row in enumerate(doc["rows"]):
            same_row(row, expected_hourly(s, h), "station %d hour %d" % (s, h))
        out = veloctl(wh, "history", system, str(s), "--daily", "--from",
                      "2025-11-30", "--to", "2025-12-05", "--json")
        doc = json.loads(out.stdout)
        days = (hours + 23) // 24
        check(len(doc["rows"]) == days, "station %d: daily rows" % s)
        for d, row in enumerate(doc["rows"]):
            same_row(row, expected_daily(s, d), "station %d day %d" % (s, d))


def check_top(wh, system, stations):
    order = {"flow": list(range(stations, 0, -1)),   # 15 * s
             "empty": list(range(1, stations + 1)),  # 100 - s
             "full": list(range(stations, 0, -1))}   # 3 * s
    for by, want in order.items():
        out = veloctl(wh, "top", system, "--date", "2025-12-01", "--by", by,
                      "--limit", "100", "--json")
        doc = json.loads(out.stdout)
        got = [int(r["station_id"]) for r in doc["stations"]]
        check(got == want, "top --by %s: %s, want %s" % (by, got, want))
    out = veloctl(wh, "top", system, "--date", "2025-12-01")
    check(b"1. %d" % stations in out.stdout, "top table: %s" % out.stdout)


def readyz(wh):
    return wh.http("/readyz")


def test_load_reload_lock(brokers):
    topic, system = unique("wh_aggs"), "test:wh"
    stations, hours = 6, 30
    feed(brokers, topic, system, stations, hours, "--garbage")
    # Never visible to read_committed: bikes_in would be off by 99.
    feed(brokers, topic, system, stations, hours, "--variant", "99", "--abort")
    db = os.path.join(RUN, unique("wh") + ".db")
    days = (hours + 23) // 24
    wh = warehouse(brokers, topic, db, unique("g1"))
    wait_for("first load", loaded(db, stations * hours, stations * days), 90)
    wait_for("readyz 200", lambda: readyz(wh)[0] == 200, 30)
    check(wh.metric("velo_warehouse_rejected_total", reason="decode") == 1,
          "the garbage value counted once")
    check(wh.metric("velo_warehouse_rejected_total", reason="key") == 1,
          "the bad key counted once")
    letters = kdump(brokers, topic + ".dlq", raw=True)
    check(len(letters) == 2, "two dead letters: %r" % letters)
    reasons = sorted(l["headers"]["velo-error"].split(":")[0] for l in letters)
    check(reasons == ["decode", "key"], "dead-letter reasons %r" % reasons)
    for l in letters:
        check(l["headers"]["velo-source"] == "velo-warehouse", "velo-source")
        check(l["headers"]["velo-origin-topic"] == topic, "velo-origin-topic")
    check_history(wh, system, stations, hours)
    check_top(wh, system, stations)
    out = veloctl(wh, "history", system, "1", "--from", "2025-12-02", "--to",
                  "2025-12-01", rc=1)
    check(b"from_ms" in out.stderr, "INVALID_ARGUMENT names from_ms")
    out = veloctl(wh, "history", system, "999", rc=1)
    check(b"no station" in out.stderr, "unknown station: %s" % out.stderr)
    first = dump(db)
    check(wh.stop() == 0, "SIGTERM: velo-warehouse exits 0")

    # Everything again, through a second group: identical tables.
    again = warehouse(brokers, topic, db, unique("g2"))
    wait_for("reload", lambda: again.metric(
        "velo_warehouse_rows_loaded_total") >= stations * (hours + days), 90)
    check(dump(db) == first, "reloading changed the tables")
    check(again.stop() == 0, "SIGTERM after the reload: exit 0")

    # Another writer holds the database: the batch waits, nothing is lost.
    wh = warehouse(brokers, topic, db, unique("g3"))
    wait_for("third load", lambda: wh.metric(
        "velo_warehouse_rows_loaded_total") >= stations * (hours + days), 90)
    lock = hold(db)
    feed(brokers, topic, system, 1, 5, "--variant", "1")
    status, body = wait_for("readyz 503", lambda: (
        readyz(wh) if readyz(wh)[0] == 503 else None), 30)
    check("database unavailable" in body, "readyz names the database: " + body)
    t = time.time()
    veloctl(wh, "history", system, "2", "--from", "2025-12-01", "--to",
            "2025-12-02", "--json")
    check(time.time() - t < 2, "history waited behind the locked load")
    release(lock)
    wait_for("the held batch loaded", lambda: sql(
        db, "SELECT bikes_in FROM fact_station_hourly WHERE system_id='%s' "
        "AND station_id='1' AND window_start_ms=%d" % (system, T0)).strip()
        == "2", 60)
    wait_for("readyz 200 again", lambda: readyz(wh)[0] == 200, 30)
    check(wh.stop() == 0, "SIGTERM after the lock: exit 0")


def test_kill_mid_batch(brokers):
    """Stations 1-20 loaded and committed; another writer then holds the
    database while stations 21-40 arrive, so their first batch is held
    (rolled back, offsets not committed) when velo-warehouse is killed.
    The restart loads the rest: the tables of one clean load of all."""
    topic, system = unique("wh_kill"), "test:kill"
    half, hours = 20, 48
    total_h, total_d = 2 * half * hours, 2 * half * 2
    feed(brokers, topic, system, half, hours)
    db = os.path.join(RUN, unique("kill") + ".db")
    group = unique("gk")
    wh = warehouse(brokers, topic, db, group, "--batch-size", "100")
    wait_for("stations 1-20", loaded(db, half * hours, half * 2), 120)
    lock = hold(db)
    feed(brokers, topic, system, half, hours, "--first", str(half + 1))
    wait_for("a held batch", lambda: wh.metric(
        "velo_warehouse_batch_failures_total") > 0, 60)
    wh.proc.kill()
    wh.proc.wait()
    release(lock)
    check(count(db, "fact_station_hourly") == half * hours,
          "rows of the held batch stayed")
    again = warehouse(brokers, topic, db, group, "--batch-size", "500")
    wait_for("load after kill -9", loaded(db, total_h, total_d), 120)
    check(again.stop() == 0, "SIGTERM after restart: exit 0")

    ref = os.path.join(RUN, unique("ref") + ".db")
    clean = warehouse(brokers, topic, ref, unique("ref"), "--batch-size",
                      "500")
    wait_for("reference load", loaded(ref, total_h, total_d), 120)
    check(clean.stop() == 0, "SIGTERM: exit 0")
    check(dump(db) == dump(ref),
          "kill -9 and restart: tables differ from a clean load")


def test_batch_chain(brokers):
    """velo-batch's real output (batch_e2e's input: one Brussels station
    over two days, empty 11:00-13:00Z on 2026-03-28) loads as computed by
    hand there, and the system's zone reaches dim_system."""
    import batch_e2e
    names = batch_e2e.setup(brokers)
    batch_e2e.run_once(brokers, names)
    db = os.path.join(RUN, unique("chain") + ".db")
    wh = warehouse(brokers, names["out"], db, unique("gc"))
    wait_for("velo-batch's rows", loaded(db, 48, 3), 90)
    out = veloctl(wh, "history", "test:bxl", "s1", "--from",
                  "2026-03-28T11:00:00Z", "--to", "2026-03-28T14:00:00Z",
                  "--json")
    rows = json.loads(out.stdout)["rows"]
    check([r["bikes_out"] for r in rows] == [4, 0, 0], "bikes_out %r" % rows)
    check([r["bikes_in"] for r in rows] == [0, 0, 4], "bikes_in %r" % rows)
    check(rows[0]["minutes_empty"] == 60 and rows[0]["bikes_avg"] == 0,
          "hour 11:00Z %r" % rows[0])
    out = veloctl(wh, "top", "test:bxl", "--date", "2026-03-28", "--by",
                  "empty", "--json")
    day = json.loads(out.stdout)["stations"]
    check(len(day) == 1 and day[0]["minutes_empty"] == 120 and
          day[0]["bikes_in"] == 4 and day[0]["samples"] == 48,
          "day 2026-03-28 %r" % day)
    check(sql(db, "SELECT time_zone FROM dim_system").strip() ==
          "Europe/Brussels", "the system's zone in dim_system")
    check(wh.metric("velo_warehouse_rejected_total") == 0, "nothing rejected")
    check(wh.stop() == 0, "SIGTERM: exit 0")


def main():
    brokers = kafka_addr()
    test_load_reload_lock(brokers)
    test_kill_mid_batch(brokers)
    test_batch_chain(brokers)
    print("PASS")


if __name__ == "__main__":
    main()
