#!/usr/bin/env bash
# Builds a local STAND-IN for the PostgreSQL image compose.yaml runs (docker.io/library/postgres:17-alpine) and
# tags it with that exact upstream name, for machines that reach Debian's mirror but no container registry.
#
# It is NOT the upstream image: it is Debian 12's PostgreSQL 15 (postgresql-15, its client programs and the
# libraries they link), not PostgreSQL 17 on Alpine, unpacked with dpkg-deb -x FROM scratch. What runs on it
# verifies compose.yaml's wiring (the database and user made from the environment, the health check, the
# migration and the API reaching it over the compose network), not PostgreSQL 17; the service's own test suite
# runs against PostgreSQL 15 as well. The part of the upstream contract compose.yaml relies on is kept, by
# scripts/container/standin-postgres-entrypoint.sh: POSTGRES_DB / POSTGRES_USER / POSTGRES_PASSWORD create that
# database and user on the first start into the data volume at /var/lib/postgresql/data, the server listens on
# 5432 on all addresses, and `pg_isready` is on PATH with a /bin/sh for CMD-SHELL health checks. Differences:
# it runs as the postgres user (70, as in the Alpine image) from the start rather than starting as root and
# stepping down, and /docker-entrypoint-initdb.d is not read.
#
# Usage: build-standin-postgres.sh IMAGE_NAME        (needs root, podman, apt-get; CONTAINERS_CONF set)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=scripts/container/lib.sh
. "$here/lib.sh"

image=${1:?usage: build-standin-postgres.sh IMAGE_NAME}
major=15
# The server, client and the shared libraries their programs link (ldd on Debian 12), tzdata for time zones and
# dash as /bin/sh (the entrypoint and CMD-SHELL health checks).
packages=("postgresql-$major" "postgresql-client-$major" libpq5 libc6 libgcc-s1 libstdc++6 libssl3 libicu72 libxml2
  liblz4-1 libzstd1 zlib1g liblzma5 libpam0g libaudit1 libcap-ng0 libcap2 libsystemd0 libgcrypt20 libgpg-error0
  libgssapi-krb5-2 libkrb5-3 libk5crypto3 libkrb5support0 libcom-err2 libkeyutils1 libldap-2.5-0 libsasl2-2
  libgnutls30 libp11-kit0 libidn2-0 libunistring2 libtasn1-6 libnettle8 libhogweed6 libgmp10 libffi8 tzdata dash)

# Keyed by this script and the entrypoint: nothing is built on this image, so a rebuild after any edit costs only
# its own half minute. (The packages are the apt candidates of the day; a rebuild picks up security updates.)
key=postgres-$(cat "$0" "$here/standin-postgres-entrypoint.sh" | sha256sum | cut -c1-16)
if standin_current "$image" "$key"; then
  log "postgres stand-in $image is current (key $key)"
  exit 0
fi

previous=$(podman image inspect --format '{{.Id}}' "$image" 2>/dev/null || true)
log "building postgres stand-in $image from Debian packages (PostgreSQL $major)"
work=$(mktemp -d /var/tmp/standin-postgres.XXXXXX)
trap 'rm -rf "$work"' EXIT
root=$work/rootfs
unpack_debs "$root" "${packages[@]}"
# JIT (LLVM, not unpacked) is off without its provider; its bitcode is only used with it.
rm -rf "$root/usr/lib/postgresql/$major/lib/llvmjit"* "$root/usr/lib/postgresql/$major/lib/bitcode"

cat >"$root/etc/passwd" <<'PASSWD'
root:x:0:0:root:/root:/sbin/nologin
postgres:x:70:70:PostgreSQL:/var/lib/postgresql:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin
PASSWD
cat >"$root/etc/group" <<'GROUP'
root:x:0:
postgres:x:70:
nobody:x:65534:
GROUP
install -D -m 0755 "$here/standin-postgres-entrypoint.sh" "$root/usr/local/bin/docker-entrypoint.sh"
# The data directory (a named volume takes its owner from it) and the socket directory, as upstream.
install -d -m 0700 -o 70 -g 70 "$root/var/lib/postgresql/data"
install -d -m 3777 -o 70 -g 70 "$root/var/run/postgresql"
install -d -m 1777 "$root/tmp"

# Imported from a tar rather than COPY'd: COPY would make every file root's, the data directory included.
tar -C "$root" -c . | podman import --quiet \
  --change "ENV PATH=/usr/lib/postgresql/$major/bin:/usr/local/bin:/usr/bin:/bin" \
  --change "ENV PGDATA=/var/lib/postgresql/data" \
  --change "USER 70:70" \
  --change "VOLUME /var/lib/postgresql/data" \
  --change "EXPOSE 5432" \
  --change "STOPSIGNAL SIGINT" \
  --change 'ENTRYPOINT ["docker-entrypoint.sh"]' \
  --change 'CMD ["postgres"]' \
  --change "LABEL beer-catalog.standin-key=$key" \
  --change "LABEL beer-catalog.standin-of=$image" \
  - "$image" >/dev/null
podman run --rm --network none --entrypoint /bin/sh "$image" -c 'postgres --version && initdb --version && pg_isready --version' \
  >/dev/null || { podman rmi "$image" >/dev/null 2>&1 || true; die "PostgreSQL does not run in the postgres stand-in"; }
log "postgres stand-in $image built ($(podman image inspect --format '{{.Size}}' "$image" | numfmt --to=iec))"
remove_previous_image "$image" "$previous"
