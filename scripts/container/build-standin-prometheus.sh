#!/usr/bin/env bash
# Builds a local STAND-IN for the Prometheus image compose.yaml runs (docker.io/prom/prometheus:<tag>) and tags it
# with that exact upstream name, for machines that reach Debian's mirror but no container registry.
#
# It is NOT the upstream image: it is Debian 12's Prometheus (2.42, package `prometheus`, unpacked with dpkg-deb -x
# FROM scratch), not the tag's version. It keeps the upstream image's interface that compose.yaml uses: the
# binary is the entrypoint (/bin/prometheus, promtool beside it) so the compose `command` is its flags
# (--config.file, --storage.tsdb.path, --storage.tsdb.retention.time, --web.listen-address all exist in 2.42),
# the default command reads /etc/prometheus/prometheus.yml and stores in /prometheus, which is the working
# directory, a volume and owned by nobody (65534), the user it runs as; port 9090. What runs on it verifies the
# scrape configuration and the service's metrics listener over the compose network and Prometheus's HTTP API
# (/api/v1/query), which 2.42 and 3.x share, not Prometheus 3 itself.
#
# Usage: build-standin-prometheus.sh IMAGE_NAME        (needs root, podman, apt-get; CONTAINERS_CONF set)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=scripts/container/lib.sh
. "$here/lib.sh"

image=${1:?usage: build-standin-prometheus.sh IMAGE_NAME}
# The Go binaries link only libc.
packages=(prometheus libc6 tzdata)

# Keyed by this script: nothing is built on this image, so a rebuild after any edit costs only its own seconds.
key=prometheus-$(sha256sum <"$0" | cut -c1-16)
if standin_current "$image" "$key"; then
  log "prometheus stand-in $image is current (key $key)"
  exit 0
fi

previous=$(podman image inspect --format '{{.Id}}' "$image" 2>/dev/null || true)
log "building prometheus stand-in $image from Debian packages"
work=$(mktemp -d /var/tmp/standin-prometheus.XXXXXX)
trap 'rm -rf "$work"' EXIT
root=$work/rootfs
unpack_debs "$root" "${packages[@]}"
# Upstream's layout: the binaries in /bin, no service manager files.
mkdir -p "$root/bin"
mv "$root/usr/bin/prometheus" "$root/usr/bin/promtool" "$root/bin/"
rm -rf "$root/etc/init.d" "$root/etc/default" "$root/etc/logrotate.d" "$root/lib/systemd"

cat >"$root/etc/passwd" <<'PASSWD'
root:x:0:0:root:/root:/sbin/nologin
nobody:x:65534:65534:nobody:/home:/bin/false
PASSWD
cat >"$root/etc/group" <<'GROUP'
root:x:0:
nobody:x:65534:
GROUP
install -d -m 0755 -o 65534 -g 65534 "$root/prometheus"
install -d -m 1777 "$root/tmp"

# Imported from a tar rather than COPY'd: COPY would make /prometheus root's, and nobody could not write to it.
tar -C "$root" -c . | podman import --quiet \
  --change "USER nobody" \
  --change "WORKDIR /prometheus" \
  --change "VOLUME /prometheus" \
  --change "EXPOSE 9090" \
  --change 'ENTRYPOINT ["/bin/prometheus"]' \
  --change 'CMD ["--config.file=/etc/prometheus/prometheus.yml", "--storage.tsdb.path=/prometheus"]' \
  --change "LABEL beer-catalog.standin-key=$key" \
  --change "LABEL beer-catalog.standin-of=$image" \
  - "$image" >/dev/null
podman run --rm --network none "$image" --version >/dev/null \
  || { podman rmi "$image" >/dev/null 2>&1 || true; die "prometheus does not run in the prometheus stand-in"; }
log "prometheus stand-in $image built ($(podman image inspect --format '{{.Size}}' "$image" | numfmt --to=iec))"
remove_previous_image "$image" "$previous"
