"""golden: the shared part of the golden end-to-end tests (golden_sqlite.py,
golden_pg.py).

A fixed-seed simulated day of three systems in three zones (velo-ingest's
simulate source in virtual time) goes through real Kafka -> velo-batch ->
velo-warehouse. Every fact row of the warehouse is compared with an
independent reference (reference_agg.py, written from the spec) computed
from velo-kdump's dump of the raw records and of velib_systems, never
from the C code.

The day: from 2026-03-28T22:30Z, a poll a virtual minute, 1780 polls (to
2026-03-30T04:10Z), so the local days 2026-03-29 of Dublin and Stockholm
(23 hours: daylight saving starts) and of New York close, and the partly
known 2026-03-28 of each too. Dublin's and New York's stations are
different subsets of data/seeds/dublin.json (written to the run dir).
"""
import datetime
import json
import math
import os
import subprocess
import sys
import tempfile
import time
import zoneinfo

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import reference_agg  # noqa: E402
from velotest import (BIN, RUN, SRC, Service, check, fail,  # noqa: E402
                      kdump, unique, wait_for)

START = "2026-03-28T22:30:00Z"
POLLS = 1780
HEARTBEAT_MS = 300 * 1000
LATENESS_MS = 120 * 1000
REL_TOL = 1e-9
SEEDS = os.path.join(SRC, "data", "seeds")
MEASURES = ("samples", "bikes_avg", "bikes_min", "bikes_max", "docks_avg",
            "docks_min", "docks_max", "minutes_empty", "minutes_full",
            "bikes_in", "bikes_out", "flow_reliable", "status", "capacity",
            "electric_avg")
DOUBLES = ("bikes_avg", "docks_avg", "minutes_empty", "minutes_full",
           "electric_avg")
TABLES = ("dim_system", "dim_station", "dim_time", "fact_station_hourly",
          "fact_station_daily")


T0 = time.time()


def log(msg):
    print("golden: [%5.1f s] %s" % (time.time() - T0, msg), flush=True)


def topics():
    return {k: unique("golden_" + k) for k in
            ("data", "systems", "ingest_dlq", "dlq")}


def sources(seed_dir):
    """The three simulate sources: (system, seed file, seed, zone)."""
    with open(os.path.join(SEEDS, "dublin.json")) as f:
        dublin = json.load(f)
    files = {}
    for name, part in (("dublin", dublin[:30]), ("ny", dublin[40:60])):
        files[name] = os.path.join(seed_dir, name + ".json")
        with open(files[name], "w") as f:
            json.dump(part, f)
    return [("sim:dublin", files["dublin"], 7, "Europe/Dublin"),
            ("sim:lund", os.path.join(SEEDS, "lund.json"), 11,
             "Europe/Stockholm"),
            ("sim:ny", files["ny"], 13, "America/New_York")]


def ingest_day(brokers, names):
    """velo-ingest runs the simulated day to its end and exits 0."""
    d = tempfile.mkdtemp(prefix="golden-seeds-", dir=RUN)
    args = [os.path.join(BIN, "velo-ingest"), "--kafka-brokers", brokers,
            "--admin-port", "0", "--topic", names["data"],
            "--systems-topic", names["systems"],
            "--dlq-topic", names["ingest_dlq"]]
    for system, path, seed, tz in sources(d):
        args += ["--source", "%s=simulate:%s,seed=%d,tz=%s,start=%s,step=60,"
                 "polls=%d" % (system, path, seed, tz, START, POLLS)]
    run_logged("velo-ingest", args, 0, 180)


def run_logged(name, args, want_rc, timeout=180):
    path = os.path.join(RUN, unique(name) + ".log")
    with open(path, "wb") as f:
        rc = subprocess.run(args, stdout=f, stderr=subprocess.STDOUT,
                            stdin=subprocess.DEVNULL,
                            timeout=timeout).returncode
    if rc != want_rc:
        with open(path, "rb") as f:
            fail("%s exited %d, want %d (%s):\n%s" % (
                name, rc, want_rc, " ".join(args[1:]),
                f.read().decode("utf8", "replace")[-4000:]))
    return path


