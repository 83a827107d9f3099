#!/usr/bin/env bash
# kafka.sh start|stop RUN_DIR: a real Apache Kafka 4.x broker for tests.
#
# Single node in KRaft mode (one JVM is broker and controller), from the
# jars scripts/setup put in .deps/kafka/libs. Listens on free 127.0.0.1
# ports. start writes RUN_DIR/kafka.addr ("127.0.0.1:PORT") and
# RUN_DIR/kafka.pid once the broker answers metadata requests; stop sends
# SIGTERM (SIGKILL after 20 s) and removes the data. Server log:
# RUN_DIR/kafka.log, JVM output: RUN_DIR/kafka.out (both kept after stop).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"

libs=${VELO_KAFKA_LIBS:-$root/.deps/kafka/libs}
total_s=90   # the whole start, retries included (ctest allows 120 s)
first_s=60   # the first attempt; a retry gets what is left

usage() {
  echo "usage: $0 start|stop RUN_DIR" >&2
  exit 2
}

# Kafka's Uuid is 16 random bytes in unpadded url-safe base64; making it
# here saves a JVM start over "StorageTool random-uuid".
cluster_id() {
  python3 -c 'import base64, uuid
print(base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("="))'
}

write_config() {
  local kdir=$1 bport=$2 cport=$3 log=$4
  cat >"$kdir/server.properties" <<PROPS
process.roles=broker,controller
node.id=1
controller.quorum.bootstrap.servers=127.0.0.1:$cport
listeners=PLAINTEXT://127.0.0.1:$bport,CONTROLLER://127.0.0.1:$cport
advertised.listeners=PLAINTEXT://127.0.0.1:$bport
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
log.dirs=$kdir/data
num.partitions=6
auto.create.topics.enable=true
min.insync.replicas=1
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
# Fewer internal partitions: creating 50 of each on first use costs
# seconds on a loaded 2-core machine and buys nothing in a test.
offsets.topic.num.partitions=6
transaction.state.log.num.partitions=6
PROPS
  cat >"$kdir/log4j2.properties" <<PROPS
status = warn
appender.file.type = File
appender.file.name = file
appender.file.fileName = $log
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = info
rootLogger.appenderRef.file.ref = file
logger.kafka.name = kafka
logger.kafka.level = info
logger.state.name = state.change.logger
logger.state.level = warn
PROPS
}

# Broker answers once it lists itself in metadata.
answers() {
  kcat -L -b "$1" -m 3 2>/dev/null | grep -q "1 brokers:"
}

# One attempt: fresh ports and data dir. Prints the address on success.
attempt() {
  local run=$1 wait_s=$2 kdir=$1/kafka bport cport id pid t0
  # Serial GC and the C1 compiler only: a test broker moves little data,
  # and this cuts start-up CPU on a shared 2-core machine.
  local -a jvm=(java -Xmx512m -Xms128m -XX:+UseSerialGC
    -XX:TieredStopAtLevel=1 -Djava.awt.headless=true
    "-Dlog4j2.configurationFile=$kdir/log4j2.properties" -cp "$libs/*")
  rm -rf "$kdir"
  mkdir -p "$kdir/data"
  bport=$(free_port)
  cport=$(free_port)
  while [ "$cport" = "$bport" ]; do cport=$(free_port); done
  write_config "$kdir" "$bport" "$cport" "$run/kafka.log"
  id=$(cluster_id)
  "${jvm[@]}" kafka.tools.StorageTool format --standalone -t "$id" \
    -c "$kdir/server.properties" >"$run/kafka.out" 2>&1 || return 1
  # Output to files only: ctest must not inherit the broker's pipes.
  "${jvm[@]}" kafka.Kafka "$kdir/server.properties" \
    </dev/null >>"$run/kafka.out" 2>&1 &
  pid=$!
  echo "$pid" >"$run/kafka.pid"
  t0=$SECONDS
  while ((SECONDS - t0 < wait_s)); do
    if answers "127.0.0.1:$bport"; then
      echo "127.0.0.1:$bport"
      return 0
    fi
    pid_alive "$pid" || return 1
    sleep 0.5
  done
  return 1
}

start() {
  local run=$1 t0 addr left
  [ -d "$libs" ] || {
    echo "kafka.sh: no $libs; run scripts/setup" >&2
    exit 1
  }
  mkdir -p "$run"
  stop_stale "$run/kafka.pid" "$run/kafka/server.properties"
  rm -f "$run/kafka.addr" "$run/kafka.pid" "$run/kafka.log"
  t0=$SECONDS
  if addr=$(attempt "$run" "$first_s"); then
    :
  else
    echo "kafka.sh: first start failed after $((SECONDS - t0))s; retrying" >&2
    tail -n 20 "$run/kafka.log" "$run/kafka.out" >&2 2>/dev/null || true
    [ ! -f "$run/kafka.pid" ] || stop_pid "$(cat "$run/kafka.pid")" 10 || true
    left=$((total_s - (SECONDS - t0)))
    addr=$(attempt "$run" "$left") || {
      echo "kafka.sh: broker did not start; see $run/kafka.log" >&2
      tail -n 40 "$run/kafka.log" "$run/kafka.out" >&2 2>/dev/null || true
      [ ! -f "$run/kafka.pid" ] || stop_pid "$(cat "$run/kafka.pid")" 10 || true
      exit 1
    }
  fi
  echo "$addr" >"$run/kafka.addr"
  echo "kafka.sh: broker at $addr (pid $(cat "$run/kafka.pid")) in $((SECONDS - t0))s"
}

stop() {
  local run=$1 rc=0
  if [ -f "$run/kafka.pid" ]; then
    stop_pid "$(cat "$run/kafka.pid")" 20 || rc=1
  else
    echo "kafka.sh: no $run/kafka.pid, nothing to stop"
  fi
  rm -rf "$run/kafka" "$run/kafka.addr" "$run/kafka.pid"
  return $rc
}

[ $# -eq 2 ] || usage
case $1 in
start) start "$2" ;;
stop) stop "$2" ;;
*) usage ;;
esac
