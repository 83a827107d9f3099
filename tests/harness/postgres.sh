#!/usr/bin/env bash
# postgres.sh start|stop|halt RUN_DIR [NAME]: a real PostgreSQL for tests.
#
#   start  first time: initdb into RUN_DIR/NAME/data, then pg_ctl start on a
#          free 127.0.0.1 port (unix sockets in RUN_DIR/NAME/sock), wait until
#          it accepts connections, create the database "velo" owned by role
#          "velo" (scram-sha-256 password over TCP), and write
#            RUN_DIR/NAME.ready     postgresql://velo@127.0.0.1:PORT/velo
#            RUN_DIR/NAME.password  the password (for VELO_WAREHOUSE_PASSWORD_FILE)
#          after a halt: starts the same cluster on the same port again.
#   halt   pg_ctl stop -m fast, keeping the data (restart tests).
#   freeze SIGSTOP the postmaster and its children (a hung server: the
#          kernel still ACKs TCP, nothing answers); thaw: SIGCONT them.
#   stop   halt, then remove RUN_DIR/NAME and the ready/password files.
#
# NAME defaults to "postgres". initdb refuses to run as root, so as root the
# cluster belongs to the `postgres` user (runuser). Server log:
# RUN_DIR/NAME/log. Binaries from VELO_PG_BIN (default PostgreSQL 15).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"

bin=${VELO_PG_BIN:-/usr/lib/postgresql/15/bin}

usage() {
  echo "usage: $0 start|stop|halt|freeze|thaw RUN_DIR [NAME]" >&2
  exit 2
}

# as_pg CMD...: runs CMD as the cluster's owner.
as_pg() {
  if [ "$(id -u)" -eq 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

init_cluster() {
  local dir=$1 port pw
  rm -rf "$dir"
  mkdir -p "$dir/sock"
  port=$(free_port)
  pw=$(python3 -c 'import secrets; print(secrets.token_hex(16))')
  printf '%s\n' "$pw" >"$dir/pwfile"
  echo "$port" >"$dir/port"
  if [ "$(id -u)" -eq 0 ]; then
    chown -R postgres:postgres "$dir"
  fi
  as_pg "$bin/initdb" -D "$dir/data" -U velo --pwfile="$dir/pwfile" \
    --auth-local=trust --auth-host=scram-sha-256 -E UTF8 --locale=C.UTF-8 \
    >"$dir/initdb.log" 2>&1 || {
    cat "$dir/initdb.log" >&2
    return 1
  }
}

start() {
  local run=$1 name=$2 dir port fresh=0
  dir=$run/$name
  mkdir -p "$run"
  if [ ! -s "$dir/data/PG_VERSION" ] || [ ! -s "$dir/port" ]; then
    init_cluster "$dir"
    fresh=1
  fi
  port=$(cat "$dir/port")
  # -w waits until the server accepts connections (pg_isready semantics).
  as_pg "$bin/pg_ctl" start -w -t 60 -D "$dir/data" -l "$dir/log" \
    -o "-p $port -k $dir/sock -c listen_addresses=127.0.0.1 -c fsync=off" \
    >/dev/null || {
    echo "postgres.sh: start failed; last lines of $dir/log:" >&2
    tail -n 20 "$dir/log" >&2 || true
    return 1
  }
  if [ "$fresh" -eq 1 ]; then
    as_pg "$bin/createdb" -h "$dir/sock" -p "$port" -U velo -O velo velo
  fi
  cp "$dir/pwfile" "$run/$name.password.tmp"
  chmod 600 "$run/$name.password.tmp"
  mv "$run/$name.password.tmp" "$run/$name.password"
  echo "postgresql://velo@127.0.0.1:$port/velo" >"$run/$name.ready.tmp"
  mv "$run/$name.ready.tmp" "$run/$name.ready"
  echo "postgres.sh: $name ready at $(cat "$run/$name.ready")"
}

# signal_cluster RUN NAME SIG: the postmaster (by the PID in its pid file)
# and its children.
signal_cluster() {
  local dir=$1/$2 sig=$3 pid kids
  pid=$(head -n 1 "$dir/data/postmaster.pid" 2>/dev/null || true)
  [ -n "$pid" ] && pid_alive "$pid" || return 0
  kids=$(pgrep -P "$pid" || true)
  if [ "$sig" = STOP ]; then
    # shellcheck disable=SC2086
    kill -STOP "$pid" $kids
  else
    # shellcheck disable=SC2086
    kill -CONT $kids "$pid"
  fi
}

halt() {
  local run=$1 name=$2 dir pid
  dir=$run/$name
  [ -d "$dir/data" ] || return 0
  signal_cluster "$run" "$name" CONT # never leave stopped processes behind
  rm -f "$run/$name.ready"
  if ! as_pg "$bin/pg_ctl" stop -w -t 30 -m fast -D "$dir/data" \
    >/dev/null 2>&1; then
    # Not stopping (or never started): the postmaster's PID, if alive.
    pid=$(head -n 1 "$dir/data/postmaster.pid" 2>/dev/null || true)
    if [ -n "$pid" ] && pid_alive "$pid"; then
      stop_pid "$pid" 10 || true
    fi
  fi
}

stop() {
  local run=$1 name=$2
  halt "$run" "$name"
  rm -rf "${run:?}/$name"
  rm -f "$run/$name.ready" "$run/$name.password"
  echo "postgres.sh: $name stopped"
}

[ $# -ge 2 ] || usage
cmd=$1 run=$2 name=${3:-postgres}
case $cmd in
start) start "$run" "$name" ;;
halt) halt "$run" "$name" ;;
freeze) signal_cluster "$run" "$name" STOP ;;
thaw) signal_cluster "$run" "$name" CONT ;;
stop) stop "$run" "$name" ;;
*) usage ;;
esac