def reference(brokers, names):
    """The expected rows from the raw records, and the zones."""
    records = kdump(brokers, names["data"], idle_ms=3000)
    systems = kdump(brokers, names["systems"], idle_ms=2000)
    zones = {r["value"]["system_id"]: r["value"]["timezone"] for r in systems}
    snames = {r["value"]["system_id"]: r["value"]["name"] for r in systems}
    check(sorted(zones) == ["sim:dublin", "sim:lund", "sim:ny"],
          "velib_systems: %s" % zones)
    check(all("fetched_at_ms" in r["value"] for r in records),
          "an undecoded record in the input")
    changes = count_changes(records)
    rows = reference_agg.aggregate(records, zones, HEARTBEAT_MS, LATENESS_MS)
    names_ = {(r["value"]["system_id"], r["value"]["station_id"]):
              r["value"].get("name", "") for r in records}
    days = sum(1 for k in rows if k[2] == "day")
    log("%d input records (%d changes of bikes), %d stations; reference: "
        "%d hourly + %d daily rows" % (len(records), changes, len(names_),
                                       len(rows) - days, days))
    check(changes >= 2000, "only %d changes: not a golden day" % changes)
    return {"rows": rows, "zones": zones, "systems": snames,
            "stations": names_,
            "records": len(records)}


def count_changes(records):
    last, n = {}, 0
    for r in records:
        v = r["value"]
        key = (v["system_id"], v["station_id"])
        bikes = v.get("bikes_available", 0)
        if key in last and last[key] != bikes:
            n += 1
        last[key] = bikes
    return n


class Batch:
    """One velo-batch deployment: its consumer group, transactional id and
    output topic."""

    def __init__(self, brokers, names, tag):
        self.brokers, self.names = brokers, names
        self.out = unique("golden_aggs_" + tag)
        self.group = unique("golden_bg_" + tag)
        self.txn = unique("golden_txn_" + tag)

    def args(self, extra):
        return [os.path.join(BIN, "velo-batch")] + list(extra) + [
            "--kafka-brokers", self.brokers, "--admin-port", "0",
            "--topic", self.names["data"],
            "--systems-topic", self.names["systems"],
            "--out-topic", self.out, "--dlq-topic", self.names["dlq"],
            "--group", self.group, "--transactional-id", self.txn]

    def once(self):
        run_logged("velo-batch", self.args(["--once"]), 0)

    def crash_after(self, records):
        """Continuous mode, small transactions, kill -9 (by itself) after
        this many records, inside an open transaction."""
        run_logged("velo-batch", self.args([
            "--crash-after-records", str(records), "--txn-max-records",
            "700", "--txn-interval-ms", "600000"]), -9, 60)

    def kill_after(self, seconds):
        """Continuous mode, kill -9 (by the test) after this long."""
        log_path = os.path.join(RUN, unique("velo-batch") + ".log")
        with open(log_path, "wb") as f:
            p = subprocess.Popen(self.args(["--txn-max-records", "500"]),
                                 stdout=f, stderr=subprocess.STDOUT,
                                 stdin=subprocess.DEVNULL)
            time.sleep(seconds)
            p.kill()
            p.wait()

    def committed(self):
        return kdump(self.brokers, self.out, raw=True, read_committed=True,
                     idle_ms=2000)


def check_no_twice(recs, ref, what):
    """The committed rows: each key once (the sim's input is in order, so
    no window is corrected), as many as the reference."""
    keys = [r["key"] for r in recs]
    check(len(keys) == len(set(keys)), "%s: a row committed twice" % what)
    check(len(keys) == len(ref["rows"]), "%s: %d rows committed, the "
          "reference has %d" % (what, len(keys), len(ref["rows"])))


# --- the warehouse --------------------------------------------------------

def warehouse(brokers, topic, db_url, group, env=None, *extra):
    args = ["--kafka-brokers", brokers, "--admin-port", "0",
            "--rpc-url", "tcp://127.0.0.1:0", "--db", db_url,
            "--topic", topic, "--dlq-topic", topic + ".dlq",
            "--group", group, "--batch-wait-ms", "200",
            "--retry-max-ms", "1000"] + list(extra)
    return Service("velo-warehouse", args, env=env)


def loader_crash(brokers, topic, db_url, group, env, rows, batch_size):
    """velo-warehouse --crash-after-rows: it kills itself (SIGKILL) inside
    a load transaction; returns once it is dead."""
    args = [os.path.join(BIN, "velo-warehouse"), "--kafka-brokers", brokers,
            "--admin-port", "0", "--rpc-url", "tcp://127.0.0.1:0",
            "--db", db_url, "--topic", topic, "--dlq-topic", topic + ".dlq",
            "--group", group, "--batch-wait-ms", "2000",
            "--batch-size", str(batch_size), "--crash-after-rows", str(rows)]
    full = dict(os.environ)
    full.update(env or {})
    path = os.path.join(RUN, unique("velo-warehouse-crash") + ".log")
    with open(path, "wb") as f:
        rc = subprocess.run(args, stdout=f, stderr=subprocess.STDOUT,
                            stdin=subprocess.DEVNULL, env=full,
                            timeout=180).returncode
    check(rc == -9, "velo-warehouse --crash-after-rows %d exited %d" % (
        rows, rc))


