#!/usr/bin/env python3
"""batch_e2e: StationSnapshots on real Kafka -> velo-batch --once -> the
exact hourly and daily rows on the output topic (read_committed), a second
run that adds nothing, and a third that adds only the rows new input
completes. Then kill -9 inside an open transaction, and a restart that
commits exactly the same rows, none twice; then --schedule (a pass at the
next minute, the same rows, exit 0 on SIGTERM).

One station of system test:bxl (Europe/Brussels), heartbeat 1 h, a sample
every 30 min from 2026-03-27T22:30Z to 2026-03-29T22:30Z, 4 bikes and 16
docks except 0 bikes (20 docks) at 11:00, 11:30, 12:00 and 12:30 on
2026-03-28 (UTC). Hand-computed expectations:
- hour 2026-03-28T11:00Z: samples 2, bikes_avg 0, minutes_empty 60,
  bikes_out 4 (4 -> 0 at 11:00), bikes_in 0, reliable;
- hour 13:00Z: bikes_in 4 (0 -> 4 at 13:00), bikes_avg 4;
- hour 2026-03-27T22:00Z: first sample at 22:30, known 30 min, unreliable;
- day 2026-03-28 in Brussels, [03-27T23:00Z, 03-28T23:00Z), 24 h:
  48 samples, bikes_avg (22 h * 4 + 2 h * 0) / 24 = 88/24, 120 min empty,
  in 4, out 4, reliable;
- day 2026-03-29 (daylight saving starts): [03-28T23:00Z, 03-29T22:00Z),
  23 h: 46 samples, bikes_avg 4;
- the watermark (22:30Z on 03-29) closes hours up to [21:00Z, 22:00Z) and
  days up to 2026-03-29: 48 hourly rows (03-27T22Z .. 03-29T21Z) and 3
  daily rows (03-27 has 30 min of information).
One undecodable record goes to the dead-letter topic, once.
"""
import base64
import os
import struct
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from velotest import (BIN, RUN, Service, check, fail,  # noqa: E402
                      kafka_addr, kdump, unique, wait_for)

H = 3600 * 1000
T_START = 1774650600000  # 2026-03-27T22:30:00Z
T_END = 1774823400000    # 2026-03-29T22:30:00Z
EMPTY_FROM = 1774695600000  # 2026-03-28T11:00:00Z
EMPTY_TO = 1774702800000    # 2026-03-28T13:00:00Z (back to 4 bikes)


def varint(n):
    out = b""
    n &= (1 << 64) - 1
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out += bytes([b | 0x80])
        else:
            return out + bytes([b])


def field_varint(no, v):
    return varint(no << 3) + varint(v)


def field_str(no, s):
    b = s.encode()
    return varint(no << 3 | 2) + varint(len(b)) + b


def snapshot(t, bikes):
    # StationSnapshot: system_id 1, station_id 2, capacity 7, bikes 8,
    # docks 9, status 12 (OPEN = 1), fetched_at_ms 20.
    return (field_str(1, "test:bxl") + field_str(2, "s1") +
            field_varint(7, 20) + field_varint(8, bikes) +
            field_varint(9, 20 - bikes) + field_varint(12, 1) +
            field_varint(20, t))


def system_info(name="Test Brussels"):
    return (field_str(1, "test:bxl") + field_str(2, name) +
            field_str(4, "Europe/Brussels"))


def decode(buf):
    """Minimal protobuf decoder: {field: value} (last one wins)."""
    out, i = {}, 0
    while i < len(buf):
        key, i = read_varint(buf, i)
        no, wt = key >> 3, key & 7
        if wt == 0:
            out[no], i = read_varint(buf, i)
        elif wt == 1:
            out[no] = struct.unpack("<d", buf[i:i + 8])[0]
            i += 8
        elif wt == 2:
            n, i = read_varint(buf, i)
            out[no] = buf[i:i + n].decode()
            i += n
        else:
            fail("unexpected wire type %d" % wt)
    return out


def read_varint(buf, i):
    shift = n = 0
    while True:
        b = buf[i]
        i += 1
        n |= (b & 0x7F) << shift
        shift += 7
        if not b & 0x80:
            return n, i


