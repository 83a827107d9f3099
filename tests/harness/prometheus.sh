#!/usr/bin/env bash
# prometheus.sh: a real Prometheus (Debian's package) for tests and make run.
#
#   prometheus.sh start RUN_DIR [NAME]
#       writes RUN_DIR/NAME/prometheus.yml and starts `prometheus` with it
#       on a free 127.0.0.1 port (VELO_PROM_PORT to pick one), data in
#       RUN_DIR/NAME/data, log in RUN_DIR/NAME/log; waits for /-/ready and
#       writes RUN_DIR/NAME.ready (host:port) and RUN_DIR/NAME.pid.
#       Targets come from file discovery: RUN_DIR/NAME/targets/*.json
#       (see `targets`); rules from RUN_DIR/NAME/rules/*.yaml, seeded with
#       the files in VELO_PROM_RULES (space-separated; default none).
#       Scrape and evaluation interval: VELO_PROM_INTERVAL (default 1s).
#   prometheus.sh targets RUN_DIR NAME JOB ADDR...
#       (re)writes the target file of JOB (labels job=JOB,
#       namespace=VELO_PROM_NAMESPACE or "local"); no ADDR removes it.
#       Prometheus notices within a second.
#   prometheus.sh reload RUN_DIR [NAME]   re-reads config and rules (SIGHUP)
#   prometheus.sh stop RUN_DIR [NAME]     SIGTERM by PID, removes RUN_DIR/NAME
#
# NAME defaults to "prometheus". Nothing binds outside 127.0.0.1; a system
# Prometheus service (Debian starts one where systemd runs) is left alone.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"

usage() {
  echo "usage: $0 start|stop|reload RUN_DIR [NAME] | targets RUN_DIR NAME JOB ADDR..." >&2
  exit 2
}

write_config() {
  local dir=$1 every=$2
  cat >"$dir/prometheus.yml" <<CFG
# Written by tests/harness/prometheus.sh; example for a deployment:
# deploy/prometheus/prometheus.yml.
global:
  scrape_interval: $every
  scrape_timeout: $every
  evaluation_interval: $every
rule_files:
  - $dir/rules/*.yaml
scrape_configs:
  - job_name: velopipe
    file_sd_configs:
      - files: ['$dir/targets/*.json']
        refresh_interval: 1s
CFG
}

start() {
  local run=$1 name=$2 dir port every pid i f
  dir=$run/$name
  every=${VELO_PROM_INTERVAL:-1s}
  command -v prometheus >/dev/null || {
    echo "prometheus.sh: no prometheus binary (apt-get install prometheus)" >&2
    return 1
  }
  mkdir -p "$run"
  stop_stale "$run/$name.pid" "$dir/prometheus.yml"
  rm -rf "$dir" "$run/$name.ready" "$run/$name.pid"
  mkdir -p "$dir/targets" "$dir/rules" "$dir/data"
  for f in ${VELO_PROM_RULES:-}; do
    cp "$f" "$dir/rules/$(basename "$f")"
  done
  write_config "$dir" "$every"
  port=${VELO_PROM_PORT:-$(free_port)}
  # Detached, every fd redirected: ctest waits for pipes it handed out.
  setsid prometheus --config.file="$dir/prometheus.yml" \
    --web.listen-address="127.0.0.1:$port" \
    --storage.tsdb.path="$dir/data" --storage.tsdb.retention.time=1d \
    --web.enable-lifecycle </dev/null >"$dir/log" 2>&1 &
  pid=$!
  echo "$pid" >"$run/$name.pid"
  for ((i = 0; i < 300; i++)); do
    if ! pid_alive "$pid"; then
      echo "prometheus.sh: exited; last lines of $dir/log:" >&2
      tail -n 20 "$dir/log" >&2 || true
      return 1
    fi
    curl -sf -o /dev/null "http://127.0.0.1:$port/-/ready" && break
    sleep 0.1
  done
  if ! curl -sf -o /dev/null "http://127.0.0.1:$port/-/ready"; then
    echo "prometheus.sh: not ready after 30 s" >&2
    stop_pid "$pid" 10 || true
    return 1
  fi
  echo "127.0.0.1:$port" >"$run/$name.ready.tmp"
  mv "$run/$name.ready.tmp" "$run/$name.ready"
  echo "prometheus.sh: $name ready at http://127.0.0.1:$port (pid $pid)"
}

targets() {
  local run=$1 name=$2 job=$3 dir list="" a
  shift 3
  dir=$run/$name/targets
  [ -d "$dir" ] || {
    echo "prometheus.sh: $name not started" >&2
    return 1
  }
  if [ $# -eq 0 ]; then
    rm -f "$dir/$job.json"
    return 0
  fi
  for a in "$@"; do
    list="$list${list:+, }\"$a\""
  done
  # Written aside and renamed: discovery never reads half a file.
  printf '[{"targets": [%s], "labels": {"job": "%s", "namespace": "%s"}}]\n' \
    "$list" "$job" "${VELO_PROM_NAMESPACE:-local}" >"$dir/.$job.tmp"
  mv "$dir/.$job.tmp" "$dir/$job.json"
}

reload() {
  local run=$1 name=$2
  kill -HUP "$(cat "$run/$name.pid")"
}

stop() {
  local run=$1 name=$2 pid
  if [ ! -f "$run/$name.pid" ]; then
    echo "prometheus.sh: no $run/$name.pid, nothing to stop"
    return 0
  fi
  pid=$(cat "$run/$name.pid")
  stop_pid "$pid" 15
  rm -rf "${run:?}/$name" "$run/$name.pid" "$run/$name.ready"
  echo "prometheus.sh: $name stopped"
}

[ $# -ge 2 ] || usage
cmd=$1 run=$2
case $cmd in
start) start "$run" "${3:-prometheus}" ;;
stop) stop "$run" "${3:-prometheus}" ;;
reload) reload "$run" "${3:-prometheus}" ;;
targets)
  [ $# -ge 4 ] || usage
  shift 2
  targets "$run" "$@"
  ;;
*) usage ;;
esac
