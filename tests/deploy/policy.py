#!/usr/bin/env python3
"""Policy over rendered Kubernetes manifests (the chart, the kustomize
overlays): what a reviewer of a chart checks, as code.

usage: policy.py FILE [--secret VALUE]... [--notes FILE]

Every pod template (Deployment, StatefulSet, DaemonSet, Job, CronJob, Pod):
  - runs as non-root (runAsNonRoot, no runAsUser 0), read-only root
    filesystem, no privilege escalation, every capability dropped, seccomp
    RuntimeDefault, not privileged, no host namespaces, no service account
    token mounted;
  - every container has CPU and memory requests and limits;
  - long-running containers have liveness and readiness probes, Job
    containers a liveness probe (a `helm test` hook pod and init
    containers need none).
Secrets: each --secret VALUE (plain or base64) appears only inside
Secret objects: never in a ConfigMap, an argument, an env value or the
NOTES (--notes). An env variable named like a secret (*PASSWORD, *TOKEN,
*_KEY, *SECRET) never carries a literal value.
Prints every violation, exit 1 when there is any, 0 otherwise.
"""
import argparse
import base64
import re
import sys

import yaml

LONG_RUNNING = {"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet"}
SECRET_NAME = re.compile(r"(PASSWORD|TOKEN|_KEY|SECRET)$")


def pod_spec(obj):
    """The pod spec of a workload object, or None."""
    kind = obj.get("kind")
    spec = obj.get("spec") or {}
    if kind == "Pod":
        return spec
    if kind == "CronJob":
        return spec["jobTemplate"]["spec"]["template"]["spec"]
    if kind in LONG_RUNNING or kind == "Job":
        return spec["template"]["spec"]
    return None


def check_container(where, c, pod, kind, is_test_hook, errs):
    psc = pod.get("securityContext") or {}
    sc = c.get("securityContext") or {}

    def eff(key):
        return sc.get(key, psc.get(key))

    if eff("runAsNonRoot") is not True:
        errs.append(f"{where}: runAsNonRoot is not true")
    if eff("runAsUser") == 0:
        errs.append(f"{where}: runAsUser 0 (root)")
    if sc.get("readOnlyRootFilesystem") is not True:
        errs.append(f"{where}: root filesystem is not read-only")
    if sc.get("allowPrivilegeEscalation") is not False:
        errs.append(f"{where}: allowPrivilegeEscalation is not false")
    if sc.get("privileged"):
        errs.append(f"{where}: privileged")
    drop = (sc.get("capabilities") or {}).get("drop") or []
    if "ALL" not in drop:
        errs.append(f"{where}: capabilities not dropped (drop: [ALL])")
    if (sc.get("capabilities") or {}).get("add"):
        errs.append(f"{where}: adds capabilities")
    seccomp = (sc.get("seccompProfile") or psc.get("seccompProfile") or {})
    if seccomp.get("type") != "RuntimeDefault":
        errs.append(f"{where}: seccomp profile is not RuntimeDefault")
    res = c.get("resources") or {}
    for part in ("requests", "limits"):
        for r in ("cpu", "memory"):
            if r not in (res.get(part) or {}):
                errs.append(f"{where}: no {r} {part[:-1]}")
    if not is_test_hook:
        if "livenessProbe" not in c:
            errs.append(f"{where}: no livenessProbe")
        if kind in LONG_RUNNING and "readinessProbe" not in c:
            errs.append(f"{where}: no readinessProbe")
    for e in c.get("env") or []:
        if SECRET_NAME.search(e.get("name", "")) and "value" in e:
            errs.append(f"{where}: env {e['name']} holds a literal value "
                        "(secrets come from a Secret)")


def check_pods(docs, errs):
    n = 0
    for obj in docs:
        spec = pod_spec(obj)
        if spec is None:
            continue
        n += 1
        kind = obj["kind"]
        name = f"{kind}/{obj['metadata']['name']}"
        ann = obj["metadata"].get("annotations") or {}
        is_test_hook = kind == "Pod" and ann.get("helm.sh/hook") == "test"
        for flag in ("hostNetwork", "hostPID", "hostIPC"):
            if spec.get(flag):
                errs.append(f"{name}: {flag}")
        if spec.get("automountServiceAccountToken") is not False:
            errs.append(f"{name}: service account token mounted "
                        "(automountServiceAccountToken is not false)")
        # Init containers (and native sidecars such as the dev overlay's
        # loopback-only dev broker) need no probes; the rest applies.
        for c in spec.get("initContainers") or []:
            check_container(f"{name} init container {c['name']}", c, spec,
                            kind, True, errs)
        for c in spec["containers"]:
            check_container(f"{name} container {c['name']}", c, spec, kind,
                            is_test_hook, errs)
    return n


def check_secrets(docs, secrets, notes, errs):
    needles = []
    for s in secrets:
        needles.append((s, s))
        needles.append((s, base64.b64encode(s.encode()).decode()))
    for obj in docs:
        if obj.get("kind") == "Secret":
            continue
        text = yaml.safe_dump(obj)
        name = f"{obj.get('kind')}/{obj['metadata']['name']}"
        for s, n in needles:
            if n in text:
                errs.append(f"{name}: carries the secret value {s[:4]}...")
    for s, n in needles:
        if notes is not None and n in notes:
            errs.append(f"NOTES: carries the secret value {s[:4]}...")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("file")
    ap.add_argument("--secret", action="append", default=[])
    ap.add_argument("--notes")
    ap.add_argument("--min-pods", type=int, default=1)
    a = ap.parse_args()
    with open(a.file, encoding="utf-8") as f:
        docs = [d for d in yaml.safe_load_all(f) if d]
    notes = None
    if a.notes:
        with open(a.notes, encoding="utf-8") as f:
            notes = f.read()
    errs = []
    n = check_pods(docs, errs)
    if n < a.min_pods:
        errs.append(f"{a.file}: {n} pod templates, expected at least "
                    f"{a.min_pods}")
    check_secrets(docs, a.secret, notes, errs)
    for e in errs:
        print(f"policy: {a.file}: {e}")
    if errs:
        return 1
    print(f"policy: {a.file}: ok ({n} pod templates, {len(docs)} objects)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
