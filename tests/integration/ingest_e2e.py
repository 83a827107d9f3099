#!/usr/bin/env python3
"""Integration: recorded payloads and faults over HTTP -> velo-ingest -> a
real Apache Kafka broker -> this test's consumer (velo-kdump).

Checks every record's key and decoded fields against the source payloads,
the dead-letter topic, that an unchanged second poll emits nothing, that
each fault is classified and counted, that the API key never reaches the
log, /readyz, and that SIGTERM flushes and exits 0.

SystemInfo: every good source's record on the compacted systems topic
(created with cleanup.policy=compact), once (unchanged polls send none),
with its zone from GBFS system_information or the JCDecaux contract table
(or tz=), decoded by velo-kdump; an unknown contract without tz= and a
simulator without tz= are configuration errors (exit 78).

Hardening: a failing GBFS station_status ends the poll with its outcome
and backs off (no tight loop), a huge Retry-After is capped, a source
broken since start is stale since start, feed URLs and redirects to
another internal server are refused (nothing fetched, nothing
dead-lettered), and bad source URLs are a configuration error (exit 78).
"""
import subprocess
import json
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
from source_server import SourceServer, load  # noqa: E402
from velotest import (FIXTURES, Service, check, kafka_addr, kdump, unique,  # noqa: E402
                      wait_for)

KEY = "s3cr3t-test-key-7f1a"


def expected_v1():
    out = {}
    for st in json.loads(load(FIXTURES + "/jcdecaux/v1_stations_dublin.json")):
        out["jcdecaux:dublin/%d" % st["number"]] = {
            "station_id": str(st["number"]), "name": st["name"],
            "address": st["address"], "lat": st["position"]["lat"],
            "lon": st["position"]["lng"], "capacity": st["bike_stands"],
            "bikes_available": st["available_bikes"],
            "docks_available": st["available_bike_stands"],
            "status": st["status"], "banking": st["banking"],
            "bonus": st["bonus"],
            "last_reported_ms": st["last_update"] or 0,
            "source_format": "jcdecaux-v1",
        }
    return out


def expected_v3():
    st = json.loads(load(FIXTURES + "/jcdecaux/v3_station_doc_example.json"))
    av = st["totalStands"]["availabilities"]
    return {"jcdecaux:lyon/%d" % st["number"]: {
        "name": st["name"], "lat": st["position"]["latitude"],
        "lon": st["position"]["longitude"],
        "capacity": st["totalStands"]["capacity"],
        "bikes_available": av["bikes"], "docks_available": av["stands"],
        "mechanical_bikes": av["mechanicalBikes"],
        "electric_bikes": av["electricalBikes"], "connected": True,
        "last_reported_ms": 1554726214000, "source_format": "jcdecaux-v3"}}


def expected_gbfs(system, d, ver):
    base = FIXTURES + "/gbfs/" + d
    vt = {t["vehicle_type_id"]: t["propulsion_type"] for t in
          json.loads(load(base + "/vehicle_types.json"))["data"]["vehicle_types"]}
    out = {}
    for st in json.loads(load(base + "/station_status.json"))["data"]["stations"]:
        bikes = st.get("num_vehicles_available" if ver == "3.0"
                       else "num_bikes_available")
        mech = sum(a["count"] for a in st.get("vehicle_types_available", [])
                   if vt.get(a["vehicle_type_id"]) == "human")
        elec = sum(a["count"] for a in st.get("vehicle_types_available", [])
                   if vt.get(a["vehicle_type_id"]) in ("electric_assist", "electric"))
        out["%s/%s" % (system, st["station_id"])] = {
            "bikes_available": bikes,
            "docks_available": st["num_docks_available"],
            "mechanical_bikes": mech, "electric_bikes": elec,
            "is_renting": st["is_renting"], "source_format": "gbfs-" + ver}
    return out


