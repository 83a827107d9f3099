#!/usr/bin/env python3
"""monitoring_check: static checks of velopipe's monitoring files.

  deploy/prometheus/alerts.yaml     every alert: severity, summary,
                                    description, a `for:`, a runbook_url whose
                                    section exists in docs/operations.md, and
                                    promtool tests (tests/*.yaml) that fire it
                                    and that must not fire it
  deploy/grafana/velopipe.json      structure (datasource variable, namespace
                                    and system variables, one row per stage
                                    in order, freshness first, every panel on
                                    ${datasource}, every target with an expr,
                                    unique ids, grid inside 24 columns, no
                                    overlaps, rates over $__rate_interval)
  every metric a rule or panel uses is exported by the code (a quoted
  "velo_..." name in common/ or services/), a recording rule, or listed in
  PENDING (a service whose branch has not landed: reported, not failed), and
  is in a metrics table of docs/operations.md.

Usage: monitoring_check.py SRC_DIR. Exit 0 when all hold, 1 otherwise.
The same expressions are evaluated against a real Prometheus by
tests/integration/monitoring_e2e.py.
"""
import glob
import json
import os
import re
import sys

import yaml

# Metric -> why it is not in this tree's code yet. Shrinks as services land.
PENDING = {}

ROWS = ["Freshness", "Sources", "Kafka", "Stream", "Batch / warehouse",
        "Gateway", "Services"]
PROMQL_WORDS = {
    "sum", "min", "max", "avg", "count", "by", "without", "on", "ignoring",
    "group_left", "group_right", "and", "or", "unless", "rate", "increase",
    "irate", "delta", "deriv", "histogram_quantile", "time", "vector",
    "label_values", "le", "bool", "offset", "topk", "bottomk", "abs",
    "max_over_time", "min_over_time", "avg_over_time", "absent", "scalar",
    "clamp_min", "clamp_max", "changes", "resets", "timestamp",
}

errors = []


def err(msg):
    errors.append(msg)


def strip_strings(expr):
    """expr without quoted strings and label matchers' values."""
    return re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)


def metric_names(expr):
    """Metric names an expression reads (heuristic, good for our exprs)."""
    e = strip_strings(expr)
    e = re.sub(r"\[[^\]]*\]", "", e)          # range durations
    e = re.sub(r"\{[^}]*\}", "{}", e)         # matchers: label names
    e = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)",
               "", e)
    names = set()
    for m in re.finditer(r"[A-Za-z_:][A-Za-z0-9_:]*", e):
        w = m.group(0)
        after = e[m.end():].lstrip()
        if w in PROMQL_WORDS or after.startswith("(") or w.startswith("$"):
            continue
        if re.fullmatch(r"\d+[smhdwy]?", w) or w in ("e", "Inf", "NaN"):
            continue
        names.add(w)
    return names


def base_name(n):
    for suf in ("_bucket", "_count", "_sum"):
        if n.endswith(suf):
            return n[: -len(suf)]
    return n


def exported(src):
    names = set()
    for path in glob.glob(os.path.join(src, "common/src/*.c")) + \
            glob.glob(os.path.join(src, "services/*/*.c")):
        if path.endswith("_test.c"):
            continue
        with open(path, encoding="utf8") as f:
            names |= set(re.findall(r'"(velo_[a-z0-9_]+)"', f.read()))
    return names


def anchors(md):
    out = set()
    for line in md.splitlines():
        m = re.match(r"#+\s+(.*)", line)
        if m:
            a = re.sub(r"[^a-z0-9 _-]", "", m.group(1).strip().lower())
            out.add(a.replace(" ", "-"))
    return out


def check_alerts(src, rules, ops_md):
    tested = {}  # alertname -> [fires?, quiet?]
    for path in glob.glob(os.path.join(src, "deploy/prometheus/tests/*.yaml")):
        with open(path) as f:
            doc = yaml.safe_load(f)
        for t in doc.get("tests", []):
            for at in t.get("alert_rule_test", []):
                seen = tested.setdefault(at["alertname"], [False, False])
                seen[0 if at.get("exp_alerts") else 1] = True
    heads = anchors(ops_md)
    for g in rules["groups"]:
        for r in g["rules"]:
            if "alert" not in r:
                continue
            name = r["alert"]
            ann, lab = r.get("annotations", {}), r.get("labels", {})
            if lab.get("severity") not in ("critical", "warning"):
                err("%s: severity must be critical or warning" % name)
            for a in ("summary", "description", "runbook_url"):
                if not ann.get(a):
                    err("%s: no %s" % (name, a))
            if not r.get("for") or r["for"] in ("0", "0s"):
                err("%s: no for: (a single blip would page)" % name)
            url = ann.get("runbook_url", "")
            if not url.startswith("docs/operations.md#") or \
                    url.split("#", 1)[1] not in heads:
                err("%s: runbook %r is no section of docs/operations.md"
                    % (name, url))
            fires, quiet = tested.get(name, [False, False])
            if not fires:
                err("%s: no promtool test where it fires" % name)
            if not quiet:
                err("%s: no promtool test where it must not fire" % name)


