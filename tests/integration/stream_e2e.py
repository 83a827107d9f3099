#!/usr/bin/env python3
"""Integration: replayed fixtures through velo-ingest -> a real Apache
Kafka broker -> velo-stream -> veloctl --json.

- veloctl returns exactly the station values of the source payload;
- a changed payload is visible through RPC and on the PUB socket;
- killing and restarting velo-stream gives the same answers (state is
  rebuilt from the topic), and so does a second replica;
- garbage bytes produced to the topic end in the DLQ, once, with their
  origin (topic, partition, offset) in the headers, and the service keeps
  answering; a restart and a second replica re-read the record in their
  rebuild window but do not dead-letter it again;
- a system velo-stream does not hold is "unknown system", exit 1;
- SIGTERM: both services exit 0.
"""
import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from ingest_e2e import KEY, expected_v1  # noqa: E402
from source_server import SourceServer, load  # noqa: E402
from velotest import (BIN, FIXTURES, Service, check, kafka_addr, kdump,  # noqa: E402
                      unique, wait_for)

DERIVED = ("age_s", "stale", "stuck", "trend_15m", "applied_at",
           "applied_at_ms")


def veloctl(stream, *args, check_rc=0):
    cmd = [os.path.join(BIN, "veloctl"), "--rpc", stream.addrs[1],
           "--pub", stream.addrs[2], "--timeout-ms", "3000"] + list(args)
    out = subprocess.run(cmd, capture_output=True, timeout=60)
    if check_rc is not None:
        check(out.returncode == check_rc, "%s -> %d: %s" % (
            " ".join(args), out.returncode, out.stderr.decode()))
    return out


def stations(stream, system, known=True):
    out = veloctl(stream, "stations", system, "--all", "--json",
                  check_rc=0 if known else None)
    if not known and out.returncode == 1 and \
            b"unknown system" in out.stderr:
        return {}  # nothing of the system applied yet
    check(out.returncode == 0, "stations %s -> %d: %s" % (
        system, out.returncode, out.stderr.decode()))
    doc = json.loads(out.stdout)
    return {"%s/%s" % (s["system_id"], s["station_id"]): s
            for s in doc["stations"]}


def stream_dead_letters(brokers, dlq):
    return [d for d in kdump(brokers, dlq, raw=True)
            if d["headers"].get("velo-source") == "velo-stream"]


def same_answers(a, b):
    strip = lambda d: {k: {f: v for f, v in s.items() if f not in DERIVED}
                       for k, s in d.items()}
    return strip(a) == strip(b)


def start_stream(brokers, topic, dlq):
    return Service("velo-stream", [
        "--admin-port", "0", "--kafka-brokers", brokers, "--topic", topic,
        "--dlq-topic", dlq, "--rpc-url", "tcp://127.0.0.1:0",
        "--pub-url", "tcp://127.0.0.1:0"], ready_timeout=60)


def wait_ready(svc):
    wait_for("%s /readyz" % svc.name, lambda: svc.http("/readyz")[0] == 200,
             60)


def check_source_values(stream):
    got = stations(stream, "jcdecaux:dublin")
    want = expected_v1()
    check(set(got) == set(want), "station keys differ: %d vs %d"
          % (len(got), len(want)))
    for key, w in want.items():
        for f, v in w.items():
            check(got[key].get(f) == v, "%s: %s is %r, source says %r"
                  % (key, f, got[key].get(f), v))
        check("electric_bikes" not in got[key], "%s: made-up e-bikes" % key)
    return got


def change_station_42(srv):
    doc = json.loads(load(FIXTURES + "/jcdecaux/v1_stations_dublin.json"))
    for st in doc:
        if st["number"] == 42:
            st["available_bikes"], st["available_bike_stands"] = 3, 27
            st["last_update"] += 60000
    srv.overrides["/ok/vls/v1/stations"] = json.dumps(doc).encode()


