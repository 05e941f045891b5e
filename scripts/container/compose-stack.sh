# The compose stack of scripts/container-test.sh (sourced by it, after the image is built and checked): starts
# compose.yaml for real with podman-compose and checks it, then takes it down.
# shellcheck shell=bash
# shellcheck disable=SC2154 # run_id, state, image, api_key: set by container-test.sh before it calls in here
#
# - podman-compose is pinned (.ci/requirements-compose.txt, scripts/tools-venv.sh compose); the project's stack runs
#   as its own compose project (the run id), on free host ports (BEER_CATALOG_HOST_PORT, PROMETHEUS_HOST_PORT), with
#   the image the script built (BEER_CATALOG_IMAGE, --no-build), each service in its own container on the project
#   network as Docker runs them (--in-pod false: podman-compose's default would put them in one pod).
# - The images of the other services (PostgreSQL, Prometheus) are STAND-INS tagged with the exact names the
#   compose file resolves to (scripts/container/build-standin-postgres.sh, build-standin-prometheus.sh): no
#   registry is reachable here. They are not the upstream images.
# - The start order compose.yaml's depends_on asks for is enacted here, service by service (`up --no-deps`), since
#   podman 4.3 cannot: its health checks never run on a timer (no systemd), podman-compose ignores
#   `condition: service_healthy` below podman 4.6, and podman 4.3 cannot start a container whose `--requires`
#   chain is two deep (app -> migrate -> db: "depends on container ... not found in input list"), which is how
#   podman-compose passes depends_on. So: `db`, its compose health check run with `podman healthcheck run` until it
#   passes; `migrate`, until it exits, and its exit code must be 0; then `app` and `prometheus`. The script first
#   checks that compose.yaml's depends_on still is exactly this order, so the two cannot drift apart.
#
# Uses from container-test.sh: pass, check_fail, log, die, free_port, wait_healthy, expect_json, and run_id, state,
# image (the built image), api_key.

compose_project=
compose_cmd=()

compose_container() { # SERVICE: the name of the service's container in this project
  podman ps -a --filter "label=io.podman.compose.project=$compose_project" \
    --filter "label=com.docker.compose.service=$1" --format '{{.Names}}' | head -1
}

