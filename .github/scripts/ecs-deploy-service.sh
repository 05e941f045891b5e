#!/usr/bin/env bash
# Point the api service at a task definition revision and follow ECS's blue/green deployment of it to the end.
#
# Environment:
#   ECS_CLUSTER, ECS_SERVICE, TASK_DEFINITION (ARN of the rendered api revision)
#   DEPLOY_TIMEOUT_SECONDS  optional, default 3600 (start, test traffic, shift, the bake time and clean-up)
#   POLL_SECONDS            optional, default 15
#   GITHUB_STEP_SUMMARY, GITHUB_OUTPUT  optional (set by GitHub Actions): the outcome is written to both
#
# The service deploys blue/green (deployment_configuration.strategy = BLUE_GREEN, infra/modules/service): ECS starts
# the new revision (green) beside the running one (blue), shifts the listener rules to it, bakes, then drains blue.
# The deployment is followed through the service deployments API (list-/describe-service-deployments), whose status
# ends in one of SUCCESSFUL, STOPPED, ROLLBACK_SUCCESSFUL or ROLLBACK_FAILED; describe-services' rolloutState only
# covers rolling deployments.
#
# Exit status, and `outcome` in GITHUB_OUTPUT:
#   0 succeeded       SUCCESSFUL: production runs TASK_DEFINITION
#   2 rolled-back     ROLLBACK_SUCCESSFUL: the circuit breaker or a deployment alarm (5xx rate, p99 latency,
#                     unhealthy hosts) fired before the bake ended; production is back on the previous revision
#   3 rollback-failed ROLLBACK_FAILED: neither colour is known good; act now (docs/operations.md)
#   1 failed          STOPPED (someone stopped it), no deployment found, a deployment of another revision, timeout
set -euo pipefail

: "${ECS_CLUSTER:?}" "${ECS_SERVICE:?}" "${TASK_DEFINITION:?}"
timeout=${DEPLOY_TIMEOUT_SECONDS:-3600}
poll=${POLL_SECONDS:-15}
deadline=$((SECONDS + timeout))

# report OUTCOME STATUS MESSAGE [DETAILS...]: the job summary, the step output and the log say the same thing.
report() {
  local outcome=$1 status=$2 message=$3
  shift 3
  if [ -n "${GITHUB_OUTPUT:-}" ]; then
    { echo "outcome=$outcome"; echo "status=$status"; } >>"$GITHUB_OUTPUT"
  fi
  if [ -n "${GITHUB_STEP_SUMMARY:-}" ]; then
    {
      echo "### Blue/green deployment of \`$ECS_SERVICE\`: $status"
      echo
      echo "$message"
      echo
      echo "- Task definition: \`$TASK_DEFINITION\`"
      echo "- Service deployment: \`${deployment_arn:-none}\`"
      local line
      for line in "$@"; do echo "- $line"; done
    } >>"$GITHUB_STEP_SUMMARY"
  fi
  if [ "$outcome" = succeeded ]; then
    echo "$status: $message"
  else
    echo "::error::$status: $message" >&2
  fi
  local detail
  for detail in "$@"; do echo "  $detail"; done
}

# A little before now on the runner's clock (AWS's clock may differ), so the new deployment is never filtered out;
# a deployment of another revision in that window is told apart by its target revision below.
since=$(( $(date +%s) - 120 ))

aws ecs update-service --cluster "$ECS_CLUSTER" --service "$ECS_SERVICE" \
  --task-definition "$TASK_DEFINITION" --output json >/dev/null
echo "Requested a deployment of $TASK_DEFINITION to $ECS_SERVICE"

# Find the service deployment ECS created for this revision: the newest one since `since` whose target service
# revision runs TASK_DEFINITION (ECS creates it asynchronously, so it may take a poll or two to appear).
deployment_arn=""
while [ -z "$deployment_arn" ]; do
  listed=$(aws ecs list-service-deployments --cluster "$ECS_CLUSTER" --service "$ECS_SERVICE" \
    --created-at "after=$since" --output json)
  for candidate in $(jq -r '.serviceDeployments | sort_by(.createdAt) | reverse | .[] | .serviceDeploymentArn' <<<"$listed"); do
    revision=$(jq -r --arg arn "$candidate" \
      '.serviceDeployments[] | select(.serviceDeploymentArn == $arn) | .targetServiceRevisionArn' <<<"$listed")
    target_td=$(aws ecs describe-service-revisions --service-revision-arns "$revision" --output json |
      jq -r '.serviceRevisions[0].taskDefinition // empty')
    if [ "$target_td" = "$TASK_DEFINITION" ]; then
      deployment_arn=$candidate
      break
    fi
  done
  if [ -z "$deployment_arn" ]; then
    if [ "$SECONDS" -ge "$deadline" ]; then
      report failed NOT_FOUND "ECS created no service deployment of this revision within ${timeout}s."
      exit 1
    fi
    sleep "$poll"
  fi
done
echo "Following service deployment $deployment_arn"

last=""
while :; do
  described=$(aws ecs describe-service-deployments --service-deployment-arns "$deployment_arn" --output json)
  status=$(jq -r '.serviceDeployments[0].status // "UNKNOWN"' <<<"$described")
  stage=$(jq -r '.serviceDeployments[0].lifecycleStage // ""' <<<"$described")
  reason=$(jq -r '.serviceDeployments[0].statusReason // ""' <<<"$described")
  rollback_reason=$(jq -r '.serviceDeployments[0].rollback.reason // ""' <<<"$described")
  alarms=$(jq -r '(.serviceDeployments[0].alarms.triggeredAlarmNames // []) | join(", ")' <<<"$described")
  breaker=$(jq -r '.serviceDeployments[0].deploymentCircuitBreaker | if . then "\(.status // "?") (\(.failureCount // 0) failed tasks)" else "" end' <<<"$described")

  case "$status" in
    SUCCESSFUL)
      report succeeded "$status" "Production traffic runs the new revision; the previous colour has been drained."
      exit 0
      ;;
    ROLLBACK_SUCCESSFUL)
      report rolled-back "$status" "The deployment was rolled back: production runs the previous revision again." \
        "Reason: ${rollback_reason:-$reason}" "Alarms that fired: ${alarms:-none}" "Circuit breaker: ${breaker:-n/a}"
      exit 2
      ;;
    ROLLBACK_FAILED)
      report rollback-failed "$status" "The rollback itself failed: check the service now (docs/operations.md, manual rollback)." \
        "Reason: ${rollback_reason:-$reason}" "Alarms that fired: ${alarms:-none}" "Circuit breaker: ${breaker:-n/a}"
      exit 3
      ;;
    STOPPED)
      report failed "$status" "The deployment was stopped before it finished (${reason:-no reason given})."
      exit 1
      ;;
  esac

  if [ "$SECONDS" -ge "$deadline" ]; then
    report failed TIMEOUT "Still $status ($stage) after ${timeout}s; ECS carries on, follow it in the console."
    exit 1
  fi
  now="$status ${stage}${alarms:+ alarms: $alarms}"
  if [ "$now" != "$last" ]; then
    echo "  $now"
    last=$now
  fi
  sleep "$poll"
done
