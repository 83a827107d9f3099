#!/usr/bin/env python3
"""Every setting a rendered manifest gives a velopipe container is one the
service knows: a misspelt VELO_* variable would be ignored silently.

usage: envcheck.py MANIFEST BIN_DIR

For each container whose command is a velopipe binary present in BIN_DIR,
each name in its env list must appear in `BINARY --help` (the option
tables list every variable), unless it is one of the few read outside the
tables (PLATFORM below). Each key of a ConfigMap the container takes with
envFrom must be known to at least one velopipe binary (the ConfigMap is
shared). Binaries not built in this tree are reported and skipped.
Exit 1 on any unknown name.
"""
import os
import re
import subprocess
import sys

import yaml

# Read outside the option tables: the password file by velo_db, HOST_IP
# only to build VELO_CONSUL_ADDR in the manifest itself.
OUTSIDE = {"VELO_WAREHOUSE_PASSWORD_FILE", "HOST_IP"}
# Consul's settings (DESIGN §6) come with the Consul work: unchecked, and
# said so, in a tree whose services do not know them yet.
CONSUL = {"VELO_CONSUL_ADDR", "VELO_CONSUL_ADVERTISE", "CONSUL_HTTP_TOKEN_FILE"}


def known_names(binary):
    out = subprocess.run([binary, "--help"], capture_output=True, text=True,
                         timeout=30)
    return set(re.findall(r"\b[A-Z][A-Z0-9_]{2,}\b", out.stdout + out.stderr))


def pod_spec(obj):
    spec = obj.get("spec") or {}
    if obj["kind"] == "CronJob":
        return spec["jobTemplate"]["spec"]["template"]["spec"]
    if obj["kind"] in ("Deployment", "StatefulSet", "DaemonSet", "Job"):
        return spec["template"]["spec"]
    if obj["kind"] == "Pod":
        return spec
    return None


def main():
    manifest, bindir = sys.argv[1], sys.argv[2]
    docs = [d for d in yaml.safe_load_all(open(manifest)) if d]
    cms = {d["metadata"]["name"]: d.get("data") or {}
           for d in docs if d["kind"] == "ConfigMap"}
    cache, missing, errs = {}, set(), []

    def names(cmd):
        if cmd not in cache:
            path = os.path.join(bindir, cmd)
            cache[cmd] = known_names(path) if os.access(path, os.X_OK) else None
        return cache[cmd]

    everyone = set()
    for cmd in ("velo-ingest", "velo-stream", "velo-batch", "velo-warehouse",
                "velo-gateway", "velo-devbroker", "veloctl"):
        everyone |= names(cmd) or set()
    skip = set(OUTSIDE)
    if "VELO_CONSUL_ADDR" not in everyone:
        skip |= CONSUL
        print("envcheck: no service here knows Consul's settings yet:",
              " ".join(sorted(CONSUL)), "unchecked")
    used_cms = set()
    for obj in docs:
        spec = pod_spec(obj)
        if spec is None:
            continue
        for c in (spec.get("initContainers") or []) + spec["containers"]:
            cmd = (c.get("command") or [""])[0]
            if not (cmd.startswith("velo-") or cmd == "veloctl"):
                continue
            for ef in c.get("envFrom") or []:
                if "configMapRef" in ef:
                    used_cms.add(ef["configMapRef"]["name"])
            known = names(cmd)
            if known is None:
                missing.add(cmd)
                continue
            for e in c.get("env") or []:
                if e["name"] not in known and e["name"] not in skip:
                    errs.append(f"{obj['kind']}/{obj['metadata']['name']} "
                                f"{c['name']}: {cmd} knows no {e['name']}")
    for cm in sorted(used_cms):
        for key in cms.get(cm, {}):
            if key not in everyone and key not in skip:
                errs.append(f"ConfigMap/{cm}: no service reads {key}")
    for m in sorted(missing):
        print(f"envcheck: {m} not built in {bindir}: its env unchecked")
    for e in errs:
        print(f"envcheck: {manifest}: {e}")
    if not errs:
        print(f"envcheck: {manifest}: ok")
    return 1 if errs else 0


if __name__ == "__main__":
    sys.exit(main())
