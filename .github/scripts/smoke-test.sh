#!/usr/bin/env bash
# Smoke-test a deployed environment through its load balancer.
#
#   smoke-test.sh BASE_URL        e.g. https://staging.example.com or http://<alb_dns_name>
#
# /ready must answer 2xx (the service reaches its database); /v2/beers (Punk API v2 shape) must answer 2xx
# with a JSON array and /beers 2xx with JSON. Each request is retried (the ALB may still be draining old
# targets).
set -euo pipefail

if [ "$#" -ne 1 ] || [ -z "$1" ]; then
  echo "::error::usage: $0 BASE_URL (set the ALB_URL variable on the GitHub environment)" >&2
  exit 2
fi
base=${1%/}
retries=${SMOKE_RETRIES:-10}
delay=${SMOKE_RETRY_DELAY_SECONDS:-6}
body=$(mktemp)
trap 'rm -f "$body"' EXIT

fetch() {
  curl --fail --silent --show-error --location --max-time 10 \
    --retry "$retries" --retry-delay "$delay" --retry-all-errors \
    --output "$body" --write-out '%{http_code}' "$base$1"
}

code=$(fetch /ready)
echo "GET /ready -> $code"

code=$(fetch /v2/beers)
if ! jq -e 'type == "array"' "$body" >/dev/null 2>&1; then
  echo "::error::GET /v2/beers answered $code but not with a JSON array: $(head -c 300 "$body")" >&2
  exit 1
fi
echo "GET /v2/beers -> $code ($(jq 'length' "$body") items)"

code=$(fetch /beers)
if ! jq -e . "$body" >/dev/null 2>&1; then
  echo "::error::GET /beers answered $code but not with JSON: $(head -c 300 "$body")" >&2
  exit 1
fi
echo "GET /beers -> $code"
echo "Smoke test passed for $base"
