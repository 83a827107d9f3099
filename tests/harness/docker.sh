#!/usr/bin/env bash
# tests/harness/docker.sh start|stop|env RUN_DIR: a private dockerd for the
# image test and `make image`, never the system's.
#   --iptables=false --ip-masq=false --bridge=none: no networks are made
#   (containers run with --network=host or none); its own --data-root
#   (.deps/docker: the layer cache outlives a run, so an unchanged build is
#   a cache hit), --exec-root, --pidfile and unix socket (under RUN_DIR).
#   One dockerd per data root at a time: a lock (flock) is held while it
#   runs; a second user waits for it.
#   debian:bookworm-slim is imported from .deps/images (scripts/setup makes
#   it with debootstrap) when the data root does not have it yet.
# start writes RUN_DIR/docker.env (DOCKER_HOST=...) and prints it; stop
# stops the dockerd it started, by PID. Exit 77 when dockerd or the base
# image is missing (run scripts/setup).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=lib.sh
. "$root/tests/harness/lib.sh"
cmd=${1:?start|stop}
run=${2:?RUN_DIR}
mkdir -p "$run"
run=$(cd "$run" && pwd)
data=$root/.deps/docker
image_tar=$root/.deps/images/debian-bookworm-slim.tar
docker=/usr/bin/docker

case "$cmd" in
start)
  if ! command -v dockerd >/dev/null || [ ! -x "$docker" ]; then
    echo "skip: dockerd not installed (docker.io; run scripts/setup)" >&2
    exit 77
  fi
  if [ ! -f "$image_tar" ]; then
    echo "skip: no base image $image_tar (run scripts/setup)" >&2
    exit 77
  fi
  mkdir -p "$data"
  # exec-root holds sockets: keep the path short.
  exe=$(mktemp -d /tmp/velo-dockerd.XXXXXX)
  echo "$exe" >"$run/dockerd.exec-root"
  # The lock stays held by a background holder until stop.
  (
    exec 9>"$data/.lock"
    flock -w 600 9 || exit 1
    echo locked >"$run/dockerd.locked"
    while [ -f "$run/dockerd.locked" ]; do sleep 1; done
  ) </dev/null >/dev/null 2>&1 &
  echo $! >"$run/dockerd.lockholder"
  for _ in $(seq 1 600); do
    [ -f "$run/dockerd.locked" ] && break
    pid_alive "$(cat "$run/dockerd.lockholder")" || break
    sleep 1
  done
  if [ ! -f "$run/dockerd.locked" ]; then
    echo "skip: another dockerd holds $data for over 10 minutes" >&2
    exit 77
  fi
  sock=$exe/docker.sock
  dockerd --data-root "$data/data" --exec-root "$exe/exec" \
    --pidfile "$exe/dockerd.pid" -H "unix://$sock" \
    --iptables=false --ip-masq=false --bridge=none --ip-forward=false \
    --userland-proxy=false --log-level warn \
    >"$run/dockerd.log" 2>&1 &
  echo $! >"$run/dockerd.pid"
  export DOCKER_HOST=unix://$sock
  for _ in $(seq 1 300); do
    "$docker" version >/dev/null 2>&1 && break
    if ! pid_alive "$(cat "$run/dockerd.pid")"; then
      echo "docker.sh: dockerd exited; see $run/dockerd.log" >&2
      tail -5 "$run/dockerd.log" >&2
      exit 1
    fi
    sleep 0.2
  done
  "$docker" version >/dev/null
  if ! "$docker" image inspect debian:bookworm-slim >/dev/null 2>&1; then
    "$docker" import "$image_tar" debian:bookworm-slim >/dev/null
  fi
  echo "export DOCKER_HOST=$DOCKER_HOST" >"$run/docker.env"
  cat "$run/docker.env"
  ;;
stop)
  if [ -f "$run/dockerd.pid" ]; then
    stop_pid "$(cat "$run/dockerd.pid")" 30 || true
    rm -f "$run/dockerd.pid"
  fi
  rm -f "$run/dockerd.locked"
  if [ -f "$run/dockerd.lockholder" ]; then
    wait_pid=$(cat "$run/dockerd.lockholder")
    for _ in $(seq 1 30); do pid_alive "$wait_pid" || break; sleep 0.2; done
    rm -f "$run/dockerd.lockholder"
  fi
  if [ -f "$run/dockerd.exec-root" ]; then
    exe=$(cat "$run/dockerd.exec-root")
    # dockerd leaves its network namespace bind mount behind.
    awk -v p="$exe/" 'index($2, p) == 1 {print $2}' /proc/mounts |
      sort -r | while read -r m; do umount "$m" 2>/dev/null || true; done
    rm -rf "$exe"
    rm -f "$run/dockerd.exec-root" "$run/docker.env"
  fi
  ;;
*)
  echo "usage: docker.sh start|stop RUN_DIR" >&2
  exit 2
  ;;
esac
