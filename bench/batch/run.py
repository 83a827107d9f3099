#!/usr/bin/env python3
"""bench/batch: StationSnapshot records per second aggregated by
`velo-batch --once` (hourly and daily windows, exactly once: Kafka
transactions to the output topic) from records already on a real Kafka
broker, beside, in the same run and on the same records:

- the floor: velo-bench-kconsume reading every record of the topic through
  the same velo_kafka consumer and doing nothing with it;
- the original stack's engine: a PySpark job in local mode
  (bench/batch/spark_hourly.py) computing the same hourly aggregates from
  the same records, exported once as JSON lines with velo-kdump (the
  export is timed apart and not counted for Spark).

The records come from velo-ingest's simulate source in virtual time:
--systems copies of data/seeds/dublin.json (114 stations each, own seeds)
over --polls minutes from 2026-03-29T00:00Z, change capture on.

Reported per engine: wall time of the whole process (start-up included)
and records/s over it, the processing phase alone, and peak RSS: VmHWM of
the process for velo-batch and kconsume; for Spark, the largest sum of
VmRSS over its process tree (python driver + JVM, sampled every 20 ms).
Checked loosely: Spark's row count of every UTC hour velo-batch emitted
equals velo-batch's.

  bench/batch/run.py [--systems 4] [--polls 1440] [--runs 3] [--no-spark]

Needs a release build (scripts/build release), the Kafka jars and a Java
runtime (scripts/setup); installs pyspark from PyPI into .deps/bench-venv
on first use (nothing else uses it).
"""
import argparse
import datetime
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                ".."))
import benchlib  # noqa: E402

ROOT = benchlib.ROOT
BIN = benchlib.BIN
HERE = os.path.dirname(os.path.abspath(__file__))
VENV = os.path.join(ROOT, ".deps", "bench-venv")
PYSPARK = "pyspark==4.3.0"
HOUR_MS = 3600 * 1000


def ensure_pyspark():
    """The venv's python, with pyspark installed into it if missing."""
    py = os.path.join(VENV, "bin", "python")
    have = os.path.exists(py) and subprocess.run(
        [py, "-c", "import pyspark"], capture_output=True).returncode == 0
    if not have:
        print("installing %s into %s (once)" % (PYSPARK, VENV))
        subprocess.run([sys.executable, "-m", "venv", VENV], check=True)
        subprocess.run([py, "-m", "pip", "install", "-q", PYSPARK],
                       check=True)
    return py


def ts_s(ts):
    """A log line's ts ("2026-11-30T12:55:08.736Z") in epoch seconds."""
    return datetime.datetime.strptime(ts, "%Y-%m-%dT%H:%M:%S.%fZ").replace(
        tzinfo=datetime.timezone.utc).timestamp()


def produce(brokers, topics, systems, polls, log):
    args = [os.path.join(BIN, "velo-ingest"), "--kafka-brokers", brokers,
            "--admin-port", "0", "--topic", topics["data"],
            "--systems-topic", topics["systems"],
            "--dlq-topic", topics["data"] + ".dlq", "--log-level", "warn"]
    seed = os.path.join(ROOT, "data", "seeds", "dublin.json")
    for i in range(systems):
        args += ["--source", "sim:b%02d=simulate:%s,seed=%d,tz=Europe/Dublin,"
                 "start=2026-03-29T00:00:00Z,step=60,polls=%d"
                 % (i, seed, 7 + i, polls)]
    t0 = time.monotonic()
    with open(log, "wb") as f:
        rc = subprocess.run(args, stdout=f, stderr=subprocess.STDOUT,
                            timeout=1800).returncode
    if rc != 0:
        sys.exit("velo-ingest failed (%d); see %s" % (rc, log))
    return time.monotonic() - t0


def run_batch(brokers, topics, r, log):
    """velo-batch --once with a fresh group, transactional id and output
    topic: (measure dict, seconds from batch.recovered to batch.once.done)."""
    args = [os.path.join(BIN, "velo-batch"), "--once",
            "--kafka-brokers", brokers, "--admin-port", "0",
            "--topic", topics["data"], "--systems-topic", topics["systems"],
            "--out-topic", "%s_%d" % (topics["out"], r),
            "--dlq-topic", topics["data"] + ".dlq",  # velo-ingest made it
            "--group", "bench-batch-%d-%d" % (os.getpid(), r),
            "--transactional-id", "bench-batch-%d-%d" % (os.getpid(), r),
            "--log-level", "info"]
    with open(log, "wb") as f:
        m = benchlib.measure(args, stdout=f, stderr=subprocess.STDOUT)
    if m["rc"] != 0:
        sys.exit("velo-batch failed (%d); see %s" % (m["rc"], log))
    ev = {}
    for line in open(log):
        if line.startswith("{"):
            e = json.loads(line)
            ev.setdefault(e["event"], ts_s(e["ts"]))
    return m, ev["batch.once.done"] - ev["batch.recovered"]


