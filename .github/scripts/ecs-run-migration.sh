#!/usr/bin/env bash
# Run the database migration as a one-off ECS Fargate task and fail unless its container exits 0.
#
# Environment:
#   ECS_CLUSTER          cluster name (beer-catalog-<env>)
#   ECS_SERVICE          the API service; its network configuration (subnets, tasks security group, public IP
#                        or not) is reused for the task
#   TASK_DEFINITION      task definition ARN to run (the migrate family, rendered with the new image)
#   MIGRATE_CONTAINER    container name in that task definition (migrate)
#   MIGRATE_COMMAND      command to run, space-separated words (migrate)
#   LOG_GROUP            optional: CloudWatch log group, printed as a hint on failure
#   MIGRATION_TIMEOUT_SECONDS  optional, default 1800
#   POLL_SECONDS         optional, default 10
set -euo pipefail

: "${ECS_CLUSTER:?}" "${ECS_SERVICE:?}" "${TASK_DEFINITION:?}" "${MIGRATE_CONTAINER:?}" "${MIGRATE_COMMAND:?}"
timeout=${MIGRATION_TIMEOUT_SECONDS:-1800}
poll=${POLL_SECONDS:-10}

network=$(aws ecs describe-services --cluster "$ECS_CLUSTER" --services "$ECS_SERVICE" \
  --query 'services[0].networkConfiguration.awsvpcConfiguration' --output json)
if ! jq -e '(.subnets | length) > 0 and (.securityGroups | length) > 0' >/dev/null 2>&1 <<<"$network"; then
  echo "::error::could not read the network configuration of service $ECS_SERVICE in $ECS_CLUSTER" >&2
  exit 1
fi
# The service's own placement: private subnets, or public subnets with a public IP where the environment has
# neither NAT nor interface endpoints (staging), without which the task could not pull its image.
network_config=$(jq -c '{awsvpcConfiguration: {subnets: .subnets, securityGroups: .securityGroups, assignPublicIp: (.assignPublicIp // "DISABLED")}}' <<<"$network")
overrides=$(jq -cn --arg c "$MIGRATE_CONTAINER" --arg cmd "$MIGRATE_COMMAND" \
  '{containerOverrides: [{name: $c, command: ($cmd | split(" ") | map(select(. != "")))}]}')

echo "Running $MIGRATE_COMMAND in $TASK_DEFINITION on $ECS_CLUSTER (network of $ECS_SERVICE)"
run=$(aws ecs run-task --cluster "$ECS_CLUSTER" --task-definition "$TASK_DEFINITION" \
  --launch-type FARGATE --count 1 \
  --network-configuration "$network_config" \
  --overrides "$overrides" \
  --started-by "github-actions-migrate" \
  --output json)
task_arn=$(jq -r '.tasks[0].taskArn // empty' <<<"$run")
if [ -z "$task_arn" ]; then
  echo "::error::run-task started no task: $(jq -c '.failures // []' <<<"$run")" >&2
  exit 1
fi
echo "Started $task_arn"

deadline=$((SECONDS + timeout))
while :; do
  status=$(aws ecs describe-tasks --cluster "$ECS_CLUSTER" --tasks "$task_arn" \
    --query 'tasks[0].lastStatus' --output text)
  [ "$status" = "STOPPED" ] && break
  if [ "$SECONDS" -ge "$deadline" ]; then
    echo "::error::migration task $task_arn still $status after ${timeout}s; stopping it" >&2
    aws ecs stop-task --cluster "$ECS_CLUSTER" --task "$task_arn" --reason "deploy timeout" >/dev/null || true
    exit 1
  fi
  echo "  $status ..."
  sleep "$poll"
done

described=$(aws ecs describe-tasks --cluster "$ECS_CLUSTER" --tasks "$task_arn" --output json)
exit_code=$(jq -r --arg c "$MIGRATE_CONTAINER" \
  '[.tasks[0].containers[]? | select(.name == $c) | .exitCode][0] // "none"' <<<"$described")
stopped_reason=$(jq -r '.tasks[0].stoppedReason // "unknown"' <<<"$described")
container_reason=$(jq -r --arg c "$MIGRATE_CONTAINER" \
  '[.tasks[0].containers[]? | select(.name == $c) | .reason // empty][0] // ""' <<<"$described")

if [ "$exit_code" != "0" ]; then
  echo "::error::migration failed: container $MIGRATE_CONTAINER exit code $exit_code; task stopped: $stopped_reason ${container_reason}" >&2
  # Show the end of the container's log (awslogs driver: stream <prefix>/<container>/<task id>).
  log_options=$(aws ecs describe-task-definition --task-definition "$TASK_DEFINITION" --output json 2>/dev/null \
    | jq -c --arg c "$MIGRATE_CONTAINER" '[.taskDefinition.containerDefinitions[] | select(.name == $c) | .logConfiguration.options // {}][0] // {}' 2>/dev/null \
    || echo '{}')
  group=$(jq -r --arg g "${LOG_GROUP:-}" '."awslogs-group" // $g' <<<"$log_options")
  prefix=$(jq -r '."awslogs-stream-prefix" // empty' <<<"$log_options")
  if [ -n "$group" ] && [ -n "$prefix" ]; then
    stream="$prefix/$MIGRATE_CONTAINER/${task_arn##*/}"
    echo "Last log lines ($group, stream $stream):" >&2
    aws logs get-log-events --log-group-name "$group" --log-stream-name "$stream" --limit 50 \
      --query 'events[].message' --output text >&2 || echo "(could not read the log stream)" >&2
  elif [ -n "$group" ]; then
    echo "Logs: CloudWatch log group $group, task ${task_arn##*/}" >&2
  fi
  exit 1
fi
echo "Migration succeeded (exit code 0): $task_arn"