def check_records(recs, expected):
    by_key = {}
    for r in recs:
        check(r["key"] not in by_key,
              "key %s emitted twice: the unchanged poll emitted" % r["key"])
        by_key[r["key"]] = r
    check(set(by_key) == set(expected),
          "keys differ: missing %s, extra %s"
          % (sorted(set(expected) - set(by_key))[:5],
             sorted(set(by_key) - set(expected))[:5]))
    for key, want in expected.items():
        r = by_key[key]
        v = r.get("value")
        check(v is not None, "%s: value does not decode" % key)
        check(r["headers"].get("content-type", "").startswith(
            "application/x-protobuf"), "%s: content-type header" % key)
        check(v["system_id"] + "/" + v["station_id"] == key, "%s: ids" % key)
        for f, w in want.items():
            check(v.get(f) == w, "%s: %s is %r, source says %r"
                  % (key, f, v.get(f), w))
        if want.get("source_format") == "jcdecaux-v1":
            check("electric_bikes" not in v and "mechanical_bikes" not in v,
                  "%s: v1 sent no e-bike split, record made one up" % key)


def check_bad_config():
    """Bad source URLs and unknown zones: exit 78 before anything starts,
    each reported."""
    binary = os.path.join(os.environ.get("VELO_BIN_DIR", "build/bin"),
                          "velo-ingest")
    p = subprocess.run([binary, "--kafka-brokers", "127.0.0.1:1",
                        "--source", "g:a=gbfs:file:///etc/passwd",
                        "--source", "g:b=gbfs:gopher://h/gbfs.json",
                        "--source", "j:c=jcdecaux-v3:http://h?q=1#frag"],
                       capture_output=True, text=True, timeout=30,
                       env=dict(os.environ, JCDECAUX_API_KEY="k"))
    check(p.returncode == 78, "bad source URLs: exit %d, want 78 (%s)"
          % (p.returncode, p.stderr))
    for sid in ("g:a", "g:b", "j:c"):
        check(sid in p.stderr, "%s not reported: %s" % (sid, p.stderr))
    p = subprocess.run([binary, "--kafka-brokers", "127.0.0.1:1",
                        "--source", "jcdecaux:atlantis=jcdecaux-v1:http://h",
                        "--source", "sim:x=simulate:/nonexistent.json",
                        "--source", "g:z=gbfs:http://h/g.json,tz=Mars/Base"],
                       capture_output=True, text=True, timeout=30,
                       env=dict(os.environ, JCDECAUX_API_KEY="k"))
    check(p.returncode == 78, "unknown zones: exit %d, want 78 (%s)"
          % (p.returncode, p.stderr))
    for sid in ("jcdecaux:atlantis", "sim:x", "g:z"):
        check(sid in p.stderr, "%s not reported: %s" % (sid, p.stderr))


def topic_configs(brokers, topic):
    """The topic's own (non-default) configs, via Kafka's ConfigCommand."""
    src = os.environ.get("VELO_SRC_DIR", ".")
    libs = os.environ.get("VELO_KAFKA_LIBS",
                          os.path.join(src, ".deps", "kafka", "libs"))
    out = subprocess.run(
        ["java", "-Xmx256m", "-XX:TieredStopAtLevel=1", "-cp", libs + "/*",
         "kafka.admin.ConfigCommand", "--bootstrap-server", brokers,
         "--entity-type", "topics", "--entity-name", topic, "--describe"],
        capture_output=True, text=True, timeout=120)
    check(out.returncode == 0, "ConfigCommand: %s" % out.stderr[-500:])
    return out.stdout


