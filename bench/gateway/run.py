#!/usr/bin/env python3
"""bench/gateway: velo-gateway against nginx, and its SSE fan-out.

  bench/gateway/run.py [--stations 3000] [--duration-s 5] [--runs 3]
                       [--clients 1000] [--seconds 30] [--procs 4]

1. Requests/s and p99 of /api/v1/stations?system=bench:x&limit=5000 (3,000
   stations from a replay source through real Kafka and velo-stream) with
   wrk at 1 and 50 connections, beside nginx serving the same bytes as a
   static file (its own config, pid file and free 127.0.0.1 port) in the
   same run. Target: at least 0.7x of nginx.
2. SSE fan-out: --clients event streams on a 10-station system whose
   stations all change every second; for each change, the delay from
   fetched_at_ms (ingest read the source and produced the record to Kafka)
   until the last client has it: p50, p99. Target: p99 under 100 ms.
3. The gateway's CPU with those clients connected and idle (ingest
   stopped) over 10 s. Target: under 1 %.

wrk and nginx are Debian packages: installed here with apt-get when
missing (not by scripts/setup).
"""
import argparse
import json
import multiprocessing as mp
import os
import re
import resource
import selectors
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
import benchlib  # noqa: E402
from benchlib import Kafka, wait_ready  # noqa: E402
from run import make_payloads  # noqa: E402  (bench/ingest/run.py)
from velotest import Service, free_port, unique, wait_for  # noqa: E402

NGINX_CONF = """worker_processes 2;
pid {d}/nginx.pid;
error_log {d}/error.log warn;
daemon off;
events {{ worker_connections 1024; }}
http {{
  access_log off;
  types {{ application/json json; }}
  server {{
    listen 127.0.0.1:{port};
    root {d}/www;
    location / {{ etag on; }}
  }}
}}
"""


def need_tools():
    missing = [p for p, b in (("wrk", "wrk"), ("nginx", "/usr/sbin/nginx"))
               if shutil.which(b) is None]
    if missing:
        print("bench: installing %s (apt-get)" % " ".join(missing))
        sudo = [] if os.geteuid() == 0 else ["sudo"]
        subprocess.run(sudo + ["apt-get", "install", "-y", "-qq",
                               "--no-install-recommends"] + missing,
                       check=True, stdout=subprocess.DEVNULL)


def wrk(url, conns, secs):
    out = subprocess.run(["wrk", "-t", str(min(conns, 2)), "-c", str(conns),
                          "-d", "%ds" % secs, "--latency", url],
                         capture_output=True, text=True, check=True).stdout
    if "Non-2xx" in out or "Socket errors" in out:
        sys.exit("wrk %s: errors:\n%s" % (url, out))
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    m = re.search(r"99%\s+([\d.]+)(us|ms|s)", out)
    p99 = float(m.group(1)) * {"us": 0.001, "ms": 1, "s": 1000}[m.group(2)]
    return rps, p99


def start_nginx(body):
    d = tempfile.mkdtemp(prefix="velo-bench-nginx-")
    os.makedirs(os.path.join(d, "www"))
    with open(os.path.join(d, "www", "stations.json"), "wb") as f:
        f.write(body)
    # nginx's workers drop root: they must be able to read the file.
    for p in (d, os.path.join(d, "www")):
        os.chmod(p, 0o755)
    os.chmod(os.path.join(d, "www", "stations.json"), 0o644)
    port = free_port()
    with open(os.path.join(d, "nginx.conf"), "w") as f:
        f.write(NGINX_CONF.format(d=d, port=port))
    p = subprocess.Popen(["/usr/sbin/nginx", "-c", os.path.join(d, "nginx.conf"),
                          "-p", d], stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)
    wait_for("nginx", lambda: _up(port), 10)
    return p, "http://127.0.0.1:%d/stations.json" % port


def _up(port):
    try:
        socket.create_connection(("127.0.0.1", port), 0.2).close()
        return True
    except OSError:
        return False


