#!/bin/sh
# Entrypoint of the PostgreSQL STAND-IN image (scripts/container/build-standin-postgres.sh), not the upstream
# image's docker-entrypoint.sh. It keeps the part of that image's contract compose.yaml relies on: on the first
# start with an empty data directory ($PGDATA, /var/lib/postgresql/data) it runs initdb with POSTGRES_USER as the
# superuser and POSTGRES_PASSWORD as its password, creates POSTGRES_DB, lets other hosts in with
# POSTGRES_HOST_AUTH_METHOD (scram-sha-256 unless set) and listens on all addresses; later starts reuse the data.
# It runs as the image's user (postgres, 70), so it needs no privilege drop. Only sh built-ins and PostgreSQL's own
# programs: the image has no coreutils. The locale is C with UTF-8 encoding (collation by code point, as on
# Alpine, whose libc collates so whatever the locale's name).
set -eu

# `docker run IMAGE -c setting=value` passes server options, as upstream.
if [ "${1#-}" != "${1:-}" ]; then
  set -- postgres "$@"
fi

if [ "${1:-}" = postgres ] && [ ! -s "$PGDATA/PG_VERSION" ]; then
  user=${POSTGRES_USER:-postgres}
  db=${POSTGRES_DB:-$user}
  auth=${POSTGRES_HOST_AUTH_METHOD:-scram-sha-256}
  case "$user$db" in *'"'*)
    echo "stand-in postgres: POSTGRES_USER/POSTGRES_DB with a double quote are not supported" >&2
    exit 1
    ;;
  esac
  # As upstream: no password is an error unless connections from other hosts are trusted.
  if [ -n "${POSTGRES_PASSWORD:-}" ]; then
    # shellcheck disable=SC2086 # POSTGRES_INITDB_ARGS is a list of arguments, as upstream splits it
    printf '%s\n' "$POSTGRES_PASSWORD" | initdb -D "$PGDATA" --username="$user" --pwfile=/dev/stdin \
      --encoding=UTF8 --locale=C --auth-local=trust --auth-host="$auth" ${POSTGRES_INITDB_ARGS:-}
  elif [ "$auth" = trust ]; then
    # shellcheck disable=SC2086
    initdb -D "$PGDATA" --username="$user" --encoding=UTF8 --locale=C --auth-local=trust --auth-host=trust \
      ${POSTGRES_INITDB_ARGS:-}
  else
    echo "stand-in postgres: POSTGRES_PASSWORD is not set (or set POSTGRES_HOST_AUTH_METHOD=trust)" >&2
    exit 1
  fi
  printf "listen_addresses = '*'\n" >>"$PGDATA/postgresql.conf"
  printf 'host all all all %s\n' "$auth" >>"$PGDATA/pg_hba.conf"
  if [ "$db" != postgres ]; then
    # Single-user mode: no server, no client, no socket needed for the one statement.
    printf 'CREATE DATABASE "%s"\n' "$db" | postgres --single -D "$PGDATA" postgres >/dev/null
  fi
  echo "stand-in postgres: initialised $PGDATA (superuser $user, database $db, host auth $auth)"
fi

exec "$@"
