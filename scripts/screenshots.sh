#!/usr/bin/env bash
# Refreshes the README's screenshots (docs/screenshots/) from the built-in sample catalog, in headless Chromium.
# Needs what scripts/browser-test.sh installs (Debian chromium, tests/browser's npm packages).
set -euo pipefail
cd "$(dirname "$0")/.."

cargo build --locked --quiet
workdir=$(mktemp -d)
server=""
# shellcheck disable=SC2329 # run by the trap below
cleanup() {
  if [ -n "$server" ]; then kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; fi
  rm -rf "$workdir"
}
trap cleanup EXIT INT TERM

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
export DATABASE_URL="sqlite://$workdir/catalog.db"
target/debug/beer-catalog seed
PORT=$port BIND_ADDRESS=127.0.0.1 RATE_LIMIT_PER_HOUR=0 LOG_LEVEL=warn target/debug/beer-catalog serve \
  >"$workdir/server.log" 2>&1 &
server=$!
for _ in $(seq 1 100); do
  curl -sf "http://127.0.0.1:$port/ready" >/dev/null && break
  sleep 0.1
done
(cd tests/browser && [ -d node_modules ] || npm ci --no-audit --no-fund --loglevel=error)
mkdir -p docs/screenshots
node tests/browser/screenshots.mjs "http://127.0.0.1:$port" docs/screenshots