def http_get(addr, path):
    host, port = addr.rsplit(":", 1)
    s = socket.create_connection((host, int(port)), 10)
    s.sendall(("GET %s HTTP/1.0\r\nHost: x\r\n\r\n" % path).encode())
    data = b""
    while True:
        b = s.recv(1 << 20)
        if not b:
            break
        data += b
    s.close()
    return data.split(b"\r\n\r\n", 1)[1]


def bench_requests(gw, a):
    path = "/api/v1/stations?system=bench:x&limit=5000"
    body = http_get(gw.addrs[0], path)
    n = len(json.loads(body)["stations"])
    ngx, ngx_url = start_nginx(body)
    url = "http://%s%s" % (gw.addrs[0], path)
    rows = []
    try:
        for conns in (1, 50):
            g, x = [], []
            for _ in range(a.runs):
                g.append(wrk(url, conns, a.duration_s))
                x.append(wrk(ngx_url, conns, a.duration_s))
            rows.append((conns, g, x))
    finally:
        ngx.terminate()
        ngx.wait()
    print("requests: %d stations, %d bytes per answer, %d runs of %d s"
          % (n, len(body), a.runs, a.duration_s))
    for conns, g, x in rows:
        gr = statistics.median(r for r, _ in g)
        xr = statistics.median(r for r, _ in x)
        print("  %2d conn: gateway %.0f req/s p99 %.2f ms | nginx %.0f req/s "
              "p99 %.2f ms | ratio %.2f (target >= 0.7)"
              % (conns, gr, statistics.median(p for _, p in g), xr,
                 statistics.median(p for _, p in x), gr / xr))


def open_clients(addr, n):
    host, port = addr.rsplit(":", 1)
    sel = selectors.DefaultSelector()
    socks = []
    for _ in range(n):
        s = socket.create_connection((host, int(port)), 10)
        s.sendall(b"GET /api/v1/events?system=fan:x HTTP/1.1\r\nHost: x\r\n"
                  b"Accept: text/event-stream\r\n\r\n")
        s.setblocking(False)
        sel.register(s, selectors.EVENT_READ, {"buf": b"", "seen": set()})
        socks.append(s)
    return sel, socks


FETCHED = re.compile(rb'"station_id":"(\d+)".*?"fetched_at_ms":(\d+)')


def reader(addr, n, secs, out):
    """One process reading n clients for secs: for every change, when its
    last client here had it (ms) and how many had it."""
    sel, socks = open_clients(addr, n)
    out.put(("connected", n))
    last, count = {}, {}
    deadline = time.time() + secs
    while time.time() < deadline:
        for key, _ in sel.select(0.5):
            now = time.time() * 1000
            st = key.data
            try:
                chunk = key.fileobj.recv(1 << 16)
            except BlockingIOError:
                continue
            if not chunk:
                continue
            st["buf"] += chunk
            events = st["buf"].split(b"\n\n")
            st["buf"] = events.pop()
            for ev in events:
                m = FETCHED.search(ev)
                if not m:
                    continue
                k = (m.group(1), int(m.group(2)))
                if k in st["seen"]:
                    continue
                st["seen"].add(k)
                count[k] = count.get(k, 0) + 1
                last[k] = now
    out.put(("done", {k: (last[k], count[k]) for k in last}))
    time.sleep(15)  # stay connected through the idle-CPU measurement
    for s in socks:
        s.close()


def fanout(addr, clients, procs, secs):
    """clients event streams over procs reader processes (one Python
    process cannot read 1,000 sockets as fast as the gateway writes);
    returns the delays (ms) from fetched_at to the last client, for the
    changes every client got."""
    q = mp.Queue()
    per = [clients // procs + (1 if i < clients % procs else 0)
           for i in range(procs)]
    ps = [mp.Process(target=reader, args=(addr, n, secs, q)) for n in per]
    for p in ps:
        p.start()
    got = [q.get(timeout=120) for _ in ps]  # every client connected
    merged = {}
    for _ in ps:
        kind, d = q.get(timeout=secs + 120)
        for k, (t, n) in d.items():
            t0, n0 = merged.get(k, (0, 0))
            merged[k] = (max(t, t0), n + n0)
    delays = sorted(t - k[1] for k, (t, n) in merged.items() if n == clients)
    return ps, delays, sum(n for _, n in got)


