#!/usr/bin/env python3
"""bench/freshness: from the moment velo-ingest produces a change to the
moment GetStation returns it (p50, p99 over thousands of changes), beside
the bare Kafka produce-to-consume latency with the same producer settings,
in the same run, on one real Kafka broker.

  bench/freshness/run.py [--changes 2000] [--rate 50] [--runs 3]

Ingest replays two alternating 50-station payloads every 1/rate seconds,
so every poll changes every station; velo-bench-freshness polls
GetStation for one of them. The baseline produces the same number of
records at the same rate through velo_kafka (idempotent, acks=all, lz4,
linger 5 ms) and consumes them by assignment, as velo-stream does.
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
                unique("bench_lat"), "--count", str(a.changes), "--rate",
                str(a.rate))[0]
    return fresh, base


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--changes", type=int, default=2000)
    ap.add_argument("--rate", type=int, default=50)
    ap.add_argument("--runs", type=int, default=3)
    a = ap.parse_args()
    payloads = os.path.join(benchlib.velotest.tempfile.mkdtemp(), "p")
    os.mkdir(payloads)
    make_payloads(payloads, 50, 2)
    rows = []
    with Kafka() as k:
        for r in range(a.runs):
            f, b = one_run(k, payloads, a)
            rows.append((f["p50_us"], f["p99_us"], b["p50_us"], b["p99_us"]))
            print("run %d: freshness p50 %.1f ms p99 %.1f ms; bare Kafka "
                  "p50 %.1f ms p99 %.1f ms" % ((r + 1,) + tuple(
                      x / 1000 for x in rows[-1])))
    col = lambda i: [x[i] / 1000 for x in rows]
    ratio = [x[1] / x[3] for x in rows]
    print("\nbench/freshness: %d changes x %d runs at %d/s" %
          (a.changes, a.runs, a.rate))
    print("  ingest -> GetStation  p50 %s ms, p99 %s ms" %
          (summary(col(0)), summary(col(1))))
    print("  bare Kafka            p50 %s ms, p99 %s ms" %
          (summary(col(2)), summary(col(3))))
    print("  p99 ratio freshness/Kafka: median %.2f (range %.2f-%.2f); "
          "target <= 2 and p99 < 50 ms" %
          (sorted(ratio)[len(ratio) // 2], min(ratio), max(ratio)))


if __name__ == "__main__":
    main()
