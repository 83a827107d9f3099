#!/usr/bin/env python3
"""Integration: replayed fixtures -> velo-ingest -> real Apache Kafka ->
velo-stream -> velo-gateway, over HTTP as a browser, curl and a GBFS
consumer see it.

- every route with good and bad parameters (400 naming the parameter),
  404, 405 + Allow, 414, 429 + Retry-After (a second gateway with a tiny
  bucket), 503 + Retry-After (warehouse down; then velo-stream stopped);
- the original's example: a named station's bikes and free docks;
- station values equal the source's; paging with next_cursor covers every
  station once; near/radius, bbox, min_bikes, status, q filter;
- ETag round trip (304), gzip, Cache-Control by freshness, CORS;
- every JSON answer validated against services/gateway/openapi.json
  (OpenAPI 3.1 schemas, Draft 2020-12);
- SSE: a change at the source arrives as an event; reconnecting with
  Last-Event-ID replays exactly the missed change; an unknown id gets a
  snapshot event first;
- GBFS 2.3 and 3.0: every feed of every system and the 3.0 manifest
  validated against MobilityData's official schemas; a system whose
  SystemInfo has not arrived answers 503 + Retry-After;
- metrics: requests by route/status, SSE clients, upstream errors;
- SIGTERM: every service exits 0.
"""
import gzip
import http.client
import json
import os
import sys
import time
import urllib.parse

import jsonschema

