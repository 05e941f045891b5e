#!/usr/bin/env bash
# Builds a local STAND-IN for the official Rust builder image (e.g. docker.io/library/rust:1.95.0-slim-bookworm)
# and tags it with that exact upstream name, for machines that can reach Debian's mirror and crates.io but no
# container registry. It is Debian bookworm (debootstrap minbase) + gcc + libc6-dev + ca-certificates, like the
# upstream slim image, with this machine's Rust toolchain copied into the upstream layout
# (RUSTUP_HOME=/usr/local/rustup, CARGO_HOME=/usr/local/cargo, /usr/local/cargo/bin on PATH). No rustup.
#
# It is NOT the upstream image; it lets the unmodified Dockerfile build here. The toolchain version must equal
# the tag's version, else this fails rather than pretend. The image is cached in podman's storage under a key
# (recipe version + toolchain) and rebuilt only when that changes.
#
# Usage: build-standin-builder.sh IMAGE_NAME        (needs root, podman, debootstrap; CONTAINERS_CONF set)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=scripts/container/lib.sh
. "$here/lib.sh"

image=${1:?usage: build-standin-builder.sh IMAGE_NAME}
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
suite=bookworm

# rust:1.95.0-slim-bookworm -> 1.95.0 ; rust:1.95-slim-bookworm -> 1.95
tag=${image##*:}
want_version=${tag%%-*}
case "$tag" in *-$suite) ;; *) die "builder image $image is not a $suite variant; this stand-in is $suite" ;; esac

sysroot=$(rustc --print sysroot)
have_version=$(rustc --version | awk '{print $2}')
case "$have_version" in
  "$want_version" | "$want_version".*) ;;
  *) die "the Dockerfile's builder is $image but this machine's rustc is $have_version: a stand-in would misrepresent it" ;;
esac

# Bump recipe when this script changes what goes into the image; the toolchain is part of the key too. (Not a
# hash of this file: a comment edit must not throw away the image and, with it, every cached cargo layer.)
recipe=1
key=builder-$recipe-$suite-$(rustc -vV | sha256sum | cut -c1-16)
if standin_current "$image" "$key"; then
  log "builder stand-in $image is current (key $key)"
  exit 0
fi

# A stand-in this replaces is removed afterwards when nothing uses it any more (best effort).
previous=$(podman image inspect --format '{{.Id}}' "$image" 2>/dev/null || true)
log "building builder stand-in $image (debootstrap $suite + rustc $have_version); about a minute"
work=$(mktemp -d /var/tmp/standin-builder.XXXXXX)
trap 'rm -rf "$work"' EXIT
root=$work/rootfs

debootstrap --variant=minbase --include=gcc,libc6-dev,ca-certificates "$suite" "$root" "$mirror" \
  >"$work/debootstrap.log" 2>&1 || { tail -20 "$work/debootstrap.log" >&2; die "debootstrap failed"; }
rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/* "$root"/usr/share/doc/* "$root"/usr/share/man/*

# The toolchain in the upstream layout: binaries, the compiler's shared libraries and the x86_64 std; no docs,
# no rust-src, no clippy/rustfmt (the Dockerfile needs none of them).
triple=x86_64-unknown-linux-gnu
tc=$root/usr/local/rustup/toolchains/$have_version-$triple
mkdir -p "$tc/bin" "$tc/lib/rustlib" "$root/usr/local/cargo/bin"
cp -a "$sysroot"/bin/cargo "$sysroot"/bin/rustc "$sysroot"/bin/rustdoc "$tc/bin/"
cp -a "$sysroot"/lib/*.so* "$tc/lib/"
cp -a "$sysroot/lib/rustlib/$triple" "$tc/lib/rustlib/"
# Upstream puts rustup proxies here; the stand-in uses tiny exec wrappers (a symlink would break the
# toolchain's $ORIGIN-relative library lookup).
for tool in cargo rustc rustdoc; do
  printf '#!/bin/sh\nexec /usr/local/rustup/toolchains/%s/bin/%s "$@"\n' "$have_version-$triple" "$tool" \
    >"$root/usr/local/cargo/bin/$tool"
  chmod 0755 "$root/usr/local/cargo/bin/$tool"
done

tar -C "$root" -c . | podman import --quiet \
  --change "ENV RUSTUP_HOME=/usr/local/rustup" \
  --change "ENV CARGO_HOME=/usr/local/cargo" \
  --change "ENV PATH=/usr/local/cargo/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" \
  --change "ENV RUST_VERSION=$have_version" \
  --change "LABEL beer-catalog.standin-key=$key" \
  --change "LABEL beer-catalog.standin-of=$image" \
  --change 'CMD ["bash"]' \
  - "$image" >/dev/null
# (checked in a container, not a chroot: rustc finds its libraries through $ORIGIN, which needs /proc)
podman run --rm --network none "$image" sh -c 'cargo --version && rustc --version && cc --version' >/dev/null \
  || { podman rmi "$image" >/dev/null 2>&1 || true; die "the toolchain does not run in the builder stand-in"; }
log "builder stand-in $image built ($(podman image inspect --format '{{.Size}}' "$image" | numfmt --to=iec))"
current=$(podman image inspect --format '{{.Id}}' "$image")
if [ -n "$previous" ] && [ "$previous" != "$current" ]; then podman rmi "$previous" >/dev/null 2>&1 || true; fi
