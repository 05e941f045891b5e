# Shared helpers for scripts/container-test.sh and the stand-in image builders (sourced, not run).
# shellcheck shell=bash

# The base images the Dockerfile builds on, one line per FROM (first FROM first): "ARG IMAGE" when the FROM names a
# global build ARG (FROM ${ARG}) whose default is IMAGE (name:tag@sha256:digest, pinned), "- IMAGE" when it names an
# image directly. Read from the Dockerfile itself, so the stand-ins always carry the upstream names it uses.
dockerfile_base_images() {
  local dockerfile=$1
  awk '
    toupper($1) == "FROM" {
      from = 1
      for (i = 2; i <= NF; i++) if ($i !~ /^--/) { image = $i; break }
      if (image ~ /^\$\{?[A-Za-z_][A-Za-z0-9_]*\}?$/) { name = image; gsub(/[${}]/, "", name); print name, args[name] }
      else print "-", image
      next
    }
    !from && toupper($1) == "ARG" { eq = index($2, "="); if (eq) args[substr($2, 1, eq - 1)] = substr($2, eq + 1) }
  ' "$dockerfile"
}

log() { printf '%s container-test: %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
die() { log "FAIL: $*"; exit 1; }

# podman defaults that do not work on these machines (crun, high ulimits): point CONTAINERS_CONF at our own file.
write_containers_conf() {
  local file=$1
  mkdir -p "$(dirname "$file")"
  cat >"$file" <<'CONF'
[containers]
default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]
[engine]
runtime = "runc"
CONF
  export CONTAINERS_CONF=$file
}

# An image with this tag exists and carries the given value in its stand-in key label.
standin_current() {
  local image=$1 key=$2 have
  have=$(podman image inspect --format '{{ index .Labels "beer-catalog.standin-key" }}' "$image" 2>/dev/null) || return 1
  [ "$have" = "$key" ]
}

# Unpacks Debian packages into ROOT with dpkg-deb -x (no maintainer scripts run), for the stand-ins built FROM
# scratch. The packages are the host's apt candidates (Debian 12 here).
unpack_debs() { # ROOT PACKAGE...
  local root=$1 debs
  shift
  debs=$(mktemp -d /var/tmp/standin-debs.XXXXXX)
  (cd "$debs" && apt-get -qq -o APT::Sandbox::User=root download "$@") \
    || { rm -rf "$debs"; die "apt-get download $* failed (run apt-get update first?)"; }
  mkdir -p "$root"
  for deb in "$debs"/*.deb; do dpkg-deb -x "$deb" "$root"; done
  rm -rf "$debs" "$root/usr/share/doc" "$root/usr/share/man" "$root/usr/share/lintian" "$root/usr/share/locale"
}

# Replaces the image's previous build (a stand-in rebuilt under a new key) when nothing uses it any more.
remove_previous_image() { # IMAGE PREVIOUS_ID
  local current
  current=$(podman image inspect --format '{{.Id}}' "$1")
  if [ -n "$2" ] && [ "$2" != "$current" ]; then podman rmi "$2" >/dev/null 2>&1 || true; fi
}
