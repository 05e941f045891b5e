# The application's metrics and traces: an AWS Distro for OpenTelemetry collector beside the service in every api
# task (container otel-collector), the log group its metrics go to, and the task role's permission to write them.
#
#   service --(Prometheus scrape, 127.0.0.1:9464/metrics)--> collector --(EMF log events)--> CloudWatch metrics
#   service --(OTLP HTTP/protobuf, localhost:4318)---------> collector --(PutTraceSegments)--> X-Ray
#
# Without internet egress both go through the environment's interface endpoints (logs, xray; modules/vpc_endpoints),
# and the image comes through the ECR pull-through cache (local.otel_collector_image below).
#
# The collector is not essential: if it stops or never starts, the service goes on serving (its exporter drops
# spans into a bounded queue and logs one warning); ECS does not restart the task for it. The service does not
# wait for it either (no dependsOn). Its configuration is otel-collector.yaml in this directory, rendered into
# the container's environment: a change reaches the tasks with the next revision, no image is rebuilt.

locals {
  # The service's metrics listener (METRICS_ADDR). 127.0.0.1, not 0.0.0.0: in awsvpc mode the containers of a task
  # share one network namespace, so the collector reaches it on localhost, and nothing outside the task (the ALB,
  # another task) can; the port is in no portMappings and no security group rule.
  metrics_port = 9464
  metrics_addr = "127.0.0.1:${local.metrics_port}"
  # The collector's OTLP/HTTP receiver, on localhost only for the same reason.
  otlp_http_port = 4318

  metrics_log_group = "/ecs/${var.name_prefix}/metrics"

  # Where the task pulls the collector from. A task pulls its images through its own network interface, and a task
  # without internet egress (production: no NAT, no public IP) reaches only the VPC endpoints: there it pulls through
  # the account's ECR pull-through cache for ECR Public (infra/global), which serves public.ecr.aws/<path> as
  # <registry>/<prefix>/<path> with the same digest. var.otel_collector_image stays the one place the version is
  # written; null prefix: straight from public.ecr.aws.
  otel_collector_public_path = trimprefix(var.otel_collector_image, "public.ecr.aws/") # <path>:<tag>@sha256:<digest>
  otel_collector_repository  = split(":", local.otel_collector_public_path)[0]         # <path>
  ecr_registry               = split("/", var.image_repository_url)[0]                 # the app repository's registry
  otel_collector_image = (var.collector_pull_through_prefix == null ? var.otel_collector_image
  : "${local.ecr_registry}/${var.collector_pull_through_prefix}/${local.otel_collector_public_path}")

  # What the api container sets so the service exports (names: the service's CLI for METRICS_ADDR, the
  # OpenTelemetry SDK's standard variables for the rest; tests/infra_contract checks both).
  telemetry_environment = [
    { name = "METRICS_ADDR", value = local.metrics_addr },
    { name = "OTEL_EXPORTER_OTLP_ENDPOINT", value = "http://localhost:${local.otlp_http_port}" },
    { name = "OTEL_SERVICE_NAME", value = "${var.name_prefix}-api" },
    # Head sampling in the service; a request arriving with a sampled W3C traceparent stays sampled.
    { name = "OTEL_TRACES_SAMPLER", value = "parentbased_traceidratio" },
    { name = "OTEL_TRACES_SAMPLER_ARG", value = tostring(var.trace_sample_ratio) },
  ]

  otel_collector_config = templatefile("${path.module}/otel-collector.yaml", {
    region             = local.region
    namespace          = var.metrics_namespace
    metrics_log_group  = local.metrics_log_group
    scrape_target      = local.metrics_addr
    otlp_http_endpoint = "127.0.0.1:${local.otlp_http_port}"
    memory_limit_mib   = var.otel_collector_memory_mib - 48
    memory_spike_mib   = 32
  })

  # The sidecar of the api task (task_definitions.tf appends it to that task's containers only).
  otel_collector_container = {
    name      = "otel-collector"
    image     = local.otel_collector_image
    essential = false
    # The image's own non-root user; it writes nothing to its filesystem.
    readonlyRootFilesystem = true
    # A hard limit of its own, so a collector that grows is stopped before it takes the service's memory.
    memory  = var.otel_collector_memory_mib
    command = ["--config=env:AOT_CONFIG_CONTENT"]
    environment = [
      { name = "AOT_CONFIG_CONTENT", value = local.otel_collector_config },
    ]
    healthCheck = {
      command     = ["CMD", "/healthcheck"]
      interval    = 30
      timeout     = 5
      retries     = 3
      startPeriod = 15
    }
    logConfiguration = {
      logDriver = "awslogs"
      options = {
        awslogs-group         = local.log_group
        awslogs-region        = local.region
        awslogs-stream-prefix = "otel-collector"
      }
    }
  }
}

# EMF log events: CloudWatch turns them into metrics of var.metrics_namespace. The events themselves are only kept
# briefly (the metrics live on in CloudWatch Metrics for 15 months).
resource "aws_cloudwatch_log_group" "metrics" {
  #checkov:skip=CKV_AWS_338:These events are the raw form of metrics CloudWatch has already extracted (kept 15 months there); a year of them would only cost money.
  name              = local.metrics_log_group
  retention_in_days = var.metrics_log_retention_days
  kms_key_id        = var.kms_key_arn
}

# What the collector, running with the task role, may do: write EMF events to its own log group and send trace
# segments. CloudWatch's embedded metric format needs no cloudwatch:PutMetricData: the metrics come from the log
# events, so this role has no metric permission at all, and the namespace is fixed by otel-collector.yaml.
data "aws_iam_policy_document" "task_telemetry" {
  #checkov:skip=CKV_AWS_356:xray:PutTraceSegments and xray:PutTelemetryRecords have no resource-level permissions and take "*"; the log writes name the metrics log group.
  statement {
    sid       = "WriteMetricEvents"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"]
    resources = ["${aws_cloudwatch_log_group.metrics.arn}:*"]
  }

  statement {
    sid       = "WriteTraces"
    actions   = ["xray:PutTraceSegments", "xray:PutTelemetryRecords"]
    resources = ["*"]
  }
}

resource "aws_iam_role_policy" "task_telemetry" {
  name   = "${var.name_prefix}-task-telemetry"
  role   = aws_iam_role.task.id
  policy = data.aws_iam_policy_document.task_telemetry.json
}
