#!/usr/bin/env python3
"""bench/freshness: from the moment velo-ingest produces a change to the
moment GetStation returns it (p50, p99 over thousands of changes), beside
the bare Kafka produce-to-consume latency with the same producer settings,
in the same run, on one real Kafka broker.

  bench/freshness/run.py [--changes 2000] [--rate 50] [--runs 3]

Ingest replays two alternating 50-station payloads every 1/rate seconds,
so every poll changes every station; velo-bench-freshness polls
GetStation for one of them. The baseline sends the same traffic through
velo_kafka (idempotent, acks=all, lz4, linger 5 ms): bursts of 50 records
at the same rate, consumed by assignment as velo-stream does, every
record timed. A one-record-per-tick baseline is printed for context: a
burst of 50 costs Kafka itself ~2 ms more than a lone record.
Target: p99 within 2x of bare Kafka and under 50 ms.
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
import benchlib  # noqa: E402
from benchlib import Kafka, summary, tool, wait_ready  # noqa: E402
from run import make_payloads  # noqa: E402  (bench/ingest/run.py)
from velotest import Service, unique  # noqa: E402

STATIONS = 50  # per payload: every poll changes all of them


def one_run(k, payloads, a):
    topic = unique("bench_fresh")
    ingest = Service("velo-ingest", [
        "--admin-port", "0", "--kafka-brokers", k.addr, "--topic", topic,
        "--source", "bench:x=replay:%s,interval=%g,loop=1"
        % (payloads, 1.0 / a.rate), "--log-level", "warn"])
    stream = Service("velo-stream", [
        "--admin-port", "0", "--kafka-brokers", k.addr, "--topic", topic,
        "--rpc-url", "tcp://127.0.0.1:0", "--pub-url", "tcp://127.0.0.1:0",
        "--log-level", "warn"])
    wait_ready(stream)
    fresh = tool("velo-bench-freshness", "--rpc", stream.addrs[1],
                 "--system", "bench:x", "--station", "100000",
                 "--changes", str(a.changes))[0]
    stream.stop()
    ingest.stop()
    base = tool("velo-bench-kafka-latency", "--brokers", k.addr, "--topic",
                unique("bench_lat"), "--count", str(a.changes * STATIONS),
                "--rate", str(a.rate), "--burst", str(STATIONS))[0]
    lone = tool("velo-bench-kafka-latency", "--brokers", k.addr, "--topic",
                unique("bench_lat1"), "--count", str(a.changes), "--rate",
                str(a.rate))[0]
    return fresh, base, lone


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--changes", type=int, default=2000)
    ap.add_argument("--rate", type=int, default=50)
    ap.add_argument("--runs", type=int, default=3)
    a = ap.parse_args()
    payloads = os.path.join(benchlib.velotest.tempfile.mkdtemp(), "p")
    os.mkdir(payloads)
    make_payloads(payloads, STATIONS, 2)
    rows = []
    with Kafka() as k:
        for r in range(a.runs):
            f, b, l1 = one_run(k, payloads, a)
            rows.append((f["p50_us"], f["p99_us"], b["p50_us"], b["p99_us"],
                         l1["p50_us"], l1["p99_us"]))
            r50, r99, b50, b99, l50, l99 = (x / 1000 for x in rows[-1])
            print("run %d: freshness p50 %.1f ms p99 %.1f ms; bare Kafka "
                  "(bursts of %d) p50 %.1f ms p99 %.1f ms; (lone records) "
                  "p50 %.1f ms p99 %.1f ms"
                  % (r + 1, r50, r99, STATIONS, b50, b99, l50, l99))
    col = lambda i: [x[i] / 1000 for x in rows]
    ratio = [x[1] / x[3] for x in rows]
    print("\nbench/freshness: %d changes x %d runs at %d/s" %
          (a.changes, a.runs, a.rate))
    print("  ingest -> GetStation  p50 %s ms, p99 %s ms" %
          (summary(col(0)), summary(col(1))))
    print("  bare Kafka, bursts    p50 %s ms, p99 %s ms (same traffic)" %
          (summary(col(2)), summary(col(3))))
    print("  bare Kafka, lone      p50 %s ms, p99 %s ms (one record a tick)"
          % (summary(col(4)), summary(col(5))))
    lone = [x[1] / x[5] for x in rows]
    print("  p99 ratio freshness/Kafka (same traffic): median %.2f (range "
          "%.2f-%.2f); target <= 2 and p99 < 50 ms" %
          (sorted(ratio)[len(ratio) // 2], min(ratio), max(ratio)))
    print("  p99 ratio freshness/Kafka (lone records): median %.2f (range "
          "%.2f-%.2f)" % (sorted(lone)[len(lone) // 2], min(lone), max(lone)))


if __name__ == "__main__":
    main()