def fact_key(gran, row):
    return (row["system_id"], row["station_id"], gran,
            int(row["window_start_ms"]))


def normalise(row):
    """A fact row as the database returned it: bools and numbers."""
    out = dict(row)
    fr = out["flow_reliable"]
    out["flow_reliable"] = fr in (1, True, "1", "t", "true")
    for k in MEASURES:
        if out[k] == "":
            out[k] = None
        if k == "flow_reliable" or out[k] is None:
            continue
        if k == "status":
            out[k] = reference_agg.STATUS.get(out[k], out[k])
        out[k] = float(out[k]) if k in DOUBLES else int(out[k])
    return out


def close(a, b):
    if a is None or b is None:
        return a is None and b is None
    return a == b or math.isclose(a, b, rel_tol=REL_TOL, abs_tol=1e-12)


def compare_facts(facts, ref, what):
    """facts: {key: row} from the warehouse; every key of the reference
    there with every field equal, and no other."""
    want = ref["rows"]
    missing = sorted(set(want) - set(facts))
    extra = sorted(set(facts) - set(want))
    check(not missing, "%s: %d rows missing, e.g. %s" % (
        what, len(missing), missing[:3]))
    check(not extra, "%s: %d rows the reference does not have, e.g. %s"
          % (what, len(extra), extra[:3]))
    bad = []
    for key, w in want.items():
        got = normalise(facts[key])
        for k in MEASURES:
            ok = (close(got[k], w[k]) if k in DOUBLES
                  else got[k] == w[k])
            if not ok:
                bad.append("%s %s: warehouse %r, reference %r"
                           % (key, k, got[k], w[k]))
        if key[2] == "day" and got["local_date"] != w["local_date"]:
            bad.append("%s local_date: %r, want %r" % (
                key, got["local_date"], w["local_date"]))
    check(not bad, "%s: %d fields differ from the reference:\n%s" % (
        what, len(bad), "\n".join(bad[:20])))
    log("%s: all %d fact rows equal the reference" % (what, len(want)))


def check_dims(dim_time, dim_system, dim_station, ref, what):
    """dim_time holds the local calendar of every hour with an hourly row
    (computed here with zoneinfo: 01:00Z on 2026-03-29 is 02:00 in Dublin
    after 00:59 GMT, 03:00 in Stockholm), dim_system the zones and names
    of velib_systems (the names through velo-batch), dim_station one
    current version per station with the snapshot's name."""
    want = {}
    for (system, _, gran, start) in ref["rows"]:
        if gran != "hour":
            continue
        zone = zoneinfo.ZoneInfo(ref["zones"][system])
        local = datetime.datetime.fromtimestamp(
            start / 1000, datetime.timezone.utc).astimezone(zone)
        want[(system, start)] = (local.date().isoformat(), local.hour,
                                 (local.weekday() + 1) % 7)
    got = {(r["system_id"], int(r["hour_start_ms"])):
           (r["local_date"], int(r["local_hour"]), int(r["day_of_week"]))
           for r in dim_time}
    bad = [(k, got.get(k), v) for k, v in sorted(want.items())
           if got.get(k) != v]
    check(not bad and len(got) == len(want), "%s: dim_time differs (%d "
          "rows, want %d): %s" % (what, len(got), len(want), bad[:3]))
    zones = {r["system_id"]: r["time_zone"] for r in dim_system}
    check(zones == ref["zones"], "%s: dim_system zones %s" % (what, zones))
    snames = {r["system_id"]: r["name"] for r in dim_system}
    check(snames == ref["systems"], "%s: dim_system names %s, want %s"
          % (what, snames, ref["systems"]))
    names = {(r["system_id"], r["station_id"]): r["name"]
             for r in dim_station if int(r["is_current"]) == 1}
    check(names == ref["stations"] and len(dim_station) == len(names),
          "%s: dim_station differs from the snapshots' names" % what)
    log("%s: dim_time (%d hours), dim_system, dim_station as expected"
        % (what, len(got)))


# --- HistoryService through veloctl ---------------------------------------

def veloctl(wh, *args, rc=0):
    cmd = [os.path.join(BIN, "veloctl"), "--warehouse-rpc", wh.addrs[1],
           "--timeout-ms", "5000"] + list(args)
    out = subprocess.run(cmd, capture_output=True, timeout=60)
    check(out.returncode == rc, "veloctl %s -> %d: %s" % (
        " ".join(args), out.returncode, out.stderr.decode()))
    return out


