#!/usr/bin/env bash
# prom_rules.sh SRC_DIR: promtool (Debian's prometheus package) checks the
# alert and recording rules and the example configuration, then runs the
# rules' unit tests (deploy/prometheus/tests). Exit 77 without promtool.
set -euo pipefail
src=$1
prom=$src/deploy/prometheus
if ! command -v promtool >/dev/null; then
  echo "SKIP: no promtool (apt-get install prometheus)"
  exit 77
fi
promtool check rules "$prom/recording.yaml" "$prom/alerts.yaml"
promtool check config "$prom/prometheus.yml"
cd "$prom/tests"
promtool test rules ./*.yaml
