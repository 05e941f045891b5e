#!/usr/bin/env bash
# Refuse an image that cannot run on a task's CPU architecture, before a task definition points at it.
#
#   ecr-image-has-architecture.sh IMAGE CPU_ARCHITECTURE
#
# IMAGE is an ECR reference by digest (<registry>/<repository>@sha256:...); CPU_ARCHITECTURE is the task
# definition's runtimePlatform.cpuArchitecture (X86_64 or ARM64). The digest names either a manifest list / OCI
# index (ci.yml's publish job pushes one with linux/amd64 and linux/arm64) or a single image manifest (images
# published before the multi-architecture build): for a list, one of its manifests must be linux/<arch>; for a
# single manifest, its config blob's architecture must be <arch>. Otherwise ECS would pull the image and fail
# every task with "exec format error", after the deploy had already started; this stops it before.
set -euo pipefail

if [ "$#" -ne 2 ]; then
  echo "usage: $0 IMAGE CPU_ARCHITECTURE" >&2
  exit 2
fi
image=$1
case "$2" in
  X86_64) want=amd64 ;;
  ARM64) want=arm64 ;;
  *) echo "::error::unknown task CPU architecture '$2' (want X86_64 or ARM64)" >&2; exit 1 ;;
esac
case "$image" in
  *@sha256:*) ;;
  *) echo "::error::$image is not a reference by digest" >&2; exit 1 ;;
esac
digest=${image##*@}
repository=${image%@*}
repository=${repository#*/}

manifest=$(aws ecr batch-get-image --repository-name "$repository" --image-ids "imageDigest=$digest" \
  --accepted-media-types application/vnd.oci.image.index.v1+json \
  application/vnd.docker.distribution.manifest.list.v2+json \
  application/vnd.oci.image.manifest.v1+json application/vnd.docker.distribution.manifest.v2+json \
  --query 'images[0].imageManifest' --output text)
if [ -z "$manifest" ] || [ "$manifest" = "None" ]; then
  echo "::error::$repository@$digest is not in ECR" >&2
  exit 1
fi

if jq -e 'has("manifests")' <<<"$manifest" >/dev/null; then
  have=$(jq -r '[.manifests[] | select(.platform.os == "linux") | .platform.architecture] | unique | join(" ")' <<<"$manifest")
else
  # A single image: its architecture is in the config blob, fetched through a pre-signed layer URL.
  config=$(jq -r '.config.digest' <<<"$manifest")
  url=$(aws ecr get-download-url-for-layer --repository-name "$repository" --layer-digest "$config" \
    --query downloadUrl --output text)
  have=$(curl -fsSL "$url" | jq -r '.architecture')
fi

for arch in $have; do
  if [ "$arch" = "$want" ]; then
    echo "$repository@$digest has linux/$want (platforms: $have)" >&2
    exit 0
  fi
done
echo "::error::$repository@$digest has no linux/$want image (platforms: ${have:-none}), but the task runs $2: refusing to deploy it" >&2
exit 1
