#!/usr/bin/env bash
# The chart offline (real helm, real Kubernetes schemas, no cluster):
#   - helm lint --strict (defaults, the production example, each ci/ file)
#   - helm template with the default values, the production example and
#     each optional feature (helm/velopipe/ci/*.yaml; monitoring with the
#     Prometheus Operator CRDs announced through --api-versions)
#   - every rendered manifest validated strictly (unknown fields are
#     errors) by kubernetes-validate against Kubernetes 1.35's schemas
#   - the policy (tests/deploy/policy.py) over every rendering, with secret
#     values set to sentinels that must stay inside the Secret and out of
#     the NOTES (helm install --dry-run=client prints them)
#   - every environment variable a rendering sets is one the built services
#     know (tests/deploy/envcheck.py against their --help; VELO_BIN_DIR)
#   - values.schema.json rejects wrong types and unknown keys
#     (tests/deploy/bad-values/*.yaml: each must fail, on the schema)
#   - the chart's copies of the alert and recording rules and the Grafana
#     dashboard equal deploy/prometheus/{alerts,recording}.yaml and
#     deploy/grafana/velopipe.json when those exist
# Exit 77 (skip) when helm or kubernetes-validate is not built yet
# (scripts/setup builds them).
set -euo pipefail
src=${VELO_SRC_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
helm=$src/.deps/bin/helm
kv=$src/.deps/venv/bin/kubernetes-validate
chart=$src/helm/velopipe
kver=1.35.0
# The built services (ctest sets VELO_BIN_DIR): env names checked against them.
bindir=${VELO_BIN_DIR:-}
[ -x "$bindir/velo-ingest" ] || bindir=""

if [ ! -x "$helm" ]; then
  echo "skip: helm not built yet (.deps/bin/helm; run scripts/setup)"
  exit 77
fi
if [ ! -x "$kv" ]; then
  echo "skip: kubernetes-validate not installed (.deps/venv; run scripts/setup)"
  exit 77
fi
out=$(mktemp -d "${TMPDIR:-/tmp}/velo-chart.XXXXXX")
trap 'rm -rf "$out"' EXIT
fail=0
bad() { echo "FAIL: $*"; fail=1; }

sentinels=(S3cretJcdecauxKey-sentinel S3cretDbPassword-sentinel
  S3cretConsulToken-sentinel)
secret_args=()
for s in "${sentinels[@]}"; do secret_args+=(--secret "$s"); done

notes_chart=$out/notes-chart
cp -r "$chart" "$notes_chart"
cat >"$notes_chart/templates/zz-notes.yaml" <<'EOF'
apiVersion: v1
kind: ConfigMap
metadata: {name: notes}
data:
  notes: |-
    {{- include (print $.Template.BasePath "/NOTES.txt") . | nindent 4 }}
EOF

mon_api=(--api-versions monitoring.coreos.com/v1/ServiceMonitor
  --api-versions monitoring.coreos.com/v1/PrometheusRule)

# render NAME [helm flags...]: template, validate, policy; NAME.yaml in $out.
render() {
  local name=$1
  shift
  if ! "$helm" template velopipe "$chart" --namespace velopipe \
    --kube-version "$kver" "$@" >"$out/$name.yaml" 2>"$out/$name.err"; then
    bad "helm template $name: $(cat "$out/$name.err")"
    return
  fi
  local lint_args=() a
  for a in "$@"; do # lint knows no --api-versions
    case "$a" in --api-versions | monitoring.coreos.com/*) ;; *) lint_args+=("$a") ;; esac
  done
  if ! "$helm" lint --strict "$chart" --kube-version "$kver" \
    "${lint_args[@]}" >"$out/$name.lint" 2>&1; then
    bad "helm lint --strict $name:"
    cat "$out/$name.lint"
  fi
  # The Prometheus Operator kinds have no schema in kubernetes-validate:
  # validated separately below.
  python3 - "$out/$name.yaml" "$out/$name.core.yaml" "$out/$name.crd.yaml" <<'EOF'
import sys, yaml
docs = [d for d in yaml.safe_load_all(open(sys.argv[1])) if d]
core = [d for d in docs if not d["apiVersion"].startswith("monitoring.coreos.com/")]
crd = [d for d in docs if d["apiVersion"].startswith("monitoring.coreos.com/")]
yaml.safe_dump_all(core, open(sys.argv[2], "w"))
yaml.safe_dump_all(crd, open(sys.argv[3], "w"))
EOF
  if ! "$kv" --strict --quiet -k "$kver" "$out/$name.core.yaml" \
    >"$out/$name.kv" 2>&1 || grep -qi 'error\|fail' "$out/$name.kv"; then
    bad "kubernetes-validate --strict $name:"
    cat "$out/$name.kv"
  fi
  # NOTES as an operator sees them: rendered through a copy of the chart
  # that wraps NOTES.txt in a ConfigMap (helm template skips NOTES, and a
  # client-side dry run still wants a cluster).
  "$helm" template velopipe "$notes_chart" --namespace velopipe \
    --kube-version "$kver" "$@" --show-only templates/zz-notes.yaml \
    2>"$out/$name.err" | python3 -c 'import sys, yaml
print(yaml.safe_load(sys.stdin)["data"]["notes"])' >"$out/$name.notes" || true
  if ! grep -q 'velo-gateway' "$out/$name.notes"; then
    bad "$name: NOTES missing or without the gateway"
  fi
  if ! python3 "$src/tests/deploy/policy.py" "$out/$name.yaml" \
    --notes "$out/$name.notes" "${secret_args[@]}" --min-pods 5; then
    bad "policy $name"
  fi
  # Every variable set is one the services know (their --help).
  if [ -n "$bindir" ] && ! python3 "$src/tests/deploy/envcheck.py" \
    "$out/$name.yaml" "$bindir" >"$out/$name.env" 2>&1; then
    bad "envcheck $name:"
    cat "$out/$name.env"
  fi
}

# count NAME KIND N: NAME's rendering has exactly N objects of KIND.
count() {
  local n
  n=$(grep -c "^kind: $2\$" "$out/$1.yaml" || true)
  [ "$n" = "$3" ] || bad "$1: $n $2 objects, expected $3"
}
# has NAME REGEX: NAME's rendering matches REGEX.
has() { grep -Eq -- "$2" "$out/$1.yaml" || bad "$1: no match for /$2/"; }
hasnt() { ! grep -Eq -- "$2" "$out/$1.yaml" || bad "$1: unexpected /$2/"; }

render default
render production -f "$chart/examples/production.yaml" "${mon_api[@]}"
for f in "$chart"/ci/*.yaml; do
  n=$(basename "$f" .yaml)
  extra=()
  [ "$n" = monitoring ] && extra=("${mon_api[@]}")
  render "ci-$n" -f "$f" "${extra[@]}"
done
echo "chart: rendered and validated: $(ls "$out"/*.core.yaml | wc -l) value sets"

# What each rendering must contain.
count default Deployment 4
count default CronJob 1
count default HorizontalPodAutoscaler 1
count default PodDisruptionBudget 2
count default Secret 0
count default ServiceMonitor 0
has default 'timeZone: "?Europe/Paris'
has default 'concurrencyPolicy: Forbid'
has default 'schedule: "0 5 \* \* \*"'
has default 'type: Recreate'
has default 'automountServiceAccountToken: false'
has default 'app.kubernetes.io/part-of: velopipe'
has default 'startupProbe:'
has default 'helm.sh/hook: test'
count ci-batch-deployment Deployment 5
count ci-batch-deployment CronJob 0
count ci-consul PodDisruptionBudget 3
has ci-consul 'VELO_CONSUL_ADDR: "http://consul-server.consul:8500"'
count ci-ingress Ingress 1
count ci-ingress HorizontalPodAutoscaler 0
count ci-minimal NetworkPolicy 0
count ci-minimal PodDisruptionBudget 0
count ci-minimal ServiceAccount 0
count ci-secrets-from-values Secret 1
has ci-secrets-from-values 'CONSUL_HTTP_TOKEN_FILE'
has ci-secrets-from-values 'VELO_WAREHOUSE_PASSWORD_FILE'
count ci-existing-secret Secret 0
has ci-existing-secret 'secretName: my-velopipe-secrets'
has ci-existing-secret 'key: pg-password'
count ci-monitoring ServiceMonitor 5
count ci-monitoring PrometheusRule 1
has ci-monitoring 'grafana_dashboard: "1"'
count production ServiceMonitor 4
count production PrometheusRule 1
count production Secret 0
count production Ingress 1
hasnt production 'sqlite'

# The Prometheus Operator objects: the fields this chart uses, checked
# against the shape of monitoring.coreos.com/v1 (no CRD schema offline).
python3 - "$out/ci-monitoring.crd.yaml" <<'EOF' || bad "ServiceMonitor/PrometheusRule shape"
import sys, yaml
docs = [d for d in yaml.safe_load_all(open(sys.argv[1])) if d]
ok = True
for d in docs:
    spec = d["spec"]
    if d["kind"] == "ServiceMonitor":
        ok &= set(spec) <= {"selector", "endpoints", "jobLabel"}
        # the rules' scrape contract: job="velo-<svc>"
        ok &= spec.get("jobLabel") == "app.velopipe.io/job"
        ok &= spec["selector"]["matchLabels"].get(
            "app.velopipe.io/job", "").startswith("velo-")
        for e in spec["endpoints"]:
            ok &= set(e) <= {"port", "path", "interval"} and "port" in e
    elif d["kind"] == "PrometheusRule":
        rules = [r for g in spec["groups"] for r in g["rules"]]
        ok &= any("record" in r for r in rules) and any("alert" in r for r in rules)
        for g in spec["groups"]:
            ok &= bool(g["name"]) and all(("alert" in r or "record" in r)
                                          and "expr" in r for r in g["rules"])
    else:
        ok = False
sys.exit(0 if ok and docs else 1)
EOF

# Each ServiceMonitor finds exactly one Service, which has its port.
python3 - "$out/ci-monitoring.yaml" <<'EOF' || bad "ServiceMonitors do not match their Services"
import sys, yaml
docs = [d for d in yaml.safe_load_all(open(sys.argv[1])) if d]
svcs = [d for d in docs if d["kind"] == "Service"]
ok = True
for sm in (d for d in docs if d["kind"] == "ServiceMonitor"):
    sel = sm["spec"]["selector"]["matchLabels"]
    hit = [s for s in svcs
           if all(s["metadata"]["labels"].get(k) == v for k, v in sel.items())]
    port = sm["spec"]["endpoints"][0]["port"]
    if len(hit) != 1 or port not in [p["name"] for p in hit[0]["spec"]["ports"]]:
        print(sm["metadata"]["name"], "->", [s["metadata"]["name"] for s in hit])
        ok = False
sys.exit(0 if ok else 1)
EOF

# The schema: each bad-values file fails, and on the schema.
for f in "$src"/tests/deploy/bad-values/*.yaml; do
  n=$(basename "$f")
  if "$helm" template velopipe "$chart" -f "$f" >"$out/bad.out" 2>&1; then
    bad "bad-values/$n was accepted"
  elif ! grep -q 'values don.t meet the specifications of the schema' \
    "$out/bad.out"; then
    bad "bad-values/$n failed, but not on the schema: $(cat "$out/bad.out")"
  else
    echo "chart: bad-values/$n rejected: $(grep -m1 -E "at '|additional" \
      "$out/bad.out" | sed 's/^ *//')"
  fi
done

# envcheck itself: a misspelt variable is caught.
if [ -n "$bindir" ]; then
  "$helm" template velopipe "$chart" --set ingest.env.VELO_INTERVALS=5 \
    >"$out/typo.yaml"
  if python3 "$src/tests/deploy/envcheck.py" "$out/typo.yaml" "$bindir" \
    >"$out/typo.env" || ! grep -q 'knows no VELO_INTERVALS' "$out/typo.env"; then
    bad "envcheck missed VELO_INTERVALS: $(cat "$out/typo.env")"
  fi
else
  echo "chart: no built services (VELO_BIN_DIR): environment names unchecked"
fi

# The policy itself: a manifest breaking every rule fails on each.
if python3 "$src/tests/deploy/policy.py" "$src/tests/deploy/policy-bad.yaml" \
  "${secret_args[@]}" >"$out/policy-bad.out"; then
  bad "policy accepted tests/deploy/policy-bad.yaml"
fi
for rule in hostNetwork 'token mounted' runAsNonRoot 'runAsUser 0' \
  'not read-only' allowPrivilegeEscalation privileged 'capabilities not' \
  'adds capabilities' seccomp 'no cpu limit' 'no memory request' \
  livenessProbe readinessProbe 'literal value' 'ConfigMap/leaky: carries' \
  'Deployment/bad: carries'; do
  grep -q "$rule" "$out/policy-bad.out" || bad "policy missed: $rule"
done

# The chart's copies of monitoring's files.
for pair in deploy/prometheus/alerts.yaml:files/prometheus/alerts.yaml \
  deploy/prometheus/recording.yaml:files/prometheus/recording.yaml \
  deploy/grafana/velopipe.json:files/grafana/velopipe.json; do
  orig=$src/${pair%%:*}
  copy=$chart/${pair#*:}
  if [ -f "$orig" ] && ! cmp -s "$orig" "$copy"; then
    bad "helm/velopipe/${pair#*:} differs from ${pair%%:*}" \
      "(cp ${pair%%:*} helm/velopipe/${pair#*:})"
  fi
done

[ "$fail" = 0 ] && echo "chart: ok"
exit "$fail"
