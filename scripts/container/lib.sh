# Shared helpers for scripts/container-test.sh and the stand-in image builders (sourced, not run).
# shellcheck shell=bash

# The base images the Dockerfile names, read from the Dockerfile itself so the stand-ins always carry the exact
# upstream names it uses: the first FROM (the builder) and the last FROM (the runtime).
dockerfile_from_images() {
  local dockerfile=$1
  awk 'toupper($1) == "FROM" { for (i = 2; i <= NF; i++) if ($i !~ /^--/) { print $i; break } }' "$dockerfile"
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
