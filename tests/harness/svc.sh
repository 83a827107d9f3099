#!/usr/bin/env bash
# svc.sh: the ctest fixture helper behind velo_service_fixture (cmake/velo.cmake).
#
#   svc.sh start NAME RUN_DIR CMD...   runs CMD --ready-file RUN_DIR/NAME.ready
#                                      in the background, output to
#                                      RUN_DIR/NAME.log, pid in RUN_DIR/NAME.pid;
#                                      waits up to 10 s for the ready file
#   svc.sh stop NAME RUN_DIR           SIGTERM; requires exit status 0 within
#                                      10 s (SIGKILL and fail otherwise)
#
# NAME=kafka delegates to kafka.sh (a real broker, no CMD), NAME=postgres
# to postgres.sh (a real PostgreSQL; RUN_DIR/postgres.ready holds its URL),
# NAME=consul to consul.sh (a real Consul agent; RUN_DIR/consul.addr),
# NAME=prometheus to prometheus.sh (a real Prometheus; without the binary
# it starts nothing and the tests needing it skip).
# start and stop run in different processes, so a small wrapper (svc.sh _run) waits on the
# service and records "PID STATUS" in RUN_DIR/NAME.rc for stop to check.
# A script's background jobs ignore SIGINT, so services are stopped with
# SIGTERM, which every velo service treats as a graceful stop.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"

usage() {
  echo "usage: $0 start NAME RUN_DIR CMD... | stop NAME RUN_DIR" >&2
  exit 2
}

# _run NAME RUN_DIR CMD...: the wrapper; its own output goes nowhere.
run_wrapped() {
  local name=$1 run=$2 pid rc
  shift 2
  "$@" --ready-file "$run/$name.ready" </dev/null >"$run/$name.log" 2>&1 &
  pid=$!
  echo "$pid" >"$run/$name.pid.tmp"
  mv "$run/$name.pid.tmp" "$run/$name.pid"
  rc=0
  wait "$pid" || rc=$?
  # "PID STATUS": stop checks the PID, so a stale file from an earlier
  # instance is never taken for this one's status.
  echo "$pid $rc" >"$run/$name.rc"
}

start() {
  local name=$1 run=$2 i
  shift 2
  [ $# -gt 0 ] || usage
  mkdir -p "$run"
  stop_stale "$run/$name.pid" "--ready-file $run/$name.ready"
  rm -f "$run/$name.ready" "$run/$name.pid" "$run/$name.rc"
  # Detached, every fd redirected: ctest waits for pipes it handed out.
  setsid "$0" _run "$name" "$run" "$@" </dev/null >/dev/null 2>&1 &
  for ((i = 0; i < 50; i++)); do
    [ -s "$run/$name.pid" ] && break
    sleep 0.1
  done
  if [ ! -s "$run/$name.pid" ]; then
    echo "svc.sh: $name did not start" >&2
    exit 1
  fi
  if ! wait_ready "$run/$name.ready" 10 "$(cat "$run/$name.pid")"; then
    echo "svc.sh: $name not ready; last lines of $run/$name.log:" >&2
    tail -n 30 "$run/$name.log" >&2 || true
    stop_pid "$(cat "$run/$name.pid")" 5 || true
    exit 1
  fi
  echo "svc.sh: $name ready at $(head -n 1 "$run/$name.ready")" \
    "(pid $(cat "$run/$name.pid"))"
}

stop() {
  local name=$1 run=$2 pid rc i ok=0
  if [ ! -f "$run/$name.pid" ]; then
    echo "svc.sh: no $run/$name.pid, nothing to stop"
    exit 0
  fi
  pid=$(cat "$run/$name.pid")
  stop_pid "$pid" 10 || ok=1
  # The wrapper writes the status right after the service exits.
  rc=unknown
  for ((i = 0; i < 50; i++)); do
    if [ "$(cut -d' ' -f1 "$run/$name.rc" 2>/dev/null)" = "$pid" ]; then
      rc=$(cut -d' ' -f2 "$run/$name.rc")
      break
    fi
    sleep 0.1
  done
  if [ "$ok" -ne 0 ] || [ "$rc" != "0" ]; then
    echo "svc.sh: $name (pid $pid) exit status $rc, want 0;" \
      "last lines of $run/$name.log:" >&2
    tail -n 30 "$run/$name.log" >&2 || true
    exit 1
  fi
  rm -f "$run/$name.pid" "$run/$name.ready" "$run/$name.rc"
  echo "svc.sh: $name stopped, exit status 0"
}

[ $# -ge 3 ] || usage
cmd=$1 name=$2 run=$3
shift 3
case $cmd in
start)
  if [ "$name" = kafka ] || [ "$name" = postgres ] ||
    [ "$name" = consul ]; then
    exec "$here/$name.sh" start "$run"
  fi
  if [ "$name" = prometheus ]; then
    if ! command -v prometheus >/dev/null; then
      echo "svc.sh: no prometheus binary: not started (tests needing it skip)"
      exit 0
    fi
    exec "$here/prometheus.sh" start "$run"
  fi
  start "$name" "$run" "$@"
  ;;
stop)
  if [ "$name" = kafka ] || [ "$name" = postgres ] ||
    [ "$name" = consul ]; then
    exec "$here/$name.sh" stop "$run"
  fi
  if [ "$name" = prometheus ]; then
    exec "$here/prometheus.sh" stop "$run"
  fi
  stop "$name" "$run"
  ;;
_run) run_wrapped "$name" "$run" "$@" ;;
*) usage ;;
esac