def run_floor(brokers, topic, log):
    out = os.path.join(os.path.dirname(log), "kconsume.json")
    with open(out, "wb") as f, open(log, "wb") as err:
        m = benchlib.measure([os.path.join(BIN, "velo-bench-kconsume"),
                              "--json", "--brokers", brokers,
                              "--topic", topic], stdout=f, stderr=err)
    if m["rc"] != 0:
        sys.exit("velo-bench-kconsume failed (%d); see %s" % (m["rc"], log))
    res = json.loads(open(out).read().splitlines()[-1])
    return m, res


def run_spark(py, data, out, log):
    res_path = out + ".json"
    env = dict(os.environ, SPARK_LOCAL_IP="127.0.0.1")  # loopback only
    with open(res_path, "wb") as f, open(log, "wb") as err:
        m = benchlib.measure([py, os.path.join(HERE, "spark_hourly.py"),
                              data, out], stdout=f, stderr=err, env=env)
    if m["rc"] != 0:
        sys.exit("the Spark job failed (%d); see %s" % (m["rc"], log))
    lines = [l for l in open(res_path) if l.startswith("{")]
    return m, json.loads(lines[-1])


def export(brokers, topic, path):
    t0 = time.monotonic()
    with open(path, "wb") as f:
        subprocess.run([os.path.join(BIN, "velo-kdump"), "--brokers", brokers,
                        "--topic", topic, "--idle-ms", "2000"], stdout=f,
                       check=True, timeout=1800)
    dt = time.monotonic() - t0 - 2.0  # the idle wait that ends it
    with open(path, "rb") as f:
        n = sum(1 for _ in f)
    return n, dt


def hourly_counts(brokers, topic):
    """{hour start ms: rows} of velo-batch's committed hourly rows."""
    out = subprocess.run([os.path.join(BIN, "velo-kdump"), "--brokers",
                          brokers, "--topic", topic, "--raw",
                          "--read-committed", "--idle-ms", "2000"],
                         capture_output=True, check=True, timeout=600)
    counts, daily = {}, 0
    for line in out.stdout.decode().splitlines():
        key = json.loads(line)["key"]
        if "/hourly/" not in key:
            daily += 1
            continue
        h = datetime.datetime.strptime(key.split("/hourly/")[1],
                                       "%Y-%m-%dT%H:%MZ").replace(
            tzinfo=datetime.timezone.utc)
        ms = int(h.timestamp()) * 1000
        counts[ms] = counts.get(ms, 0) + 1
    return counts, daily


def check_counts(batch, spark):
    bad = [(h, n, spark.get(str(h), 0)) for h, n in sorted(batch.items())
           if spark.get(str(h), 0) != n]
    if bad:
        sys.exit("row counts differ (hour ms, velo-batch, spark): %s"
                 % bad[:5])
    return len(batch)