def check_systems(brokers, topic, n_dublin, n_spec23, n_spec30):
    """One SystemInfo per good source, with the right zone and fields."""
    recs = kdump(brokers, topic)
    by_key = {}
    for r in recs:
        check(r["key"] not in by_key, "SystemInfo of %s sent twice: %s"
              % (r["key"], [x.get("value") for x in recs
                            if x["key"] == r["key"]]))
        check(r["headers"].get("content-type", "").endswith(
            "message=velo.v1.SystemInfo"), "%s: content-type" % r["key"])
        check(r.get("value") is not None, "%s: SystemInfo does not decode: %s"
              % (r["key"], r))
        by_key[r["key"]] = r["value"]
    gbfs = {"name": "Example Bike Rental", "operator": "Example Sharing, Inc",
            "timezone": "America/Chicago", "language": "en"}
    want = {
        "jcdecaux:dublin": {"timezone": "Europe/Dublin", "name": "dublinbikes",
                            "operator": "JCDecaux", "language": "en",
                            "source_format": "jcdecaux-v1",
                            "station_count": n_dublin},
        "jcdecaux:lyon": {"timezone": "Europe/Paris", "operator": "JCDecaux",
                          "source_format": "jcdecaux-v3", "station_count": 1},
        "gbfs:spec23": dict(gbfs, source_format="gbfs-2.3",
                            station_count=n_spec23),
        "gbfs:spec30": dict(gbfs, source_format="gbfs-3.0",
                            station_count=n_spec30),
    }
    for key, fields in want.items():
        v = by_key.get(key)
        check(v is not None, "no SystemInfo for %s (have %s)"
              % (key, sorted(by_key)))
        check(v["system_id"] == key, "%s: system_id %r" % (key, v))
        check(v.get("source_url", "").startswith("http://127.0.0.1"),
              "%s: source_url %r" % (key, v.get("source_url")))
        for f, w in fields.items():
            check(v.get(f) == w, "%s: SystemInfo %s is %r, want %r"
                  % (key, f, v.get(f), w))
    for key in by_key:
        check(key in want, "SystemInfo of a source that never succeeded: %s"
              % key)
    return len(by_key)


def check_hardening(ingest, srv, other, dlq_recs):
    def polled(source, outcome):
        return ingest.metric("velo_ingest_polls_total", source=source,
                             outcome=outcome) >= 1

    for source, outcome in (("st404", "http_error"),
                            ("st429", "rate_limited"),
                            ("st500", "server_error"),
                            ("stloop", "malformed"),
                            ("ssrf", "refused"), ("ssrfredir", "refused"),
                            ("ssrffile", "refused")):
        wait_for("gbfs:%s counted as %s" % (source, outcome),
                 lambda: polled("gbfs:" + source, outcome), 30)
    for name in ("st404", "st429", "st500", "stloop"):
        hits = srv.count("/%s/station_status.json" % name)
        per_poll = 6 if name == "stloop" else 1  # 5 redirects followed
        check(hits <= 10 * per_poll, "%s: station_status requested %d times: the "
              "failure does not back off" % (name, hits))
        stale = ingest.metric("velo_ingest_source_staleness_seconds",
                              source="gbfs:" + name)
        check(stale > 0, "%s: never succeeded, staleness %r" % (name, stale))
    capped = [e for e in ingest.events("poll.wait_capped")
              if e.get("source") == "gbfs:st429"]
    check(capped and capped[0].get("cap_ms") == 3600 * 1000,
          "huge Retry-After not capped: %s" % capped[:1])
    check(other.count("/gbfs23/station_status.json") == 0,
          "the internal server was fetched: %s" % other.hits)
    leaked = [d for d in dlq_recs if d["key"].startswith("gbfs:ssrf")]
    check(not leaked, "a refused response was dead-lettered: %s" % leaked[:1])