def main():
    brokers = kafka_addr()
    srv = SourceServer(FIXTURES)
    topic, dlq = unique("velib_data"), unique("velib_data_dlq")
    ingest = Service("velo-ingest", [
        "--admin-port", "0", "--kafka-brokers", brokers, "--topic", topic,
        "--dlq-topic", dlq, "--interval-s", "1",
        "--source", "jcdecaux:dublin=jcdecaux-v1:%s/ok" % srv.base],
        env={"JCDECAUX_API_KEY": KEY})
    wait_ready(ingest)
    stream = start_stream(brokers, topic, dlq)
    wait_ready(stream)
    wait_for("114 stations served", lambda: len(
        stations(stream, "jcdecaux:dublin", known=False)) == 114, 30)
    unknown = veloctl(stream, "stations", "nosuch:sys", check_rc=1)
    check(unknown.stderr == b"veloctl: unknown system nosuch:sys\n",
          "unknown system message: %s" % unknown.stderr)
    before = check_source_values(stream)

    # A change: visible on PUB and through GetStation.
    watch = subprocess.Popen(
        [os.path.join(BIN, "veloctl"), "--rpc", stream.addrs[1], "--pub",
         stream.addrs[2], "watch", "jcdecaux:dublin", "--json", "--count",
         "1", "--timeout-s", "30"], stdout=subprocess.PIPE)
    time.sleep(1)  # PUB/SUB: let the subscription reach the publisher
    change_station_42(srv)
    out, _ = watch.communicate(timeout=40)
    check(watch.returncode == 0, "veloctl watch exit %d" % watch.returncode)
    ev = json.loads(out.decode().splitlines()[0])
    check(ev["station_id"] == "42" and ev["bikes_available"] == 3,
          "watch saw %s" % ev)
    one = json.loads(veloctl(stream, "station", "jcdecaux:dublin", "42",
                             "--json").stdout)
    check(one["bikes_available"] == 3 and one["docks_available"] == 27,
          "GetStation after change: %s" % one)
    missing = veloctl(stream, "station", "jcdecaux:dublin", "nope",
                      check_rc=1)
    check(b"no station" in missing.stderr, "NOT_FOUND message: %s"
          % missing.stderr)
    before = stations(stream, "jcdecaux:dublin")

    # Kill -9 and restart: the state is rebuilt from the topic.
    stream.proc.kill()
    stream.proc.wait()
    stream = start_stream(brokers, topic, dlq)
    wait_ready(stream)
    after = stations(stream, "jcdecaux:dublin")
    check(same_answers(before, after), "answers differ after restart")

    # A second replica holds the full state too and answers identically.
    replica = start_stream(brokers, topic, dlq)
    wait_ready(replica)
    check(same_answers(after, stations(replica, "jcdecaux:dublin")),
          "two replicas answer differently")
    check(replica.stop() == 0, "replica exit status after SIGTERM")

    # Garbage on the topic: dead-lettered, the service keeps answering.
    garbage = b"\xff\x00garbage-not-protobuf\x01"
    subprocess.run(["kcat", "-P", "-b", brokers, "-t", topic, "-k",
                    "jcdecaux:dublin/42"], input=garbage, check=True,
                   timeout=30)
    wait_for("garbage dead-lettered", lambda: stream.metric(
        "velo_stream_dead_letters_total") >= 1, 30)
    dead = stream_dead_letters(brokers, dlq)
    check(len(dead) == 1 and dead[0]["headers"].get("velo-error"),
          "not one velo-stream dead letter with a reason: %s" % dead[:2])
    h = dead[0]["headers"]
    check(h.get("velo-origin-topic") == topic and
          h.get("velo-origin-partition", "").isdigit() and
          h.get("velo-origin-offset", "").isdigit(),
          "dead letter origin headers: %s" % h)
    one = json.loads(veloctl(stream, "station", "jcdecaux:dublin", "42",
                             "--json").stdout)
    check(one["bikes_available"] == 3, "still answering after garbage")

    # Dead-lettered once: a restart and a second replica re-read the bad
    # record in their rebuild window and count it, but the group had
    # committed past it, so neither writes it again.
    check(stream.stop() == 0, "stream exit status after SIGTERM")
    stream = start_stream(brokers, topic, dlq)
    replica = start_stream(brokers, topic, dlq)
    for svc in (stream, replica):
        wait_ready(svc)
        wait_for("%s re-read the garbage" % svc.name, lambda: svc.metric(
            "velo_stream_dlq_skipped_total") >= 1, 30)
    time.sleep(2)  # a duplicate would be delivered well within this
    dead = stream_dead_letters(brokers, dlq)
    check(len(dead) == 1, "%d dead letters for one bad record" % len(dead))
    check(replica.stop() == 0, "replica exit status after SIGTERM")

    for svc in (stream, ingest):
        rc = svc.stop()
        check(rc == 0, "%s exit status %r after SIGTERM" % (svc.name, rc))
    srv.close()
    print("stream_e2e: 114 stations, change, restart, garbage once, "
          "unknown system; "
          "1 passed, 0 failed")


if __name__ == "__main__":
    main()
