#!/usr/bin/env bash
# The web pages tested in a real browser (tests/browser/pages.test.mjs): Debian's headless Chromium driven by
# playwright-core (pinned in tests/browser/package-lock.json; it never downloads a browser), against the release
# binary serving the Punk dataset and its label images from a temporary SQLite database. Then Lighthouse 12.2.3
# (pinned there too; mobile) on /, /catalog/106 and /docs against the same server (tests/browser/lighthouse.mjs):
# fails below performance 95, accessibility, best practices and SEO 100, or / over 500 KB on a first load.
#
#   scripts/browser-test.sh            # what .ci/run runs
#   LIGHTHOUSE=0 scripts/browser-test.sh               # the page tests only
#   SCREENSHOT_DIR=/tmp/shots scripts/browser-test.sh    # also save screenshots of the run (Punk labels and text:
#                                                        # look, never commit them; the README's come from
#                                                        # scripts/screenshots.sh on the sample catalog)
#
# Installs what it needs when missing (idempotent): the Debian packages chromium, chromium-driver and a font, and
# Node.js/npm if absent; then `npm ci`. The server always stops and the temporary files go, pass or fail.
set -euo pipefail
cd "$(dirname "$0")/.."

dataset=../shared/data/punkapi/beers.json
images=../shared/data/punkapi/images
[ -f "$dataset" ] || { echo "browser-test: $dataset is missing" >&2; exit 1; }
# A label to upload in the editing scenario (one of the dataset's own; none is copied into the repository).
label_image=$(realpath "$images/10.png")

# ---- what the browser tests need, from the package registries ------------------------------------------------------
packages=()
dpkg -s chromium chromium-driver >/dev/null 2>&1 || packages+=(chromium chromium-driver)
dpkg -s fonts-dejavu-core >/dev/null 2>&1 || packages+=(fonts-dejavu-core)
command -v node >/dev/null 2>&1 || packages+=(nodejs)
command -v npm >/dev/null 2>&1 || packages+=(npm)
if [ ${#packages[@]} -gt 0 ]; then
  echo "browser-test: installing ${packages[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt_install() { apt-get -o DPkg::Lock::Timeout=600 install -y --no-install-recommends "${packages[@]}"; }
  apt_install || { apt-get -o DPkg::Lock::Timeout=600 update -q && apt_install; }
fi
chromium_bin="${CHROMIUM:-/usr/bin/chromium}"
"$chromium_bin" --version

(cd tests/browser && npm ci --no-audit --no-fund --loglevel=error)

# ---- the server: release build, temporary SQLite catalog with the Punk dataset ------------------------------------
cargo build --release --locked --quiet
bin="$PWD/target/release/beer-catalog"
workdir=$(mktemp -d)
server=""
# shellcheck disable=SC2329 # run by the trap below
cleanup() {
  if [ -n "$server" ]; then
    kill "$server" 2>/dev/null || true
    wait "$server" 2>/dev/null || true
  fi
  rm -rf "$workdir"
}
trap cleanup EXIT INT TERM

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
base_url="http://127.0.0.1:$port"
api_key="browser-test-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')"
export DATABASE_URL="sqlite://$workdir/catalog.db" PUBLIC_BASE_URL="$base_url"
# The label images are imported when this build's importer takes them (the images feature).
import_args=("$dataset")
if "$bin" import --help | grep -q -- '--images'; then
  import_args+=(--images "$images")
fi
# Exit 2 means "some records skipped"; the Punk dataset imports whole (one range warning, beer 317's pH).
"$bin" import "${import_args[@]}" >"$workdir/import.log" 2>&1 || { cat "$workdir/import.log" >&2; exit 1; }
tail -n 3 "$workdir/import.log"

# Many requests from one address: the rate limiter is off for this server (it has its own tests).
PORT=$port BIND_ADDRESS=127.0.0.1 API_KEYS="$api_key" RATE_LIMIT_PER_HOUR=0 LOG_LEVEL=warn LOG_FORMAT=pretty \
  "$bin" serve >"$workdir/server.log" 2>&1 &
server=$!
for _ in $(seq 1 100); do
  curl -sf "$base_url/ready" >/dev/null && break
  kill -0 "$server" 2>/dev/null || { cat "$workdir/server.log" >&2; exit 1; }
  sleep 0.1
done
curl -sf "$base_url/ready" >/dev/null || { echo "browser-test: the server did not become ready" >&2; exit 1; }

# ---- the tests -------------------------------------------------------------------------------------------------------
if [ -n "${SCREENSHOT_DIR:-}" ]; then
  mkdir -p "$SCREENSHOT_DIR"
  SCREENSHOT_DIR=$(cd "$SCREENSHOT_DIR" && pwd)
fi
status=0
(
  cd tests/browser
  BASE_URL="$base_url" API_KEY="$api_key" LABEL_IMAGE="$label_image" \
    SCREENSHOT_DIR="${SCREENSHOT_DIR:-}" CHROMIUM="$chromium_bin" \
    node --test --test-concurrency=1 pages.test.mjs
) || status=$?
if [ "$status" -eq 0 ] && [ "${LIGHTHOUSE:-1}" != 0 ]; then
  (cd tests/browser && BASE_URL="$base_url" CHROMIUM="$chromium_bin" node lighthouse.mjs) || status=$?
fi
if [ "$status" -ne 0 ]; then
  echo "browser-test: FAILED; the server's log:" >&2
  tail -n 40 "$workdir/server.log" >&2
fi
exit "$status"
