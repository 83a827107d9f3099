"""Service discovery through a real Consul agent (v1.16.3, `agent -dev`).

discovery (fixtures kafka + consul):
- velo-ingest and two velo-stream instances register (name, id, port,
  meta, check); `veloctl status` lists them with their checks and
  `veloctl station` finds velo-stream through Consul alone;
- a long-lived client (velo-rpcloop: watch + RPC failover) calls
  GetStation while one stream is killed with -9: no call fails; the dead
  one turns critical, then is deregistered after the configured time
  (60 s, Consul's minimum, plus its 30 s reap interval);
- SIGTERM deregisters the other at once (before it stops serving);
- a stream that cannot become ready (no broker) is registered but never
  passing.
sse (fixtures kafka + consul): velo-gateway's live events follow the PUBs
  of the streams Consul names, across a kill -9 (snapshot, then live).
leader (fixtures kafka + consul): two velo-ingest replicas, exactly one
  polls (requests counted at the test's source server, per API key); kill
  -9 the leader: the standby polls within 2 x TTL + one interval; SIGTERM
  releases at once; every station is in Kafka afterwards.
outage (fixture kafka; its own agent, stopped and restarted on one port):
- the client keeps calling successfully on its cached list while Consul
  is down; /readyz stays 200 with the Consul state as detail and
  velo_consul_up drops to 0; the agent back (empty, -dev): the service
  registers again by itself.

Skips (77) when the Consul binary is not built yet (scripts/setup).
"""
import json
import os
import subprocess
import sys
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ingest_e2e import KEY  # noqa: E402
from source_server import SourceServer  # noqa: E402
from velotest import (BIN, FIXTURES, RUN, SRC, Service, check, fail,  # noqa: E402
                      kafka_addr, kdump, unique, wait_for)

HARNESS = os.path.join(SRC, "tests", "harness", "consul.sh")
CONSUL_BIN = os.path.join(SRC, ".deps", "consul", "consul")


def skip(msg):
    print("SKIP: " + msg)
    sys.exit(77)


def consul_fixture_addr():
    path = os.path.join(RUN, "consul.addr")
    if not os.path.exists(path):
        skip("no Consul agent: the binary is not built yet (scripts/setup "
             "builds .deps/consul/consul once, ~10 min)")
    with open(path) as f:
        return f.read().strip()


def consul_get(addr, path):
    with urllib.request.urlopen(addr + path, timeout=10) as r:
        return json.loads(r.read().decode() or "null")


def instances(addr, name, passing=False):
    try:
        entries = consul_get(addr, "/v1/health/service/%s%s" % (
            name, "?passing=1" if passing else ""))
    except OSError:
        return None
    return {e["Service"]["ID"]: e for e in entries}


def consul_env(addr, **extra):
    # Tests share the fixture agent (ctest -j): each its own lock key.
    env = {"VELO_CONSUL_ADDR": addr, "VELO_CONSUL_CHECK_INTERVAL_MS": "500",
           "VELO_CONSUL_DEREGISTER_AFTER_S": "60",
           "VELO_INGEST_LEADER_KEY": "velopipe/test-%d/ingest/leader"
           % os.getpid()}
    env.update(extra)
    return env


def start_stream(brokers, topic, dlq, env):
    return Service("velo-stream", [
        "--admin-port", "0", "--kafka-brokers", brokers, "--topic", topic,
        "--dlq-topic", dlq, "--rpc-url", "tcp://127.0.0.1:0",
        "--pub-url", "tcp://127.0.0.1:0"], env=env, ready_timeout=60)


def stream_id(svc):
    port = svc.addrs[1].rsplit(":", 1)[1]
    return "velo-stream-%s-%s" % (os.uname().nodename, port)


def admin_id(svc):
    """The id of a service registered on its admin port (velo-ingest)."""
    port = svc.addrs[0].rsplit(":", 1)[1]
    return "%s-%s-%s" % (svc.name, os.uname().nodename, port)


def wait_station_42(addr):
    """Until velo-stream serves the station the clients ask for."""
    wait_for("station 42 through Consul", lambda: veloctl(
        addr, "station", "jcdecaux:dublin", "42").returncode == 0, 60,
        every=0.5)