def show(label, values, unit, fmt="%.0f"):
    print("  %-28s %s %s" % (label, benchlib.median_range(values, fmt), unit))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--systems", type=int, default=4)
    ap.add_argument("--polls", type=int, default=1440)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--no-spark", action="store_true")
    a = ap.parse_args()
    py = None if a.no_spark else ensure_pyspark()
    tmp = tempfile.mkdtemp(prefix="velo-bench-batch-")
    topics = {"data": "bench_batch_data", "systems": "bench_batch_systems",
              "out": "bench_batch_out"}
    data = os.path.join(tmp, "velib_data.jsonl")
    res = {k: [] for k in ("b_wall", "b_phase", "b_rss", "b_cpu", "f_wall",
                           "f_phase", "f_rss", "s_wall", "s_job", "s_rss",
                           "s_hwm", "s_cpu")}
    with benchlib.Kafka() as k:
        prod_s = produce(k.addr, topics, a.systems, a.polls,
                         os.path.join(tmp, "ingest.log"))
        n, export_s = export(k.addr, topics["data"], data) if py else (0, 0)
        for r in range(a.runs):
            bm, bphase = run_batch(k.addr, topics, r,
                                   os.path.join(tmp, "batch%d.log" % r))
            fm, fres = run_floor(k.addr, topics["data"],
                                 os.path.join(tmp, "kconsume%d.log" % r))
            n_rec = fres["records"]
            if py and n != n_rec:
                sys.exit("exported %d records, kconsume read %d" % (n, n_rec))
            res["b_wall"].append(bm["wall_s"])
            res["b_phase"].append(bphase)
            res["b_rss"].append(bm["hwm_kb"] / 1024)
            res["b_cpu"].append(bm["cpu_s"])
            res["f_wall"].append(fm["wall_s"])
            res["f_phase"].append(fres["seconds"])
            res["f_rss"].append(fm["hwm_kb"] / 1024)
            line = ("run %d: %d records: velo-batch %.2f s (%.0f/s), floor "
                    "%.2f s" % (r + 1, n_rec, bm["wall_s"],
                                n_rec / bm["wall_s"], fm["wall_s"]))
            if py:
                sm, sres = run_spark(py, data,
                                     os.path.join(tmp, "spark%d" % r),
                                     os.path.join(tmp, "spark%d.log" % r))
                if r == 0:
                    counts, daily = hourly_counts(k.addr, topics["out"] + "_0")
                    hours = check_counts(counts, sres["per_hour"])
                res["s_wall"].append(sm["wall_s"])
                res["s_job"].append(sres["done_s"] - sres["ready_s"])
                res["s_rss"].append(sm["tree_kb"] / 1024)
                res["s_hwm"].append(sm["tree_hwm_kb"] / 1024)
                res["s_cpu"].append(sm["tree_cpu_s"])
                line += ", spark %.2f s (%.1fx)" % (
                    sm["wall_s"], sm["wall_s"] / bm["wall_s"])
            print(line)
    med = lambda key: statistics.median(res[key])
    print("\nbench/batch: %d records (%d systems x 114 stations, %d simulated"
          " minutes), %d runs, one real Kafka broker (produced in %.1f s)"
          % (n_rec, a.systems, a.polls, a.runs, prod_s))
    rate = lambda key: [n_rec / x for x in res[key]]
    show("velo-batch --once", rate("b_wall"), "records/s (whole process)")
    show("  aggregation phase", rate("b_phase"), "records/s (recovered -> "
         "once.done)")
    show("  peak RSS (VmHWM)", res["b_rss"], "MiB", "%.1f")
    show("  CPU (user + system)", res["b_cpu"], "s", "%.2f")
    show("floor: kconsume", rate("f_wall"), "records/s (whole process)")
    show("  consume phase", rate("f_phase"), "records/s")
    show("  peak RSS (VmHWM)", res["f_rss"], "MiB", "%.1f")
    print("  velo-batch / floor: %.2f of the floor's rate (whole process), "
          "%.2f (phases)" % (med("f_wall") / med("b_wall"),
                             med("f_phase") / med("b_phase")))
    if not py:
        return
    show("spark local[*]", rate("s_wall"), "records/s (whole process, JVM "
         "start included)")
    show("  job phase", rate("s_job"), "records/s (session ready -> "
         "Parquet written)")
    show("  peak RSS (process tree)", res["s_rss"], "MiB", "%.0f")
    show("  CPU (user + system, tree)", res["s_cpu"], "s", "%.1f")
    print("  export for Spark (velo-kdump -> JSON lines, not counted): "
          "%.1f s" % export_s)
    t_ratio = [s / b for s, b in zip(res["s_wall"], res["b_wall"])]
    m_ratio = [s / b for s, b in zip(res["s_rss"], res["b_rss"])]
    print("  spark / velo-batch wall time %s (target >= 20)"
          % benchlib.median_range(t_ratio, "%.1fx"))
    print("  spark / velo-batch job phases %.1fx"
          % (med("s_job") / med("b_phase")))
    print("  spark / velo-batch peak RSS  %s (target >= 20)"
          % benchlib.median_range(m_ratio, "%.1fx"))
    print("  check: %d UTC hours, Spark's row count of each equals "
          "velo-batch's (%d hourly rows, %d daily rows from velo-batch)"
          % (hours, sum(counts.values()), daily))


if __name__ == "__main__":
    main()
