#!/usr/bin/env bash
# A scripted load run (not a test: numbers depend on the machine): the release binary over the Punk catalog, on
# SQLite or PostgreSQL, driven by wrk from this machine over loopback, bounded in time. Prints requests/s and
# latency per scenario; docs/performance.md records a run and what it means for scaling.
#
#   scripts/load-test.sh [sqlite|postgres]     # default sqlite; postgres uses 127.0.0.1:5432 (user postgres)
#   DURATION=10s CONNECTIONS=32 THREADS=2 scripts/load-test.sh postgres
#
# Needs wrk (Debian package `wrk`) and ../shared/data/punkapi/beers.json.
set -euo pipefail
cd "$(dirname "$0")/.."

backend="${1:-sqlite}"
duration="${DURATION:-10s}"
connections="${CONNECTIONS:-32}"
threads="${THREADS:-2}"
port=18097
dataset=../shared/data/punkapi/beers.json
command -v wrk >/dev/null || { echo "load-test: wrk is not installed (apt-get install wrk)" >&2; exit 1; }
[ -f "$dataset" ] || { echo "load-test: $dataset is missing" >&2; exit 1; }

cargo build --release --locked --quiet
bin=target/release/beer-catalog
workdir=$(mktemp -d)
db="beer_load_$$"
server=""
cleanup() {
  [ -n "$server" ] && kill "$server" 2>/dev/null || true
  [ "$backend" = postgres ] && psql -q -h 127.0.0.1 -U postgres -d postgres -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1
  rm -rf "$workdir"
}
trap cleanup EXIT

case "$backend" in
  sqlite) export DATABASE_URL="sqlite://$workdir/beers.db" ;;
  postgres)
    psql -q -h 127.0.0.1 -U postgres -d postgres -c "CREATE DATABASE $db"
    export DATABASE_URL="postgres://postgres@127.0.0.1:5432/$db" ;;
  *) echo "load-test: backend must be sqlite or postgres" >&2; exit 2 ;;
esac
# wrk sends everything from 127.0.0.1: the per-IP rate limit would turn the run into a measurement of 429s.
export PORT=$port LOG_LEVEL=warn DB_MAX_CONNECTIONS="${DB_MAX_CONNECTIONS:-10}" RATE_LIMIT_PER_HOUR=0
"$bin" import "$dataset" >/dev/null
"$bin" serve & server=$!
for _ in $(seq 1 50); do curl -sf "http://127.0.0.1:$port/ready" >/dev/null && break; sleep 0.2; done

echo "load-test: backend=$backend duration=$duration connections=$connections threads=$threads cores=$(nproc)"
printf '%-44s %12s %10s %10s %8s\n' scenario requests/s p50 p99 errors
for path in "/v2/beers/106" "/v2/beers" "/v2/beers?per_page=80" "/v2/beers?abv_gt=8&hops=simcoe" "/beers?beer_name=punk&food=cheese" "/v2/beers/random" "/health"; do
  out=$(wrk -t"$threads" -c"$connections" -d"$duration" --latency "http://127.0.0.1:$port$path")
  rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
  p50=$(awk '$1 == "50%" {print $2}' <<<"$out")
  p99=$(awk '$1 == "99%" {print $2}' <<<"$out")
  errors=$(awk '/Non-2xx|Socket errors/ {e = e $0 "; "} END {print (e == "" ? "0" : e)}' <<<"$out")
  printf '%-44s %12s %10s %10s %8s\n' "$path" "$rps" "$p50" "$p99" "$errors"
done