def main():
    check_bad_config()
    brokers = kafka_addr()
    srv = SourceServer(FIXTURES)
    other = SourceServer(FIXTURES)  # another port: internal, not the source
    srv.other = other.base
    topic, dlq = unique("velib_data"), unique("velib_data_dlq")
    systems = unique("velib_systems")
    b = srv.base
    sources = [
        "jcdecaux:dublin=jcdecaux-v1:%s/ok" % b,
        "jcdecaux:lyon=jcdecaux-v3:%s/ok" % b,
        "gbfs:spec23=gbfs:%s/gbfs23/gbfs.json" % b,
        "gbfs:spec30=gbfs:%s/gbfs30/gbfs.json" % b,
    ] + [  # contracts the zone table does not know: tz= gives the zone
        "jcdecaux:%s=jcdecaux-v1:%s/%s,tz=Europe/Dublin" % (n, b, n)
        for n in ("e403", "e429", "e500", "bad", "big", "stall", "trunc")
    ] + ["gbfs:%s=gbfs:%s/%s/gbfs.json" % (n, b, n) for n in (
        "st404", "st429", "st500", "stloop", "ssrf", "ssrfredir", "ssrffile")]
    ingest = Service("velo-ingest", [
        "--admin-port", "0", "--kafka-brokers", brokers, "--topic", topic,
        "--dlq-topic", dlq, "--systems-topic", systems, "--interval-s", "1", "--http-timeout-ms", "800",
        "--max-body-bytes", str(256 * 1024), "--log-level", "debug"]
        + sum((["--source", s] for s in sources), []),
        env={"JCDECAUX_API_KEY": KEY})

    def polled(source, outcome, n=1):
        return ingest.metric("velo_ingest_polls_total", source=source,
                             outcome=outcome) >= n

    wait_for("two good polls of every good source", lambda: all(
        polled(s, "ok", 2) for s in ("jcdecaux:dublin", "jcdecaux:lyon",
                                     "gbfs:spec23", "gbfs:spec30")), 60)
    for source, outcome in (("e403", "forbidden"), ("e429", "rate_limited"),
                            ("e500", "server_error"), ("bad", "malformed"),
                            ("big", "too_big"), ("stall", "timeout"),
                            ("trunc", "malformed")):
        wait_for("%s counted as %s" % (source, outcome),
                 lambda: polled("jcdecaux:" + source, outcome), 30)
    status, body = ingest.http("/readyz")
    check(status == 200, "/readyz %d %s" % (status, body))

    expected = expected_v1()
    expected.update(expected_v3())
    expected.update(expected_gbfs("gbfs:spec23", "spec-v2.3", "2.3"))
    expected.update(expected_gbfs("gbfs:spec30", "spec-v3.0", "3.0"))
    check_records(kdump(brokers, topic), expected)
    unchanged = ingest.metric("velo_ingest_stations_unchanged_total",
                              source="jcdecaux:dublin")
    check(unchanged >= 114, "second poll of dublin: %d unchanged" % unchanged)

    n_sys = check_systems(
        brokers, systems, len(expected_v1()),
        len(expected_gbfs("gbfs:spec23", "spec-v2.3", "2.3")),
        len(expected_gbfs("gbfs:spec30", "spec-v3.0", "3.0")))
    cfgs = topic_configs(brokers, systems)
    check("cleanup.policy=compact" in cfgs,
          "%s was not created compacted: %s" % (systems, cfgs))

    dead = kdump(brokers, dlq, raw=True)
    check_hardening(ingest, srv, other, dead)
    bad = [d for d in dead if d["key"] == "jcdecaux:bad"]
    check(bad, "the malformed payload is not in the DLQ: %s" % dead[:3])
    check(bad[0]["headers"].get("velo-source") == "jcdecaux:bad"
          and bad[0]["headers"].get("velo-error"), "DLQ headers %s" % bad[0])

    check(all(q.get("apiKey") == [KEY] for p, q in srv.queries
              if p.endswith("/vls/v1/stations")), "API key not sent")
    check(KEY not in ingest.log_text(), "the API key reached the log")
    retry = [e for e in ingest.events("poll.failed")
             if e.get("source") == "jcdecaux:e429"]
    check(retry and retry[0].get("retry_in_ms", 0) >= 1000,
          "Retry-After not honoured: %s" % retry[:1])

    rc = ingest.stop()
    check(rc == 0, "velo-ingest exit status %r after SIGTERM" % rc)
    srv.close()
    other.close()
    print("ingest_e2e: %d records checked, %d SystemInfo, %d dead letters; "
          "1 passed, 0 failed" % (len(expected), n_sys, len(dead)))


if __name__ == "__main__":
    main()
