"""An independent reference for velo-batch's hourly and daily aggregates.

Written from the semantics in docs/architecture.md ("velo-batch"), not from
the C code, so the golden test compares two implementations of one spec:

- a sample's state holds from its fetched_at_ms until the station's next
  sample or for at most the heartbeat interval, whichever comes first;
  time past that holds no information and counts toward nothing;
- averages, minutes empty/full and the dominant status are weighted by the
  time with information inside the window; min/max and capacity cover the
  states in force for some time inside it; samples counts the snapshots
  fetched inside it;
- the change between two consecutive samples belongs to the window holding
  the later one; it counts in bikes_in/bikes_out when the two are at most
  one heartbeat apart; otherwise the window's flows are unreliable;
  flow_reliable also needs information over the whole window;
- hourly windows are UTC hours, daily windows the local days of the
  system's zone (23 or 25 hours across a daylight-saving change);
- a window is emitted when end + lateness <= the watermark of its Kafka
  partition (the largest fetched_at_ms read on it), with a row per station
  that had information in it.
"""

import datetime
import zoneinfo

HOUR_MS = 3600 * 1000
STATUS = {
    "STATION_STATUS_UNKNOWN": 0, "UNKNOWN": 0, 0: 0,
    "STATION_STATUS_OPEN": 1, "OPEN": 1, 1: 1,
    "STATION_STATUS_CLOSED": 2, "CLOSED": 2, 2: 2,
}


def sample_of(value):
    """The parts of a StationSnapshot (as velo-kdump prints it) that
    aggregates use."""
    return {
        "t": int(value["fetched_at_ms"]),
        "bikes": int(value.get("bikes_available", 0)),
        "docks": int(value.get("docks_available", 0)),
        "capacity": int(value.get("capacity", 0)),
        "electric": value.get("electric_bikes"),
        "status": STATUS.get(value.get("status", 0), 0),
    }


def window(samples, start, end, hb):
    """Statistics of [start, end) from samples sorted by t (distinct), or
    None when no time inside the window has information."""
    known = empty = full = 0
    bikes_sum = docks_sum = el_sum = el_ms = 0
    by_status = [0, 0, 0]
    mins = {"bikes": None, "docks": None}
    maxs = {"bikes": None, "docks": None, "capacity": None}
    flows_in = flows_out = n_inside = 0
    reliable = True
    for i, s in enumerate(samples):
        nxt = samples[i + 1]["t"] if i + 1 < len(samples) else None
        until = s["t"] + hb if nxt is None else min(nxt, s["t"] + hb)
        lo, hi = max(s["t"], start), min(until, end)
        if start <= s["t"] < end:
            n_inside += 1
            if i > 0:
                prev = samples[i - 1]
                if s["t"] - prev["t"] <= hb:
                    d = s["bikes"] - prev["bikes"]
                    flows_in += max(d, 0)
                    flows_out += max(-d, 0)
                else:
                    reliable = False
        if hi <= lo:
            continue
        ms = hi - lo
        known += ms
        bikes_sum += s["bikes"] * ms
        docks_sum += s["docks"] * ms
        if s["electric"] is not None:
            el_sum += int(s["electric"]) * ms
            el_ms += ms
        empty += ms if s["bikes"] == 0 else 0
        full += ms if s["docks"] == 0 else 0
        by_status[s["status"]] += ms
        for k in ("bikes", "docks"):
            mins[k] = s[k] if mins[k] is None else min(mins[k], s[k])
            maxs[k] = s[k] if maxs[k] is None else max(maxs[k], s[k])
        maxs["capacity"] = (s["capacity"] if maxs["capacity"] is None
                            else max(maxs["capacity"], s["capacity"]))
    if known == 0:
        return None
    dominant = max(range(3), key=lambda st: (by_status[st], -st))
    row = {
        "samples": n_inside,
        "bikes_avg": bikes_sum / known,
        "bikes_min": mins["bikes"], "bikes_max": maxs["bikes"],
        "docks_avg": docks_sum / known,
        "docks_min": mins["docks"], "docks_max": maxs["docks"],
        "minutes_empty": empty / 60000.0,
        "minutes_full": full / 60000.0,
        "bikes_in": flows_in, "bikes_out": flows_out,
        "flow_reliable": reliable and known == end - start,
        "status": dominant,
        "capacity": maxs["capacity"],
        "electric_avg": el_sum / el_ms if el_ms else None,
    }
    return row


def hours(samples, hb):
    """Every UTC hour a station's samples can have information in."""
    first = samples[0]["t"] // HOUR_MS * HOUR_MS
    last = samples[-1]["t"] + hb
    return range(first, last, HOUR_MS)


def days(samples, hb, tz):
    """(local date, start ms, end ms) of every local day with information."""
    zone = zoneinfo.ZoneInfo(tz)
    utc = datetime.timezone.utc
    first = datetime.datetime.fromtimestamp(samples[0]["t"] / 1000, utc)
    day = first.astimezone(zone).date()
    out = []
    while True:
        start = datetime.datetime.combine(day, datetime.time(), zone)
        nxt = datetime.datetime.combine(day + datetime.timedelta(days=1),
                                        datetime.time(), zone)
        s_ms = int(start.timestamp() * 1000)
        if s_ms >= samples[-1]["t"] + hb:
            return out
        out.append((day.isoformat(), s_ms, int(nxt.timestamp() * 1000)))
        day += datetime.timedelta(days=1)


def aggregate(records, zones, hb_ms, lateness_ms):
    """records: velo-kdump JSON objects of velib_data (with partition and a
    decoded value); zones: system_id -> IANA zone. Returns
    {(system, station, "hour"|"day", start_ms): row} for every window the
    --once run must emit."""
    stations, watermark = {}, {}
    for r in records:
        v = r["value"]
        key = (v["system_id"], v["station_id"])
        s = sample_of(v)
        st = stations.setdefault(key, {"partition": r["partition"],
                                       "samples": {}})
        st["samples"][s["t"]] = s  # distinct times: the later record wins
        watermark[r["partition"]] = max(watermark.get(r["partition"], 0),
                                        s["t"])
    rows = {}
    for (system, station), st in stations.items():
        samples = [st["samples"][t] for t in sorted(st["samples"])]
        wm = watermark[st["partition"]]
        for h in hours(samples, hb_ms):
            if h + HOUR_MS + lateness_ms > wm:
                continue
            row = window(samples, h, h + HOUR_MS, hb_ms)
            if row is not None:
                rows[(system, station, "hour", h)] = row
        if system not in zones:
            continue
        for date, start, end in days(samples, hb_ms, zones[system]):
            if end + lateness_ms > wm:
                continue
            row = window(samples, start, end, hb_ms)
            if row is not None:
                row["local_date"] = date
                rows[(system, station, "day", start)] = row
    return rows
