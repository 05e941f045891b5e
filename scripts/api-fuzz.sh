#!/usr/bin/env bash
# Property-based fuzzing of the running service from its own OpenAPI document (schemathesis, pinned): thousands of
# generated requests, valid and invalid, against every operation, with every check on both surfaces. It fails on any
# 5xx, any response that does not match the document (status, headers, body schema), any valid request rejected
# and any invalid request accepted. Image uploads are drawn as real PNG, JPEG and WebP files
# (scripts/schemathesis_hooks.py, Pillow), since the document's `format: binary` admits any bytes.
set -euo pipefail
cd "$(dirname "$0")/.."

port=18096
venv="${FUZZ_VENV:-$PWD/target/fuzz-venv}"
want=("schemathesis==4.32.5" "pillow==13.0.0")
if [ ! -x "$venv/bin/schemathesis" ] || ! "$venv/bin/pip" freeze 2>/dev/null | grep -qix 'schemathesis==4.32.5' \
  || ! "$venv/bin/pip" freeze 2>/dev/null | grep -qix 'pillow==13.0.0'; then
  echo "api-fuzz: installing ${want[*]} into $venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "${want[@]}"
fi

cargo build --quiet --locked
workdir=$(mktemp -d)
server=""
cleanup() { [ -n "$server" ] && kill "$server" 2>/dev/null; rm -rf "$workdir"; }
trap cleanup EXIT
# Development mode on a fresh seeded SQLite catalog, with a key so the write operations are exercised too. The
# thousands of requests all come from 127.0.0.1, so the per-IP rate limit is off (tests/api/rate_limit.rs covers it).
(cd "$workdir" && PORT=$port API_KEYS=fuzz-key LOG_LEVEL=error RATE_LIMIT_PER_HOUR=0 exec "$OLDPWD/target/debug/beer-catalog") &
server=$!
for _ in $(seq 1 50); do curl -sf "http://127.0.0.1:$port/ready" >/dev/null && break; sleep 0.2; done

# scripts/schemathesis.toml: the few per-operation exceptions, each with its reason.
export PYTHONPATH="$PWD/scripts" SCHEMATHESIS_HOOKS=schemathesis_hooks
st() { "$venv/bin/schemathesis" --config-file scripts/schemathesis.toml run "http://127.0.0.1:$port/openapi.json" --max-examples "${FUZZ_EXAMPLES:-40}" --seed 1 "$@"; }
st --checks all -H 'Authorization: Bearer fuzz-key' --exclude-path-regex '^/v2'
st --checks all --include-path-regex '^/v2'
kill -0 "$server" || { echo "api-fuzz: the server died" >&2; exit 1; }
echo "api-fuzz: no issues found"
