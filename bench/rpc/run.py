#!/usr/bin/env python3
"""bench/rpc: GetStation and ListStations (near filter, 3,000 stations)
round trips per second and p99 through velo-stream, beside a bare nng
REQ/REP echo of the same payload size in the same run.

  bench/rpc/run.py [--stations 3000] [--threads 4] [--duration-s 5] [--runs 3]

Target: GetStation at 80% or more of the echo rate.

With a Consul agent (.deps/consul, built by scripts/setup), the same run
also calls GetStation with the instances found through Consul (a second
velo-stream registered beside the first; the clients read a cached list,
no Consul round trip per call). Target: at least 0.95 of the static
address's rate. Spreading the calls over both instances is printed for
context: on a 2-core machine two server processes share the cores.

Both servers run in a process of their own (velo-stream; the echo as
`velo-bench-nng-echo --serve`), and both clients in another, so both pay
the same cross-process scheduling on the 2 cores. The in-process echo
(server and clients in one process, as docs/rpc.md measures the layer
alone) is printed for context.
"""
import argparse
import json
import os
import subprocess
import sys
import time
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
import benchlib  # noqa: E402
from benchlib import Consul, Kafka, summary, tool, wait_ready  # noqa: E402
from run import make_payloads  # noqa: E402  (bench/ingest/run.py)
from velotest import Service, unique  # noqa: E402


