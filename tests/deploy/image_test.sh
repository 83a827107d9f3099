#!/usr/bin/env bash
# The container image: built from deploy/docker/Dockerfile by a private
# dockerd (tests/harness/docker.sh), then the pipeline in containers with
# --network=host (they share 127.0.0.1 and nothing else), every one with a
# read-only root filesystem, all capabilities dropped and the image's own
# user: velo-devbroker, velo-ingest on the simulator, velo-stream, and
# velo-gateway, velo-warehouse (SQLite on its volume) and velo-batch --once
# when the image has them. The answers are checked through
# veloctl (itself run from the image) and the gateway's HTTP API; then
# each container is checked to have run as uid 10001, not root, on a
# read-only root (from docker inspect and the kernel's view of the
# process: /proc/PID/status and /proc/PID/mountinfo).
# The first build reaches Debian's and npm's registries and takes several
# minutes; later ones reuse the layer cache in .deps/docker.
# Exit 77 when dockerd or the base image is missing (scripts/setup), or
# when the build stage cannot reach the package mirrors.
set -euo pipefail
src=${VELO_SRC_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
# shellcheck source=../harness/lib.sh
. "$src/tests/harness/lib.sh"
docker=/usr/bin/docker
run=$(mktemp -d "${TMPDIR:-/tmp}/velo-image.XXXXXX")
tag=velopipe:test
containers=()
cleanup() {
  local c
  for c in "${containers[@]}"; do
    "$docker" stop -t 10 "$c" >/dev/null 2>&1 || true
    "$docker" rm -f "$c" >/dev/null 2>&1 || true
  done
  "$src/tests/harness/docker.sh" stop "$run" || true
  rm -rf "$run"
}
trap cleanup EXIT
set +e
"$src/tests/harness/docker.sh" start "$run" >/dev/null 2>"$run/start.err"
rc=$?
set -e
if [ "$rc" != 0 ]; then
  cat "$run/start.err"
  [ "$rc" = 77 ] && exit 77
  echo "FAIL: dockerd did not start"
  exit 1
fi
# shellcheck disable=SC1091
. "$run/docker.env"
fail=0
bad() { echo "FAIL: $*"; fail=1; }

echo "image: building $tag (deploy/docker/Dockerfile)"
# Locally added CAs (e.g. a TLS-inspecting proxy) for the npm step.
extra_ca=$(cat /usr/local/share/ca-certificates/*.crt 2>/dev/null || true)
if ! DOCKER_BUILDKIT=0 nice -n 10 "$docker" build --network=host -q \
  --build-arg EXTRA_CA_CERTS="$extra_ca" \
  -f "$src/deploy/docker/Dockerfile" -t "$tag" "$src" >"$run/build.log" 2>&1; then
  if grep -qE 'Temporary failure resolving|Could not resolve|ENOTFOUND|EAI_AGAIN' \
    "$run/build.log"; then
    echo "skip: the build stage cannot reach the package mirrors"
    exit 77
  fi
  echo "FAIL: docker build"
  tail -30 "$run/build.log"
  exit 1
fi
"$docker" image inspect "$tag" -f '{{.Config.User}} {{index .Config.Labels "org.opencontainers.image.title"}}' \
  >"$run/inspect"
[ "$(cat "$run/inspect")" = "10001:10001 velopipe" ] ||
  bad "image user/labels: $(cat "$run/inspect")"

# The run directory is the one writable mount shared with the host (ready
# files); everything else is read-only or a tmpfs.
share=$run/share
mkdir -p "$share"
chmod 0777 "$share"
common=(--network=host --read-only --tmpfs /tmp:rw,size=16m
  --tmpfs /var/lib/velopipe:rw,size=64m,uid=10001,gid=10001
  --cap-drop ALL --security-opt no-new-privileges
  -v "$share:/share" -e VELO_ADMIN_BIND=127.0.0.1
  -e VELO_GATEWAY_BIND=127.0.0.1 -e VELO_LOG_LEVEL=info)

# start NAME COMMAND [ARGS...]: a detached container writing
# /share/NAME.ready.
start() {
  local name=$1 c
  shift
  c=$("$docker" run -d "${common[@]}" --name "velo-test-$name-$$" "$tag" \
    "$@" --ready-file "/share/$name.ready")
  containers+=("$c")
  if ! wait_ready "$share/$name.ready" 60; then
    bad "$name did not become ready"
    "$docker" logs "$c" 2>&1 | tail -20
    return 1
  fi
}
has_bin() {
  "$docker" run --rm --network=none "$tag" "$1" --help >/dev/null 2>&1
}

kport=$(free_port)
start devbroker velo-devbroker --port "$kport"
brokers=$(head -1 "$share/devbroker.ready")
common+=(-e "VELO_KAFKA_BROKERS=$brokers")
rpc_port=$(free_port)
pub_port=$(free_port)
start stream velo-stream --admin-port 0 \
  --rpc-url "tcp://127.0.0.1:$rpc_port" --pub-url "tcp://127.0.0.1:$pub_port"
start ingest velo-ingest --admin-port 0 --source \
  "sim:dublin=simulate:/usr/share/velopipe/seeds/dublin.json,interval=1,seed=7,tz=Europe/Dublin"
gw=""
if has_bin velo-gateway; then
  gw_port=$(free_port)
  common+=(-e "VELO_STREAM_RPC=tcp://127.0.0.1:$rpc_port"
    -e "VELO_STREAM_PUB=tcp://127.0.0.1:$pub_port")
  start gateway velo-gateway --port "$gw_port" --admin-port 0 &&
    gw=127.0.0.1:$gw_port
else
  echo "image: no velo-gateway in this tree yet: gateway checks skipped"
fi

# velo-warehouse (when built) on SQLite in the /var/lib/velopipe volume:
# ready means it reached its database.
if has_bin velo-warehouse; then
  wh_rpc=$(free_port)
  if start warehouse velo-warehouse --admin-port 0 \
    --rpc-url "tcp://127.0.0.1:$wh_rpc"; then
    wh_admin=$(head -1 "$share/warehouse.ready")
    curl -sf --max-time 5 -o /dev/null "http://${wh_admin#http://}/readyz" ||
      bad "warehouse /readyz ($wh_admin)"
  fi
fi

# veloctl from the image: the simulated Dublin system arrives.
ctl() {
  "$docker" run --rm --network=host --read-only --cap-drop ALL "$tag" \
    veloctl --rpc "tcp://127.0.0.1:$rpc_port" "$@"
}
ok=""
for _ in $(seq 1 60); do
  if ctl systems 2>/dev/null | grep -q 'sim:dublin'; then ok=1; break; fi
  sleep 1
done
[ -n "$ok" ] || bad "veloctl systems: no sim:dublin after 60 s"
ctl health >"$run/health" 2>&1 || bad "veloctl health: $(cat "$run/health")"
n=$(ctl --json stations sim:dublin --limit 5000 2>/dev/null |
  python3 -c 'import json,sys; d=json.load(sys.stdin); print(len(d.get("stations", d) if isinstance(d, dict) else d))' \
  2>/dev/null || echo 0)
[ "$n" -gt 10 ] || bad "veloctl stations: $n stations"
echo "image: veloctl sees sim:dublin with $n stations"
# velo-batch --once (when built), the CronJob's form: one pass, exit 0.
if has_bin velo-batch; then
  if ! timeout 120 "$docker" run --rm "${common[@]}" "$tag" velo-batch \
    --once --admin-port 0 >"$run/batch.log" 2>&1; then
    bad "velo-batch --once: $(tail -5 "$run/batch.log")"
  else
    echo "image: velo-batch --once exited 0"
  fi
fi
if [ -n "$gw" ]; then
  body=$(curl -sf --max-time 5 "http://$gw/api/v1/systems" || true)
  echo "$body" | grep -q 'sim:dublin' || bad "gateway /api/v1/systems: $body"
  # The body first, then grep: `curl | grep -q` under pipefail fails when
  # grep exits at the match before curl has written everything (SIGPIPE).
  page=$(curl -sf --max-time 5 "http://$gw/" || true)
  grep -qi '<html' <<<"$page" ||
    bad "gateway /: no dashboard (assets not in the image?)"
  admin=$(sed -n 2p "$share/gateway.ready")
  curl -sf --max-time 5 -o /dev/null "http://${admin#http://}/readyz" ||
    bad "gateway /readyz on its admin port ($admin)"
fi

# Each service container ran as 10001 on a read-only root.
for c in "${containers[@]}"; do
  read -r name user ro pid < <("$docker" inspect -f \
    '{{.Name}} {{.Config.User}} {{.HostConfig.ReadonlyRootfs}} {{.State.Pid}}' "$c")
  [ "$user" = 10001:10001 ] || bad "$name: user '$user'"
  [ "$ro" = true ] || bad "$name: root filesystem writable"
  if [ "$pid" -gt 0 ] && [ -r "/proc/$pid/status" ]; then
    uid=$(awk '/^Uid:/{print $3}' "/proc/$pid/status")
    [ "$uid" = 10001 ] || bad "$name: runs as uid $uid"
    awk '$5 == "/" {print $6}' "/proc/$pid/mountinfo" | grep -q '^ro' ||
      bad "$name: / is not mounted read-only"
    [ "$(awk '/^CapEff:/{print $2}' "/proc/$pid/status")" = 0000000000000000 ] ||
      bad "$name: has capabilities"
  else
    bad "$name: not running at the end (pid $pid)"
  fi
done
echo "image: ${#containers[@]} containers ran as 10001 with a read-only root"

[ "$fail" = 0 ] && echo "image: ok"
exit "$fail"
