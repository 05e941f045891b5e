#!/usr/bin/env bash
# Builds a local STAND-IN for the distroless runtime image (gcr.io/distroless/cc-debian12:nonroot) and tags it
# with that exact upstream name, for machines that reach Debian's mirror but no container registry.
#
# Like upstream cc-debian12 it holds the unpacked Debian 12 runtime libraries (libc6, libgcc-s1, libstdc++6,
# libssl3), CA certificates, tzdata, netbase and base-files, plus /etc/passwd and /etc/group with root, nobody and
# nonroot (65532), /home/nonroot, /tmp; no shell, no package manager. Config as upstream's :nonroot tag:
# USER 65532, WORKDIR /home/nonroot, SSL_CERT_FILE. It is assembled from Debian packages with dpkg-deb -x (no
# maintainer scripts run), FROM scratch. It is NOT the upstream image: what runs on it verifies this project's
# Dockerfile, binary and runtime contract, not distroless itself.
#
# Usage: build-standin-runtime.sh IMAGE_NAME        (needs root, podman, apt-get; CONTAINERS_CONF set)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=scripts/container/lib.sh
. "$here/lib.sh"

image=${1:?usage: build-standin-runtime.sh IMAGE_NAME}
packages=(base-files netbase tzdata ca-certificates libc6 libgcc-s1 libstdc++6 libssl3)

# Bump recipe when this script changes what goes into the image (not a hash of this file: a comment edit must
# not invalidate every layer built on it).
recipe=1
key=runtime-$recipe-$(printf '%s\n' "${packages[@]}" | sha256sum | cut -c1-16)
if standin_current "$image" "$key"; then
  log "runtime stand-in $image is current (key $key)"
  exit 0
fi

# A stand-in this replaces is removed afterwards when nothing uses it any more (best effort).
previous=$(podman image inspect --format '{{.Id}}' "$image" 2>/dev/null || true)
log "building runtime stand-in $image from Debian packages: ${packages[*]}"
work=$(mktemp -d /var/tmp/standin-runtime.XXXXXX)
trap 'rm -rf "$work"' EXIT
root=$work/rootfs
mkdir -p "$work/debs" "$root"
(cd "$work/debs" && apt-get -qq -o APT::Sandbox::User=root download "${packages[@]}") \
  || die "apt-get download ${packages[*]} failed (run apt-get update first?)"
for deb in "$work"/debs/*.deb; do dpkg-deb -x "$deb" "$root"; done

# What the packages' maintainer scripts would have made: the CA bundle (update-ca-certificates) and the users.
mkdir -p "$root/etc/ssl/certs"
find "$root/usr/share/ca-certificates" -name '*.crt' -print0 | sort -z | xargs -0 cat >"$root/etc/ssl/certs/ca-certificates.crt"
cat >"$root/etc/passwd" <<'PASSWD'
root:x:0:0:root:/root:/sbin/nologin
nobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin
nonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin
PASSWD
cat >"$root/etc/group" <<'GROUP'
root:x:0:
tty:x:5:
staff:x:50:
nobody:x:65534:
nonroot:x:65532:
GROUP
install -d -m 0700 "$root/root"
install -d -m 0700 -o 65532 -g 65532 "$root/home/nonroot"
install -d -m 1777 "$root/tmp"
rm -rf "$root/usr/share/doc" "$root/usr/share/man" "$root/usr/share/lintian" "$root/usr/share/ca-certificates"
# distroless has no shell; make sure nothing here brought one
for sh in bin/sh bin/bash bin/dash usr/bin/sh usr/bin/bash usr/bin/dash; do
  [ ! -e "$root/$sh" ] || die "runtime stand-in would contain /$sh"
done

cat >"$work/Containerfile" <<CONTAINERFILE
FROM scratch
COPY rootfs/ /
ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt
USER 65532
WORKDIR /home/nonroot
LABEL beer-catalog.standin-key=$key beer-catalog.standin-of=$image
CONTAINERFILE
podman build --quiet --format docker --pull=never -t "$image" -f "$work/Containerfile" "$work" >/dev/null
log "runtime stand-in $image built ($(podman image inspect --format '{{.Size}}' "$image" | numfmt --to=iec))"
current=$(podman image inspect --format '{{.Id}}' "$image")
if [ -n "$previous" ] && [ "$previous" != "$current" ]; then podman rmi "$previous" >/dev/null 2>&1 || true; fi
