#!/usr/bin/env bash
# Verifies the production container image for real with podman: lints the Dockerfile, builds the UNMODIFIED
# Dockerfile, runs the image as production would and checks its runtime contract. Called from .ci/run.
#
#   scripts/container-test.sh   # needs root (apt-get, podman); 2 cores: 8-18 min cold, ~2 min after a code change, 17 s warm
#
# What it does, in order (each step prints PASS/FAIL; any failure exits non-zero):
#   1. Installs podman, buildah, runc, debootstrap with apt-get when missing (fails loudly when it cannot) and
#      points CONTAINERS_CONF at its own file (runc; ulimits these machines can grant).
#   2. hadolint Dockerfile (pinned, from .ci/requirements-tools.txt) with no findings; shellcheck on these scripts.
#   3. Builds local STAND-INS for the two base images, tagged with the exact upstream name:tag the Dockerfile's base
#      image ARGs pin by digest (no registry is reachable here): see scripts/container/build-standin-*.sh. They
#      are cached in podman's storage and rebuilt only when their inputs change. They are not the upstream images.
#   4. podman build --format docker --pull=never of the Dockerfile as it is, with the two base image ARGs set to
#      the stand-ins' name:tag (a local image cannot carry the upstream digest); the host CA bundle is mounted so
#      cargo reaches crates.io through this machine's proxy (the Dockerfile does not depend on it).
#   5. Image checks: user 65532, HEALTHCHECK runs `beer-catalog healthcheck`, STOPSIGNAL SIGTERM, EXPOSE 8080,
#      OCI labels carry the build args, no shell / package manager / compiler in the filesystem, image size.
#   6. Production run against this machine's PostgreSQL in a fresh database (dropped afterwards): the image's
#      `migrate` and `seed` as one-off containers, then the server with --read-only --read-only-tmpfs=false
#      --cap-drop=ALL --security-opt no-new-privileges: /health, /ready, /v2/beers and /beers, `podman
#      healthcheck run`, uid/gid 65532 + no capabilities + no_new_privs + read-only root (from /proc of the
#      container's process), then SIGTERM with requests in flight (scripts/container/sigterm_probe.py): exit 0
#      well inside SHUTDOWN_GRACE_SECS.
#   7. APP_ENV=production without database settings exits non-zero naming what is missing; `healthcheck` with
#      nothing listening exits non-zero.
#   8. Demo mode exactly as `docker run -p 8080:8080 IMAGE`: no environment at all, read-only root; the catalog is
#      seeded SQLite in the /data volume, owned by 65532.
#   9. The compose stack, compose.yaml as it is, started with podman-compose (pinned) on the built image and local
#      STAND-INS of its PostgreSQL and Prometheus images (scripts/container/build-standin-{postgres,prometheus}.sh;
#      Debian's PostgreSQL 15 and Prometheus 2.42 under the upstream names, not the upstream images): the database
#      initialised from POSTGRES_* passes its health check, `migrate` exits 0 before `app` starts, the app answers
#      /health, /v2/beers and a write on its published port, Prometheus reports the app target up and has its
#      beer_catalog_ counters; `down -v` leaves nothing. See scripts/container/compose-stack.sh.
# Containers, volumes, networks and the test database are removed on exit, whatever happens (trap); the stand-in
# images and the built image (tag localhost/beer-catalog:container-test) are kept so the next run reuses them.
#
# Environment: CI=true makes every "cannot run" a failure (it is one anyway; nothing is skipped).
#   PGHOST/PGPORT/PGUSER (127.0.0.1/5432/postgres) name the PostgreSQL server used for the production run.
#   CONTAINER_TEST_IMAGE overrides the tag of the built image.
set -eEuo pipefail
# An unexpected error anywhere must not end the run silently.
trap 'echo "container-test: FAIL: unexpected error (exit $?) at line $LINENO: $BASH_COMMAND" >&2' ERR

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
# shellcheck source=scripts/container/lib.sh
. scripts/container/lib.sh
# shellcheck source=scripts/container/compose-stack.sh
. scripts/container/compose-stack.sh

