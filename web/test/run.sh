#!/usr/bin/env bash
# web/test/run.sh ASSETS_DIR [ARTIFACTS_DIR]: ctest entry of the dashboard
# browser test. Builds the dashboard into ASSETS_DIR if it is out of date
# (scripts/build-web), then runs web/test with node's test runner. Exit 77
# (skip) only when Chromium is missing.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
assets=$(realpath -m "$1")
artifacts=$(realpath -m "${2:-$assets/../web-test}")
chromium=${VELO_CHROMIUM:-/usr/bin/chromium}

if [ ! -x "$chromium" ]; then
  echo "skip: no Chromium at $chromium (apt-get install chromium)"
  exit 77
fi
"$root/scripts/build-web" "$assets"
mkdir -p "$artifacts"
cd "$root/web"
VELO_WEB_ASSETS="$assets" VELO_WEB_ARTIFACTS="$artifacts" \
  VELO_CHROMIUM="$chromium" node --test --test-reporter=spec test/*.test.mjs