sys.path.insert(0, os.path.dirname(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tools"))
from gbfs_schema import errors_of, format_checker, validator  # noqa: E402
from ingest_e2e import KEY, expected_v1  # noqa: E402
from source_server import SourceServer, load  # noqa: E402
from velotest import (FIXTURES, SRC, Service, check, free_port,  # noqa: E402
                      kafka_addr, unique, wait_for)

DUBLIN = "jcdecaux:dublin"
OPENAPI = json.load(open(os.path.join(SRC, "services", "gateway",
                                      "openapi.json")))
SCHEMA_DIR = os.path.join(SRC, "tests", "fixtures", "gbfs-json-schema")
validated = {"n": 0}


class Gw:
    """A tiny HTTP client for one gateway."""

    def __init__(self, addr):
        self.host, self.port = addr.rsplit(":", 1)

    def req(self, path, headers=None, method="GET"):
        c = http.client.HTTPConnection(self.host, int(self.port), timeout=15)
        c.request(method, path, headers=headers or {})
        r = c.getresponse()
        body = r.read()
        hdrs = {k.lower(): v for k, v in r.getheaders()}
        c.close()
        if hdrs.get("content-encoding") == "gzip":
            body = gzip.decompress(body)
        return r.status, hdrs, body

    def json(self, path, want=200, headers=None):
        status, hdrs, body = self.req(path, headers)
        check(status == want, "%s: status %d, want %d: %s"
              % (path, status, want, body[:300]))
        doc = json.loads(body) if body else None
        openapi_check(path, status, doc)
        return doc, hdrs


# ---- OpenAPI: every JSON answer against its documented schema ----

def op_for(path):
    """The OpenAPI path template matching a request path."""
    p = urllib.parse.urlsplit(path).path
    if p in OPENAPI["paths"]:
        return OPENAPI["paths"][p]
    for tmpl, op in OPENAPI["paths"].items():
        a, b = tmpl.strip("/").split("/"), p.strip("/").split("/")
        if len(a) == len(b) and all(x == y or x.startswith("{")
                                    for x, y in zip(a, b)):
            return op
    return None


def openapi_check(path, status, doc):
    op = op_for(path)
    if doc is None:
        return
    if op is None:  # an unknown path: a documented error body
        check(status == 404, "%s is not in openapi.json" % path)
        schema = {"$ref": "#/components/schemas/Error"}
    else:
        resp = op["get"]["responses"].get(str(status))
        check(resp is not None, "%s: status %d not documented"
              % (path, status))
        schema = dict(resp["content"]["application/json"]["schema"])
    schema["components"] = OPENAPI["components"]
    v = jsonschema.Draft202012Validator(
        schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)
    errs = list(v.iter_errors(doc))
    check(not errs, "%s (%d) does not match openapi.json: %s"
          % (path, status, [e.message for e in errs[:3]]))
    validated["n"] += 1


# ---- routes ----

def check_systems(gw):
    doc, hdrs = gw.json("/api/v1/systems")
    by = {s["system_id"]: s for s in doc["systems"]}
    check(by[DUBLIN]["station_count"] == 114, "dublin: %s" % by[DUBLIN])
    check(by[DUBLIN].get("name") == "dublinbikes" and
          by[DUBLIN].get("timezone") == "Europe/Dublin" and
          by[DUBLIN]["gbfs"] is True, "dublin SystemInfo: %s" % by[DUBLIN])
    check(by["gbfs:spec23"]["gbfs"] is False and "name" not in
          by["gbfs:spec23"], "spec23 has no SystemInfo yet: %s"
          % by["gbfs:spec23"])
    check(hdrs.get("cache-control") == "public, max-age=5",
          "systems Cache-Control %s" % hdrs.get("cache-control"))
    check(hdrs.get("access-control-allow-origin") == "*", "CORS header")


def all_pages(gw, query):
    got, cursor, pages = [], None, 0
    while True:
        q = query + ("&cursor=" + cursor if cursor else "")
        doc, _ = gw.json("/api/v1/stations?" + q)
        got += doc["stations"]
        pages += 1
        cursor = doc["next_cursor"]
        if cursor is None:
            return got, pages


def check_stations(gw):
    want = expected_v1()
    doc, _ = gw.json("/api/v1/stations?system=%s&limit=1000" % DUBLIN)
    got = {"%s/%s" % (s["system_id"], s["station_id"]): s
           for s in doc["stations"]}
    check(set(got) == set(want), "station keys: %d vs %d"
          % (len(got), len(want)))
    for key, w in want.items():
        for f, v in w.items():
            if f in ("last_reported_ms",) and v == 0:
                continue
            check(got[key].get(f) == v, "%s: %s is %r, source says %r"
                  % (key, f, got[key].get(f), v))
        check("electric_bikes" not in got[key], "%s: made-up e-bikes" % key)
        check("age_s" in got[key] and "stale" in got[key], "derived fields")
    check(doc["next_cursor"] is None and doc["total"] == 114, "one page")
    paged, pages = all_pages(gw, "system=%s&limit=25" % DUBLIN)
    ids = [s["station_id"] for s in paged]
    check(len(ids) == 114 and len(set(ids)) == 114 and pages == 5,
          "paging: %d stations in %d pages" % (len(ids), pages))
    # The original's example: a named station's bikes and free docks.
    named = [s for s in json.loads(load(
        FIXTURES + "/jcdecaux/v1_stations_dublin.json")) if s["number"] == 42][0]
    doc, _ = gw.json("/api/v1/stations?system=%s&q=%s" % (
        DUBLIN, urllib.parse.quote(named["name"][:8])))
    hit = [s for s in doc["stations"] if s["station_id"] == "42"]
    check(hit and hit[0]["bikes_available"] == named["available_bikes"] and
          hit[0]["docks_available"] == named["available_bike_stands"],
          "search by name: %s" % doc["stations"][:2])
    lat, lon = named["position"]["lat"], named["position"]["lng"]
    doc, _ = gw.json("/api/v1/stations?system=%s&near=%s,%s&radius_m=400"
                     % (DUBLIN, lat, lon))
    check(doc["stations"][0]["station_id"] == "42" and
          doc["stations"][0]["distance_m"] < 1 and
          all(s["distance_m"] <= 400 for s in doc["stations"]), "near")
    doc, _ = gw.json("/api/v1/stations?system=%s&bbox=%s,%s,%s,%s" % (
        DUBLIN, lon - 0.0001, lat - 0.0001, lon + 0.0001, lat + 0.0001))
    check([s["station_id"] for s in doc["stations"]] == ["42"], "bbox")
    doc, _ = gw.json("/api/v1/stations?system=%s&min_bikes=10&limit=1000"
                     % DUBLIN)
    check(doc["stations"] and all(s["bikes_available"] >= 10
                                  for s in doc["stations"]), "min_bikes")
    doc, _ = gw.json("/api/v1/stations?system=%s&status=closed&limit=1000"
                     % DUBLIN)
    check(all(s["status"] == "CLOSED" for s in doc["stations"]), "status")
    one, hdrs = gw.json("/api/v1/stations/%s/42" % DUBLIN)
    check(one["name"] == named["name"], "GetStation: %s" % one)
    gw.json("/api/v1/stations/%s/nope" % DUBLIN, 404)
    gw.json("/api/v1/stations?system=nosuch:system", 404)


BAD = [
    ("near=nan,0", "near"), ("near=91,0", "near"), ("near=0,181", "near"),
    ("near=1", "near"), ("near=0,0&radius_m=-5", "radius_m"),
    ("radius_m=100", "radius_m"), ("near=0,0&radius_m=99999999", "radius_m"),
    ("limit=100000", "limit"), ("limit=0", "limit"), ("limit=1e3", "limit"),
    ("status=broken", "status"), ("bbox=1,2,3", "bbox"),
    ("bbox=10,0,0,10", "bbox"), ("min_bikes=abc", "min_bikes"),
    ("min_docks=-1", "min_docks"), ("cursor=%21%21", "cursor"),
    ("system=" + "x" * 200, "system"), ("q=" + "y" * 300, "q"),
]


def check_bad_params(gw):
    for query, param in BAD:
        doc, hdrs = gw.json("/api/v1/stations?system=%s&%s" % (DUBLIN, query)
                            if not query.startswith("system=") else
                            "/api/v1/stations?" + query, 400)
        check(doc["error"]["code"] == "invalid_parameter" and
              param in doc["error"]["message"],
              "%s: error %s does not name %s" % (query, doc, param))
    for path, param in (
            ("/api/v1/stations/%s/42/history?granularity=week" % DUBLIN,
             "granularity"),
            ("/api/v1/stations/%s/42/history?from=yesterday" % DUBLIN, "from"),
            ("/api/v1/stations/%s/42/history?from=2026-01-02T00:00:00Z"
             "&to=2026-01-01T00:00:00Z" % DUBLIN, "from"),
            ("/api/v1/top?system=%s" % DUBLIN, "date"),
            ("/api/v1/top?system=%s&date=2026-13-01" % DUBLIN, "date"),
            ("/api/v1/top?date=2026-01-01", "system"),
            ("/api/v1/top?system=%s&date=2026-01-01&by=x" % DUBLIN, "by"),
            ("/api/v1/events", "system")):
        doc, _ = gw.json(path, 400)
        check(param in doc["error"]["message"], "%s: %s" % (path, doc))


def check_http_rules(gw):
    status, hdrs, body = gw.req("/api/v1/stations", method="POST")
    check(status == 405 and "GET" in hdrs.get("allow", ""),
          "POST: %d allow=%s" % (status, hdrs.get("allow")))
    doc, _ = gw.json("/api/v1/nope", 404)
    check(doc["error"]["code"] == "not_found", "unknown API path")
    gw.json("/api/v1/stations/%s/42/nope" % DUBLIN, 404)
    status, _, _ = gw.req("/api/v1/stations?q=" + "z" * 5000)
    check(status == 414, "long URL: %d" % status)
    # ETag round trip and gzip.
    path = "/api/v1/stations?system=%s&limit=1000" % DUBLIN
    status, hdrs, body = gw.req(path)
    etag = hdrs.get("etag")
    check(status == 200 and etag, "no ETag on the list")
    status, hdrs2, body2 = gw.req(path, {"If-None-Match": etag})
    check(status == 304 and not body2, "If-None-Match: %d" % status)
    c = http.client.HTTPConnection(gw.host, int(gw.port), timeout=15)
    c.request("GET", path, headers={"Accept-Encoding": "gzip"})
    r = c.getresponse()
    raw = r.read()
    check(r.getheader("Content-Encoding") == "gzip" and
          len(raw) < len(body) / 3 and
          len(json.loads(gzip.decompress(raw))["stations"]) == 114,
          "gzip: %s %d vs %d" % (r.getheader("Content-Encoding"), len(raw),
                                 len(body)))
    c.close()
    doc, hdrs = gw.json("/api/v1/openapi.json")
    check(doc["openapi"].startswith("3.1"), "openapi version")
    doc, _ = gw.json("/api/v1/config")
    check(doc == {}, "config without tiles: %s" % doc)


def check_history_down(gw):
    doc, hdrs = gw.json("/api/v1/stations/%s/42/history?granularity=hour"
                        % DUBLIN, 503)
    check(hdrs.get("retry-after") and "velo-warehouse" in
          doc["error"]["message"], "warehouse down: %s" % doc)
    gw.json("/api/v1/top?system=%s&date=2026-01-01" % DUBLIN, 503)


def check_dashboard(gw):
    status, hdrs, body = gw.req("/")
    check(status == 200 and b"<html" in body.lower(), "index: %d" % status)
    check(hdrs.get("cache-control") == "no-cache", "index cache")
    check("default-src 'self'" in hdrs.get("content-security-policy", ""),
          "CSP")
    asset = body.decode().split('src="')[1].split('"')[0]
    status, hdrs, _ = gw.req(asset if asset.startswith("/") else "/" + asset)
    check(status == 200 and "immutable" in hdrs.get("cache-control", ""),
          "asset %s: %d %s" % (asset, status, hdrs.get("cache-control")))
    status, _, _ = gw.req("/assets/../../etc/passwd")
    check(status == 404, "path traversal: %d" % status)


# ---- SSE ----

class Sse:
    def __init__(self, gw, system, last_id=None):
        self.c = http.client.HTTPConnection(gw.host, int(gw.port), timeout=30)
        h = {"Accept": "text/event-stream"}
        if last_id:
            h["Last-Event-ID"] = last_id
        self.c.request("GET", "/api/v1/events?system=" + system, headers=h)
        self.r = self.c.getresponse()
        check(self.r.status == 200 and self.r.getheader(
            "Content-Type").startswith("text/event-stream"), "SSE open")

    def next_event(self):
        ev = {"data": []}
        while True:
            line = self.r.readline().decode()
            check(line != "", "event stream ended")
            line = line.rstrip("\n")
            if line == "":
                if "event" in ev or ev["data"]:
                    ev["data"] = "\n".join(ev["data"])
                    return ev
                continue
            if line.startswith(":") or line.startswith("retry:"):
                continue
            k, _, v = line.partition(": ")
            if k == "data":
                ev["data"].append(v)
            else:
                ev[k] = v

    def close(self):
        self.c.close()


def set_station(srv, number, bikes, docks, bump):
    doc = json.loads(load(FIXTURES + "/jcdecaux/v1_stations_dublin.json"))
    for st in doc:
        if st["number"] == number:
            st["available_bikes"], st["available_bike_stands"] = bikes, docks
            st["last_update"] += bump
    srv.overrides["/ok/vls/v1/stations"] = json.dumps(doc).encode()


def station_event(sse, number):
    while True:
        ev = sse.next_event()
        if ev.get("event") == "station":
            st = json.loads(ev["data"])
            if st["station_id"] == str(number):
                return ev, st


def check_sse(gw, srv):
    sse = Sse(gw, DUBLIN)
    time.sleep(1)  # PUB/SUB: the gateway is subscribed since start
    set_station(srv, 42, 5, 25, 60000)
    ev, st = station_event(sse, 42)
    check(st["bikes_available"] == 5 and st["docks_available"] == 25,
          "SSE event: %s" % st)
    openapi_station = dict(OPENAPI["components"]["schemas"]["Station"])
    openapi_station["components"] = OPENAPI["components"]
    jsonschema.Draft202012Validator(openapi_station).validate(st)
    first_id = ev["id"]
    sse.close()
    # Missed while away: exactly this change is replayed on resume.
    set_station(srv, 42, 6, 24, 120000)
    wait_for("the change applied", lambda: gw.json(
        "/api/v1/stations/%s/42" % DUBLIN)[0]["bikes_available"] == 6, 30)
    sse = Sse(gw, DUBLIN, last_id=first_id)
    ev, st = station_event(sse, 42)
    check(st["bikes_available"] == 6 and ev["id"] != first_id,
          "resume: %s %s" % (ev, st))
    sse.close()
    # An id from another run: a snapshot of every station first.
    sse = Sse(gw, DUBLIN, last_id="1-1")
    ev = sse.next_event()
    check(ev.get("event") == "snapshot", "expected a snapshot: %s" % ev)
    snap = json.loads(ev["data"])
    check(len(snap["stations"]) == 114, "snapshot size %d"
          % len(snap["stations"]))
    sse.close()


# ---- GBFS ----

def check_gbfs(gw):
    fc, cache, n = format_checker(), {}, 0
    for system in (DUBLIN, "gbfs:spec30"):
        for ver in ("2.3", "3.0"):
            base = "/gbfs/%s/%s/" % (ver, urllib.parse.quote(system))
            status, _, body = gw.req(base + "gbfs.json")
            check(status == 200, "%sgbfs.json: %d %s" % (base, status, body))
            disc = json.loads(body)
            feeds = (disc["data"]["feeds"] if ver == "3.0" else
                     next(iter(disc["data"].values()))["feeds"])
            for f in [{"name": "gbfs"}] + feeds:
                path = base + f["name"] + ".json"
                if "url" in f:
                    uq = urllib.parse.unquote
                    check(uq(urllib.parse.urlsplit(f["url"]).path) == uq(path),
                          "feed url %s" % f["url"])
                status, hdrs, body = gw.req(path)
                check(status == 200, "%s: %d" % (path, status))
                doc = json.loads(body)
                errs = errors_of(validator(SCHEMA_DIR, ver, f["name"], fc,
                                           cache), doc)
                check(not errs, "%s invalid: %s" % (
                    path, [e.message for e in errs[:3]]))
                check(hdrs.get("cache-control") == "public, max-age=%d"
                      % doc["ttl"], "%s cache vs ttl" % path)
                n += 1
            names = {f["name"] for f in feeds}
            check({"system_information", "station_information",
                   "station_status"} <= names, "%s feeds %s" % (base, names))
            if system == DUBLIN:
                check("vehicle_types" not in names, "dublin has no e-bike split")
    status, _, body = gw.req("/gbfs/3.0/manifest.json")
    doc = json.loads(body)
    check(status == 200 and not errors_of(validator(
        SCHEMA_DIR, "3.0", "manifest", fc, cache), doc), "manifest")
    ids = {d["system_id"] for d in doc["data"]["datasets"]}
    check(DUBLIN in ids and "gbfs:spec23" not in ids, "manifest: %s" % ids)
    doc, hdrs = gw.json("/gbfs/2.3/gbfs:spec23/gbfs.json", 503)
    check(hdrs.get("retry-after"), "no SystemInfo: Retry-After")
    gw.json("/gbfs/2.3/nosuch/gbfs.json", 404)
    gw.json("/gbfs/2.3/%s/nope.json" % DUBLIN, 404)
    gw.json("/gbfs/9.9/%s/gbfs.json" % DUBLIN, 404)
    return n + 1


def rows(db, table):
    """Rows in a warehouse table; 0 until velo-warehouse has created it
    (it opens and migrates the database just after it reports ready)."""
    import subprocess
    out = subprocess.run(["sqlite3", "-batch", db,
                          "SELECT COUNT(*) FROM %s" % table],
                         capture_output=True, timeout=60)
    try:
        return int(out.stdout.decode().strip() or 0)
    except ValueError:
        return 0


def check_history_warehouse(brokers, stream):
    """History and top from a real velo-warehouse (SQLite) loaded by
    velo-aggfeed through Kafka: exact rows, as veloctl shows them."""
    import warehouse_e2e as wh_e2e
    topic, system = unique("gw_aggs"), "test:wh"
    stations, hours = 3, 30
    wh_e2e.feed(brokers, topic, system, stations, hours)
    db = os.path.join(wh_e2e.RUN, unique("gwwh") + ".db")
    wh = wh_e2e.warehouse(brokers, topic, db, unique("gwg"))
    wait_for("warehouse loaded", lambda: (
        rows(db, "fact_station_hourly") == stations * hours and
        rows(db, "fact_station_daily") == stations * 2), 90)
    gw_svc = start_gateway(stream, wh.addrs[1])
    gw = Gw(gw_svc.addrs[0])
    to = wh_e2e.T0 + hours * wh_e2e.HOUR
    for s in range(1, stations + 1):
        doc, hdrs = gw.json("/api/v1/stations/%s/%d/history?from="
                            "2025-12-01T00:00:00Z&to=%d&granularity=hour"
                            % (system, s, to))
        check(len(doc["rows"]) == hours and doc["granularity"] == "hour",
              "station %d: %d hourly rows" % (s, len(doc["rows"])))
        for h, row in enumerate(doc["rows"]):
            wh_e2e.same_row(row, wh_e2e.expected_hourly(s, h),
                            "gateway station %d hour %d" % (s, h))
        check(doc["rows"][0]["window_start"] == "2025-12-01T00:00:00.000Z",
              "window_start: %s" % doc["rows"][0]["window_start"])
        check(hdrs.get("cache-control") == "public, max-age=300",
              "history cache")
        doc, _ = gw.json("/api/v1/stations/%s/%d/history?granularity=day"
                         "&from=2025-11-30T00:00:00Z&to=2025-12-05T00:00:00Z"
                         % (system, s))
        check(len(doc["rows"]) == 2, "daily rows")
        for d, row in enumerate(doc["rows"]):
            wh_e2e.same_row(row, wh_e2e.expected_daily(s, d),
                            "gateway station %d day %d" % (s, d))
    doc, _ = gw.json("/api/v1/top?system=%s&date=2025-12-01&by=flow" % system)
    check([r["station_id"] for r in doc["rows"]] == ["3", "2", "1"],
          "top by flow: %s" % [r["station_id"] for r in doc["rows"]])
    check(gw_svc.stop() == 0 and wh.stop() == 0, "history stack exit")


def check_rate_limit_and_failover(stream, warehouse_rpc):
    # The first velo-stream address has nobody behind it: calls fail over
    # to the second.
    dead = "tcp://127.0.0.1:%d" % free_port()
    gw = start_gateway(stream, warehouse_rpc, [
        "--rate-limit", "0.2", "--rate-burst", "3",
        "--stream-rpc", "%s,%s" % (dead, stream.addrs[1]),
        "--stream-pub", "%s, %s" % (stream.addrs[2], dead)])
    g = Gw(gw.addrs[0])
    doc, _ = g.json("/api/v1/systems")
    check(any(s["system_id"] == DUBLIN for s in doc["systems"]), "failover")
    for _ in range(2):
        g.json("/api/v1/config")
    doc, hdrs = g.json("/api/v1/config", 429)
    check(int(hdrs.get("retry-after", "0")) >= 1 and
          doc["error"]["code"] == "rate_limited", "429: %s %s" % (doc, hdrs))
    check(gw.metric("velo_gateway_rate_limited_total") == 1, "429 counted")
    check(gw.stop() == 0, "rate-limited gateway exit status")


def start_gateway(stream, warehouse_rpc, extra=()):
    web = os.path.join(os.environ.get("VELO_BUILD_DIR", "build-test"), "web")
    args = ["--port", "0", "--admin-port", "0", "--assets", web,
            "--stream-rpc", stream.addrs[1], "--stream-pub", stream.addrs[2],
            "--warehouse-rpc", warehouse_rpc, "--rpc-timeout-ms", "1500",
            "--rate-limit", "1000", "--rate-burst", "1000",
            "--gbfs-ebike-range-m", "40000"] + list(extra)
    return Service("velo-gateway", args, admin_last=True)


def main():
    brokers = kafka_addr()
    srv = SourceServer(FIXTURES)
    topic, dlq = unique("velib_data"), unique("velib_data_dlq")
    systems, hidden = unique("velib_systems"), unique("velib_systems_x")
    b = srv.base
    common = ["--admin-port", "0", "--kafka-brokers", brokers, "--topic",
              topic, "--dlq-topic", dlq, "--interval-s", "1"]
    ingest = Service("velo-ingest", common + [
        "--systems-topic", systems,
        "--source", "jcdecaux:dublin=jcdecaux-v1:%s/ok" % b,
        "--source", "gbfs:spec30=gbfs:%s/gbfs30/gbfs.json" % b],
        env={"JCDECAUX_API_KEY": KEY})
    # Its SystemInfo goes to a topic velo-stream does not read: the
    # gateway must answer 503 for its GBFS feeds.
    ingest2 = Service("velo-ingest", common + [
        "--systems-topic", hidden,
        "--source", "gbfs:spec23=gbfs:%s/gbfs23/gbfs.json" % b])
    stream = Service("velo-stream", [
        "--admin-port", "0", "--kafka-brokers", brokers, "--topic", topic,
        "--dlq-topic", dlq, "--systems-topic", systems,
        "--rpc-url", "tcp://127.0.0.1:0", "--pub-url", "tcp://127.0.0.1:0"],
        ready_timeout=60)
    warehouse_rpc = "tcp://127.0.0.1:%d" % free_port()  # nobody there
    gw_svc = start_gateway(stream, warehouse_rpc)
    gw = Gw(gw_svc.addrs[0])
    check(gw_svc.addrs[1] != gw_svc.addrs[0], "ready file: public, admin")

    def systems_ready():
        st, _, body = gw.req("/api/v1/systems")
        if st != 200:
            return False
        by = {s["system_id"]: s for s in json.loads(body)["systems"]}
        return (by.get(DUBLIN, {}).get("station_count") == 114 and
                by[DUBLIN]["gbfs"] and "gbfs:spec23" in by and
                by.get("gbfs:spec30", {}).get("gbfs"))

    wait_for("systems served with SystemInfo", systems_ready, 60)
    check_systems(gw)
    check_stations(gw)
    check_bad_params(gw)
    check_http_rules(gw)
    check_history_down(gw)
    check_dashboard(gw)
    check_sse(gw, srv)
    feeds = check_gbfs(gw)
    check_rate_limit_and_failover(stream, warehouse_rpc)
    check_history_warehouse(brokers, stream)
    check(gw_svc.metric("velo_http_requests_total", server="gateway",
                        route="/api/v1/stations", status="200") >= 10,
          "requests by route")
    check(gw_svc.metric("velo_gateway_upstream_errors_total",
                        upstream="warehouse") >= 2, "warehouse errors counted")

    # velo-stream stops: 503 + Retry-After, counted.
    check(stream.stop() == 0, "velo-stream exit status")
    doc, hdrs = gw.json("/api/v1/stations?system=%s" % DUBLIN, 503)
    check(hdrs.get("retry-after") == "5" and "velo-stream" in
          doc["error"]["message"], "stream down: %s" % doc)
    gw.json("/api/v1/systems", 503)
    check(gw_svc.metric("velo_gateway_upstream_errors_total",
                        upstream="stream") >= 2, "stream errors counted")
    for svc in (gw_svc, ingest, ingest2):
        check(svc.stop() == 0, "%s exit status" % svc.name)
    srv.close()
    print("ok: gateway e2e (%d answers matched openapi.json, %d GBFS "
          "documents valid)" % (validated["n"], feeds))


if __name__ == "__main__":
    main()
