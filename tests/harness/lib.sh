# shellcheck shell=bash
# lib.sh: shell helpers shared by the test harness (source it).
#
#   free_port            prints a TCP port that is free on 127.0.0.1 now
#   wait_ready FILE T [PID]
#                        waits up to T seconds for FILE to exist and be
#                        non-empty; fails early when PID (if given) exits
#   pid_alive PID        true while PID runs (a zombie counts as gone)
#   stop_pid PID T       SIGTERM, wait up to T seconds for the exit; then
#                        SIGKILL and fail. Exit status is not visible here
#                        (PID is usually not our child): svc.sh records it.
#   stop_stale PIDFILE WORD
#                        stops the process PIDFILE names if it still runs
#                        and its command line contains WORD (a crashed or
#                        interrupted earlier run left it behind)

# The kernel picks the port; it is released again before we return, so a
# caller must bind it soon. Good enough for tests on one machine.
free_port() {
  python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()'
}

pid_alive() {
  local state
  kill -0 "$1" 2>/dev/null || return 1
  # A zombie still answers kill -0 until its parent reaps it.
  state=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) || return 1
  [ "$state" != "Z" ]
}

# Polls every 100 ms: a ready file appears within a few ms of the bind.
wait_ready() {
  local file=$1 timeout=$2 pid=${3:-} i n
  n=$((timeout * 10))
  for ((i = 0; i < n; i++)); do
    [ -s "$file" ] && return 0
    if [ -n "$pid" ] && ! pid_alive "$pid"; then
      echo "wait_ready: process $pid exited before writing $file" >&2
      return 1
    fi
    sleep 0.1
  done
  echo "wait_ready: no $file after ${timeout}s" >&2
  return 1
}

stop_pid() {
  local pid=$1 timeout=$2 i n
  n=$((timeout * 10))
  pid_alive "$pid" || return 0
  kill -TERM "$pid" 2>/dev/null || return 0
  for ((i = 0; i < n; i++)); do
    pid_alive "$pid" || return 0
    sleep 0.1
  done
  echo "stop_pid: $pid still running ${timeout}s after SIGTERM, killing" >&2
  kill -KILL "$pid" 2>/dev/null
  return 1
}

stop_stale() {
  local pidfile=$1 word=$2 pid
  [ -s "$pidfile" ] || return 0
  pid=$(cat "$pidfile")
  pid_alive "$pid" || return 0
  # The PID may have been reused since: only ours has WORD in its argv.
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$word" ||
    return 0
  echo "stop_stale: stopping $pid left over from an earlier run" >&2
  stop_pid "$pid" 20 || true
}
