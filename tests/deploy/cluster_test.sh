#!/usr/bin/env bash
# The chart and the kustomize overlays on a real API server
# (tests/harness/k8s.sh: etcd, kube-apiserver, kube-controller-manager,
# kube-scheduler, kwok's fake nodes and pods, all on 127.0.0.1):
#   Pod Security admission "restricted" enforced on every namespace
#   helm install --wait: every Deployment ready, the CronJob, HPA, PDBs,
#     NetworkPolicies, the Secret and the PVC read back as rendered; the
#     secret values only in the Secret (not the ConfigMap, not the NOTES)
#   helm test: the veloctl health pod runs and succeeds
#   helm upgrade --wait: a value (logLevel) and a replica count change
#   helm rollback --wait: both back
#   helm uninstall --wait: nothing of the release is left
#   kubectl apply -k of the dev and production overlays: rolled out, then
#     kubectl delete -k leaves nothing
# helm's --wait is not a strict check (unknown fields are dropped with a
# warning): chart_test.sh and kustomize_test.sh validate strictly first.
# Exit 77 when the control plane or helm is not built (scripts/setup).
set -euo pipefail
src=${VELO_SRC_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
bin=$src/.deps/bin
run=$(mktemp -d "${TMPDIR:-/tmp}/velo-cluster.XXXXXX")
if [ ! -x "$bin/helm" ]; then
  echo "skip: helm not built yet (.deps/bin; run scripts/setup)"
  exit 77
fi
cleanup() {
  "$src/tests/harness/k8s.sh" stop "$run" || true
  rm -rf "$run"
}
trap cleanup EXIT
set +e
env_line=$("$src/tests/harness/k8s.sh" start "$run" 2>"$run/start.err")
rc=$?
set -e
if [ "$rc" = 77 ]; then
  cat "$run/start.err"
  exit 77
elif [ "$rc" != 0 ]; then
  echo "FAIL: control plane did not start"
  cat "$run/start.err"
  exit 1
fi
eval "$env_line"
export HELM_CACHE_HOME=$run/helm/cache HELM_CONFIG_HOME=$run/helm/config \
  HELM_DATA_HOME=$run/helm/data
kc() { "$bin/kubectl" "$@"; }
helm() { "$bin/helm" "$@"; }
ns=velopipe-test
chart=$src/helm/velopipe
fail=0
bad() { echo "FAIL: $*"; fail=1; }
step() { echo "cluster: $*"; }

# A volume for each claim (no provisioner here): the PV controller binds.
pv() {
  kc apply -f - >/dev/null <<EOF
apiVersion: v1
kind: PersistentVolume
metadata: {name: $1}
spec:
  capacity: {storage: 1Gi}
  accessModes: [ReadWriteOnce]
  persistentVolumeReclaimPolicy: Delete
  storageClassName: ""
  hostPath: {path: /nonexistent/velo-test/$1}
EOF
}

# jpath KIND NAME JSONPATH [NS]
jpath() { kc -n "${4:-$ns}" get "$1" "$2" -o "jsonpath=$3"; }

# every_deployment_ready NS: within 60 s, each Deployment has exactly its
# replicas, all updated and ready (helm --wait returns once enough are
# ready; the old ones may still be going).
every_deployment_ready() {
  local i
  for ((i = 0; i < 120; i++)); do
    deployments_ready "$1" >/dev/null && return 0
    sleep 0.5
  done
  deployments_ready "$1"
}
deployments_ready() {
  kc -n "$1" get deployments -o json | python3 -c '
import json, sys
items = json.load(sys.stdin)["items"]
bad = [d["metadata"]["name"] for d in items
       if d["status"].get("readyReplicas", 0) != d["spec"]["replicas"]
       or d["status"].get("updatedReplicas", 0) != d["spec"]["replicas"]
       or d["status"].get("replicas", 0) != d["spec"]["replicas"]]
for b in bad:
    print("not ready:", b)
sys.exit(1 if bad or not items else 0)'
}

# nothing_left NS SELECTOR: no object of the kinds a release makes.
nothing_left() {
  local left i
  for ((i = 0; i < 150; i++)); do
    left=$(kc -n "$1" get deployments,replicasets,pods,services,configmaps,secrets,cronjobs,jobs,hpa,pdb,networkpolicies,serviceaccounts,pvc \
      -l "$2" -o name 2>/dev/null)
    [ -z "$left" ] && return 0
    sleep 0.2
  done
  echo "left behind: $left"
  return 1
}

kc create namespace "$ns" >/dev/null
# Pod Security admission enforces the "restricted" profile on every pod
# of the release (the overlays' namespaces carry the same label).
kc label namespace "$ns" pod-security.kubernetes.io/enforce=restricted >/dev/null
pv velo-test-warehouse

# --- helm install ---------------------------------------------------------
values=$src/tests/deploy/cluster-values.yaml
step "helm install --wait"
if ! helm install velopipe "$chart" -n "$ns" -f "$values" --wait \
  --timeout 180s >"$run/install.out" 2>&1; then
  bad "helm install: $(cat "$run/install.out")"
  kc -n "$ns" get all,pvc -o wide || true
  exit 1
fi
every_deployment_ready "$ns" || bad "Deployments not ready after install --wait"
[ "$(jpath deployment velopipe-ingest '{.spec.replicas}')" = 2 ] ||
  bad "ingest: not 2 replicas with Consul"
[ "$(jpath deployment velopipe-stream '{.spec.replicas}')" = 2 ] ||
  bad "stream: not 2 replicas"
[ "$(jpath cronjob velopipe-batch '{.spec.schedule}|{.spec.timeZone}|{.spec.concurrencyPolicy}')" = \
  "0 5 * * *|Europe/Paris|Forbid" ] || bad "CronJob schedule/timeZone/concurrencyPolicy"
[ "$(jpath cronjob velopipe-batch '{.spec.jobTemplate.spec.template.spec.containers[0].args}')" = '["--once"]' ] ||
  bad "CronJob does not run --once"
[ "$(jpath hpa velopipe-gateway '{.spec.scaleTargetRef.name}|{.spec.minReplicas}')" = \
  "velopipe-gateway|2" ] || bad "HPA"
pdbs=$(kc -n "$ns" get pdb -o name | sort | tr '\n' ' ')
[ "$pdbs" = "poddisruptionbudget.policy/velopipe-gateway poddisruptionbudget.policy/velopipe-ingest poddisruptionbudget.policy/velopipe-stream " ] ||
  bad "PDBs: $pdbs"
nps=$(kc -n "$ns" get networkpolicies -o name | wc -l)
[ "$nps" -ge 8 ] || bad "NetworkPolicies: $nps"
[ "$(jpath pvc velopipe-warehouse '{.status.phase}')" = Bound ] ||
  bad "warehouse PVC not bound"
[ "$(jpath serviceaccount velopipe '{.automountServiceAccountToken}')" = false ] ||
  bad "ServiceAccount automounts its token"
got=$(jpath secret velopipe-secrets '{.data.consul-token}' | base64 -d)
[ "$got" = "S3cretConsulToken-sentinel" ] || bad "Secret read back: '$got'"
if kc -n "$ns" get configmaps,deployments,cronjobs -o yaml |
  grep -q -e S3cret -e "$(printf S3cretConsulToken-sentinel | base64)"; then
  bad "a secret value outside the Secret"
fi
helm get notes velopipe -n "$ns" >"$run/notes"
grep -q 'port-forward service/velopipe-gateway' "$run/notes" ||
  bad "NOTES do not say how to reach the dashboard"
! grep -q S3cret "$run/notes" || bad "a secret value in the NOTES"
# What the API server stored is what was rendered (nothing dropped).
helm get manifest velopipe -n "$ns" >"$run/manifest.yaml"
python3 - "$run/manifest.yaml" "$ns" "$bin/kubectl" <<'PY' || bad "stored objects differ from the rendered ones"
import json, subprocess, sys, yaml
docs = [d for d in yaml.safe_load_all(open(sys.argv[1])) if d]
ok = True
for d in docs:
    if d["kind"] not in ("Deployment", "CronJob"):
        continue
    live = json.loads(subprocess.check_output(
        [sys.argv[3], "-n", sys.argv[2], "get", d["kind"],
         d["metadata"]["name"], "-o", "json"]))
    def pod(o):
        s = o["spec"]
        return (s["jobTemplate"]["spec"] if o["kind"] == "CronJob" else s)["template"]["spec"]
    for want, got in zip(pod(d)["containers"], pod(live)["containers"]):
        for k in ("securityContext", "livenessProbe", "readinessProbe",
                  "startupProbe", "resources"):
            if k in want and set(want[k]) - set(got.get(k, {})):
                print(d["metadata"]["name"], k, "lost",
                      set(want[k]) - set(got.get(k, {})))
                ok = False
sys.exit(0 if ok else 1)
PY

# --- helm test ------------------------------------------------------------
step "helm test"
if ! helm test velopipe -n "$ns" --timeout 120s >"$run/test.out" 2>&1; then
  bad "helm test: $(cat "$run/test.out")"
fi
grep -q 'Phase:.*Succeeded' "$run/test.out" || bad "helm test: no Succeeded phase"

# --- helm upgrade ---------------------------------------------------------
step "helm upgrade --wait (stream.replicas=3, logLevel=debug)"
if ! helm upgrade velopipe "$chart" -n "$ns" -f "$values" --wait \
  --timeout 180s --set stream.replicas=3 --set logLevel=debug \
  >"$run/upgrade.out" 2>&1; then
  bad "helm upgrade: $(cat "$run/upgrade.out")"
fi
every_deployment_ready "$ns" || bad "Deployments not ready after upgrade"
[ "$(jpath deployment velopipe-stream '{.status.readyReplicas}')" = 3 ] ||
  bad "stream: not 3 ready replicas after upgrade"
[ "$(jpath configmap velopipe-config '{.data.VELO_LOG_LEVEL}')" = debug ] ||
  bad "ConfigMap: logLevel not changed"
[ "$(helm history velopipe -n "$ns" -o json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')" = 2 ] ||
  bad "history: not 2 revisions"

# --- helm rollback --------------------------------------------------------
step "helm rollback --wait to revision 1"
if ! helm rollback velopipe 1 -n "$ns" --wait --timeout 180s \
  >"$run/rollback.out" 2>&1; then
  bad "helm rollback: $(cat "$run/rollback.out")"
fi
every_deployment_ready "$ns" || bad "Deployments not ready after rollback"
[ "$(jpath deployment velopipe-stream '{.spec.replicas}|{.status.readyReplicas}')" = "2|2" ] ||
  bad "stream: not back to 2 replicas"
[ "$(jpath configmap velopipe-config '{.data.VELO_LOG_LEVEL}')" = info ] ||
  bad "ConfigMap: logLevel not rolled back"

# --- helm uninstall -------------------------------------------------------
step "helm uninstall --wait"
helm uninstall velopipe -n "$ns" --wait --timeout 120s >"$run/uninstall.out" 2>&1 ||
  bad "helm uninstall: $(cat "$run/uninstall.out")"
nothing_left "$ns" app.kubernetes.io/instance=velopipe || bad "uninstall left objects"
[ -z "$(kc -n "$ns" get secrets -l owner=helm -o name)" ] ||
  bad "helm's release records left"

# --- kustomize overlays ---------------------------------------------------
# rollout NS: every Deployment rolled out within 120 s.
rollout() {
  local d
  for d in $(kc -n "$1" get deployments -o name); do
    kc -n "$1" rollout status "$d" --timeout 120s >/dev/null ||
      bad "$1: $d not rolled out"
  done
  every_deployment_ready "$1" || bad "$1: Deployments not ready"
}
step "kubectl apply -k overlays/dev"
pv velo-test-dev
if kc apply -k "$src/deploy/k8s/overlays/dev" >"$run/dev.out" 2>&1; then
  rollout velopipe-dev
  [ "$(jpath pvc velopipe-dev-data '{.status.phase}' velopipe-dev)" = Bound ] ||
    bad "dev: PVC not bound"
  kc delete -k "$src/deploy/k8s/overlays/dev" --wait --timeout 120s >/dev/null ||
    bad "dev: delete -k"
else
  bad "dev: apply -k: $(cat "$run/dev.out")"
fi

step "kubectl apply -k overlays/production"
kc create namespace velopipe >/dev/null
kc -n velopipe create secret generic velopipe-secrets \
  --from-literal=warehouse-password=pw --from-literal=consul-token=tok \
  >/dev/null
if kc apply -k "$src/deploy/k8s/overlays/production" >"$run/prod.out" 2>&1; then
  rollout velopipe
  [ "$(jpath deployment velopipe-stream '{.status.readyReplicas}' velopipe)" = 3 ] ||
    bad "production: stream not 3 ready"
  [ "$(kc -n velopipe get pdb -o name | wc -l)" = 4 ] || bad "production: PDBs"
  kc delete -k "$src/deploy/k8s/overlays/production" --wait --timeout 120s \
    >/dev/null || bad "production: delete -k"
else
  bad "production: apply -k: $(cat "$run/prod.out")"
fi
[ -z "$(kc get namespaces velopipe velopipe-dev -o name 2>/dev/null)" ] ||
  bad "overlay namespaces left"

[ "$fail" = 0 ] && echo "cluster: ok"
exit "$fail"