def produce(brokers, topic, key, values):
    d = tempfile.mkdtemp(prefix="batch-in-", dir=RUN)
    files = []
    for n, v in enumerate(values):
        path = os.path.join(d, "%06d" % n)
        with open(path, "wb") as f:
            f.write(v)
        files.append(path)
    # kcat sends each file as one message, in order.
    subprocess.run(["kcat", "-P", "-b", brokers, "-t", topic, "-k", key] +
                   files, check=True, timeout=60)


def samples(t_from, t_to):
    out = []
    t = t_from
    while t <= t_to:
        bikes = 0 if EMPTY_FROM <= t < EMPTY_TO else 4
        out.append(snapshot(t, bikes))
        t += H // 2
    return out


def run_batch(brokers, names, extra=("--once",), want_rc=0):
    args = [os.path.join(BIN, "velo-batch")] + list(extra) + [
            "--kafka-brokers", brokers, "--admin-port", "0",
            "--topic", names["data"], "--systems-topic", names["systems"],
            "--out-topic", names["out"], "--dlq-topic", names["dlq"],
            "--group", names["group"],
            "--transactional-id", names["txn"], "--heartbeat-s", "3600"]
    log = os.path.join(RUN, unique("batch") + ".log")
    with open(log, "wb") as f:
        rc = subprocess.run(args, stdout=f, stderr=subprocess.STDOUT,
                            stdin=subprocess.DEVNULL, timeout=120).returncode
    if rc != want_rc:
        with open(log, "rb") as f:
            fail("velo-batch %s exited %d, want %d:\n%s"
                 % (" ".join(extra), rc, want_rc,
                    f.read().decode("utf8", "replace")[-4000:]))


def run_once(brokers, names):
    run_batch(brokers, names)


def rows(brokers, topic):
    out = {}
    recs = kdump(brokers, topic, raw=True, read_committed=True)
    for r in recs:
        key = r["key"]
        check(key not in out, "row %s emitted twice" % key)
        out[key] = decode(base64.b64decode(r["value_b64"]))
        want = ("DailyStationStats" if "/daily/" in key
                else "HourlyStationStats")
        check(want in r["headers"].get("content-type", ""),
              "content-type of %s: %s" % (key, r["headers"]))
    return out


def close(a, b):
    return abs(a - b) < 1e-9


def check_rows(got):
    hourly = [k for k in got if "/hourly/" in k]
    daily = sorted(k for k in got if "/daily/" in k)
    # system_name 33 (both messages), from SystemInfo.name.
    named = [k for k in got if got[k].get(33) == "Test Brussels"]
    check(len(named) == len(got), "%d of %d rows carry the system name"
          % (len(named), len(got)))
    check(len(hourly) == 48, "%d hourly rows, want 48" % len(hourly))
    check(daily == ["test:bxl/s1/daily/2026-03-27",
                    "test:bxl/s1/daily/2026-03-28",
                    "test:bxl/s1/daily/2026-03-29"], "daily rows: %s" % daily)
    # HourlyStationStats: samples 10, bikes_avg 11, minutes_empty 17,
    # bikes_in 19, bikes_out 20, flow_reliable 21, minutes_known 25.
    h = got["test:bxl/s1/hourly/2026-03-28T11:00Z"]
    check(h[10] == 2 and close(h[11], 0.0) and close(h[17], 60.0) and
          h[20] == 4 and h.get(19, 0) == 0 and h[21] == 1,
          "hour 11:00Z: %s" % h)
    h = got["test:bxl/s1/hourly/2026-03-28T13:00Z"]
    check(h[19] == 4 and close(h[11], 4.0), "hour 13:00Z: %s" % h)
    h = got["test:bxl/s1/hourly/2026-03-27T22:00Z"]
    check(close(h[25], 30.0) and h[21] == 0, "first hour: %s" % h)
    # DailyStationStats: window_start 3, window_end 4, local_date 5, tz 6.
    d = got["test:bxl/s1/daily/2026-03-28"]
    check(d[3] == 1774652400000 and d[4] - d[3] == 24 * H and
          d[5] == "2026-03-28" and d[6] == "Europe/Brussels",
          "day 03-28 window: %s" % d)
    check(d[10] == 48 and close(d[11], 88.0 / 24.0) and close(d[17], 120.0)
          and d[19] == 4 and d[20] == 4 and d[21] == 1,
          "day 03-28 values: %s" % d)
    d = got["test:bxl/s1/daily/2026-03-29"]
    check(d[4] - d[3] == 23 * H and d[10] == 46 and close(d[11], 4.0),
          "day 03-29 (23 h): %s" % d)


