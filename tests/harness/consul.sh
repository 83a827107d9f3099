#!/usr/bin/env bash
# consul.sh start|stop RUN_DIR [NAME [HTTP_PORT]]: a real Consul agent
# (`consul agent -dev`, v1.16.3 from .deps/consul, built by scripts/setup)
# for tests, on free 127.0.0.1 ports (HTTP_PORT: that one, so a test can
# restart "the same" agent; DNS and gRPC off).
#
# start writes RUN_DIR/NAME.addr ("http://127.0.0.1:PORT") and
# RUN_DIR/NAME.pid once the agent has a leader; output in RUN_DIR/NAME.log.
# When the binary is not built yet (the first build takes ~10 min) start
# says so and succeeds without an address: the Consul tests then skip
# with exit 77. stop sends SIGTERM (SIGKILL after 10 s). NAME: consul.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"

bin=${VELO_CONSUL_BIN:-$root/.deps/consul/consul}

usage() {
  echo "usage: $0 start|stop RUN_DIR [NAME [HTTP_PORT]]" >&2
  exit 2
}

# The agent has a leader once /v1/status/leader names one.
has_leader() {
  curl -fsS --max-time 2 "$1/v1/status/leader" 2>/dev/null | grep -q ':'
}

start() {
  local run=$1 name=$2 http=${3:-} pid addr t0 dir
  mkdir -p "$run"
  stop_stale "$run/$name.pid" "-node=velo-test-$name"
  rm -f "$run/$name.addr" "$run/$name.pid"
  if [ ! -x "$bin" ]; then
    echo "consul.sh: no Consul binary at $bin (scripts/setup builds it," \
      "~10 min the first time): the Consul tests will skip"
    return 0
  fi
  [ -n "$http" ] || http=$(free_port)
  dir=$run/$name.data
  rm -rf "$dir"
  mkdir -p "$dir"
  # session_ttl_min: tests use short lock TTLs. check_update_interval 0:
  # a TTL check's output reaches the catalog at once.
  "$bin" agent -dev -node="velo-test-$name" -bind 127.0.0.1 \
    -client 127.0.0.1 -http-port "$http" -dns-port -1 -grpc-port -1 \
    -grpc-tls-port -1 -server-port "$(free_port)" \
    -serf-lan-port "$(free_port)" -serf-wan-port "$(free_port)" \
    -data-dir "$dir" -log-level warn \
    -hcl 'session_ttl_min = "1s"' -hcl 'check_update_interval = "0s"' \
    </dev/null >"$run/$name.log" 2>&1 &
  pid=$!
  echo "$pid" >"$run/$name.pid"
  addr="http://127.0.0.1:$http"
  t0=$SECONDS
  until has_leader "$addr"; do
    if ! pid_alive "$pid" || ((SECONDS - t0 > 30)); then
      echo "consul.sh: agent did not start; last lines of $run/$name.log:" >&2
      tail -n 20 "$run/$name.log" >&2 || true
      stop_pid "$pid" 5 || true
      rm -f "$run/$name.pid"
      exit 1
    fi
    sleep 0.2
  done
  echo "$addr" >"$run/$name.addr"
  echo "consul.sh: agent at $addr (pid $pid) in $((SECONDS - t0))s"
}

stop() {
  local run=$1 name=$2 rc=0
  if [ -f "$run/$name.pid" ]; then
    stop_pid "$(cat "$run/$name.pid")" 10 || rc=1
  else
    echo "consul.sh: no $run/$name.pid, nothing to stop"
  fi
  rm -rf "$run/$name.data" "$run/$name.addr" "$run/$name.pid"
  return $rc
}

if [ $# -lt 2 ] || [ $# -gt 4 ]; then usage; fi
case $1 in
start) start "$2" "${3:-consul}" "${4:-}" ;;
stop) stop "$2" "${3:-consul}" ;;
*) usage ;;
esac
