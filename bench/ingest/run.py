#!/usr/bin/env python3
"""bench/ingest: stations per second through velo-ingest's whole path
(read, parse, normalise, validate, change capture, protobuf encode,
produce with acks=all to a real Kafka broker, delivery confirmed), beside
kcat -P producing the same number of the same pre-encoded messages (same
keys, same bytes, same producer settings) to the same broker in the same
run. Prints both rates, the ratio, CPU ms per 1,000 stations and RSS.

  bench/ingest/run.py [--stations 2500] [--polls 40] [--runs 3]

Needs a release build (scripts/build release) and the Kafka jars
(scripts/setup); starts and stops its own broker.
"""
import argparse
import base64
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BIN = os.environ.get("VELO_BIN_DIR", os.path.join(ROOT, "build", "bin"))
SEED = os.path.join(ROOT, "data", "seeds", "dublin.json")
KDEL, MDEL = b"\xf9\xf8\xf7", b"\xfe\xfd\xfc\xfb\xfa"


def make_payloads(d, n, files):
    """files JCDecaux v1 payloads of n stations; every station changes
    between consecutive files, so every poll emits every station."""
    seed = json.load(open(SEED))
    for f in range(files):
        out = []
        for i in range(n):
            s = dict(seed[i % len(seed)])
            s["number"] = 100000 + i
            s["position"] = {"lat": s["position"]["lat"] + (i // len(seed)) * 0.01,
                             "lng": s["position"]["lng"]}
            cap = max(s["bike_stands"], 2)
            s["bike_stands"] = cap
            s["available_bikes"] = (i + f) % (cap + 1)
            s["available_bike_stands"] = cap - s["available_bikes"]
            s["last_update"] = 1770418469000 + f * 60000
            out.append(s)
        with open(os.path.join(d, "%03d.json" % f), "w") as fh:
            json.dump(out, fh, separators=(",", ":"))


def start_kafka(run):
    subprocess.run([os.path.join(ROOT, "tests/harness/kafka.sh"), "start", run],
                   check=True, stdout=subprocess.DEVNULL)
    return open(os.path.join(run, "kafka.addr")).read().strip()


def stop_kafka(run):
    subprocess.run([os.path.join(ROOT, "tests/harness/kafka.sh"), "stop", run],
                   stdout=subprocess.DEVNULL)


def vm_hwm_kb(pid):
    """The process's peak RSS so far (VmHWM), in KiB; 0 once it is gone."""
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def spawn_wait(args, out_fd=None):
    """Runs args to the end; returns (wait status, rusage, peak RSS KiB).
    The peak comes from VmHWM sampled until exit: rusage's ru_maxrss would
    count this Python process, which the child was forked from."""
    p = subprocess.Popen(args, stdout=out_fd, stderr=subprocess.STDOUT
                         if out_fd is not None else None)
    hwm = 0
    while True:
        pid, status, ru = os.wait4(p.pid, os.WNOHANG)
        if pid == p.pid:
            p.returncode = os.waitstatus_to_exitcode(status)
            return status, ru, hwm
        hwm = max(hwm, vm_hwm_kb(p.pid))
        time.sleep(0.01)


def run_ingest(brokers, topic, payload_dir, polls, logf):
    args = [os.path.join(BIN, "velo-ingest"), "--kafka-brokers", brokers,
            "--topic", topic, "--dlq-topic", topic + ".dlq", "--admin-port", "0",
            "--source", "bench:x=replay:%s,interval=0,loop=1" % payload_dir,
            "--exit-after-polls", str(polls), "--log-level", "info"]
    with open(logf, "wb") as log:
        status, ru, hwm = spawn_wait(args, log.fileno())
    rc = os.waitstatus_to_exitcode(status)
    if rc != 0:
        sys.exit("velo-ingest failed (%d); see %s" % (rc, logf))
    ev = {}
    emitted = 0
    for line in open(logf):
        e = json.loads(line)
        ev.setdefault(e["event"], e["ts"])
        if e["event"] == "poll.done":
            emitted += e.get("emitted", 0)
    t0, t1 = (time.mktime(time.strptime(ev[k][:19], "%Y-%m-%dT%H:%M:%S"))
              + float(ev[k][19:23]) for k in ("ingest.started", "ingest.stopped"))
    return emitted, t1 - t0, (ru.ru_utime + ru.ru_stime), hwm


def dump_messages(brokers, topic, count, path):
    out = subprocess.run([os.path.join(BIN, "velo-kdump"), "--brokers", brokers,
                          "--topic", topic, "--raw", "--max", str(count),
                          "--idle-ms", "3000"], capture_output=True, check=True)
    n = 0
    with open(path, "wb") as f:
        for line in out.stdout.splitlines():
            r = json.loads(line)
            v = base64.b64decode(r["value_b64"])
            k = r["key"].encode()
            assert MDEL not in v and KDEL not in v and MDEL not in k
            f.write(k + KDEL + v + MDEL)
            n += 1
    return n


def run_kcat(brokers, topic, path):
    esc = lambda b: "".join("\\x%02x" % c for c in b)  # kcat's \xNN form
    args = ["kcat", "-P", "-b", brokers, "-t", topic, "-K", esc(KDEL),
            "-D", esc(MDEL),
            "-X", "enable.idempotence=true", "-X", "acks=all",
            "-X", "compression.codec=lz4", "-X", "linger.ms=5",
            "-X", "partitioner=murmur2_random", "-l", path]
    t0 = time.monotonic()
    status, ru, _ = spawn_wait(args)
    dt = time.monotonic() - t0
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit("kcat failed")
    return dt, ru.ru_utime + ru.ru_stime


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--stations", type=int, default=2500)
    ap.add_argument("--polls", type=int, default=40)
    ap.add_argument("--runs", type=int, default=3)
    a = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="velo-bench-ingest-")
    payloads = os.path.join(tmp, "payloads")
    os.mkdir(payloads)
    make_payloads(payloads, a.stations, 10)
    total = a.stations * a.polls
    brokers = start_kafka(tmp)
    rows = []
    try:
        for r in range(a.runs):
            topic = "bench_ingest_%d_%d" % (os.getpid(), r)
            n, dt, cpu, rss = run_ingest(brokers, topic, payloads, a.polls,
                                         os.path.join(tmp, "ingest%d.log" % r))
            if n != total:
                sys.exit("ingest emitted %d of %d stations" % (n, total))
            msgs = os.path.join(tmp, "msgs.bin")
            m = dump_messages(brokers, topic, total, msgs)
            kdt, kcpu = run_kcat(brokers, topic + "_kcat", msgs)
            rows.append((n / dt, m / kdt, cpu * 1e6 / n, kcpu * 1e6 / m, rss))
            print("run %d: ingest %.0f stations/s, kcat %.0f msgs/s, "
                  "ratio %.2f" % (r + 1, n / dt, m / kdt, (n / dt) / (m / kdt)))
    finally:
        stop_kafka(tmp)
    med = lambda i: statistics.median(x[i] for x in rows)
    rng = lambda i: (min(x[i] for x in rows), max(x[i] for x in rows))
    ratios = [x[0] / x[1] for x in rows]
    print("\nbench/ingest: %d stations x %d polls, %d runs, one real Kafka broker"
          % (a.stations, a.polls, a.runs))
    print("  velo-ingest  %8.0f stations/s (median; range %.0f-%.0f)"
          % ((med(0),) + rng(0)))
    print("  kcat -P      %8.0f msgs/s     (median; range %.0f-%.0f)"
          % ((med(1),) + rng(1)))
    print("  ratio ingest/kcat %.2f (median; range %.2f-%.2f; target >= 0.5)"
          % (statistics.median(ratios), min(ratios), max(ratios)))
    print("  CPU ms per 1,000 stations: ingest %.1f, kcat %.1f"
          % (med(2), med(3)))
    print("  velo-ingest max RSS: %.1f MiB" % (med(4) / 1024))


if __name__ == "__main__":
    main()
