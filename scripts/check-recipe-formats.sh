#!/usr/bin/env bash
# The recipe exports read by real tools, for every beer of the Punk dataset:
#   1. the built service, on a free port, with the Punk dataset imported into a temporary SQLite catalog;
#   2. every beer's BeerJSON (`/beers/{id}.beerjson`, `Accept: application/vnd.beerjson+json` on `/beers/{id}`,
#      and the pages of `/beers.beerjson`) validates against the official BeerJSON 1.0 schema
#      (../shared/data/beerjson/json) with Python jsonschema;
#   3. every beer's BeerXML (`/beers/{id}.xml`, `Accept: application/xml`, the pages of `/beers.xml`) is read back by
#      pybeerxml with the beer's name, batch size, OG, FG, IBU, ABV, hops and malts.
# The readers are pinned (.ci/requirements-recipes.txt, scripts/tools-venv.sh recipes). Needs the dataset beside
# the repository, curl and ss; fails saying what is missing (nothing verified is never a pass). Leaves nothing behind.
set -euo pipefail
cd "$(dirname "$0")/.."

fail() { echo "check-recipe-formats: FAIL: $*" >&2; exit 1; }
punk=../shared/data/punkapi/beers.json
schema=../shared/data/beerjson/json
[ -f "$punk" ] || fail "the Punk dataset is not at $punk; nothing was verified"
[ -f "$schema/beer.json" ] || fail "the BeerJSON schema is not at $schema; nothing was verified"
for tool in curl ss; do command -v "$tool" >/dev/null || fail "missing $tool; nothing was verified"; done
tools_bin=$(scripts/tools-venv.sh recipes) || fail "could not install the pinned readers (scripts/tools-venv.sh recipes)"

port_free() { [ -z "$(ss -Hltn "sport = :$1")" ]; }
free_port() {
  local port
  for _ in $(seq 1 50); do
    port=$(( 20000 + RANDOM % 20000 ))
    port_free "$port" && { echo "$port"; return; }
  done
  fail "no free port"
}

tmp=$(mktemp -d)
server=""
cleanup() {
  [ -n "$server" ] && kill "$server" 2>/dev/null && wait "$server" 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT

cargo build --quiet --locked
bin="${CARGO_TARGET_DIR:-target}/debug/beer-catalog"
port=$(free_port)
export DATABASE_URL="sqlite://$tmp/catalog.db" PORT=$port BIND_ADDRESS=127.0.0.1 LOG_LEVEL=warn
"$bin" import "$punk" >"$tmp/import.log" 2>&1 || { cat "$tmp/import.log" >&2; fail "importing $punk"; }
"$bin" serve & server=$!
base="http://127.0.0.1:$port"
for _ in $(seq 1 100); do curl -fs -o /dev/null "$base/health" && break; sleep 0.1; done
curl -fs -o /dev/null "$base/health" || fail "the service did not start"

"$tools_bin/python" scripts/check_recipe_formats.py "$base" "$schema" "$punk"