t_start=$SECONDS
state=$root/target/container-test
mkdir -p "$state"
image=${CONTAINER_TEST_IMAGE:-localhost/beer-catalog:container-test}
run_id=ctest-$$
pg_host=${PGHOST:-127.0.0.1}
pg_port=${PGPORT:-5432}
pg_user=${PGUSER:-postgres}
test_db=beer_catalog_${run_id//-/_}
api_key=container-test-key-$$
grace=20
passed=0
failed=0
failures=()

pass() { passed=$((passed + 1)); log "PASS: $*"; }
check_fail() { failed=$((failed + 1)); failures+=("$*"); log "FAIL: $*"; }
phase() { log "---- $* (t+$((SECONDS - t_start))s)"; }

# ---- 1. tools ----------------------------------------------------------------------------------------------------
phase "tools"
missing=()
for tool in podman buildah runc debootstrap dpkg-deb psql curl python3; do
  command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
done
if [ ${#missing[@]} -gt 0 ]; then
  log "missing: ${missing[*]}; installing with apt-get"
  if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    die "cannot install ${missing[*]}: needs root and apt-get (CI=${CI:-unset}); nothing was verified"
  fi
  apt-get update -qq >/dev/null || die "apt-get update failed; nothing was verified"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq podman buildah runc debootstrap postgresql-client curl \
    python3 >/dev/null || die "apt-get install of podman/buildah/runc/debootstrap failed; nothing was verified"
fi
[ "$(id -u)" -eq 0 ] || die "podman here needs root (runc, network); nothing was verified"
write_containers_conf "$state/containers.conf"
podman info >/dev/null 2>&1 || die "podman does not work here: $(podman info 2>&1 | tail -3)"
log "podman $(podman version --format '{{.Client.Version}}'), runtime $(podman info --format '{{.Host.OCIRuntime.Name}}')"

volumes_before=$(podman volume ls -q | sort)
cleanup() {
  local rc=$?
  set +e
  trap - ERR
  compose_teardown
  for c in $(podman ps -a --filter "name=^${run_id}-" --format '{{.Names}}' 2>/dev/null); do
    podman rm -f -v "$c" >/dev/null 2>&1
  done
  # Anonymous /data volumes of this run's containers (one whose start failed keeps its volume despite --rm).
  comm -13 <(echo "$volumes_before") <(podman volume ls -q | sort) | while read -r volume; do
    podman volume rm "$volume" >/dev/null 2>&1
  done
  if [ -n "${created_db:-}" ]; then
    psql -h "$pg_host" -p "$pg_port" -U "$pg_user" -d postgres -qAtc "DROP DATABASE IF EXISTS $test_db WITH (FORCE)" \
      >/dev/null 2>&1 || log "warning: could not drop database $test_db"
  fi
  exit "$rc"
}
trap cleanup EXIT

# ---- 2. lint -----------------------------------------------------------------------------------------------------
phase "lint"
tools_bin=$(scripts/tools-venv.sh) || die "could not install the pinned checkers (scripts/tools-venv.sh)"
if "$tools_bin/hadolint" Dockerfile; then pass "hadolint Dockerfile: no findings"; else check_fail "hadolint Dockerfile"; fi
if "$tools_bin/shellcheck" -x scripts/container-test.sh scripts/container/*.sh; then
  pass "shellcheck scripts/container-test.sh scripts/container/*.sh"
else
  check_fail "shellcheck"
fi

# ---- 3. stand-in base images ---------------------------------------------------------------------------------------
phase "stand-in base images"
mapfile -t bases < <(dockerfile_base_images Dockerfile)
[ ${#bases[@]} -ge 2 ] || die "expected a builder and a runtime FROM in the Dockerfile, found: ${bases[*]}"
read -r builder_arg builder_ref <<<"${bases[0]}"
read -r runtime_arg runtime_ref <<<"${bases[${#bases[@]} - 1]}"
[ "$builder_arg" != - ] && [ "$runtime_arg" != - ] \
  || die "the Dockerfile's base images must be build ARGs (FROM \${ARG}) whose defaults pin the digest: ${bases[*]}"
# The Dockerfile pins name:tag@sha256:digest. A local image cannot be tagged with a digest (the digest is that of the
# upstream manifest, which a stand-in cannot have), so the stand-ins carry name:tag and the build gets that through
# the ARGs; the Dockerfile itself is built unmodified. tests/container_contract.rs checks the pins.
builder_image=${builder_ref%@sha256:*}
runtime_image=${runtime_ref%@sha256:*}
log "base images: $builder_ref, $runtime_ref (stand-ins tagged $builder_image, $runtime_image)"
scripts/container/build-standin-builder.sh "$builder_image"
scripts/container/build-standin-runtime.sh "$runtime_image"

# ---- 4. build ------------------------------------------------------------------------------------------------------
phase "podman build"
version=$(awk -F'"' '/^version *=/ { print $2; exit }' Cargo.toml)
revision=$(git rev-parse HEAD 2>/dev/null || echo unknown)
created=$(date -u +%Y-%m-%dT%H:%M:%SZ)
ca_mount=()
[ -f /etc/ssl/certs/ca-certificates.crt ] && ca_mount=(-v /etc/ssl/certs/ca-certificates.crt:/etc/ssl/certs/ca-certificates.crt:ro)
# Drop the previous test image first. buildah 1.28 reuses a cached LABEL step even when the build args it expands
# changed (BuildKit does not), so without this the OCI labels could be a previous run's. This removes only the
# final stage's layers (seconds to redo); the builder stage's layers, the expensive ones, stay cached.
podman rmi "$image" >/dev/null 2>&1 || true
t_build=$SECONDS
if podman build --format docker --pull=never "${ca_mount[@]}" \
  --build-arg "$builder_arg=$builder_image" --build-arg "$runtime_arg=$runtime_image" \
  --build-arg VERSION="$version" --build-arg REVISION="$revision" --build-arg CREATED="$created" \
  -t "$image" . >"$state/build.log" 2>&1; then
  pass "podman build of the unmodified Dockerfile ($((SECONDS - t_build))s; log: target/container-test/build.log)"
else
  tail -40 "$state/build.log" >&2
  die "podman build failed (full log: target/container-test/build.log)"
fi

# Dangling images this build neither used nor made are earlier generations of it (an old dependency layer after a
# Cargo.lock change, layers of a replaced stand-in): remove them so a long-lived machine does not fill its disk.
# This build's own cache (every layer named in its log) is kept.
# (The log names new layers by 11 hex digits and cached ones by 64; compare the first 11.)
used=$(grep -oE '^--> (Using cache )?[0-9a-f]{11,64}' "$state/build.log" | awk '{ print substr($NF, 1, 11) }' | sort -u || true)
for id in $(podman images -a --filter dangling=true --format '{{.ID}}'); do
  grep -qx "${id:0:11}" <<<"$used" || podman rmi "$id" >/dev/null 2>&1 || true
done

# ---- 5. image checks -----------------------------------------------------------------------------------------------
phase "image checks"
inspect() { podman image inspect --format "$1" "$image"; }
user=$(inspect '{{.Config.User}}')
case "$user" in 65532 | 65532:65532 | nonroot | nonroot:nonroot) pass "image user is $user" ;; *) check_fail "image user is '$user', want 65532" ;; esac
health=$(inspect '{{json .HealthCheck}}')
if [[ $health == *'"/usr/local/bin/beer-catalog","healthcheck"'* ]]; then
  pass "HEALTHCHECK kept (--format docker): $health"
else
  check_fail "HEALTHCHECK missing or not 'beer-catalog healthcheck': $health"
fi
stopsignal=$(inspect '{{.Config.StopSignal}}')
case "$stopsignal" in SIGTERM | 15 | TERM) pass "STOPSIGNAL $stopsignal" ;; *) check_fail "STOPSIGNAL is '$stopsignal', want SIGTERM" ;; esac
ports=$(inspect '{{json .Config.ExposedPorts}}')
if [[ $ports == *'"8080/tcp"'* ]]; then pass "EXPOSE 8080 ($ports)"; else check_fail "EXPOSE: $ports"; fi
for label in source:https://github.com/beer-catalog/beer-catalog version:"$version" revision:"$revision" created:"$created"; do
  key=org.opencontainers.image.${label%%:*}
  want=${label#*:}
  got=$(podman image inspect --format "{{ index .Labels \"$key\" }}" "$image")
  if [ "$got" = "$want" ]; then pass "label $key=$got"; else check_fail "label $key is '$got', want '$want'"; fi
done

podman create --name "$run_id-fs" "$image" >/dev/null
podman export "$run_id-fs" | tar -t >"$state/image-files.txt"
podman rm -f "$run_id-fs" >/dev/null 2>&1
forbidden=$(grep -E '^(\./)?(usr/)?(s?bin|local/bin)/(sh|bash|dash|ash|busybox|apt|apt-get|dpkg|rpm|gcc|cc|ld|rustc|cargo|curl|wget)$' \
  "$state/image-files.txt" || true)
if [ -z "$forbidden" ]; then
  pass "no shell, package manager, compiler or downloader in the image ($(wc -l <"$state/image-files.txt") entries)"
else
  check_fail "the image contains: $forbidden"
fi
if podman run --rm --network none --entrypoint /bin/sh "$image" -c true >/dev/null 2>&1; then
  check_fail "/bin/sh runs in the image"
else
  pass "/bin/sh cannot be run in the image"
fi
if grep -qxE '(\./)?usr/local/bin/beer-catalog' "$state/image-files.txt"; then pass "binary at /usr/local/bin/beer-catalog"; else check_fail "no /usr/local/bin/beer-catalog in the image"; fi
image_bytes=$(inspect '{{.Size}}')
image_size=$(numfmt --to=iec --suffix=B "$image_bytes")
mnt=$(podman image mount "$image")
binary_bytes=$(stat -c %s "$mnt/usr/local/bin/beer-catalog" 2>/dev/null || echo 0)
podman image unmount "$image" >/dev/null 2>&1 || true
log "image size: $image_size ($image_bytes bytes; binary $(numfmt --to=iec --suffix=B "$binary_bytes"); runtime base is the stand-in)"
echo "$image_size $image_bytes" >"$state/image-size.txt"

# ---- 6. production run -------------------------------------------------------------------------------------------
phase "production run (PostgreSQL at $pg_host:$pg_port, database $test_db)"
psql -h "$pg_host" -p "$pg_port" -U "$pg_user" -d postgres -qAtc 'SELECT 1' >/dev/null 2>&1 \
  || die "PostgreSQL is not reachable at $pg_host:$pg_port as $pg_user; the production run cannot be verified"
psql -h "$pg_host" -p "$pg_port" -U "$pg_user" -d postgres -qAtc "CREATE DATABASE $test_db" >/dev/null
created_db=1

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
prod_port=$(free_port)
hardening=(--read-only --read-only-tmpfs=false --cap-drop=ALL --security-opt no-new-privileges)
prod_env=(-e APP_ENV=production -e DB_HOST="$pg_host" -e DB_PORT="$pg_port" -e DB_NAME="$test_db" -e DB_USER="$pg_user"
  -e DB_PASSWORD=unused-with-trust-auth -e DB_SSLMODE=disable -e PORT="$prod_port" -e API_KEYS="$api_key"
  -e SHUTDOWN_GRACE_SECS="$grace" -e LOG_FORMAT=json)

# One-off tasks as the deploy runs them: same image, same settings, the subcommand as the command.
for task in migrate seed; do
  if podman run --rm --name "$run_id-$task" --network host "${hardening[@]}" "${prod_env[@]}" "$image" "$task" \
    >"$state/$task.log" 2>&1; then
    pass "one-off '$task' container exited 0"
  else
    tail -20 "$state/$task.log" >&2
    check_fail "one-off '$task' failed (log: target/container-test/$task.log)"
  fi
done

# (podman logs an error on stderr that it cannot set a systemd timer for the health check: there is no systemd
# here, and this script runs the check itself with `podman healthcheck run`.)
start_detached() { # NAME ARGS...: podman run -d, stderr shown only when it fails
  local name=$1
  shift
  podman run -d --name "$name" "$@" >/dev/null 2>"$state/$name.run.err" || { cat "$state/$name.run.err" >&2; return 1; }
}
start_detached "$run_id-prod" --network host "${hardening[@]}" "${prod_env[@]}" "$image"
base=http://127.0.0.1:$prod_port

wait_healthy() { # URL NAME: waits up to 30 s for 200 from URL/health while the container runs
  local url=$1 name=$2
  for _ in $(seq 1 60); do
    curl -fsS -o /dev/null --max-time 2 "$url/health" 2>/dev/null && return 0
    [ "$(podman inspect --format '{{.State.Running}}' "$name" 2>/dev/null)" = true ] || return 1
    sleep 0.5
  done
  return 1
}
expect_json() { # NAME URL STATUS PYTHON-CONDITION-ON-d: GET URL, check status and a condition on the JSON body
  local name=$1 url=$2 want=$3 cond=$4 status
  status=$(curl -sS -o "$state/body.json" -w '%{http_code}' --max-time 10 "$url" || echo 000)
  if [ "$status" = "$want" ] && python3 -c "import json,sys; d=json.load(open(sys.argv[1])); sys.exit(0 if ($cond) else 1)" \
    "$state/body.json" 2>/dev/null; then
    pass "$name: GET $url -> $status"
  else
    check_fail "$name: GET $url -> $status, body: $(head -c 300 "$state/body.json" 2>/dev/null)"
  fi
}

if wait_healthy "$base" "$run_id-prod"; then
  pass "production server healthy on :$prod_port"
  expect_json production "$base/health" 200 'isinstance(d, dict)'
  expect_json production "$base/ready" 200 'isinstance(d, dict)'
  expect_json production "$base/v2/beers" 200 'isinstance(d, list) and len(d) > 0 and "name" in d[0]'
  expect_json production "$base/beers" 200 'isinstance(d, list) and len(d) > 0'
  if podman healthcheck run "$run_id-prod" >/dev/null 2>&1; then
    pass "podman healthcheck run (the image's HEALTHCHECK) passes"
  else
    check_fail "podman healthcheck run $run_id-prod failed"
  fi

  pid=$(podman inspect --format '{{.State.Pid}}' "$run_id-prod")
  uids=$(awk '/^Uid:/ { print $2, $3, $4, $5 }' "/proc/$pid/status")
  gids=$(awk '/^Gid:/ { print $2, $3, $4, $5 }' "/proc/$pid/status")
  if [ "$uids" = "65532 65532 65532 65532" ] && [ "$gids" = "65532 65532 65532 65532" ]; then pass "server process runs as uid/gid 65532 (/proc/$pid/status)"; else check_fail "server uid '$uids' gid '$gids', want 65532"; fi
  cap_eff=$(awk '/^CapEff:/ { print $2 }' "/proc/$pid/status")
  nnp=$(awk '/^NoNewPrivs:/ { print $2 }' "/proc/$pid/status")
  if [ "$cap_eff" = 0000000000000000 ] && [ "$nnp" = 1 ]; then pass "no capabilities (CapEff $cap_eff), no_new_privs $nnp"; else check_fail "CapEff $cap_eff NoNewPrivs $nnp"; fi
  root_opts=$(awk '$5 == "/" { print $6 }' "/proc/$pid/mountinfo" | tail -1)
  if [[ ,$root_opts, == *,ro,* ]]; then pass "root filesystem is mounted read-only ($root_opts)"; else check_fail "root mount options '$root_opts'"; fi
  podman logs "$run_id-prod" >"$state/prod.log" 2>&1 || true

  if python3 scripts/container/sigterm_probe.py --container "$run_id-prod" --port "$prod_port" --api-key "$api_key" \
    --grace "$grace" --stop-timeout 30 >"$state/sigterm.json" 2>"$state/sigterm.err"; then
    pass "SIGTERM with requests in flight: $(cat "$state/sigterm.json")"
  else
    check_fail "SIGTERM drain: $(cat "$state/sigterm.json" "$state/sigterm.err")"
  fi
  podman logs "$run_id-prod" >"$state/prod.log" 2>&1 || true
else
  podman logs "$run_id-prod" >"$state/prod.log" 2>&1 || true
  tail -20 "$state/prod.log" >&2
  check_fail "production server did not become healthy (log: target/container-test/prod.log)"
fi

# ---- 7. refusals -----------------------------------------------------------------------------------------------------
phase "refusals"
rc=0
out=$(timeout 60 podman run --rm --name "$run_id-nodb" --network none "${hardening[@]}" -e APP_ENV=production "$image" 2>&1) \
  || rc=$?
if [ "$rc" -ne 0 ] && [ "$rc" -ne 124 ] && grep -qE 'DB_[A-Z]+|DATABASE_URL' <<<"$out"; then
  pass "APP_ENV=production without database settings exits $rc naming the missing setting"
else
  check_fail "APP_ENV=production without database settings: exit $rc, output: ${out:0:400}"
fi
rc=0
timeout 60 podman run --rm --name "$run_id-hc" --network none "$image" healthcheck >/dev/null 2>&1 || rc=$?
if [ "$rc" -ne 0 ] && [ "$rc" -ne 124 ]; then pass "healthcheck with no server exits $rc"; else check_fail "healthcheck with no server exits $rc"; fi

# ---- 8. demo mode --------------------------------------------------------------------------------------------------
phase "demo mode (docker run -p 8080:8080 IMAGE, no environment)"
demo_port=$(free_port)
start_detached "$run_id-demo" -p "127.0.0.1:$demo_port:8080" "${hardening[@]}" "$image"
demo=http://127.0.0.1:$demo_port
if wait_healthy "$demo" "$run_id-demo"; then
  pass "demo server healthy (container port 8080 published on :$demo_port)"
  expect_json demo "$demo/ready" 200 'isinstance(d, dict)'
  expect_json demo "$demo/v2/beers" 200 'isinstance(d, list) and len(d) > 0 and "name" in d[0]'
  volume_dir=$(podman inspect --format '{{range .Mounts}}{{if eq .Destination "/data"}}{{.Source}}{{end}}{{end}}' "$run_id-demo")
  db_owner=$(stat -c %u:%g "$volume_dir/beer-catalog.db" 2>/dev/null || echo none)
  if [ "$db_owner" = 65532:65532 ]; then pass "seeded SQLite at /data/beer-catalog.db in the volume, owned by 65532"; else check_fail "/data/beer-catalog.db in the volume: owner '$db_owner' (volume $volume_dir)"; fi
  podman stop -t 30 "$run_id-demo" >/dev/null 2>&1
  rc=$(podman inspect --format '{{.State.ExitCode}}' "$run_id-demo")
  if [ "$rc" = 0 ]; then pass "demo server stopped by SIGTERM with exit 0"; else check_fail "demo server exit code $rc after SIGTERM"; fi
else
  podman logs "$run_id-demo" 2>&1 | tail -20 >&2
  check_fail "demo server did not become healthy"
fi
podman logs "$run_id-demo" >"$state/demo.log" 2>&1 || true

# ---- 9. compose stack ---------------------------------------------------------------------------------------------
phase "compose stack (podman-compose, compose.yaml)"
compose_stack_test

# ---- summary -------------------------------------------------------------------------------------------------------
phase "done in $((SECONDS - t_start))s; image $image is $image_size (on the stand-in runtime base)"
for f in "${failures[@]}"; do log "failed: $f"; done
echo "container-test: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