def check_grid(panels):
    cells = {}
    for p in panels:
        g = p.get("gridPos", {})
        if g.get("x", 0) + g.get("w", 0) > 24:
            err("panel %r wider than the grid" % p.get("title"))
        for dx in range(g.get("w", 0)):
            for dy in range(g.get("h", 0)):
                k = (g["x"] + dx, g["y"] + dy)
                if k in cells:
                    err("panels %r and %r overlap" % (cells[k], p.get("title")))
                    return
                cells[k] = p.get("title")


def dashboard_exprs(dash):
    for p in dash["panels"]:
        for t in p.get("targets", []):
            yield p, t.get("expr", "")


def check_dashboard(dash, recorded):
    tv = {v["name"]: v for v in dash.get("templating", {}).get("list", [])}
    if tv.get("datasource", {}).get("type") != "datasource" or \
            tv["datasource"].get("query") != "prometheus":
        err("dashboard: no Prometheus datasource variable named datasource")
    for name in ("namespace", "system"):
        if tv.get(name, {}).get("type") != "query":
            err("dashboard: no query variable %s" % name)
    if not dash.get("uid") or not dash.get("title"):
        err("dashboard: uid and title required")
    rows = [p["title"] for p in dash["panels"] if p["type"] == "row"]
    if rows != ROWS:
        err("dashboard: rows %s, want %s" % (rows, ROWS))
    first = next((p for p in dash["panels"] if p["type"] != "row"), {})
    if "velo:data_age_seconds" not in json.dumps(first.get("targets", [])):
        err("dashboard: the first panel must be freshness per system")
    ids = [p.get("id") for p in dash["panels"]]
    if len(ids) != len(set(ids)) or None in ids:
        err("dashboard: panel ids missing or not unique")
    check_grid(dash["panels"])
    for p in dash["panels"]:
        if p["type"] == "row":
            continue
        ds = p.get("datasource", {})
        if ds.get("uid") != "${datasource}":
            err("panel %r: datasource must be ${datasource}" % p["title"])
        if not p.get("targets") or not p.get("description"):
            err("panel %r: needs targets and a description" % p["title"])
        for t in p.get("targets", []):
            if not t.get("expr") or not t.get("refId"):
                err("panel %r: a target without expr or refId" % p["title"])
            if t.get("datasource", {}).get("uid") != "${datasource}":
                err("panel %r: target datasource" % p["title"])
    for p, e in dashboard_exprs(dash):
        if '$namespace' not in e:
            err("panel %r: %s does not filter on $namespace" % (p["title"], e))
        for m in re.finditer(r"\b(rate|increase|irate)\([^\[]*\[([^\]]+)\]", e):
            if m.group(2) not in ("$__rate_interval", "1h"):
                err("panel %r: %s over [%s]; use $__rate_interval"
                    % (p["title"], m.group(1), m.group(2)))
        for n in metric_names(e):
            if ":" in n and n not in recorded:
                err("panel %r: %s is no recording rule" % (p["title"], n))


def check_names(src, rules_exprs, dash_exprs, recorded, ops_md):
    have = exported(src)
    tables = "\n".join(l for l in ops_md.splitlines()
                       if l.lstrip().startswith("|"))
    pending = set()
    for where, e in rules_exprs + dash_exprs:
        for n in metric_names(e):
            if n in recorded or n in ("up", "ALERTS"):
                continue
            b = base_name(n)
            if b in have:
                if not re.search(r"`%s[`{]" % re.escape(b), tables):
                    err("%s: %s is in no metrics table of "
                        "docs/operations.md" % (where, b))
            elif b in PENDING:
                pending.add(b)
            else:
                err("%s: %s is exported by no service" % (where, n))
    for b in sorted(pending):
        print("not verifiable yet: %s (%s)" % (b, PENDING[b]))


def main():
    src = sys.argv[1] if len(sys.argv) > 1 else "."
    prom = os.path.join(src, "deploy/prometheus")
    with open(os.path.join(prom, "alerts.yaml")) as f:
        alerts = yaml.safe_load(f)
    with open(os.path.join(prom, "recording.yaml")) as f:
        recording = yaml.safe_load(f)
    with open(os.path.join(src, "deploy/grafana/velopipe.json")) as f:
        dash = json.load(f)
    with open(os.path.join(src, "docs/operations.md"), encoding="utf8") as f:
        ops_md = f.read()
    recorded = {r["record"] for g in recording["groups"] for r in g["rules"]}
    rules_exprs = [(r.get("alert") or r.get("record"), r["expr"])
                   for doc in (alerts, recording)
                   for g in doc["groups"] for r in g["rules"]]
    dash_exprs = [("panel %r" % p["title"], e)
                  for p, e in dashboard_exprs(dash)]
    check_alerts(src, alerts, ops_md)
    check_dashboard(dash, recorded)
    check_names(src, rules_exprs, dash_exprs, recorded, ops_md)
    for e in errors:
        print("FAIL: " + e, file=sys.stderr)
    print("monitoring_check: %d alerts, %d recording rules, %d panels, "
          "%d problems" % (sum(1 for _ in rules_exprs) - len(recorded),
                           len(recorded), len(dash["panels"]), len(errors)))
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
