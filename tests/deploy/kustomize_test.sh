#!/usr/bin/env bash
# deploy/k8s offline: the base is what deploy/k8s/gen-base renders from the
# chart now; `kubectl kustomize` (the kubectl built by scripts/setup)
# renders both overlays; each is validated strictly against Kubernetes
# 1.35's schemas (kubernetes-validate) and passes tests/deploy/policy.py;
# every variable set is known to the built services (envcheck.py); the
# overlays carry what they promise (dev: one pod on the dev broker and
# SQLite on a volume; production: replicas, budgets, autoscaling,
# NetworkPolicies, secrets only by reference).
# Exit 77 (skip) when kubectl, helm or kubernetes-validate is not built.
set -euo pipefail
src=${VELO_SRC_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
kubectl=${VELO_KUBECTL:-$src/.deps/bin/kubectl}
kv=$src/.deps/venv/bin/kubernetes-validate
for t in "$kubectl" "$src/.deps/bin/helm" "$kv"; do
  if [ ! -x "$t" ]; then
    echo "skip: $(basename "$t") not built yet (run scripts/setup)"
    exit 77
  fi
done
out=$(mktemp -d "${TMPDIR:-/tmp}/velo-kustomize.XXXXXX")
trap 'rm -rf "$out"' EXIT
fail=0
bad() { echo "FAIL: $*"; fail=1; }

"$src/deploy/k8s/gen-base" --check || bad "deploy/k8s/base is stale"

for o in dev production; do
  if ! "$kubectl" kustomize "$src/deploy/k8s/overlays/$o" >"$out/$o.yaml"; then
    bad "kubectl kustomize $o"
    continue
  fi
  if ! "$kv" --strict --quiet -k 1.35.0 "$out/$o.yaml"; then
    bad "kubernetes-validate --strict $o"
  fi
  python3 "$src/tests/deploy/policy.py" "$out/$o.yaml" || bad "policy $o"
  if [ -x "${VELO_BIN_DIR:-}/velo-ingest" ]; then
    python3 "$src/tests/deploy/envcheck.py" "$out/$o.yaml" "$VELO_BIN_DIR" ||
      bad "envcheck $o"
  fi
done

python3 - "$out/dev.yaml" "$out/production.yaml" <<'PY' || fail=1
import sys, yaml
dev = [d for d in yaml.safe_load_all(open(sys.argv[1])) if d]
prod = [d for d in yaml.safe_load_all(open(sys.argv[2])) if d]
errs = []
def kinds(docs, k):
    return [d for d in docs if d["kind"] == k]
def by_name(docs, k, n):
    return next(d for d in kinds(docs, k) if d["metadata"]["name"] == n)
# dev: the one pod, the dev broker first, SQLite on a claimed volume
deps = kinds(dev, "Deployment")
if [d["metadata"]["name"] for d in deps] != ["velopipe-dev"]:
    errs.append(f"dev: Deployments {[d['metadata']['name'] for d in deps]}")
pod = deps[0]["spec"]["template"]["spec"]
if deps[0]["spec"]["replicas"] != 1:
    errs.append("dev: more than one replica")
if [c["command"][0] for c in pod["initContainers"]] != ["velo-devbroker"]:
    errs.append("dev: no dev broker sidecar")
names = sorted(c["command"][0] for c in pod["containers"])
if names != sorted(["velo-stream", "velo-ingest", "velo-batch",
                    "velo-warehouse", "velo-gateway"]):
    errs.append(f"dev: containers {names}")
cm = by_name(dev, "ConfigMap", "velopipe-config")["data"]
if cm["VELO_KAFKA_BROKERS"] != "127.0.0.1:9092" or \
        not cm["VELO_WAREHOUSE_URL"].startswith("sqlite:///var/lib/velopipe/"):
    errs.append("dev: not the dev broker or not SQLite on the volume")
if not kinds(dev, "PersistentVolumeClaim"):
    errs.append("dev: no volume claim")
if kinds(dev, "CronJob"):
    errs.append("dev: the CronJob is still there")
for s in kinds(dev, "Service"):
    if s["spec"]["selector"].get("app.kubernetes.io/component") != "dev":
        errs.append(f"dev: Service {s['metadata']['name']} misses the pod")
# production
want = {"velopipe-ingest": 2, "velopipe-stream": 3, "velopipe-gateway": 3,
        "velopipe-warehouse": 2}
for n, r in want.items():
    got = by_name(prod, "Deployment", n)["spec"]["replicas"]
    if got != r:
        errs.append(f"production: {n} has {got} replicas, want {r}")
if by_name(prod, "Deployment", "velopipe-ingest")["spec"]["strategy"]["type"] != "RollingUpdate":
    errs.append("production: ingest is not RollingUpdate (standby)")
if len(kinds(prod, "PodDisruptionBudget")) != 4:
    errs.append("production: not 4 PodDisruptionBudgets")
if len(kinds(prod, "HorizontalPodAutoscaler")) != 1:
    errs.append("production: no HPA")
if len(kinds(prod, "NetworkPolicy")) < 5:
    errs.append("production: NetworkPolicies missing")
if kinds(prod, "Secret"):
    errs.append("production: a Secret is rendered (must be created out of band)")
cm = by_name(prod, "ConfigMap", "velopipe-config")["data"]
if not cm["VELO_WAREHOUSE_URL"].startswith("postgresql://"):
    errs.append("production: warehouse is not PostgreSQL")
wh = by_name(prod, "Deployment", "velopipe-warehouse")["spec"]["template"]["spec"]
env = {e["name"]: e for e in wh["containers"][0]["env"]}
if env.get("VELO_WAREHOUSE_PASSWORD_FILE", {}).get("value") != \
        "/var/run/secrets/velopipe/warehouse-password":
    errs.append("production: warehouse password is not a mounted file")
for d in kinds(prod, "Deployment"):
    env = [e["name"] for e in d["spec"]["template"]["spec"]["containers"][0]["env"]]
    if "HOST_IP" not in env or env.index("HOST_IP") > env.index("VELO_CONSUL_ADDR"):
        errs.append(f"production: {d['metadata']['name']}: HOST_IP not before VELO_CONSUL_ADDR")
    if d["metadata"].get("namespace") != "velopipe":
        errs.append(f"production: {d['metadata']['name']} not in namespace velopipe")
for e in errs:
    print("FAIL:", e)
sys.exit(1 if errs else 0)
PY

[ "$fail" = 0 ] && echo "kustomize: ok"
exit "$fail"
