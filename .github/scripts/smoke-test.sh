#!/usr/bin/env bash
# Smoke-test a deployed environment through its public URL (CloudFront: the ALB admits nothing else).
#
#   smoke-test.sh BASE_URL        e.g. https://api.example.com or https://<id>.cloudfront.net
#
# /ready must answer 2xx (the service reaches its database); /v2/beers and /beers must answer 2xx with a
# JSON array. Each request is retried (the ALB may still be draining old targets, a new task may be starting).
set -euo pipefail

if [ "$#" -ne 1 ] || [ -z "$1" ]; then
  echo "::error::usage: $0 BASE_URL (set the PUBLIC_URL variable on the GitHub environment: the CloudFront hostname or custom domain)" >&2
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

# Both list endpoints answer a JSON array (Punk API v2 shape on /v2/beers; pagination is in headers on /beers).
for path in /v2/beers /beers; do
  code=$(fetch "$path")
  if ! jq -e 'type == "array"' "$body" >/dev/null 2>&1; then
    echo "::error::GET $path answered $code but not with a JSON array: $(head -c 300 "$body")" >&2
    exit 1
  fi
  echo "GET $path -> $code ($(jq 'length' "$body") items)"
done
echo "Smoke test passed for $base"