STATUS_NAMES = {0: ("UNKNOWN", "STATION_STATUS_UNKNOWN"),
                1: ("OPEN", "STATION_STATUS_OPEN"),
                2: ("CLOSED", "STATION_STATUS_CLOSED")}


def same_as_reference(got, want, what):
    for k in MEASURES:
        g, w = got.get(k), want[k]
        if k == "status":
            ok = g in STATUS_NAMES[w] or g == w
        elif k == "flow_reliable":
            ok = bool(g) == w
        elif k in DOUBLES:
            ok = close(None if g is None else float(g), w)
        else:
            ok = (0 if g is None else int(g)) == w
        check(ok, "%s: %s is %r, reference %r" % (what, k, g, w))


def check_history(wh, ref, picks):
    """veloctl history (hourly and --daily) of a few stations of each
    system: exactly the reference's rows, oldest first."""
    rows = ref["rows"]
    for system, station in picks:
        for gran, flag in (("hour", []), ("day", ["--daily"])):
            want = sorted((k, r) for k, r in rows.items()
                          if k[:3] == (system, station, gran))
            out = veloctl(wh, "history", system, station, "--from",
                          "2026-03-27", "--to", "2026-04-01",
                          "--json", *flag)
            doc = json.loads(out.stdout)
            got = doc["rows"]
            check(len(got) == len(want), "history %s/%s %s: %d rows, "
                  "reference %d" % (system, station, gran, len(got),
                                    len(want)))
            for g, (k, w) in zip(got, want):
                check(int(g["window_start_ms"]) == k[3],
                      "history %s/%s order: %s" % (system, station, g))
                same_as_reference(g, w, "history %s/%s %s %d" % (
                    system, station, gran, k[3]))
    log("veloctl history: %d stations equal the reference" % len(picks))


def check_top(wh, ref):
    """veloctl top --by flow of every closed local day: the reference's
    daily rows ranked by bikes_in + bikes_out, ties by station id."""
    rows = ref["rows"]
    days = sorted({(k[0], r["local_date"]) for k, r in rows.items()
                   if k[2] == "day"})
    for system, date in days:
        day = [(k, r) for k, r in rows.items()
               if k[0] == system and k[2] == "day" and
               r["local_date"] == date]
        out = veloctl(wh, "top", system, "--date", date, "--by", "flow",
                      "--limit", "1000", "--json")
        got = json.loads(out.stdout)["stations"]
        check(len(got) == len(day), "top %s %s: %d stations, reference %d"
              % (system, date, len(got), len(day)))
        flows = [int(g.get("bikes_in", 0)) + int(g.get("bikes_out", 0))
                 for g in got]
        want_flows = sorted((r["bikes_in"] + r["bikes_out"] for _, r in day),
                            reverse=True)
        check(flows == want_flows, "top %s %s flows %s, reference %s" % (
            system, date, flows, want_flows))
        by_id = {k[1]: r for k, r in day}
        for i, g in enumerate(got):
            same_as_reference(g, by_id[g["station_id"]], "top %s %s #%d" % (
                system, date, i + 1))
        ids = [g["station_id"] for g in got]
        check(ids == top_order(day), "top %s %s order %s, reference %s" % (
            system, date, ids, top_order(day)))
    log("veloctl top --by flow: %d local days equal the reference"
        % len(days))


def top_order(day):
    """Highest flow first; ties by station id (the warehouse orders the
    id as text, byte by byte: "10" before "9")."""
    ranked = sorted(day, key=lambda kr: (
        -(kr[1]["bikes_in"] + kr[1]["bikes_out"]), kr[0][1].encode()))
    return [k[1] for k, _ in ranked]


def history_picks(ref):
    """Two stations of each system (the first and last by id)."""
    out = []
    for system in sorted(ref["zones"]):
        ids = sorted((s for (sy, s) in ref["stations"] if sy == system),
                     key=lambda s: (len(s), s))
        out += [(system, ids[0]), (system, ids[-1])]
    return out


def expected_counts(ref):
    days = sum(1 for k in ref["rows"] if k[2] == "day")
    return len(ref["rows"]) - days, days


def wait_loaded(count_fn, ref, what, timeout=120):
    hourly, daily = expected_counts(ref)
    wait_for(what, lambda: count_fn("fact_station_hourly") == hourly and
             count_fn("fact_station_daily") == daily, timeout, 0.3)
