#!/usr/bin/env bash
# A throwaway PostgreSQL primary and hot standby (physical streaming replication) of their own, for the read-replica
# tests and .ci/run. They live under one temporary directory on free loopback ports; the machine's own cluster on
# 5432 is never touched (its pg_hba.conf allows no replication anyway).
#
#   scripts/pg-replica.sh start          # create both (or reuse a healthy pair), wait until the standby streams;
#                                        # prints the two URLs as `env` does
#   scripts/pg-replica.sh env            # REPLICA_PRIMARY_URL=... and REPLICA_STANDBY_URL=..., for `eval`
#   scripts/pg-replica.sh stop           # stop both and remove the directory (nothing left behind)
#   scripts/pg-replica.sh status         # exit 0 when both run and the standby streams
#   scripts/pg-replica.sh standby-stop   # stop only the standby (tests: "the replica is down")
#   scripts/pg-replica.sh standby-start  # start it again and wait until it streams
#
# Every command is idempotent. Servers run as the `postgres` OS user (runuser when invoked as root). Binaries: the
# newest /usr/lib/postgresql/*/bin, or PG_BIN. Directory: PG_REPLICA_DIR, default $TMPDIR/beer-catalog-pg-replica.
# Waits are bounded (PG_REPLICA_WAIT_SECS, default 30) and fail naming what did not happen and the server log.
set -euo pipefail

dir="${PG_REPLICA_DIR:-${TMPDIR:-/tmp}/beer-catalog-pg-replica}"
wait_secs="${PG_REPLICA_WAIT_SECS:-30}"
primary="$dir/primary"
standby="$dir/standby"
state="$dir/ports"

die() { echo "pg-replica: $*" >&2; exit 1; }

if [ -z "${PG_BIN:-}" ]; then
  PG_BIN=$(find /usr/lib/postgresql -mindepth 2 -maxdepth 2 -name bin -type d 2>/dev/null | sort -V | tail -n 1)
fi
[ -n "$PG_BIN" ] && [ -x "$PG_BIN/initdb" ] || die "no PostgreSQL server binaries (initdb) found; set PG_BIN"

# Runs a server binary as the postgres OS user: PostgreSQL refuses to run as root. The lock's descriptor is closed
# for it, or the servers pg_ctl leaves running would hold the lock forever.
as_postgres() {
  if [ "$(id -u)" = 0 ]; then
    (cd "$dir" && runuser -u postgres -- "$@" 9>&-)
  else
    (cd "$dir" && "$@" 9>&-)
  fi
}

pg_ctl_() { as_postgres "$PG_BIN/pg_ctl" "$@"; }

# psql on one of the pair, as superuser over loopback (trust), printing bare values.
query() {
  local port=$1 sql=$2
  "$PG_BIN/psql" -X -q -t -A -h 127.0.0.1 -p "$port" -U postgres -d postgres -c "$sql" 2>/dev/null
}

running() { [ -f "$1/postmaster.pid" ] && pg_ctl_ -D "$1" status >/dev/null 2>&1; }

read_ports() {
  [ -f "$state" ] || return 1
  # shellcheck disable=SC1090
  . "$state"
  [ -n "${primary_port:-}" ] && [ -n "${standby_port:-}" ]
}

