#!/usr/bin/env python3
"""The dashboard on the real stack, in headless Chromium: real Kafka,
velo-ingest replaying the Dublin fixture, velo-stream, velo-gateway
serving the built dashboard. Drives web/test/real_stack.mjs: the page
loads, one marker per station of the system, clicking a station shows
the values the RPC returns, its 24 h and 7 d charts draw from velo-warehouse
(SQLite, loaded through Kafka by velo-aggfeed with the last 7 days of
hourly rows), and a change at the source (produced to Kafka by ingest)
updates the open panel without a reload. Screenshots go to
<build>/web-test/. Exit 77 when Chromium is missing.
"""
import os
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(__file__))
from gateway_e2e import DUBLIN, rows, set_station, start_gateway  # noqa: E402
from ingest_e2e import KEY  # noqa: E402
from source_server import SourceServer  # noqa: E402
from velotest import (FIXTURES, SRC, Service, check,  # noqa: E402
                      kafka_addr, unique, wait_for)
import warehouse_e2e as wh_e2e  # noqa: E402

DAY = 86400000


def start_warehouse(brokers):
    """Hourly rows of stations 1..42 of Dublin from 7 days ago to now."""
    topic = unique("web_aggs")
    now = int(time.time() * 1000)
    t0 = now // DAY * DAY - 7 * DAY
    hours = (now - t0) // 3600000 + 1
    wh_e2e.feed(brokers, topic, DUBLIN, 42, hours, "--start-day-ms", str(t0))
    db = os.path.join(wh_e2e.RUN, unique("webwh") + ".db")
    wh = wh_e2e.warehouse(brokers, topic, db, unique("webg"))
    wait_for("warehouse loaded", lambda: rows(
        db, "fact_station_hourly") == 42 * hours, 120)
    return wh


def main():
    chromium = os.environ.get("VELO_CHROMIUM", "/usr/bin/chromium")
    if not os.path.exists(chromium):
        print("SKIP: no Chromium at %s" % chromium)
        sys.exit(77)
    brokers = kafka_addr()
    build = os.environ.get("VELO_BUILD_DIR", "build-test")
    srv = SourceServer(FIXTURES)
    topic, dlq = unique("velib_data"), unique("velib_data_dlq")
    systems = unique("velib_systems")
    ingest = Service("velo-ingest", [
        "--admin-port", "0", "--kafka-brokers", brokers, "--topic", topic,
        "--dlq-topic", dlq, "--systems-topic", systems, "--interval-s", "1",
        "--source", "jcdecaux:dublin=jcdecaux-v1:%s/ok" % srv.base],
        env={"JCDECAUX_API_KEY": KEY})
    stream = Service("velo-stream", [
        "--admin-port", "0", "--kafka-brokers", brokers, "--topic", topic,
        "--dlq-topic", dlq, "--systems-topic", systems,
        "--rpc-url", "tcp://127.0.0.1:0", "--pub-url", "tcp://127.0.0.1:0"],
        ready_timeout=60)
    wh = start_warehouse(brokers)
    gw = start_gateway(stream, wh.addrs[1])
    wait_for("114 stations through the gateway", lambda: (
        lambda r: r[0] == 200 and '"total":114' in r[1])(
        gw_get(gw, "/api/v1/stations?system=%s&limit=1" % DUBLIN)), 60)
    flag = os.path.join(tempfile.mkdtemp(prefix="velo-web-"), "change")
    env = dict(os.environ, VELO_GATEWAY_URL="http://" + gw.addrs[0],
               VELO_SYSTEM=DUBLIN, VELO_STATION="42", VELO_CHANGE_FLAG=flag,
               VELO_CHANGE_BIKES="7", VELO_CHROMIUM=chromium,
               VELO_WEB_ARTIFACTS=os.path.join(build, "web-test"))
    node = subprocess.Popen(
        ["node", "--test", "--test-reporter=spec", "test/real_stack.mjs"],
        cwd=os.path.join(SRC, "web"), env=env)
    wait_for("the panel open (change flag)", lambda: os.path.exists(flag) or
             node.poll() is not None, 120)
    set_station(srv, 42, 7, 23, 60000)
    rc = node.wait(timeout=120)
    check(rc == 0, "browser test failed (%d)" % rc)
    for svc in (gw, wh, stream, ingest):
        check(svc.stop() == 0, "%s exit status" % svc.name)
    srv.close()
    print("ok: dashboard on the real stack")


def gw_get(gw, path):
    import urllib.request
    try:
        with urllib.request.urlopen("http://%s%s" % (gw.addrs[0], path),
                                    timeout=5) as r:
            return r.status, r.read().decode()
    except Exception as e:  # noqa: BLE001 (not ready yet)
        return 0, str(e)


if __name__ == "__main__":
    main()
