#!/usr/bin/env bash
# tests/harness/k8s.sh start|stop RUN_DIR: a real Kubernetes control plane
# on 127.0.0.1 for the deployment tests, from the binaries scripts/setup
# builds into .deps/bin:
#   etcd, kube-apiserver (self-signed TLS, token auth as system:masters,
#   RBAC), kube-controller-manager, kube-scheduler, and kwok, which fakes
#   three nodes and the pods on them (tests/deploy/kwok-stages.yaml: pods
#   become Running and Ready, Job pods and `helm test` pods complete).
# Every port is a free one on 127.0.0.1. The service and pod address ranges
# are bookkeeping only: nothing is routed there and no test sends traffic
# to them. start writes RUN_DIR/k8s/kubeconfig and prints
# "export KUBECONFIG=..."; stop stops every process it started, by PID
# (RUN_DIR/k8s/*.pid), last started first.
# Exit 77 when a binary is missing (scripts/setup builds them).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=lib.sh
. "$root/tests/harness/lib.sh"
cmd=${1:?start|stop}
run=${2:?RUN_DIR}
bin=$root/.deps/bin
dir=$run/k8s
procs=(etcd kube-apiserver kube-controller-manager kube-scheduler kwok)

stop_all() {
  local i p
  for ((i = ${#procs[@]} - 1; i >= 0; i--)); do
    p=${procs[$i]}
    if [ -f "$dir/$p.pid" ]; then
      stop_pid "$(cat "$dir/$p.pid")" 20 || true
      rm -f "$dir/$p.pid"
    fi
  done
}

if [ "$cmd" = stop ]; then
  stop_all
  exit 0
fi
[ "$cmd" = start ] || { echo "usage: k8s.sh start|stop RUN_DIR" >&2; exit 2; }

for p in "${procs[@]}" kubectl; do
  if [ ! -x "$bin/$p" ]; then
    echo "skip: $p not built yet (.deps/bin; run scripts/setup)" >&2
    exit 77
  fi
done
rm -rf "$dir"
mkdir -p "$dir/etcd"
trap 'stop_all' ERR

# TLS for the API server and the service-account keys.
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=velo-test-ca" \
  -keyout "$dir/ca.key" -out "$dir/ca.crt" 2>/dev/null
openssl req -newkey rsa:2048 -nodes -subj "/CN=kube-apiserver" \
  -keyout "$dir/apiserver.key" -out "$dir/apiserver.csr" 2>/dev/null
printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\n' >"$dir/san.ext"
openssl x509 -req -in "$dir/apiserver.csr" -CA "$dir/ca.crt" \
  -CAkey "$dir/ca.key" -CAcreateserial -days 2 -extfile "$dir/san.ext" \
  -out "$dir/apiserver.crt" 2>/dev/null
openssl genrsa -out "$dir/sa.key" 2048 2>/dev/null
openssl rsa -in "$dir/sa.key" -pubout -out "$dir/sa.pub" 2>/dev/null
token=$(od -An -tx1 -N16 /dev/urandom | tr -d ' \n')
echo "$token,velo-test-admin,velo-test-admin,\"system:masters\"" \
  >"$dir/tokens.csv"

etcd_port=$(free_port)
peer_port=$(free_port)
api_port=$(free_port)
kcm_port=$(free_port)
sched_port=$(free_port)
kwok_port=$(free_port)

cat >"$dir/kubeconfig" <<EOF
apiVersion: v1
kind: Config
clusters:
  - name: velo-test
    cluster:
      server: https://127.0.0.1:$api_port
      certificate-authority: $dir/ca.crt
users:
  - name: velo-test-admin
    user:
      token: $token
contexts:
  - name: velo-test
    context: {cluster: velo-test, user: velo-test-admin}
current-context: velo-test
EOF
kubectl=("$bin/kubectl" --kubeconfig "$dir/kubeconfig")

start() { # name, command...
  local name=$1
  shift
  "$@" >"$dir/$name.log" 2>&1 &
  echo $! >"$dir/$name.pid"
}

# wait_for WHAT SECONDS NAME COMMAND...: COMMAND succeeds, or fail showing
# NAME's log.
wait_for() {
  local what=$1 t=$2 name=$3 i
  shift 3
  for ((i = 0; i < t * 5; i++)); do
    "$@" >/dev/null 2>&1 && return 0
    if ! pid_alive "$(cat "$dir/$name.pid")"; then
      echo "k8s.sh: $name exited; its log:" >&2
      tail -20 "$dir/$name.log" >&2
      return 1
    fi
    sleep 0.2
  done
  echo "k8s.sh: no $what after ${t}s; $name's log:" >&2
  tail -20 "$dir/$name.log" >&2
  return 1
}

start etcd "$bin/etcd" --name velo-test --data-dir "$dir/etcd" \
  --listen-client-urls "http://127.0.0.1:$etcd_port" \
  --advertise-client-urls "http://127.0.0.1:$etcd_port" \
  --listen-peer-urls "http://127.0.0.1:$peer_port" \
  --initial-advertise-peer-urls "http://127.0.0.1:$peer_port" \
  --initial-cluster "velo-test=http://127.0.0.1:$peer_port" \
  --log-level warn
wait_for "etcd health" 60 etcd \
  curl -sf "http://127.0.0.1:$etcd_port/health"

start kube-apiserver "$bin/kube-apiserver" \
  --etcd-servers "http://127.0.0.1:$etcd_port" \
  --bind-address 127.0.0.1 --advertise-address 127.0.0.1 \
  --secure-port "$api_port" \
  --tls-cert-file "$dir/apiserver.crt" \
  --tls-private-key-file "$dir/apiserver.key" \
  --client-ca-file "$dir/ca.crt" \
  --token-auth-file "$dir/tokens.csv" \
  --authorization-mode RBAC \
  --service-account-issuer https://kubernetes.default.svc \
  --service-account-key-file "$dir/sa.pub" \
  --service-account-signing-key-file "$dir/sa.key" \
  --service-cluster-ip-range 10.96.0.0/16 \
  --enable-priority-and-fairness=false \
  --endpoint-reconciler-type none \
  --profiling=false \
  --cert-dir "$dir/certs"
wait_for "kube-apiserver /readyz" 180 kube-apiserver \
  "${kubectl[@]}" get --raw /readyz

start kube-controller-manager "$bin/kube-controller-manager" \
  --kubeconfig "$dir/kubeconfig" \
  --authentication-kubeconfig "$dir/kubeconfig" \
  --authorization-kubeconfig "$dir/kubeconfig" \
  --bind-address 127.0.0.1 --secure-port "$kcm_port" \
  --cert-dir "$dir/certs-kcm" \
  --leader-elect=false \
  --service-account-private-key-file "$dir/sa.key" \
  --root-ca-file "$dir/ca.crt"
start kube-scheduler "$bin/kube-scheduler" \
  --kubeconfig "$dir/kubeconfig" \
  --authentication-kubeconfig "$dir/kubeconfig" \
  --authorization-kubeconfig "$dir/kubeconfig" \
  --bind-address 127.0.0.1 --secure-port "$sched_port" \
  --cert-dir "$dir/certs-sched" \
  --leader-elect=false
start kwok "$bin/kwok" \
  --kubeconfig "$dir/kubeconfig" \
  --config "$root/tests/deploy/kwok-stages.yaml" \
  --manage-all-nodes=false \
  --manage-nodes-with-annotation-selector kwok.x-k8s.io/node=fake \
  --server-address "127.0.0.1:$kwok_port" \
  --cidr 10.244.0.1/16 --node-ip 10.99.0.1

# Three fake nodes in two zones (topology spread has somewhere to go).
for i in 1 2 3; do
  zone=zone-$(((i - 1) % 2 + 1))
  "${kubectl[@]}" apply -f - >/dev/null <<EOF
apiVersion: v1
kind: Node
metadata:
  name: kwok-node-$i
  annotations:
    kwok.x-k8s.io/node: fake
    node.alpha.kubernetes.io/ttl: "0"
  labels:
    kubernetes.io/hostname: kwok-node-$i
    kubernetes.io/os: linux
    kubernetes.io/arch: amd64
    topology.kubernetes.io/zone: $zone
    type: kwok
status:
  allocatable: {cpu: "8", memory: 32Gi, pods: "110"}
  capacity: {cpu: "8", memory: 32Gi, pods: "110"}
EOF
done
ready_nodes() {
  [ "$("${kubectl[@]}" get nodes --no-headers 2>/dev/null |
    grep -c ' Ready ')" = 3 ]
}
wait_for "3 Ready nodes" 120 kwok ready_nodes
wait_for "the default ServiceAccount" 120 kube-controller-manager \
  "${kubectl[@]}" -n default get serviceaccount default
trap - ERR
echo "export KUBECONFIG=$dir/kubeconfig"