streaming() {
  [ "$(query "$primary_port" "SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming'")" = 1 ] &&
    [ "$(query "$standby_port" "SELECT pg_is_in_recovery()")" = t ]
}

# Polls "$@" once a second until it succeeds, at most $wait_secs; on timeout names what failed and shows the log.
wait_for() {
  local what=$1 log=$2
  shift 2
  for _ in $(seq 1 "$wait_secs"); do
    "$@" && return 0
    sleep 1
  done
  echo "pg-replica: timed out after ${wait_secs}s waiting for $what; last lines of $log:" >&2
  tail -n 20 "$log" >&2 || true
  exit 1
}

port_free() {
  if command -v ss >/dev/null; then
    [ -z "$(ss -Hltn "sport = :$1")" ]
  else
    if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then return 1; fi
  fi
}

free_port() {
  local port
  for _ in $(seq 1 200); do
    port=$((20000 + RANDOM % 20000))
    port_free "$port" && [ "$port" != "${1:-}" ] && { echo "$port"; return 0; }
  done
  die "no free port found between 20000 and 40000"
}

print_env() {
  echo "REPLICA_PRIMARY_URL=postgres://postgres@127.0.0.1:$primary_port/postgres"
  echo "REPLICA_STANDBY_URL=postgres://postgres@127.0.0.1:$standby_port/postgres"
}

stop_all() {
  if [ -d "$dir" ]; then
    for data in "$standby" "$primary"; do
      running "$data" && pg_ctl_ -D "$data" -m immediate -w -t "$wait_secs" stop >/dev/null
    done
    rm -rf "$dir"
  fi
  return 0
}

start_standby() {
  running "$standby" || pg_ctl_ -D "$standby" -l "$dir/standby.log" -w -t "$wait_secs" start >/dev/null ||
    { tail -n 20 "$dir/standby.log" >&2; die "the standby did not start"; }
  wait_for "the standby to stream from the primary" "$dir/standby.log" streaming
}

start() {
  if read_ports 2>/dev/null && running "$primary"; then
    # A healthy pair is reused; a stopped standby is started again, so URLs already exported stay right.
    if (running "$standby" && streaming) || (start_standby); then
      print_env
      return 0
    fi
  fi
  # Anything half-made (a crash, an interrupted start) is thrown away and built again.
  stop_all
  mkdir -p "$dir"
  chmod 0755 "$dir"
  [ "$(id -u)" = 0 ] && chown postgres: "$dir"
  primary_port=$(free_port)
  standby_port=$(free_port "$primary_port")

  as_postgres "$PG_BIN/initdb" -D "$primary" -U postgres --auth=trust -E UTF8 --no-sync >"$dir/initdb.log" 2>&1 ||
    { cat "$dir/initdb.log" >&2; die "initdb failed"; }
  # Throwaway data: durability is traded for speed (fsync off), which a test pair can afford.
  as_postgres tee -a "$primary/postgresql.conf" >/dev/null <<EOF
listen_addresses = '127.0.0.1'
port = $primary_port
unix_socket_directories = '$dir'
wal_level = replica
max_wal_senders = 5
wal_keep_size = '256MB'
hot_standby = on
hot_standby_feedback = on
max_connections = 60
shared_buffers = '32MB'
fsync = off
full_page_writes = off
log_min_messages = warning
EOF
  as_postgres tee "$primary/pg_hba.conf" >/dev/null <<EOF
local all all trust
host all all 127.0.0.1/32 trust
host replication all 127.0.0.1/32 trust
EOF
  pg_ctl_ -D "$primary" -l "$dir/primary.log" -w -t "$wait_secs" start >/dev/null ||
    { tail -n 20 "$dir/primary.log" >&2; die "the primary did not start on port $primary_port"; }

  # -R writes standby.signal and primary_conninfo: the copy starts as a hot standby streaming from the primary.
  as_postgres "$PG_BIN/pg_basebackup" -h 127.0.0.1 -p "$primary_port" -U postgres -D "$standby" -R -X stream \
    -c fast --no-sync >"$dir/basebackup.log" 2>&1 || { cat "$dir/basebackup.log" >&2; die "pg_basebackup failed"; }
  as_postgres tee -a "$standby/postgresql.conf" >/dev/null <<EOF
port = $standby_port
EOF
  printf 'primary_port=%s\nstandby_port=%s\n' "$primary_port" "$standby_port" >"$state"
  start_standby
  print_env
}

command=${1:-}
mkdir -p "$(dirname "$dir")"
# One command at a time on the pair (tests and .ci/run may call concurrently).
exec 9>"$(dirname "$dir")/.beer-catalog-pg-replica.lock"
flock -w "$((wait_secs * 3))" 9 || die "another pg-replica.sh holds the lock"

case "$command" in
  start) start ;;
  stop) stop_all ;;
  env) read_ports || die "no replica pair: run scripts/pg-replica.sh start"; print_env ;;
  status)
    read_ports || die "no replica pair"
    running "$primary" || die "the primary is not running"
    running "$standby" || die "the standby is not running"
    streaming || die "the standby is not streaming"
    echo "pg-replica: primary :$primary_port, standby :$standby_port streaming"
    ;;
  standby-stop)
    read_ports || die "no replica pair: run scripts/pg-replica.sh start"
    if running "$standby"; then pg_ctl_ -D "$standby" -m fast -w -t "$wait_secs" stop >/dev/null; fi
    ;;
  standby-start)
    read_ports || die "no replica pair: run scripts/pg-replica.sh start"
    start_standby
    ;;
  *)
    echo "usage: $0 start|stop|env|status|standby-stop|standby-start" >&2
    exit 2
    ;;
esac
