#!/usr/bin/env python3
"""monitoring_e2e: a real Prometheus scrapes the local stack.

Real Kafka (fixture kafka), a local source (source_server.py), velo-ingest,
velo-stream and velo-batch (continuous) on free 127.0.0.1 ports; Prometheus
from the fixture prometheus (tests/harness/prometheus.sh) gets them as
file-discovered targets (job="velo-<svc>", namespace="local") and the
rules of deploy/prometheus with every duration cut 60 times (a `for: 10m`
becomes 10 s, `[5m]` becomes 5 s; thresholds unchanged), so the alerts
that must fire do within a test's time.

Checks: every target up; every series the rules and the dashboard read
is in Prometheus (services not in this tree yet: listed, not failed); every
rule and dashboard expression answers without error; no alert fires on the
healthy stack; the source serving 503s raises VeloSourceFailing (pending,
then firing, in Prometheus's own /api/v1/alerts) and it clears when the
source answers again; velo-stream stopped raises VeloServiceDown and
VeloStreamUnavailable, cleared when it is back. Every wait is bounded.
"""
import json
import os
import re
import sys
import time
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "tools"))
from velotest import (BIN, FIXTURES, RUN, SRC, Service, check, fail,  # noqa
                      kafka_addr, unique, wait_for)
from source_server import SourceServer  # noqa: E402
import monitoring_check  # noqa: E402
import yaml  # noqa: E402

SCALE = 60
KEY = "test-key-monitoring"
PROM_DIR = os.path.join(RUN, "prometheus")
SOURCE_PATH = "/ok/vls/v1/stations"


def prom_addr():
    path = os.path.join(RUN, "prometheus.ready")
    if not os.path.exists(path):
        print("SKIP: no Prometheus (fixture prometheus not started: "
              "apt-get install prometheus)")
        sys.exit(77)
    with open(path) as f:
        return f.read().strip()


class Prom:
    def __init__(self, addr):
        self.base = "http://" + addr

    def get(self, path, **params):
        url = self.base + path
        if params:
            url += "?" + urllib.parse.urlencode(params)
        try:
            with urllib.request.urlopen(url, timeout=10) as r:
                return json.loads(r.read().decode())
        except urllib.error.HTTPError as e:
            return json.loads(e.read().decode())

    def reload(self):
        req = urllib.request.Request(self.base + "/-/reload", method="POST")
        with urllib.request.urlopen(req, timeout=10) as r:
            check(r.status == 200, "reload: %d" % r.status)

    def query(self, expr):
        """(error or None, result list)."""
        doc = self.get("/api/v1/query", query=expr)
        if doc.get("status") != "success":
            return doc.get("error", "unknown error"), []
        return None, doc["data"]["result"]

    def names(self):
        return set(self.get("/api/v1/label/__name__/values")["data"])

    def alerts(self):
        return self.get("/api/v1/alerts")["data"]["alerts"]


# ---- rules with short durations ----