def setup(brokers):
    names = {k: unique("batch_" + k) for k in
             ("data", "systems", "out", "dlq", "group", "txn")}
    produce(brokers, names["systems"], "test:bxl", [system_info()])
    half = samples(T_START, T_START + 20 * H)
    produce(brokers, names["data"], "test:bxl/s1",
            half + [b"\xff\xff garbage"])
    produce(brokers, names["data"], "test:bxl/s1",
            samples(T_START + 20 * H + H // 2, T_END))
    return names


def killed_mid_transaction(brokers):
    """Continuous mode killed (SIGKILL) inside an open transaction after 30
    records (transactions of 7): a --once run afterwards commits exactly
    the rows of an undisturbed run, none twice."""
    names = setup(brokers)
    run_batch(brokers, names, ("--crash-after-records", "30",
                               "--txn-max-records", "7",
                               "--txn-interval-ms", "600000"), -9)
    partial = rows(brokers, names["out"])
    check(0 < len(partial) < 51, "%d rows before the kill" % len(partial))
    run_once(brokers, names)
    check_rows(rows(brokers, names["out"]))
    print("batch_e2e: kill -9: %d rows committed before, %d in the log"
          % (len(partial), len(kdump(brokers, names["out"], raw=True))))


def scheduled(brokers):
    """--schedule "* * * * *": stays up, runs a pass at the next minute
    with the same rows as --once, serves /metrics, exits 0 on SIGTERM."""
    names = setup(brokers)
    svc = Service("velo-batch", [
        "--schedule", "* * * * *", "--kafka-brokers", brokers,
        "--admin-port", "0", "--topic", names["data"],
        "--systems-topic", names["systems"], "--out-topic", names["out"],
        "--dlq-topic", names["dlq"], "--group", names["group"],
        "--transactional-id", names["txn"], "--heartbeat-s", "3600"])
    wait_for("a scheduled pass", lambda: svc.events("batch.pass.done"), 90,
             0.5)
    check(svc.metric("velo_batch_rows_total") == 51,
          "rows_total %s" % svc.metric("velo_batch_rows_total"))
    check_rows(rows(brokers, names["out"]))
    check(svc.stop() == 0, "velo-batch --schedule exit status after SIGTERM")


def main():
    brokers = kafka_addr()
    names = setup(brokers)

    run_once(brokers, names)
    got = rows(brokers, names["out"])
    check_rows(got)
    dead = kdump(brokers, names["dlq"], raw=True)
    check(len(dead) == 1 and dead[0]["headers"].get("velo-error") and
          dead[0]["headers"].get("velo-source") == "velo-batch" and
          dead[0]["headers"].get("velo-origin-topic") == names["data"],
          "dead letters: %s" % dead)

    # Nothing new: nothing emitted, nothing dead-lettered again.
    run_once(brokers, names)
    check(len(kdump(brokers, names["out"], raw=True)) == len(got),
          "a second --once added rows")
    check(len(kdump(brokers, names["dlq"], raw=True)) == 1,
          "a second --once dead-lettered again")

    # Two more hours of input complete hours 22:00Z and 23:00Z only; the
    # system was renamed before them: they carry the new name.
    produce(brokers, names["systems"], "test:bxl",
            [system_info("Brussels Bikes")])
    produce(brokers, names["data"], "test:bxl/s1",
            samples(T_END + H // 2, T_END + 2 * H))
    run_once(brokers, names)
    after = rows(brokers, names["out"])
    new = sorted(set(after) - set(got))
    check(new == ["test:bxl/s1/hourly/2026-03-29T22:00Z",
                  "test:bxl/s1/hourly/2026-03-29T23:00Z"],
          "third run added %s" % new)
    check(all(after[k].get(33) == "Brussels Bikes" for k in new),
          "renamed system: %s" % [after[k].get(33) for k in new])
    print("batch_e2e: ok (%d rows)" % len(after))
    killed_mid_transaction(brokers)
    scheduled(brokers)
    print("batch_e2e: --schedule ok")


if __name__ == "__main__":
    main()
