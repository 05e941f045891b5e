#!/usr/bin/env bash
# Render and register a new revision of an ECS task definition family with one container's image replaced.
#
#   ecs-register-task-definition.sh FAMILY CONTAINER IMAGE
#
# Reads the family's current ACTIVE revision (the one Terraform registered, or the last deploy), swaps the
# image of CONTAINER for IMAGE (an immutable repo@sha256:digest reference), drops the read-only fields that
# register-task-definition rejects, keeps the tags, registers it and prints the new revision's ARN on stdout.
# Refuses an IMAGE without a build for the family's CPU architecture (runtimePlatform.cpuArchitecture, X86_64 when
# unset): ecr-image-has-architecture.sh.
# The rendered JSON is left in $RUNNER_TEMP (or a temp dir) for the job log / debugging.
set -euo pipefail

if [ "$#" -ne 3 ]; then
  echo "usage: $0 FAMILY CONTAINER IMAGE" >&2
  exit 2
fi
family=$1
container=$2
image=$3

case "$image" in
  *@sha256:*) ;;
  *) echo "::error::refusing to register $family with a mutable image reference: $image (want repo@sha256:digest)" >&2; exit 1 ;;
esac

workdir=${RUNNER_TEMP:-$(mktemp -d)}
current="$workdir/$family.current.json"
rendered="$workdir/$family.rendered.json"

aws ecs describe-task-definition --task-definition "$family" --include TAGS --output json >"$current"

if ! jq -e --arg c "$container" '[.taskDefinition.containerDefinitions[] | select(.name == $c)] | length == 1' "$current" >/dev/null; then
  echo "::error::task definition family $family has no (single) container named $container" >&2
  exit 1
fi

arch=$(jq -r '.taskDefinition.runtimePlatform.cpuArchitecture // "X86_64"' "$current")
"$(dirname "$0")/ecr-image-has-architecture.sh" "$image" "$arch"

jq --arg c "$container" --arg image "$image" '
  .taskDefinition as $td
  | ($td
     | (.containerDefinitions[] | select(.name == $c) | .image) = $image
     | del(.taskDefinitionArn, .revision, .status, .requiresAttributes, .compatibilities,
           .registeredAt, .registeredBy, .deregisteredAt))
  + (if ((.tags // []) | length) > 0 then {tags: .tags} else {} end)
' "$current" >"$rendered"

echo "Rendered $family: container $container -> $image" >&2
arn=$(aws ecs register-task-definition --cli-input-json "file://$rendered" \
  --query 'taskDefinition.taskDefinitionArn' --output text)
if [ -z "$arn" ] || [ "$arn" = "None" ]; then
  echo "::error::register-task-definition returned no ARN for $family" >&2
  exit 1
fi
echo "Registered $arn" >&2
echo "$arn"