DUR = re.compile(r"(\d+)([smhd])")
UNIT = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def cut(d):
    secs = sum(int(n) * UNIT[u] for n, u in DUR.findall(d))
    return "%ds" % max(3, secs // SCALE)


def fast_rules(text):
    """The rules with `for:` and range selectors cut SCALE times."""
    text = re.sub(r"(for:\s*)(\w+)", lambda m: m.group(1) + cut(m.group(2)),
                  text)
    return re.sub(r"\[((?:\d+[smhd])+)\]", lambda m: "[%s]" % cut(m.group(1)),
                  text)


def install_rules(prom):
    rules = os.path.join(PROM_DIR, "rules")
    for name in ("recording.yaml", "alerts.yaml"):
        with open(os.path.join(SRC, "deploy", "prometheus", name)) as f:
            fast = fast_rules(f.read())
        yaml.safe_load(fast)  # still YAML
        with open(os.path.join(rules, "e2e-" + name), "w") as f:
            f.write(fast)
    prom.reload()
    wait_for("rules loaded", lambda: len([
        r for g in prom.get("/api/v1/rules")["data"]["groups"]
        for r in g["rules"]]) >= 30, 20)


def set_targets(job, addrs):
    path = os.path.join(PROM_DIR, "targets", job + ".json")
    if not addrs:
        if os.path.exists(path):
            os.unlink(path)
        return
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump([{"targets": addrs,
                    "labels": {"job": job, "namespace": "local"}}], f)
    os.rename(tmp, path)


def cleanup(prom, jobs):
    for job in jobs:
        set_targets(job, [])
    for name in ("recording.yaml", "alerts.yaml"):
        p = os.path.join(PROM_DIR, "rules", "e2e-" + name)
        if os.path.exists(p):
            os.unlink(p)
    try:
        prom.reload()
    except OSError:
        pass


# ---- the stack ----

def consul_env():
    """With the consul fixture (a real agent), every service registers and
    velo-ingest takes the leader lock under a key of its own; without
    it, nothing (the Consul series are then not verifiable here)."""
    path = os.path.join(RUN, "consul.addr")
    if not os.path.exists(path):
        return {}
    with open(path) as f:
        addr = f.read().strip()
    return {"VELO_CONSUL_ADDR": addr, "VELO_CONSUL_CHECK_INTERVAL_MS": "500",
            "VELO_CONSUL_DEREGISTER_AFTER_S": "60",
            "VELO_INGEST_LEADER_KEY": "velopipe/monitoring-%d/ingest/leader"
            % os.getpid()}


def start_stack(brokers, srv, svcs):
    """Starts the services into svcs (so the caller stops every one that
    started, even when a later one fails); returns velo-stream's args."""
    names = {k: unique(k) for k in ("data", "dlq", "systems", "agg", "grp")}
    env = consul_env()
    common = ["--admin-port", "0", "--kafka-brokers", brokers]
    ingest = Service("velo-ingest", common + [
        "--topic", names["data"], "--dlq-topic", names["dlq"],
        "--systems-topic", names["systems"], "--interval-s", "1",
        "--source", "jcdecaux:dublin=jcdecaux-v1:%s/ok" % srv.base],
        env=dict(env, JCDECAUX_API_KEY=KEY))
    svcs["velo-ingest"] = ingest
    service_ready(ingest)  # it polled: the topics exist for the others
    stream_args = common + [
        "--topic", names["data"], "--dlq-topic", names["dlq"],
        "--rpc-url", "tcp://127.0.0.1:0", "--pub-url", "tcp://127.0.0.1:0"]
    stream = Service("velo-stream", stream_args, env=env, ready_timeout=60)
    svcs["velo-stream"] = stream
    # velo-batch needs records on the topic: velo-stream holds them first.
    wait_for("velo-stream holds stations", lambda: stream.metric(
        "velo_stream_stations") > 0, 60)
    if have("velo-batch"):
        svcs["velo-batch"] = start_batch(common + [
            "--topic", names["data"], "--systems-topic", names["systems"],
            "--out-topic", names["agg"], "--dlq-topic", names["dlq"],
            "--group", names["grp"], "--transactional-id", names["grp"]],
            env)
    warehouse_rpc = "tcp://127.0.0.1:1"  # nothing listens: history 503s
    if have("velo-warehouse"):
        wh = Service("velo-warehouse", common + [
            "--rpc-url", "tcp://127.0.0.1:0",
            "--db", "sqlite://" + os.path.join(RUN, unique("wh") + ".db"),
            "--topic", names["agg"], "--group", names["grp"] + "-wh",
            "--batch-wait-ms", "200"],
            env=env, ready_timeout=60)
        svcs["velo-warehouse"] = wh
        warehouse_rpc = wh.addrs[1]
    if have("velo-gateway"):
        svcs["velo-gateway"] = Service("velo-gateway", [
            "--port", "0", "--admin-port", "0",
            "--assets", os.path.join(BIN, "..", "web"),
            "--stream-rpc", stream.addrs[1], "--stream-pub", stream.addrs[2],
            "--warehouse-rpc", warehouse_rpc], env=env, admin_last=True)
    return stream_args


def have(binary):
    return os.path.exists(os.path.join(BIN, binary))


def admin(svc):
    """The admin address: first in the ready file, last for velo-gateway."""
    return getattr(svc, "admin", svc.addrs[0])


def start_batch(args, env):
    """velo-batch exits at start ("not found") while a fresh broker has no
    transaction coordinator yet: a few bounded tries."""
    for attempt in range(5):
        try:
            return Service("velo-batch", args, env=env, ready_timeout=60)
        except SystemExit:
            print("velo-batch did not start (try %d), again in 3 s"
                  % (attempt + 1))
            time.sleep(3)
    fail("velo-batch did not start in 5 tries")


def service_ready(svc):
    wait_for("%s /readyz" % svc.name, lambda: svc.http("/readyz")[0] == 200,
             90)


def targets_up(prom, jobs):
    active = prom.get("/api/v1/targets")["data"]["activeTargets"]
    up = {t["labels"]["job"] for t in active if t["health"] == "up"}
    return all(j in up for j in jobs)


def firing(prom, name, states=("firing",), **labels):
    return [a for a in prom.alerts() if a["labels"]["alertname"] == name
            and a["state"] in states
            and all(a["labels"].get(k) == v for k, v in labels.items())]


def velo_alerts(prom):
    return [(a["labels"]["alertname"], a["state"]) for a in prom.alerts()
            if a["labels"]["alertname"].startswith("Velo")]


# ---- the checks ----

def rule_exprs():
    out = []
    for name in ("recording.yaml", "alerts.yaml"):
        with open(os.path.join(SRC, "deploy", "prometheus", name)) as f:
            doc = yaml.safe_load(f)
        out += [(r.get("alert") or r.get("record"), r["expr"])
                for g in doc["groups"] for r in g["rules"]]
    return out


def dashboard_exprs():
    with open(os.path.join(SRC, "deploy", "grafana", "velopipe.json")) as f:
        dash = json.load(f)
    out = [("panel %r" % p["title"], t["expr"])
           for p in dash["panels"] for t in p.get("targets", [])]
    for v in dash["templating"]["list"]:
        q = v.get("query")
        if isinstance(q, dict):  # label_values(EXPR, label): EXPR
            m = re.match(r"label_values\((.*),\s*\w+\)$", q["query"])
            out.append(("variable %s" % v["name"], m.group(1)))
    return out


def grafana_vars(expr):
    return (expr.replace("$__rate_interval", "15s")
            .replace("$namespace", "local").replace("$system", ".*"))


def recording_exprs():
    with open(os.path.join(SRC, "deploy", "prometheus", "recording.yaml")) as f:
        doc = yaml.safe_load(f)
    return {r["record"]: r["expr"] for g in doc["groups"] for r in g["rules"]}


def not_in_tree(name, have, jobs, recorded):
    """Why name cannot exist here (a service not in this tree), or None."""
    b = monitoring_check.base_name(name)
    if b in monitoring_check.PENDING:
        return monitoring_check.PENDING[b]
    if b.startswith("velo_consul_") and not consul_env():
        return "no Consul agent in this test (fixture consul)"
    if name == "ALERTS":
        return "no alert pending or firing yet"
    if name in recorded:
        e = recorded[name]
        if 'server="gateway"' in e and "velo-gateway" not in jobs:
            return "velo-gateway is not in this tree"
        if "velo-warehouse" not in jobs and "warehouse" in name:
            return "velo-warehouse is not in this tree"
    return None


def series_missing(prom, jobs):
    """Metric names the rules and dashboard read that Prometheus lacks:
    (missing, pending) where pending ones belong to services not here."""
    have, recorded = prom.names(), recording_exprs()
    missing, pending = [], {}
    for where, e in rule_exprs() + dashboard_exprs():
        for n in monitoring_check.metric_names(e):
            b = monitoring_check.base_name(n)
            if n in have or b in have or (b + "_bucket") in have:
                continue
            why = not_in_tree(n, have, jobs, recorded)
            if why:
                pending[n] = why
            else:
                missing.append("%s: %s" % (where, n))
    return missing, pending


def check_series(prom, jobs):
    """Every metric name the rules and dashboard read exists in Prometheus
    (recording rules once they have evaluated), except those of services
    this tree does not have yet."""
    deadline = time.time() + 30
    missing, pending = series_missing(prom, jobs)
    while missing and time.time() < deadline:
        time.sleep(1)
        missing, pending = series_missing(prom, jobs)
    check(not missing, "series not in Prometheus: %s" % missing)
    for n in sorted(pending):
        print("not verifiable here: %s (%s)" % (n, pending[n]))


def check_queries(prom):
    errors = []
    for where, e in rule_exprs() + dashboard_exprs():
        err, _ = prom.query(grafana_vars(fast_rules(e)))
        if err:
            errors.append("%s: %s" % (where, err))
    check(not errors, "queries fail: %s" % errors)


def some_data(prom, expr):
    err, res = prom.query(expr)
    return err is None and len(res) > 0


def wait_healthy(prom, svcs, names_needed):
    wait_for("targets up", lambda: targets_up(prom, list(svcs)), 30)
    for e in names_needed:
        wait_for("data for %s" % e, lambda e=e: some_data(prom, e), 60)


def fault_source(prom, srv):
    srv.faults[SOURCE_PATH] = 503
    print("fault: source answers 503")
    wait_for("VeloSourceFailing pending", lambda: firing(
        prom, "VeloSourceFailing", ("pending", "firing"),
        source="jcdecaux:dublin"), 60, 0.5)
    wait_for("VeloSourceFailing firing", lambda: firing(
        prom, "VeloSourceFailing", source="jcdecaux:dublin"), 60, 0.5)
    err, res = prom.query('velo_ingest_polls_total{outcome="server_error"}')
    check(not err and res and float(res[0]["value"][1]) > 0,
          "server_error polls counted: %s" % res)
    del srv.faults[SOURCE_PATH]
    print("fault gone: source answers 200")
    # Backoff after a few failures is at most tens of seconds.
    wait_for("VeloSourceFailing cleared", lambda: not firing(
        prom, "VeloSourceFailing", ("pending", "firing")), 90, 0.5)


def fault_stream(prom, svcs, stream_args):
    stream = svcs["velo-stream"]
    admin_port = admin(stream).rsplit(":", 1)[1]
    check(stream.stop() == 0, "velo-stream exit status after SIGTERM")
    print("fault: velo-stream stopped")
    wait_for("VeloServiceDown firing", lambda: firing(
        prom, "VeloServiceDown", job="velo-stream"), 60, 0.5)
    wait_for("VeloStreamUnavailable firing", lambda: firing(
        prom, "VeloStreamUnavailable"), 60, 0.5)
    args = list(stream_args)
    args[args.index("--admin-port") + 1] = admin_port  # the target's address
    svcs["velo-stream"] = Service("velo-stream", args, env=consul_env(),
                                  ready_timeout=60)
    print("fault gone: velo-stream restarted")
    wait_for("VeloServiceDown cleared", lambda: not firing(
        prom, "VeloServiceDown", ("pending", "firing")), 60, 0.5)
    wait_for("VeloStreamUnavailable cleared", lambda: not firing(
        prom, "VeloStreamUnavailable", ("pending", "firing")), 120, 0.5)


def traffic(svcs):
    """A few RPC calls and gateway requests, so the per-method and
    per-route series exist."""
    import subprocess
    for args in (["systems"], ["station", "jcdecaux:dublin", "42"],
                 ["station", "jcdecaux:dublin", "nope"]):
        subprocess.run([os.path.join(BIN, "veloctl"), "--rpc",
                        svcs["velo-stream"].addrs[1]] + args,
                       capture_output=True, timeout=30)
    if "velo-gateway" in svcs:
        for path in ("/api/v1/systems", "/api/v1/stations?system=x"):
            try:
                urllib.request.urlopen("http://%s%s" % (
                    svcs["velo-gateway"].addrs[0], path), timeout=10).read()
            except urllib.error.HTTPError:
                pass


def main():
    brokers = kafka_addr()
    prom = Prom(prom_addr())
    srv = SourceServer(FIXTURES)
    svcs, stream_args, jobs = {}, [], []  # svcs: started so far
    try:
        install_rules(prom)
        stream_args = start_stack(brokers, srv, svcs)
        jobs = list(svcs)
        for svc in svcs.values():
            service_ready(svc)
        for job, svc in svcs.items():
            set_targets(job, [admin(svc)])
        traffic(svcs)
        wait_healthy(prom, svcs, [
            'velo_build_info{job="velo-stream"}', "velo_ready",
            "velo:data_age_seconds:max", "velo:ingest_source_up:min",
            "velo_rpc_server_handled_total", "velo_kafka_consumer_lag"])
        check_series(prom, jobs)
        check_queries(prom)
        time.sleep(5)  # several evaluations of every rule on a healthy stack
        check(not [a for a in velo_alerts(prom)],
              "alerts on the healthy stack: %s" % velo_alerts(prom))
        fault_source(prom, srv)
        fault_stream(prom, svcs, stream_args)
        check_series(prom, jobs)  # ALERTS exists now
        for name, svc in svcs.items():
            check(svc.stop() == 0, "%s exit status after SIGTERM" % name)
        print("OK: %d targets scraped, alerts fired and cleared" % len(jobs))
    finally:
        for svc in svcs.values():
            svc.stop()
        cleanup(prom, ["velo-ingest", "velo-stream", "velo-batch",
                       "velo-warehouse", "velo-gateway"])
        srv.close()


if __name__ == "__main__":
    main()
