#!/usr/bin/env python3
"""Integration: velo-warehouse on a real PostgreSQL 15 (its own cluster,
tests/harness/postgres.sh NAME wh_pg) and a real Apache Kafka broker.

- a clean load gives the produced rows (veloctl --json, exact values);
- idle, PostgreSQL restarts: /readyz 503 then 200 by itself, history
  UNAVAILABLE (veloctl exit 3) then answers again;
- the password comes from VELO_WAREHOUSE_PASSWORD_FILE and is never
  logged, nor is the URL's password-free form anything but redacted;
- the schema dropped, a second load is stopped half-way by stopping
  PostgreSQL: /readyz 503 naming the database, history answers
  UNAVAILABLE at once (veloctl exit 3), and once PostgreSQL is back the
  loader resumes by itself: the tables equal the clean load's;
- SIGTERM: exit 0.
"""
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from velotest import BIN, RUN, SRC, Service, check, kafka_addr, unique, wait_for  # noqa: E402
from warehouse_e2e import TABLES, check_history, feed, veloctl  # noqa: E402

NAME = "wh_pg"
HARNESS = os.path.join(SRC, "tests", "harness", "postgres.sh")


def harness(cmd):
    out = subprocess.run([HARNESS, cmd, RUN, NAME], capture_output=True,
                         timeout=120)
    check(out.returncode == 0, "postgres.sh %s: %s" % (cmd, out.stderr.decode()))


def psql(url, password, query):
    env = dict(os.environ, PGPASSWORD=password)
    out = subprocess.run(["psql", url, "-AtX", "-v", "ON_ERROR_STOP=1", "-c",
                          query], capture_output=True, timeout=60, env=env)
    check(out.returncode == 0, "psql %s: %s" % (query, out.stderr.decode()))
    return out.stdout.decode()


def count(url, password, table):
    try:
        return int(psql(url, password, "SELECT COUNT(*) FROM %s" % table))
    except (SystemExit, ValueError):
        return -1


def dump(url, password):
    """Every table, every column (dim_station's valid_from/valid_to too:
    they do not depend on where batches were cut), in key order."""
    return "".join("== %s\n" % t + psql(
        url, password, "SELECT * FROM %s ORDER BY 1, 2, 3" % t)
        for t in TABLES)


def warehouse(brokers, topic, url, pwfile, group, *extra):
    return Service("velo-warehouse", [
        "--kafka-brokers", brokers, "--admin-port", "0",
        "--rpc-url", "tcp://127.0.0.1:0", "--db", url, "--topic", topic,
        "--dlq-topic", topic + ".dlq", "--group", group,
        "--batch-wait-ms", "200", "--retry-max-ms", "1000",
    ] + list(extra), env={"VELO_WAREHOUSE_PASSWORD_FILE": pwfile})


def main():
    brokers = kafka_addr()
    if not os.path.exists("/usr/lib/postgresql/15/bin/initdb"):
        print("SKIP: PostgreSQL 15 is not installed")
        sys.exit(77)
    harness("start")
    try:
        run(brokers)
    finally:
        harness("stop")
    print("PASS")


def run(brokers):
    with open(os.path.join(RUN, NAME + ".ready")) as f:
        url = f.read().strip()
    pwfile = os.path.join(RUN, NAME + ".password")
    with open(pwfile) as f:
        password = f.read().strip()
    topic, system = unique("wh_pg"), "test:pg"
    stations, hours = 20, 48
    total = stations * hours
    feed(brokers, topic, system, stations, hours)

    wh = warehouse(brokers, topic, url, pwfile, unique("pa"))
    wait_for("clean load", lambda: count(url, password,
             "fact_station_hourly") == total, 120)
    wait_for("daily rows", lambda: count(url, password,
             "fact_station_daily") == stations * 2, 30)
    check_history(wh, system, 3, hours)
    ref = dump(url, password)
    # Idle (everything loaded), PostgreSQL restarts: readiness follows it.
    harness("halt")
    wait_for("idle readyz 503", lambda: wh.http("/readyz")[0] == 503, 30)
    veloctl(wh, "history", system, "1", rc=3)
    harness("start")
    wait_for("idle readyz 200", lambda: wh.http("/readyz")[0] == 200, 30)
    wait_for("history answers again", lambda: veloctl(
        wh, "history", system, "1", rc=None).returncode == 0, 30)
    check(password not in wh.log_text(), "the password was logged")
    check(wh.stop() == 0, "SIGTERM: exit 0")

    # From scratch again, with PostgreSQL stopped half-way.
    psql(url, password, "DROP SCHEMA public CASCADE; CREATE SCHEMA public")
    wh = warehouse(brokers, topic, url, pwfile, unique("pb"), "--batch-size",
                   "10")
    wait_for("some batches", lambda: wh.metric(
        "velo_warehouse_rows_loaded_total") > 0, 60, every=0.02)
    harness("halt")
    status, body = wait_for("readyz 503", lambda: (
        wh.http("/readyz") if wh.http("/readyz")[0] == 503 else None), 60)
    check("database unavailable" in body, "readyz names the database: " + body)
    t = time.time()
    out = veloctl(wh, "history", system, "1", "--json", rc=3)
    check(time.time() - t < 4, "history hung on a stopped database")
    check(b"unavailable" in out.stderr.lower(), out.stderr.decode())
    time.sleep(3)  # down for a while: the loader keeps retrying
    harness("start")
    wait_for("load after the restart", lambda: count(
        url, password, "fact_station_hourly") == total, 120)
    wait_for("daily rows after the restart", lambda: count(
        url, password, "fact_station_daily") == stations * 2, 60)
    wait_for("readyz 200 again", lambda: wh.http("/readyz")[0] == 200, 30)
    check(dump(url, password) == ref,
          "PostgreSQL stopped mid-load: tables differ from a clean load")
    check(password not in wh.log_text(), "the password was logged")
    check(wh.stop() == 0, "SIGTERM after the restart: exit 0")


if __name__ == "__main__":
    main()