def veloctl(addr, *args):
    env = dict(os.environ)
    env.pop("VELO_STREAM_RPC", None)
    env["VELO_CONSUL_ADDR"] = addr
    return subprocess.run([os.path.join(BIN, "veloctl")] + list(args),
                          capture_output=True, timeout=60, env=env)


def rpcloop(addr, seconds):
    return subprocess.Popen(
        [os.path.join(BIN, "velo-rpcloop"), "--consul", addr, "--seconds",
         str(seconds), "--system", "jcdecaux:dublin", "--station", "42",
         "--every-ms", "10", "--timeout-ms", "2000"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def rpcloop_result(p):
    out, err = p.communicate(timeout=120)
    lines = out.decode().strip().splitlines()
    check(lines, "velo-rpcloop printed nothing: %s" % err.decode()[-2000:])
    return p.returncode, json.loads(lines[-1])


def pipeline(addr, brokers):
    """velo-ingest (registered too) filling a topic, plus two streams."""
    srv = SourceServer(FIXTURES)
    topic, dlq = unique("velib_data"), unique("velib_data_dlq")
    # ingest reports its readiness itself (a TTL check); streams are
    # polled by the agent (HTTP check): both kinds on the real agent.
    env = consul_env(addr, JCDECAUX_API_KEY=KEY, VELO_CONSUL_CHECK="ttl")
    ingest = Service("velo-ingest", [
        "--admin-port", "0", "--kafka-brokers", brokers, "--topic", topic,
        "--dlq-topic", dlq, "--interval-s", "1",
        "--source", "jcdecaux:dublin=jcdecaux-v1:%s/ok" % srv.base], env=env)
    streams = [start_stream(brokers, topic, dlq, consul_env(addr))
               for _ in range(2)]
    return srv, ingest, streams, topic, dlq


def check_registration(addr, streams):
    ids = [stream_id(s) for s in streams]
    got = wait_for("both streams passing in Consul", lambda: (
        lambda i: i if i and all(x in i for x in ids) else None)(
            instances(addr, "velo-stream", passing=True)), 60)
    svc = got[ids[0]]["Service"]
    check(svc["Port"] == int(streams[0].addrs[1].rsplit(":", 1)[1]),
          "registered port %s" % svc["Port"])
    check(svc["Address"] == "127.0.0.1", "address %s" % svc["Address"])
    check(svc["Meta"].get("proto") == "velo.v1.StationService",
          "meta %s" % svc["Meta"])
    check(svc["Meta"].get("pub") == streams[0].addrs[2], "pub meta")
    check(svc["Meta"].get("admin_port") == streams[0].addrs[0].rsplit(
        ":", 1)[1], "admin_port meta")
    check("velopipe" in svc["Tags"], "tags %s" % svc["Tags"])
    return ids


def check_veloctl(addr, ours):
    """veloctl status/station through Consul. Other tests may share the
    agent (ctest -j): only our instances must pass; status exits 1 only
    when another one does not."""
    st = veloctl(addr, "status")
    text = st.stdout.decode()
    check(all(i in text for i in ours), "veloctl status lists %s:\n%s"
          % (ours, text))
    out = veloctl(addr, "status", "--json")
    doc = json.loads(out.stdout)
    mine = [c for c in doc["checks"] if c["id"] in ours]
    others_bad = any(c["status"] != "passing" for c in doc["checks"]
                     if c["id"] not in ours)
    check(doc["source"] == "consul" and len(mine) >= len(ours) and all(
        c["status"] == "passing" for c in mine), "status --json: %s" % mine)
    check(out.returncode == (1 if others_bad else 0), "status exit %d"
          % out.returncode)
    check(any("200 OK" in c["output"] for c in mine),
          "check output shown: %s" % mine)
    one = veloctl(addr, "station", "jcdecaux:dublin", "42", "--json")
    check(one.returncode == 0, "veloctl station through Consul: %s"
          % one.stderr.decode())
    check(json.loads(one.stdout)["station_id"] == "42", "station 42")


def check_warehouse(addr, brokers):
    """velo-warehouse registers its HistoryService; veloctl top finds it
    through Consul alone (an empty warehouse answers, exit 0 or 1, never
    3 "unreachable")."""
    db = os.path.join(RUN, unique("consul_wh") + ".db")
    topic = unique("velib_aggregates")
    wh = Service("velo-warehouse", [
        "--kafka-brokers", brokers, "--admin-port", "0",
        "--rpc-url", "tcp://127.0.0.1:0", "--db", "sqlite://" + db,
        "--topic", topic, "--dlq-topic", topic + ".dlq",
        "--group", unique("wh")], env=consul_env(addr), ready_timeout=60)
    wid = "velo-warehouse-%s-%s" % (os.uname().nodename,
                                    wh.addrs[1].rsplit(":", 1)[1])
    got = wait_for("warehouse passing", lambda: (
        lambda i: i if i and wid in i else None)(
            instances(addr, "velo-warehouse", passing=True)), 60)
    check(got[wid]["Service"]["Meta"].get("proto") ==
          "velo.v1.HistoryService", "warehouse meta %s"
          % got[wid]["Service"]["Meta"])
    top = veloctl(addr, "top", "jcdecaux:dublin")
    check(top.returncode in (0, 1) and b"Consul" not in top.stderr,
          "veloctl top through Consul -> %d: %s" % (top.returncode,
                                                     top.stderr))
    check(wh.stop() == 0, "warehouse exit status")
    check(wid not in instances(addr, "velo-warehouse"),
          "warehouse still registered after SIGTERM")


def consul_gateway(addr):
    """velo-gateway whose static upstream addresses are all dead: what it
    reaches, it found through Consul."""
    web = os.path.join(os.environ.get("VELO_BUILD_DIR", "build-test"), "web")
    return Service("velo-gateway", [
        "--port", "0", "--admin-port", "0", "--assets", web,
        "--stream-rpc", "tcp://127.0.0.1:1", "--stream-pub",
        "tcp://127.0.0.1:1", "--warehouse-rpc", "tcp://127.0.0.1:1",
        "--rpc-timeout-ms", "1500"], env=consul_env(addr), admin_last=True)


def check_gateway(addr):
    """velo-gateway whose static --stream-rpc is dead answers through the
    instances Consul names."""
    gw = consul_gateway(addr)
    url = "http://%s/api/v1/stations/jcdecaux:dublin/42" % gw.addrs[0]

    def get():
        try:
            with urllib.request.urlopen(url, timeout=5) as r:
                return json.loads(r.read())
        except OSError:
            return None
    doc = wait_for("the gateway answers through Consul", get, 30, every=0.5)
    check(doc.get("station_id") == "42", "gateway station: %s" % doc)
    check(gw.stop() == 0, "gateway exit status")


def discovery():
    addr = consul_fixture_addr()
    brokers = kafka_addr()
    srv, ingest, streams, topic, dlq = pipeline(addr, brokers)
    for s in streams:
        wait_for("stream /readyz", lambda: s.http("/readyz")[0] == 200, 60)
    ids = check_registration(addr, streams)
    ing = wait_for("ingest registered", lambda: (
        lambda i: i if i and admin_id(ingest) in i else None)(
            instances(addr, "velo-ingest", passing=True)), 30)
    checks = [c for c in ing[admin_id(ingest)]["Checks"]
              if c["CheckID"].startswith("service:")]
    check(checks and checks[0]["Output"].startswith("ready"),
          "ingest's TTL check output: %s" % checks)
    wait_station_42(addr)
    check_veloctl(addr, ids + [admin_id(ingest)])
    check_warehouse(addr, brokers)
    check_gateway(addr)
    check("consul: registered" in streams[0].http("/readyz")[1],
          "/readyz detail: %s" % streams[0].http("/readyz")[1])

    # kill -9 one while a client calls: no failed call.
    loop = rpcloop(addr, 12)
    time.sleep(4)
    streams[0].proc.kill()
    streams[0].proc.wait()
    rc, res = rpcloop_result(loop)
    check(rc == 0 and res["failed"] == 0 and res["ok"] > 100,
          "calls during kill -9: %s" % res)
    check(res["instances_max"] == 2, "client saw both instances: %s" % res)
    check(res["instances_last"] == 1, "the dead one left the list: %s" % res)
    wait_for("dead instance critical", lambda: (
        lambda i: i is not None and ids[0] in i and any(
            c["Status"] == "critical" for c in i[ids[0]]["Checks"]))(
                instances(addr, "velo-stream")), 20)

    # A stream that can never be ready: registered, never passing.
    stuck = start_stream("127.0.0.1:%d" % 1, topic, dlq, consul_env(addr))
    sid = stream_id(stuck)
    wait_for("stuck stream registered", lambda: (
        lambda i: i is not None and sid in i)(instances(addr, "velo-stream")),
        30)
    time.sleep(2)  # several check intervals
    check(sid not in instances(addr, "velo-stream", passing=True),
          "a stream that is not ready is passing")
    check(stuck.stop() == 0, "stuck stream exit status")

    # SIGTERM: deregistered before the process is gone.
    check(streams[1].stop() == 0, "stream exit status after SIGTERM")
    check(ids[1] not in instances(addr, "velo-stream"),
          "SIGTERM did not deregister at once")
    check(ingest.stop() == 0, "ingest exit status")
    check(admin_id(ingest) not in instances(addr, "velo-ingest"),
          "ingest still registered after SIGTERM")
    srv.close()
    # Consul enforces at least 1 min for DeregisterCriticalServiceAfter
    # and reaps every 30 s (not configurable): up to ~90 s after critical.
    wait_for("dead instance deregistered", lambda: (
        lambda i: i is not None and ids[0] not in i)(
            instances(addr, "velo-stream")), 120, every=1)
    print("ok: consul discovery")


def sse():
    """velo-gateway's live events follow the velo-stream PUBs Consul names:
    a dead static --stream-pub, then the PUB of a registered stream
    (station events flow); kill -9 that stream: the gateway moves to the
    other one's PUB, the open event stream gets a snapshot holding the
    last state, then live events again; a client resuming from before the
    move gets a snapshot first."""
    from gateway_e2e import DUBLIN, Gw, Sse, set_station, station_event
    addr = consul_fixture_addr()
    brokers = kafka_addr()
    srv, ingest, streams, topic, dlq = pipeline(addr, brokers)
    for s in streams:
        wait_for("stream /readyz", lambda: s.http("/readyz")[0] == 200, 60)
    wait_station_42(addr)
    gw = consul_gateway(addr)

    def followed():
        sw = gw.events("gateway.sse.pub_switch")
        if not sw:
            return None
        port = sw[-1]["to"].rsplit(":", 1)[1]
        return [i for i, s in enumerate(streams)
                if s.addrs[2].rsplit(":", 1)[1] == port] or None
    first = wait_for("the gateway subscribed to a stream Consul names",
                     followed, 30)[0]
    client = Sse(Gw(gw.addrs[0]), DUBLIN)
    time.sleep(1)  # the move's gap (a snapshot to nobody) is behind us
    set_station(srv, 42, 5, 25, 60000)
    ev, st = station_event(client, 42)
    check(st["bikes_available"] == 5, "event through Consul's PUB: %s" % st)
    before = ev["id"]

    # A check that flaps under load may have moved it since: kill the one
    # it reads now.
    first = followed()[0]
    streams[first].proc.kill()
    streams[first].proc.wait()
    t0 = time.monotonic()
    while True:
        ev = client.next_event()
        if ev.get("event") == "snapshot":
            break
    moved_s = time.monotonic() - t0
    now = followed()
    check(now and now[0] != first, "moved to the other stream: %s" % now)
    snap = {s["station_id"]: s for s in json.loads(ev["data"])["stations"]}
    check(snap["42"]["bikes_available"] == 5, "snapshot: %s" % snap["42"])
    set_station(srv, 42, 7, 23, 120000)
    _, st = station_event(client, 42)
    check(st["bikes_available"] == 7, "event after the move: %s" % st)
    client.close()
    # Each move counted once: the static PUB to a stream, then away from
    # the killed one; more when a loaded machine made a 500 ms check flap.
    # Read again if a move fell between the two reads.
    def counted():
        moves = len(gw.events("gateway.sse.pub_switch"))
        switches = gw.metric("velo_gateway_sse_pub_switches_total")
        return (switches, moves) if switches == moves else None
    switches, moves = wait_for("switches counted as logged", counted, 5)
    check(moves >= 2, "switches: %s counted, %d logged" % (switches, moves))
    again = Sse(Gw(gw.addrs[0]), DUBLIN, last_id=before)
    check(again.next_event().get("event") == "snapshot",
          "resuming from before the move starts with a snapshot")
    again.close()
    check(gw.stop() == 0, "gateway exit status")
    check(streams[1 - first].stop() == 0, "stream exit status")
    check(ingest.stop() == 0, "ingest exit status")
    srv.close()
    print("ok: consul sse (moved in %.1f s, %d switches)" % (moved_s, moves))


def agent(action, name, port=None):
    args = [HARNESS, action, RUN, name] + ([str(port)] if port else [])
    out = subprocess.run(args, capture_output=True, timeout=60)
    check(out.returncode == 0, "consul.sh %s: %s" % (action, out.stderr))


def outage():
    if not os.access(CONSUL_BIN, os.X_OK):
        skip("the Consul binary is not built yet (scripts/setup builds "
             ".deps/consul/consul once, ~10 min)")
    brokers = kafka_addr()
    name = "consul-outage-%d" % os.getpid()
    agent("start", name)
    try:
        with open(os.path.join(RUN, name + ".addr")) as f:
            addr = f.read().strip()
        port = int(addr.rsplit(":", 1)[1])
        srv, ingest, streams, topic, dlq = pipeline(addr, brokers)
        ids = check_registration(addr, streams)
        wait_station_42(addr)
        loop = rpcloop(addr, 14)
        time.sleep(3)
        agent("stop", name)
        wait_for("velo_consul_up 0", lambda: streams[0].metric(
            "velo_consul_up") == 0, 20)
        status, body = streams[0].http("/readyz")
        check(status == 200 and "consul:" in body,
              "/readyz while Consul is down: %d %s" % (status, body))
        time.sleep(3)
        agent("start", name, port)  # empty: -dev keeps nothing
        rc, res = rpcloop_result(loop)
        check(rc == 0 and res["failed"] == 0 and res["ok"] > 100,
              "calls while Consul was down: %s" % res)
        wait_for("registrations restored", lambda: (
            lambda i: i is not None and all(x in i for x in ids))(
                instances(addr, "velo-stream", passing=True)), 30)
        wait_for("velo_consul_up 1", lambda: streams[0].metric(
            "velo_consul_up") == 1, 20)
        for s in streams + [ingest]:
            check(s.stop() == 0, "%s exit status" % s.name)
        srv.close()
    finally:
        agent("stop", name)
    print("ok: consul outage")


def polls_by_key(srv, since):
    """Polls of the JCDecaux stations path per API key after index since."""
    with srv.lock:
        qs = list(srv.queries[since:])
    out = {}
    for path, q in qs:
        if path.endswith("/vls/v1/stations"):
            k = q.get("apiKey", q.get("apikey", ["?"]))[0]
            out[k] = out.get(k, 0) + 1
    return out


def start_ingest(addr, brokers, srv, topic, dlq, key):
    """One velo-ingest replica; its API key tells its polls apart."""
    return Service("velo-ingest", [
        "--admin-port", "0", "--kafka-brokers", brokers, "--topic", topic,
        "--dlq-topic", dlq, "--interval-s", "1",
        "--source", "jcdecaux:dublin=jcdecaux-v1:%s/ok" % srv.base],
        env=consul_env(addr, JCDECAUX_API_KEY=key,
                       VELO_INGEST_LEADER_TTL_S=str(LEADER_TTL_S)))


LEADER_TTL_S = 2


def leader_of(reps):
    held = [r for r in reps if r.metric("velo_consul_lock_held") == 1]
    return held[0] if len(held) == 1 else None


def check_one_polls(srv, reps, keys, seconds=4):
    lead = wait_for("exactly one leader", lambda: leader_of(reps), 30)
    other = [r for r in reps if r is not lead]
    for r in other:
        status, body = r.http("/readyz")
        check(status == 200 and "standby" in body,
              "standby /readyz: %d %s" % (status, body))
    n0 = len(srv.queries)
    time.sleep(seconds)
    got = polls_by_key(srv, n0)
    lk = keys[reps.index(lead)]
    check(got.get(lk, 0) >= seconds - 1, "the leader polls: %s" % got)
    check(all(got.get(keys[reps.index(r)], 0) == 0 for r in other),
          "a standby polled: %s" % got)
    return lead


def takeover_s(srv, reps, keys, new):
    """Seconds until replica new polls."""
    n0, t0 = len(srv.queries), time.time()
    wait_for("takeover", lambda: polls_by_key(srv, n0).get(
        keys[reps.index(new)], 0) > 0, 30, every=0.05)
    return time.time() - t0


def leader():
    addr = consul_fixture_addr()
    brokers = kafka_addr()
    srv = SourceServer(FIXTURES)
    topic, dlq = unique("velib_data"), unique("velib_data_dlq")
    keys = ["key-a-%d" % os.getpid(), "key-b-%d" % os.getpid(),
            "key-c-%d" % os.getpid()]
    reps = [start_ingest(addr, brokers, srv, topic, dlq, k) for k in keys[:2]]
    lead = check_one_polls(srv, reps, keys)
    standby = [r for r in reps if r is not lead][0]
    # kill -9 the leader: the standby takes over once Consul invalidates
    # the session (up to 2 x TTL) plus one blocking-query round.
    lead.proc.kill()
    lead.proc.wait()
    took = takeover_s(srv, reps, keys, standby)
    limit = 2 * LEADER_TTL_S + 1 + 2  # + interval + slack (loaded machine)
    check(took <= limit, "takeover after kill -9 took %.1f s > %d s"
          % (took, limit))
    print("takeover after kill -9: %.1f s" % took)
    # SIGTERM releases at once: a third replica takes over within ~1 s.
    reps.append(start_ingest(addr, brokers, srv, topic, dlq, keys[2]))
    check_one_polls(srv, reps[1:], keys[1:], seconds=2)
    check(standby.stop() == 0, "leader exit status after SIGTERM")
    took = takeover_s(srv, reps, keys, reps[2])
    check(took <= 3, "takeover after SIGTERM took %.1f s" % took)
    print("takeover after SIGTERM: %.1f s" % took)
    # No station missing from Kafka.
    time.sleep(2)
    recs = kdump(brokers, topic)
    ids = {r["value"]["station_id"] for r in recs
           if isinstance(r.get("value"), dict) and "station_id" in r["value"]}
    check(len(ids) == 114, "stations in Kafka: %d of 114" % len(ids))
    check(reps[2].stop() == 0, "last replica exit status")
    srv.close()
    print("ok: consul leader")


def tls():
    """An https agent address with CONSUL_CACERT and a token file: veloctl
    status works and sends the token; without the CA it is refused."""
    import http.server
    import ssl
    import tempfile
    import threading
    d = tempfile.mkdtemp(prefix="velo-consul-tls-", dir=RUN)
    key, crt = os.path.join(d, "key.pem"), os.path.join(d, "crt.pem")
    out = subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
         "-keyout", key, "-out", crt, "-days", "1", "-subj",
         "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
        capture_output=True, timeout=60)
    if out.returncode != 0:
        skip("openssl cannot make a test certificate: %s" % out.stderr)
    tokens = []

    class H(http.server.BaseHTTPRequestHandler):
        def log_message(self, *a):
            pass

        def do_GET(self):
            tokens.append(self.headers.get("X-Consul-Token"))
            body = b"{}" if self.path.startswith("/v1/catalog") else b"[]"
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(crt, key)
    httpd.socket = ctx.wrap_socket(httpd.socket, server_side=True)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    addr = "https://127.0.0.1:%d" % httpd.server_address[1]
    tf = os.path.join(d, "token")
    with open(tf, "w") as f:
        f.write("tls-token-1\n")
    env = dict(os.environ, CONSUL_HTTP_TOKEN_FILE=tf)
    env.pop("VELO_STREAM_RPC", None)
    run = lambda extra: subprocess.run(
        [os.path.join(BIN, "veloctl"), "--consul", addr, "status"],
        capture_output=True, timeout=30, env=dict(env, **extra))
    ok = run({"CONSUL_CACERT": crt})
    check(ok.returncode == 0 and b"no velopipe instance" in ok.stdout,
          "status over https: %d %s %s" % (ok.returncode, ok.stdout,
                                           ok.stderr))
    check(tokens and all(t == "tls-token-1" for t in tokens),
          "token sent: %s" % tokens)
    bad = run({"CONSUL_CACERT": "/nonexistent/ca.pem"})
    check(bad.returncode == 3 and b"cannot reach Consul" in bad.stderr,
          "without the CA: %d %s" % (bad.returncode, bad.stderr))
    check(b"tls-token-1" not in ok.stderr + bad.stderr, "token printed")
    httpd.shutdown()
    print("ok: consul tls")


if __name__ == "__main__":
    {"discovery": discovery, "outage": outage, "leader": leader,
     "tls": tls, "sse": sse}.get(
        sys.argv[1] if len(sys.argv) > 1 else "", lambda: fail(
            "usage: consul_it.py discovery|outage|leader|tls|sse"))()
