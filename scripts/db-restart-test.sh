#!/usr/bin/env bash
# A real PostgreSQL stop/start under a running service (the API tests simulate outages with a proxy because other
# tests share the server; this script, run alone from .ci/run after them, stops the real one):
#   reads and writes fail fast with 503 + Retry-After, /ready turns 503, /health stays 200, and once PostgreSQL is
#   back the same process serves again with no restart; SIGTERM then exits 0.
# Needs the local cluster (pg_ctlcluster) and curl. Always starts PostgreSQL again on exit.
set -euo pipefail
cd "$(dirname "$0")/.."

port=18090
db="beer_restart_$$"
base="http://127.0.0.1:$port"
cluster=$(ls /etc/postgresql | head -n 1)
pg() { pg_ctlcluster --skip-systemctl-redirect "$cluster" main "$1"; }
fail() { echo "FAIL: $*" >&2; exit 1; }
status() { curl -s -o /dev/null -w '%{http_code}' --max-time 15 "$@"; }

server=""
cleanup() {
  [ -n "$server" ] && kill "$server" 2>/dev/null || true
  pg_isready -q -h 127.0.0.1 -p 5432 || pg start || true
  for _ in $(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done
  psql -q -h 127.0.0.1 -U postgres -d postgres -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true
}
trap cleanup EXIT

cargo build --quiet --locked
bin=target/debug/beer-catalog
psql -q -h 127.0.0.1 -U postgres -d postgres -c "CREATE DATABASE $db"
export DATABASE_URL="postgres://postgres@127.0.0.1:5432/$db" PORT=$port DB_CONNECT_TIMEOUT_SECS=2 LOG_LEVEL=warn
"$bin" seed
"$bin" serve & server=$!
for _ in $(seq 1 50); do [ "$(status "$base/ready")" = 200 ] && break; sleep 0.2; done
[ "$(status "$base/v2/beers")" = 200 ] || fail "no catalog before the restart"
echo "PASS: serving from PostgreSQL"

pg stop
start=$(date +%s)
# Until the outage is known, the read model answers what it holds (the change signal vouches for it within the
# 1 s freshness bound); the watcher finds the outage by itself within about a poll (250 ms), and /ready says so.
known=""
for _ in $(seq 1 50); do [ "$(status "$base/ready")" = 503 ] && known=1 && break; sleep 0.1; done
[ -n "$known" ] || fail "/ready did not report the outage within 5 s"
# Reads the response cache does not hold need the database: 503 with Retry-After.
for path in /beers /beers/1 '/v2/beers?per_page=7'; do
  headers=$(curl -s -D - -o /dev/null --max-time 15 "$base$path")
  grep -q '^HTTP/1.1 503' <<<"$headers" || fail "GET $path while the database is down: $headers"
  grep -qi '^retry-after: 5' <<<"$headers" || fail "GET $path: no Retry-After"
done
# A read answered before the outage is served from the cache, marked stale (stale-if-error, RFC 9211).
headers=$(curl -s -D - -o /dev/null --max-time 15 "$base/v2/beers")
grep -q '^HTTP/1.1 200' <<<"$headers" || fail "cached GET /v2/beers while the database is down: $headers"
grep -qi '^cache-status: .*stale-if-error' <<<"$headers" || fail "cached GET /v2/beers: not marked stale: $headers"
[ "$(status -X POST -H 'Content-Type: application/json' -d '{"name":"Down","abv":5}' "$base/beers")" = 503 ] ||
  fail "POST while the database is down is not 503"
[ "$(status "$base/ready")" = 503 ] || fail "/ready is not 503 while the database is down"
[ "$(status "$base/health")" = 200 ] || fail "/health is not 200 while the database is down"
[ $(( $(date +%s) - start )) -lt 30 ] || fail "requests did not fail fast"
echo "PASS: database down -> 503 with Retry-After, cached reads served marked stale, /ready 503, /health 200"

pg start
for _ in $(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done
ok=""
for _ in $(seq 1 40); do [ "$(status "$base/ready")" = 200 ] && ok=1 && break; sleep 0.5; done
[ -n "$ok" ] || fail "/ready did not recover"
[ "$(status "$base/v2/beers")" = 200 ] || fail "reads did not recover"
[ "$(status -X POST -H 'Content-Type: application/json' -d '{"name":"Back","abv":5}' "$base/beers")" = 201 ] ||
  fail "writes did not recover"
echo "PASS: database back -> the same process serves again"

kill -TERM "$server"
code=0; wait "$server" || code=$?
server=""
[ "$code" = 0 ] || fail "SIGTERM exit code $code"
echo "PASS: SIGTERM -> exit 0"
echo "db-restart-test: 4 passed, 0 failed"