def wait_passing(addr, n):
    """Waits until n velo-stream instances pass in Consul."""
    url = addr + "/v1/health/service/velo-stream?passing=1"
    for _ in range(300):
        with urllib.request.urlopen(url, timeout=5) as r:
            if len(json.loads(r.read())) >= n:
                return
        time.sleep(0.1)
    sys.exit("bench/rpc: velo-stream instances not passing in Consul")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--stations", type=int, default=3000)
    ap.add_argument("--threads", type=int, default=4)
    ap.add_argument("--duration-s", type=int, default=5)
    ap.add_argument("--runs", type=int, default=3)
    a = ap.parse_args()
    payloads = os.path.join(benchlib.velotest.tempfile.mkdtemp(), "p")
    os.mkdir(payloads)
    make_payloads(payloads, a.stations, 1)
    common = ["--threads", str(a.threads), "--duration-s", str(a.duration_s)]
    rows = []
    with Kafka() as k, Consul(k.dir) as cs:
        topic = unique("bench_rpc")
        ingest = Service("velo-ingest", [
            "--admin-port", "0", "--kafka-brokers", k.addr, "--topic", topic,
            "--source", "bench:x=replay:%s" % payloads,
            "--exit-after-polls", "1", "--log-level", "warn"])
        ingest.proc.wait(60)
        env = {"VELO_CONSUL_ADDR": cs.addr} if cs.addr else {}
        streams = [Service("velo-stream", [
            "--admin-port", "0", "--kafka-brokers", k.addr, "--topic", topic,
            "--rpc-url", "tcp://127.0.0.1:0", "--pub-url",
            "tcp://127.0.0.1:0", "--log-level", "warn"], env=env)
            for _ in range(2 if cs.addr else 1)]
        stream = streams[0]
        for s_ in streams:
            wait_ready(s_)
        if cs.addr:
            wait_passing(cs.addr, len(streams))
        echo_srv = subprocess.Popen(
            [os.path.join(benchlib.BIN, "velo-bench-nng-echo"), "--serve"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        echo_url = echo_srv.stdout.readline().decode().strip()
        for r in range(a.runs):
            get, lst = tool("velo-bench-rpc", "--url=" + stream.addrs[1],
                            "--system=bench:x", "--station=100000",
                            "--limit=20", "--radius-m=2000", *common)
            echo = tool("velo-bench-nng-echo", "--connect=" + echo_url,
                        "--size=%d" % get["reply_bytes"], *common)[0]
            echo_l = tool("velo-bench-nng-echo", "--connect=" + echo_url,
                          "--size=%d" % lst["reply_bytes"], *common)[0]
            inproc = tool("velo-bench-nng-echo",
                          "--size=%d" % get["reply_bytes"], *common)[0]
            disc = spread = None
            if cs.addr:
                disc, spread = (tool(
                    "velo-bench-rpc", "--url=" + stream.addrs[1],
                    "--consul=" + cs.addr, "--method=get",
                    "--system=bench:x", "--station=100000", *common,
                    *extra)[0] for extra in ([], ["--spread"]))
            rows.append((get, lst, echo, echo_l, inproc, disc, spread))
            print("run %d: GetStation %.0f/s (p99 %d us), echo %.0f/s; "
                  "ListStations near %.0f/s (p99 %d us), echo %.0f/s; "
                  "in-process echo %.0f/s" % (
                      r + 1, get["calls_per_s"], get["p99_us"],
                      echo["calls_per_s"], lst["calls_per_s"], lst["p99_us"],
                      echo_l["calls_per_s"], inproc["calls_per_s"]))
            if disc:
                print("       GetStation through Consul %.0f/s (p99 %d us), "
                      "spread over both %.0f/s" % (
                          disc["calls_per_s"], disc["p99_us"],
                          spread["calls_per_s"]))
        echo_srv.stdin.close()
        echo_srv.wait(30)
        for s_ in streams:
            s_.stop()
    g = [x[0]["calls_per_s"] for x in rows]
    e = [x[2]["calls_per_s"] for x in rows]
    l = [x[1]["calls_per_s"] for x in rows]
    el = [x[3]["calls_per_s"] for x in rows]
    print("\nbench/rpc: %d stations, %d threads, %d s per method, %d runs" %
          (a.stations, a.threads, a.duration_s, a.runs))
    print("  GetStation      %s calls/s, p99 %s us (reply %d B)" % (
        summary(g), summary([x[0]["p99_us"] for x in rows]),
        rows[0][0]["reply_bytes"]))
    print("  nng echo        %s calls/s, p99 %s us (same size)" % (
        summary(e), summary([x[2]["p99_us"] for x in rows])))
    print("  ListStations    %s calls/s, p99 %s us (near, radius 2 km, "
          "limit 20, reply %d B)" % (summary(l), summary(
              [x[1]["p99_us"] for x in rows]), rows[0][1]["reply_bytes"]))
    print("  nng echo        %s calls/s (same size)" % summary(el))
    print("  in-process echo %s calls/s (GetStation size; server and clients "
          "in one process)" % summary([x[4]["calls_per_s"] for x in rows]))
    ratios = sorted(a_ / b_ for a_, b_ in zip(g, e))
    print("  GetStation / echo: median %.2f (range %.2f-%.2f); target >= 0.80"
          % (ratios[len(ratios) // 2], ratios[0], ratios[-1]))
    if rows[0][5] is None:
        print("  GetStation through Consul: skipped (no Consul binary; "
              "scripts/setup builds it)")
        return
    d = [x[5]["calls_per_s"] for x in rows]
    sp = [x[6]["calls_per_s"] for x in rows]
    print("  GetStation via Consul %s calls/s, p99 %s us (2 instances "
          "registered, cached list)" % (summary(d), summary(
              [x[5]["p99_us"] for x in rows])))
    print("  ... spread        %s calls/s (round robin over both instances: "
          "two server processes on the same cores)" % summary(sp))
    ratios = sorted(a_ / b_ for a_, b_ in zip(d, g))
    print("  Consul / static: median %.2f (range %.2f-%.2f); target >= 0.95"
          % (ratios[len(ratios) // 2], ratios[0], ratios[-1]))
    ratios = sorted(a_ / b_ for a_, b_ in zip(sp, g))
    print("  Consul spread / static: median %.2f (range %.2f-%.2f) (context)"
          % (ratios[len(ratios) // 2], ratios[0], ratios[-1]))


if __name__ == "__main__":
    main()