def cpu_ticks(pid):
    f = open("/proc/%d/stat" % pid).read().rsplit(")", 1)[1].split()
    return int(f[11]) + int(f[12])


def bench_sse(gw, ingest, a):
    ps, delays, n = fanout(gw.addrs[0], a.clients, a.procs, a.seconds)
    ingest.stop()  # idle from here: no more changes
    time.sleep(2)
    connected = gw.metric("velo_gateway_sse_clients")
    hz = os.sysconf("SC_CLK_TCK")
    t0, c0 = time.time(), cpu_ticks(gw.proc.pid)
    time.sleep(10)
    cpu = (cpu_ticks(gw.proc.pid) - c0) / hz / (time.time() - t0) * 100
    for p in ps:
        p.join()
    if len(delays) < 2:
        print("sse: only %d changes reached every client" % len(delays))
        return
    p = lambda q: delays[min(len(delays) - 1, int(q * len(delays)))]
    print("sse: %d clients (%d reader processes), %d changes reached all: "
          "change (fetched_at) -> last client p50 %.1f ms, p99 %.1f ms "
          "(target < 100 ms)" % (n, a.procs, len(delays), p(0.5), p(0.99)))
    print("sse: gateway CPU with %d idle clients: %.2f %% of a core "
          "(target < 1 %%)" % (connected, cpu))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--stations", type=int, default=3000)
    ap.add_argument("--duration-s", type=int, default=5)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--clients", type=int, default=1000)
    ap.add_argument("--seconds", type=int, default=30,
                    help="SSE: how long the clients read changes")
    ap.add_argument("--procs", type=int, default=4,
                    help="SSE: reader processes the clients are spread over")
    ap.add_argument("--only", choices=("requests", "sse"))
    ap.add_argument("--no-cache", action="store_true",
                    help="gateway --list-cache-ms 0: every answer rendered")
    a = ap.parse_args()
    need_tools()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 65536), hard))
    big, fan = tempfile.mkdtemp(), tempfile.mkdtemp()
    make_payloads(big, a.stations, 1)
    make_payloads(fan, 10, 2)
    with Kafka() as k:
        topic = unique("bench_gw")
        ingest = Service("velo-ingest", [
            "--admin-port", "0", "--kafka-brokers", k.addr, "--topic", topic,
            "--source", "bench:x=replay:%s,interval=60,loop=1" % big,
            "--source", "fan:x=replay:%s,interval=1,loop=1" % fan,
            "--log-level", "warn"])
        stream = Service("velo-stream", [
            "--admin-port", "0", "--kafka-brokers", k.addr, "--topic", topic,
            "--rpc-url", "tcp://127.0.0.1:0", "--pub-url", "tcp://127.0.0.1:0",
            "--log-level", "warn"])
        wait_ready(stream)
        gw = Service("velo-gateway", [
            "--port", "0", "--admin-port", "0", "--stream-rpc",
            stream.addrs[1], "--stream-pub", stream.addrs[2],
            "--rate-limit", "1000000000", "--rate-burst", "1000000",
            "--access-log=false", "--log-level", "warn"]
            + (["--list-cache-ms", "0"] if a.no_cache else []),
            admin_last=True)
        wait_for("%d stations through the gateway" % a.stations, lambda: (
            '"total":%d' % a.stations).encode() in http_get(
            gw.addrs[0], "/api/v1/stations?system=bench:x&limit=1"), 120)
        if a.only != "sse":
            bench_requests(gw, a)
        if a.only != "requests":
            bench_sse(gw, ingest, a)
        for svc in (gw, stream):
            svc.stop()


if __name__ == "__main__":
    main()
