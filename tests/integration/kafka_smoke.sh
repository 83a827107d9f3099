#!/usr/bin/env bash
# kafka_smoke.sh [kafka|devbroker]: kcat writes, velo-kdump reads back.
#
# Against the real broker (fixture kafka, RUN_DIR/kafka.addr) or the dev
# broker (fixture devbroker, first line of RUN_DIR/devbroker.ready). Checks
# count, keys, values, headers, that both sides agree on the Java murmur2
# partition of each key, --max, and decoding of a StationSnapshot value.
# On real Kafka only (the mock cannot do these): --start-ms picks records by
# timestamp, and an unknown topic is an error, not an empty dump.
#
# Env (cmake/velo.cmake): VELO_RUN_DIR, VELO_BIN_DIR, VELO_SRC_DIR.
set -euo pipefail
target=${1:-kafka}
run=${VELO_RUN_DIR:?}
bin=${VELO_BIN_DIR:?}
src=${VELO_SRC_DIR:?}
case $target in
kafka) addr=$(cat "$run/kafka.addr") ;;
devbroker) addr=$(head -n 1 "$run/devbroker.ready") ;;
*)
  echo "usage: $0 [kafka|devbroker]" >&2
  exit 2
  ;;
esac
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
topic="smoke.$target.$$.$RANDOM"

fail() {
  echo "kafka_smoke($target): FAIL: $*" >&2
  exit 1
}

kdump() {
  "$bin/velo-kdump" --brokers "$addr" --topic "$topic" --idle-ms 2000 "$@"
}

now_ms() { python3 -c 'import time; print(time.time_ns() // 1000000)'; }

# 1. Five keyed records with a header, partitioned the way our producer
#    and the Java client do it.
printf 'sys/st%d|value-%d\n' 1 1 2 2 3 3 4 4 5 5 |
  kcat -P -b "$addr" -t "$topic" -K '|' -X partitioner=murmur2_random \
    -H velo-test=yes
kdump --raw >"$work/all.jsonl"
python3 - "$work/all.jsonl" <<'PY' || fail "records read back differ"
import base64, json, sys

def murmur2(data):
    m, h = 0x5BD1E995, (0x9747B28C ^ len(data)) & 0xFFFFFFFF
    n = len(data) // 4 * 4
    for i in range(0, n, 4):
        k = int.from_bytes(data[i:i + 4], "little")
        k = (k * m) & 0xFFFFFFFF
        k ^= k >> 24
        k = (k * m) & 0xFFFFFFFF
        h = ((h * m) & 0xFFFFFFFF) ^ k
    rest = data[n:]
    if len(rest) == 3:
        h ^= rest[2] << 16
    if len(rest) >= 2:
        h ^= rest[1] << 8
    if rest:
        h ^= rest[0]
        h = (h * m) & 0xFFFFFFFF
    h ^= h >> 13
    h = (h * m) & 0xFFFFFFFF
    return h ^ (h >> 15)

recs = [json.loads(l) for l in open(sys.argv[1])]
assert len(recs) == 5, f"{len(recs)} records, want 5"
assert sorted(r["key"] for r in recs) == [f"sys/st{i}" for i in range(1, 6)]
parts = max(r["partition"] for r in recs) + 1
for r in recs:
    n = r["key"].split("st")[1]
    assert base64.b64decode(r["value_b64"]) == f"value-{n}".encode(), r
    assert r["headers"] == {"velo-test": "yes"}, r
    assert "value" not in r, r
# Same key, same partition as Java would pick (for the partition count the
# topic was auto-created with: 6 on Kafka, 4 on the mock).
for p in (6, 4):
    if all(r["partition"] == (murmur2(r["key"].encode()) & 0x7FFFFFFF) % p
           for r in recs):
        break
else:
    raise AssertionError(f"partitions differ from Java murmur2: {recs}")
PY

# 2. --max stops early.
[ "$(kdump --raw --max 2 | wc -l)" -eq 2 ] || fail "--max 2"

# 3. A StationSnapshot value decodes to JSON.
printf 'system_id: "test:sys"\nstation_id: "42"\nbikes_available: 3\n' |
  protoc --encode=velo.v1.StationSnapshot -I "$src/proto" \
    "$src/proto/velo/v1/station.proto" >"$work/snap.bin"
kcat -P -b "$addr" -t "$topic" -k test:sys/42 \
  -H "content-type=application/x-protobuf; message=velo.v1.StationSnapshot" \
  "$work/snap.bin"
kdump | grep '"key":"test:sys/42"' >"$work/snap.jsonl" || fail "no snapshot"
python3 - "$work/snap.jsonl" <<'PY' || fail "snapshot not decoded"
import json, sys
r = json.loads(open(sys.argv[1]).read())
v = r["value"]
assert v["system_id"] == "test:sys" and v["station_id"] == "42", r
assert v["bikes_available"] == 3, r
PY

if [ "$target" = kafka ]; then
  # 4. --start-ms: only records stamped at or after it come back.
  t=$(($(now_ms) + 1))
  while [ "$(now_ms)" -le "$t" ]; do :; done # the clock moves past t
  printf 'late/%d|x\n' 1 2 3 | kcat -P -b "$addr" -t "$topic" -K '|'
  keys=$(kdump --raw --start-ms "$t" |
    python3 -c 'import json,sys; print(" ".join(sorted(json.loads(l)["key"] for l in sys.stdin)))')
  [ "$keys" = "late/1 late/2 late/3" ] || fail "--start-ms gave: $keys"

  # 5. An unknown topic is an error (kdump must not create it).
  if "$bin/velo-kdump" --brokers "$addr" --topic "no.such.$topic" \
    --idle-ms 500 >/dev/null 2>"$work/err"; then
    fail "unknown topic accepted"
  fi
  grep -q kdump.fail "$work/err" || fail "no kdump.fail event"
fi
echo "kafka_smoke($target): ok"
