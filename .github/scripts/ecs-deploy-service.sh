#!/usr/bin/env bash
# Point an ECS service at a task definition revision and wait until that deployment has rolled out.
#
# Environment:
#   ECS_CLUSTER, ECS_SERVICE, TASK_DEFINITION (ARN of the rendered api revision)
#   DEPLOY_TIMEOUT_SECONDS  optional, default 1800
#   POLL_SECONDS            optional, default 15
#
# Succeeds only when the new deployment's rolloutState is COMPLETED and the service runs TASK_DEFINITION.
# Fails when the deployment circuit breaker marks it FAILED (ECS then rolls the service back to the previous
# revision by itself), when another deployment replaces it, or on timeout. This is stricter than a plain
# "services-stable" wait, which also returns success after a circuit-breaker rollback has settled.
set -euo pipefail

: "${ECS_CLUSTER:?}" "${ECS_SERVICE:?}" "${TASK_DEFINITION:?}"
timeout=${DEPLOY_TIMEOUT_SECONDS:-1800}
poll=${POLL_SECONDS:-15}

updated=$(aws ecs update-service --cluster "$ECS_CLUSTER" --service "$ECS_SERVICE" \
  --task-definition "$TASK_DEFINITION" --output json)
deployment_id=$(jq -r --arg td "$TASK_DEFINITION" \
  '[.service.deployments[] | select(.status == "PRIMARY" and .taskDefinition == $td) | .id][0] // empty' <<<"$updated")
if [ -z "$deployment_id" ]; then
  echo "::error::update-service did not start a deployment of $TASK_DEFINITION" >&2
  exit 1
fi
echo "Deployment $deployment_id of $TASK_DEFINITION to $ECS_SERVICE started"

deadline=$((SECONDS + timeout))
while :; do
  described=$(aws ecs describe-services --cluster "$ECS_CLUSTER" --services "$ECS_SERVICE" --output json)
  state=$(jq -r --arg id "$deployment_id" \
    '[.services[0].deployments[] | select(.id == $id) | .rolloutState][0] // "GONE"' <<<"$described")
  reason=$(jq -r --arg id "$deployment_id" \
    '[.services[0].deployments[] | select(.id == $id) | .rolloutStateReason // empty][0] // ""' <<<"$described")
  current=$(jq -r '.services[0].taskDefinition' <<<"$described")
  case "$state" in
    COMPLETED)
      if [ "$current" != "$TASK_DEFINITION" ]; then
        echo "::error::deployment $deployment_id completed but the service now runs $current" >&2
        exit 1
      fi
      echo "Deployment $deployment_id COMPLETED: $ECS_SERVICE runs $TASK_DEFINITION"
      exit 0
      ;;
    FAILED)
      echo "::error::deployment $deployment_id FAILED ($reason); the circuit breaker rolls $ECS_SERVICE back to the previous revision" >&2
      exit 1
      ;;
    GONE)
      echo "::error::deployment $deployment_id was replaced by another deployment (service now on $current)" >&2
      exit 1
      ;;
  esac
  if [ "$SECONDS" -ge "$deadline" ]; then
    echo "::error::deployment $deployment_id still $state after ${timeout}s" >&2
    exit 1
  fi
  echo "  $state ${reason}"
  sleep "$poll"
done
