#!/usr/bin/env bash
# Wake a service that its schedule has put to sleep, before a release: a blue/green deployment of a service with
# no tasks would start none, and the smoke test behind it could only fail.
#
# Environment:
#   ECS_CLUSTER, ECS_SERVICE   the service (beer-catalog-<env>, beer-catalog-<env>-api)
#   WAKE_TIMEOUT_SECONDS       optional, default 900: how long to wait for the woken service to be stable
#   POLL_SECONDS               optional, default 15
#
# Asleep means: its Application Auto Scaling target has max_capacity 0 (the sleep action of
# infra/modules/service/service.tf). Waking gives the target the bounds of the service's wake action
# (<service>-wake, read from AWS, so nothing here repeats Terraform's values), until the next scheduled sleep puts it
# back. A service that is awake, or has no scalable target at all, is left alone. Writes `woken=true|false` to
# $GITHUB_OUTPUT and one line to the job summary.
set -euo pipefail

: "${ECS_CLUSTER:?}" "${ECS_SERVICE:?}"
timeout=${WAKE_TIMEOUT_SECONDS:-900}
poll=${POLL_SECONDS:-15}
resource="service/$ECS_CLUSTER/$ECS_SERVICE"
summary() { [ -n "${GITHUB_STEP_SUMMARY:-}" ] && echo "$1" >> "$GITHUB_STEP_SUMMARY"; echo "$1"; }
output() { [ -n "${GITHUB_OUTPUT:-}" ] && echo "woken=$1" >> "$GITHUB_OUTPUT"; return 0; }

max=$(aws application-autoscaling describe-scalable-targets --service-namespace ecs --resource-ids "$resource" \
  --query 'ScalableTargets[0].MaxCapacity' --output text)
if [ "$max" = "None" ] || [ -z "$max" ] || [ "$max" -gt 0 ]; then
  summary "- $ECS_SERVICE is awake (max capacity ${max/None/not scaled}): nothing to wake"
  output false
  exit 0
fi

bounds=$(aws application-autoscaling describe-scheduled-actions --service-namespace ecs --resource-id "$resource" \
  --scheduled-action-names "$ECS_SERVICE-wake" --query 'ScheduledActions[0].ScalableTargetAction' --output json)
min=$(jq -r '.MinCapacity // empty' <<<"$bounds" 2>/dev/null || true)
wake_max=$(jq -r '.MaxCapacity // empty' <<<"$bounds" 2>/dev/null || true)
if ! [[ "$min" =~ ^[0-9]+$ && "$wake_max" =~ ^[0-9]+$ ]] || [ "$wake_max" -lt 1 ]; then
  echo "::error::$ECS_SERVICE is asleep (max capacity 0) and has no usable wake action $ECS_SERVICE-wake ($bounds): wake it by hand (aws application-autoscaling register-scalable-target) or wait for its schedule" >&2
  exit 1
fi

echo "$ECS_SERVICE is asleep: waking it to $min..$wake_max tasks until its next scheduled sleep"
aws application-autoscaling register-scalable-target --service-namespace ecs --resource-id "$resource" \
  --scalable-dimension ecs:service:DesiredCount --min-capacity "$min" --max-capacity "$wake_max" >/dev/null

deadline=$(( $(date +%s) + timeout ))
while :; do
  running=$(aws ecs describe-services --cluster "$ECS_CLUSTER" --services "$ECS_SERVICE" \
    --query 'services[0].runningCount' --output text)
  if [[ "$running" =~ ^[0-9]+$ ]] && [ "$running" -ge "$min" ] && [ "$running" -ge 1 ]; then
    break
  fi
  if [ "$(date +%s)" -ge "$deadline" ]; then
    echo "::error::$ECS_SERVICE was woken but runs $running of $min tasks after ${timeout}s" >&2
    exit 1
  fi
  sleep "$poll"
done
summary "- $ECS_SERVICE was asleep: woken to $min..$wake_max tasks ($running running) until its next scheduled sleep"
output true