# Takes the stack down, whatever state it is in: podman-compose's own down first, then by label whatever it left.
compose_teardown() {
  [ ${#compose_cmd[@]} -gt 0 ] || return 0
  timeout 120 "${compose_cmd[@]}" down -v -t 30 >>"$state/compose.log" 2>&1 || true
  local c v
  for c in $(podman ps -aq --filter "label=io.podman.compose.project=$compose_project"); do
    podman rm -f -v "$c" >/dev/null 2>&1 || true
  done
  for v in $(podman volume ls -q --filter "label=io.podman.compose.project=$compose_project"); do
    podman volume rm -f "$v" >/dev/null 2>&1 || true
  done
  podman network rm -f "${compose_project}_default" >/dev/null 2>&1 || true
}

# What the project left behind (containers, volumes, networks), one per line; empty when nothing.
compose_leftovers() {
  podman ps -a --filter "label=io.podman.compose.project=$compose_project" --format 'container {{.Names}}'
  podman volume ls --filter "label=io.podman.compose.project=$compose_project" --format 'volume {{.Name}}'
  podman network ls --format '{{.Name}}' | grep -x "${compose_project}_default" | sed 's/^/network /' || true
}

compose_up() { # SERVICE...: podman-compose up -d of these services alone (the order is the caller's)
  if timeout 120 "${compose_cmd[@]}" up -d --no-build --no-deps "$@" >>"$state/compose.log" 2>&1; then
    pass "podman-compose up -d $*"
  else
    tail -20 "$state/compose.log" >&2
    check_fail "podman-compose up -d $* failed (log: target/container-test/compose.log)"
    return 1
  fi
}

# GET a Prometheus query until CONDITION (Python, on the JSON `d`) holds, up to 60 s (scrapes are every 5 s).
prometheus_until() { # NAME QUERY CONDITION
  local name=$1 query=$2 cond=$3
  for _ in $(seq 1 60); do
    if curl -sS -G --max-time 5 -o "$state/prometheus.json" "$prometheus/api/v1/query" --data-urlencode "query=$query" \
      2>/dev/null && python3 -c "import json,sys; d=json.load(open(sys.argv[1])); sys.exit(0 if ($cond) else 1)" \
      "$state/prometheus.json" 2>/dev/null; then
      pass "$name: $query -> $(head -c 300 "$state/prometheus.json")"
      return 0
    fi
    sleep 1
  done
  check_fail "$name: $query never matched in 60 s; last answer: $(head -c 300 "$state/prometheus.json" 2>/dev/null)"
}

compose_stack_test() {
  local tools db_image prom_image db app migrate rc
  compose_project=$run_id
  tools=$(scripts/tools-venv.sh compose) || die "could not install the pinned podman-compose (scripts/tools-venv.sh compose)"
  BEER_CATALOG_HOST_PORT=$(free_port)
  PROMETHEUS_HOST_PORT=$(free_port)
  export BEER_CATALOG_IMAGE=$image BEER_CATALOG_HOST_PORT PROMETHEUS_HOST_PORT API_KEYS=$api_key
  compose_cmd=("$tools/podman-compose" --in-pod false -p "$compose_project" -f compose.yaml)
  log "$("$tools/podman-compose" --version 2>/dev/null | paste -sd ' '); project $compose_project, API on :$BEER_CATALOG_HOST_PORT, Prometheus on :$PROMETHEUS_HOST_PORT"

  # The stand-ins carry the image names compose.yaml resolves to (its defaults, or the environment's overrides).
  "${compose_cmd[@]}" config >"$state/compose-config.yaml" 2>>"$state/compose.log" || die "podman-compose config failed"
  image_of() { "$tools/python" -c 'import sys, yaml; print(yaml.safe_load(open(sys.argv[1]))["services"][sys.argv[2]]["image"])' \
    "$state/compose-config.yaml" "$1"; }
  db_image=$(image_of db)
  prom_image=$(image_of prometheus)
  [ "$(image_of app)" = "$image" ] || die "compose.yaml's app image is $(image_of app), not the built $image"
  scripts/container/build-standin-postgres.sh "$db_image"
  scripts/container/build-standin-prometheus.sh "$prom_image"

  # The order enacted below is compose.yaml's.
  local order
  order=$("$tools/python" -c '
import sys, yaml
services = yaml.safe_load(open(sys.argv[1]))["services"]
for name, service in sorted(services.items()):
    deps = service.get("depends_on", {})
    deps = deps if isinstance(deps, dict) else {d: {"condition": "service_started"} for d in deps}
    print(name + ":", " ".join(sorted("%s=%s" % (d, c.get("condition", "service_started")) for d, c in deps.items())))
' "$state/compose-config.yaml")
  local want_order="app: db=service_healthy migrate=service_completed_successfully
db: 
migrate: db=service_healthy
prometheus: app=service_started"
  if [ "$order" = "$want_order" ]; then
    pass "compose.yaml's depends_on is the order this check enacts (db healthy, migrate completed, app, prometheus)"
  else
    check_fail "compose.yaml's depends_on changed; update scripts/container/compose-stack.sh, which enacts it: $order"
    return
  fi

  # 1. The database alone, until its compose health check (pg_isready) passes.
  if ! compose_up db; then return; fi
  db=$(compose_container db)
  rc=1
  for _ in $(seq 1 60); do
    podman healthcheck run "$db" >/dev/null 2>&1 && { rc=0; break; }
    [ "$(podman inspect --format '{{.State.Running}}' "$db" 2>/dev/null)" = true ] || break
    sleep 1
  done
  podman logs "$db" >"$state/compose-db.log" 2>&1 || true
  if [ "$rc" -ne 0 ]; then
    tail -20 "$state/compose-db.log" >&2
    check_fail "compose db ($db_image stand-in) never passed its health check (log: target/container-test/compose-db.log)"
    return
  fi
  pass "compose db healthy: its health check (pg_isready) passes on the $db_image stand-in"

  # 2. The one-off migration, to completion.
  if ! compose_up migrate; then return; fi
  migrate=$(compose_container migrate)
  timeout 120 podman wait "$migrate" >/dev/null 2>&1 || true
  podman logs "$migrate" >"$state/compose-migrate.log" 2>&1 || true
  rc=$(podman inspect --format '{{.State.Status}} {{.State.ExitCode}}' "$migrate" 2>/dev/null || echo missing)
  if [ "$rc" = "exited 0" ]; then
    # It logged in as DB_USER to DB_NAME with DB_PASSWORD: what the db made from POSTGRES_* on its first start.
    pass "compose migrate ran to completion (exit 0) against the database and user db created from POSTGRES_*"
  else
    tail -20 "$state/compose-migrate.log" >&2
    check_fail "compose migrate: $rc (log: target/container-test/compose-migrate.log)"
    return
  fi

  # 3. The API and Prometheus.
  if ! compose_up app prometheus; then return; fi

  # The API on its published port, against the compose PostgreSQL.
  app=$(compose_container app)
  local base=http://127.0.0.1:$BEER_CATALOG_HOST_PORT
  if wait_healthy "$base" "$app"; then
    pass "compose app healthy on the published port :$BEER_CATALOG_HOST_PORT"
    expect_json compose "$base/health" 200 'isinstance(d, dict)'
    expect_json compose "$base/v2/beers" 200 'isinstance(d, list)'
    local status
    status=$(curl -sS -o "$state/body.json" -w '%{http_code}' --max-time 10 -X POST "$base/beers" \
      -H "Authorization: Bearer $api_key" -H 'Content-Type: application/json' \
      -d '{"name": "Compose Stack IPA", "abv": 6.5}' || echo 000)
    if [ "$status" = 201 ]; then pass "compose: POST /beers -> 201 (written to the compose PostgreSQL)"; else check_fail "compose: POST /beers -> $status: $(head -c 300 "$state/body.json")"; fi
    # Reads may trail a write briefly (the read side follows the catalog's version): up to 10 s.
    for _ in $(seq 1 20); do
      curl -fsS --max-time 5 "$base/v2/beers?beer_name=Compose_Stack" 2>/dev/null | grep -q 'Compose Stack IPA' && break
      sleep 0.5
    done
    expect_json compose "$base/v2/beers?beer_name=Compose_Stack" 200 'any(b.get("name") == "Compose Stack IPA" for b in d)'
    if podman healthcheck run "$app" >/dev/null 2>&1; then pass "compose app health check (beer-catalog healthcheck) passes"; else check_fail "compose app health check fails"; fi
  else
    podman logs "$app" 2>&1 | tail -20 >&2
    check_fail "compose app did not become healthy on :$BEER_CATALOG_HOST_PORT"
  fi
  podman logs "$app" >"$state/compose-app.log" 2>&1 || true

  # Prometheus scrapes the app's metrics listener over the compose network.
  local job
  job=$("$tools/python" -c 'import yaml; print(yaml.safe_load(open("deploy/prometheus.yml"))["scrape_configs"][0]["job_name"])')
  prometheus=http://127.0.0.1:$PROMETHEUS_HOST_PORT
  prometheus_until "compose prometheus target up" "up{job=\"$job\"}" \
    'd["status"] == "success" and [r["value"][1] for r in d["data"]["result"]] == ["1"]'
  # The requests made above, counted by the app and scraped: at least the POST /beers (the series appears with it).
  prometheus_until "compose prometheus scraped the app's request counter" \
    "sum(beer_catalog_http_requests_total{job=\"$job\",method=\"POST\",route=\"/beers\"})" \
    'd["status"] == "success" and len(d["data"]["result"]) == 1 and float(d["data"]["result"][0]["value"][1]) >= 1'
  podman logs "$(compose_container prometheus)" >"$state/compose-prometheus.log" 2>&1 || true

  # 4. Down, and nothing of the project left.
  timeout 120 "${compose_cmd[@]}" down -v -t 30 >>"$state/compose.log" 2>&1 || true
  local left
  left=$(compose_leftovers)
  if [ -z "$left" ]; then pass "podman-compose down -v left no container, volume or network of the project"; else check_fail "left after down -v: $left"; fi
  compose_teardown
}
