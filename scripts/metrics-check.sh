#!/usr/bin/env bash
# The metrics exposition read by the real tools (Debian's `prometheus` package), not only by our own parser:
#   1. the built service, with METRICS_ADDR on a free port and a seeded SQLite catalog, serves a little traffic;
#   2. `promtool check metrics` finds no problem in its exposition (names, types, HELP, units, histograms);
#   3. a real Prometheus server (temporary directory, free port, 1 s scrapes) scrapes it, and its HTTP query API
#      returns the request rate by route and a p99 by route (histogram_quantile) with data in them.
# Needs promtool, prometheus, curl, jq and ss: installed with apt-get when missing (as root), else it fails saying
# what is missing (nothing verified is never reported as a pass). Leaves nothing behind.
set -euo pipefail
cd "$(dirname "$0")/.."

fail() { echo "metrics-check: FAIL: $*" >&2; exit 1; }
missing=()
for tool in promtool prometheus curl jq ss; do command -v "$tool" >/dev/null || missing+=("$tool"); done
if [ "${#missing[@]}" -gt 0 ]; then
  { [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; } ||
    fail "missing ${missing[*]} (apt-get install -y prometheus jq curl iproute2); nothing was verified"
  apt-get update -qq >/dev/null || fail "apt-get update failed; nothing was verified"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq prometheus jq curl iproute2 >/dev/null ||
    fail "apt-get install of ${missing[*]} failed; nothing was verified"
fi

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
server="" prom=""
cleanup() {
  [ -n "$server" ] && kill "$server" 2>/dev/null && wait "$server" 2>/dev/null
  [ -n "$prom" ] && kill "$prom" 2>/dev/null && wait "$prom" 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT

cargo build --quiet --locked
bin="${CARGO_TARGET_DIR:-target}/debug/beer-catalog"

api_port=$(free_port)
metrics_port=$(free_port)
[ "$metrics_port" != "$api_port" ] || metrics_port=$(free_port)
base="http://127.0.0.1:$api_port"
metrics="http://127.0.0.1:$metrics_port/metrics"
export DATABASE_URL="sqlite://$tmp/catalog.db" PORT=$api_port BIND_ADDRESS=127.0.0.1 \
  METRICS_ADDR="127.0.0.1:$metrics_port" LOG_LEVEL=warn
"$bin" seed >/dev/null
"$bin" serve & server=$!
for _ in $(seq 1 100); do curl -fs -o /dev/null "$base/health" && break; sleep 0.1; done
curl -fs -o /dev/null "$base/health" || fail "the service did not start"

# Hits, misses, a 404 of a known route and of an unknown path, a write: every kind of series the API records.
traffic() {
  for path in /beers /beers /beers/1 /beers/1 /v2/beers/2 '/v2/beers?per_page=5' /beers/999999 /no/such/path; do
    curl -s -o /dev/null "$base$path"
  done
}
traffic
curl -s -o /dev/null -X POST -H 'Content-Type: application/json' -d '{"name":"Metered Ale","abv":5.2}' "$base/beers"
traffic

curl -fs "$metrics" >"$tmp/exposition.txt" || fail "GET $metrics"
grep -q '^beer_catalog_http_requests_total{' "$tmp/exposition.txt" || fail "no request counter in the exposition"
if ! problems=$(promtool check metrics <"$tmp/exposition.txt" 2>&1) || [ -n "$problems" ]; then
  fail "promtool check metrics:"$'\n'"$problems"
fi
echo "PASS: promtool check metrics finds no problem in $(grep -cv '^#' "$tmp/exposition.txt") samples"

prom_port=$(free_port)
cat >"$tmp/prometheus.yml" <<EOF
global:
  scrape_interval: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: beer-catalog
    static_configs:
      - targets: ["127.0.0.1:$metrics_port"]
EOF
promtool check config "$tmp/prometheus.yml" >/dev/null || fail "promtool check config"
prometheus --config.file="$tmp/prometheus.yml" --storage.tsdb.path="$tmp/data" \
  --web.listen-address="127.0.0.1:$prom_port" --log.level=warn >"$tmp/prometheus.log" 2>&1 & prom=$!
api="http://127.0.0.1:$prom_port/api/v1"
for _ in $(seq 1 100); do curl -fs -o /dev/null "http://127.0.0.1:$prom_port/-/ready" && break; sleep 0.2; done
curl -fs -o /dev/null "http://127.0.0.1:$prom_port/-/ready" || fail "prometheus did not start: $(cat "$tmp/prometheus.log")"

query() { curl -fs --get "$api/query" --data-urlencode "query=$1"; }
# The value of the series whose `route` label is $2 in the instant query $1, or nothing.
value_for_route() { query "$1" | jq -r --arg route "$2" '.data.result[] | select(.metric.route == $route) | .value[1]'; }

# Prometheus hands its scrape loops their targets a few seconds after it starts (the discovery manager's 5 s
# batching): wait for the first scrape, then keep traffic going across several more, so rate() has samples.
up=""
for _ in $(seq 1 60); do
  up=$(query 'up{job="beer-catalog"}' | jq -r '.data.result[0].value[1] // empty')
  [ -n "$up" ] && break
  traffic; sleep 0.5
done
[ "$up" = 1 ] || fail "prometheus does not scrape the service (up=$up): $(curl -fs "$api/targets" | jq -c '.data.activeTargets')"
for _ in $(seq 1 8); do traffic; sleep 0.5; done

rate_query='sum by (route) (rate(beer_catalog_http_requests_total[10s]))'
p99_query='histogram_quantile(0.99, sum by (route, le) (rate(beer_catalog_http_request_duration_seconds_bucket[10s])))'
rate=$(value_for_route "$rate_query" '/beers/{id}')
p99=$(value_for_route "$p99_query" '/beers/{id}')
if ! jq -en --arg v "$rate" '$v | tonumber > 0' >/dev/null 2>&1; then
  fail "no request rate for /beers/{id}: $(query "$rate_query")"
fi
if ! jq -en --arg v "$p99" '$v | tonumber | (. > 0 and . <= 10)' >/dev/null 2>&1; then
  fail "no p99 for /beers/{id}: $(query "$p99_query")"
fi
echo "PASS: prometheus scrapes the service: /beers/{id} at $rate req/s, p99 ${p99} s"
routes=$(query "$rate_query" | jq -r '[.data.result[].metric.route] | sort | join(" ")')
echo "      routes seen: $routes"
case " $routes " in *" unmatched "*) ;; *) fail "unknown paths are not grouped as 'unmatched': $routes" ;; esac
