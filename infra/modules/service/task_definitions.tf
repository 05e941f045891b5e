# The three task definitions: api (the HTTP service), migrate and db-roles (one-off commands). They share the image,
# the non-root user, the read-only root filesystem and the log group; local.tasks holds only what differs. The api
# task also runs the OpenTelemetry collector as a non-essential sidecar (telemetry.tf).
# Terraform registers a revision when these change; the deploy workflow registers new revisions of the same
# families with a new image (copying the latest revision), and the service ignores task_definition (service.tf).

locals {
  nonroot_uid = "65532" # the distroless "nonroot" user the image runs as

  # Stopping a task: the ALB drains it (25 s, modules/load_balancer), ECS sends SIGTERM, the service finishes
  # in-flight requests within SHUTDOWN_GRACE_SECS and exits, ECS sends SIGKILL after stopTimeout. Both come from
  # this one value, so the kill never cuts the service's own drain short (Fargate allows a stopTimeout up to 120 s).
  shutdown_grace_seconds = 20
  stop_timeout_seconds   = local.shutdown_grace_seconds + 10

  # Starting a task (docs/operations.md, "Warm-up after a deploy"): the service answers the ALB's health check
  # (/started) 503 while its read model's first build runs, for at most READ_MODEL_WARMUP_TIMEOUT_SECS, so it gets
  # traffic only once lists are fast (a million beers: about 10 s). ECS ignores ALB health for the grace period
  # (service.tf): the bound, plus 2 x 15 s for the ALB's healthy threshold, plus 30 s for the process to start. The
  # target group's 3 x 15 s unhealthy threshold also outlasts the bound, so a warming task is never counted
  # unhealthy (the unhealthy-hosts alarm rolls a deployment back). tests/infra_contract checks both.
  read_model_warmup_timeout_seconds = 30
  health_check_grace_seconds        = local.read_model_warmup_timeout_seconds + 60

  # Client connections (docs/operations.md, "Slow clients and the connection cap"). Every connection is a file
  # descriptor: MAX_CONNECTIONS + 32 refusals in flight + the database pools (DB_MAX_CONNECTIONS, twice with a
  # replica) + 64 reserved must fit under the nofile limit, or the service refuses to start naming the numbers.
  # 1024 + 32 + 2 x 10 + 64 = 1140 of 4096. Idle keep-alive connections outlive the ALB's idle timeout, so the ALB
  # closes them first (the service closing first races a request already on its way: a 502).
  max_connections    = 1024
  open_file_limit    = 4096
  keep_alive_seconds = var.load_balancer_idle_timeout_seconds + 15

  # Settings every task needs to reach the database (names are the service's environment contract, src/cli.rs).
  # RDS has rds.force_ssl = 1, so the connection must use TLS: DB_SSLMODE=require.
  db_environment = [
    { name = "APP_ENV", value = "production" },
    { name = "DB_HOST", value = var.db_host },
    { name = "DB_PORT", value = tostring(var.db_port) },
    { name = "DB_NAME", value = var.db_name },
    { name = "DB_SSLMODE", value = "require" },
    { name = "LOG_FORMAT", value = "json" },
    { name = "LOG_LEVEL", value = var.log_level },
  ]

  # Per task: its size, the container fields that differ, and the secrets its execution role may read (iam.tf):
  # nothing more than its container references.
  tasks = {
    api = {
      cpu    = var.cpu
      memory = var.memory
      # No command: the image's default is `serve`.
      container = {
        stopTimeout = local.stop_timeout_seconds
        ulimits     = [{ name = "nofile", softLimit = local.open_file_limit, hardLimit = local.open_file_limit }]
        portMappings = [
          { containerPort = var.container_port, hostPort = var.container_port, protocol = "tcp", name = "http" },
        ]
        environment = concat(local.db_environment, [
          { name = "PORT", value = tostring(var.container_port) },
          { name = "DB_MAX_CONNECTIONS", value = tostring(var.db_max_connections) },
          { name = "SHUTDOWN_GRACE_SECS", value = tostring(local.shutdown_grace_seconds) },
          { name = "READ_MODEL_WARMUP_TIMEOUT_SECS", value = tostring(local.read_model_warmup_timeout_seconds) },
          { name = "REQUEST_TIMEOUT_SECS", value = tostring(var.request_timeout_seconds) },
          { name = "MAX_CONNECTIONS", value = tostring(local.max_connections) },
          { name = "KEEP_ALIVE_TIMEOUT_SECS", value = tostring(local.keep_alive_seconds) },
          # Absolute links (image_url) name the public host clients use, never the ALB or a task.
          { name = "PUBLIC_BASE_URL", value = var.public_base_url },
          # The client address for the service's own rate limiter: CloudFront appends the viewer to X-Forwarded-For
          # and the ALB appends CloudFront; both hops are trusted, so the viewer is the first untrusted address.
          { name = "TRUSTED_PROXIES", value = join(",", var.trusted_proxies) },
          { name = "RATE_LIMIT_PER_HOUR", value = tostring(var.rate_limit_per_hour) },
          ],
          # Metrics on a localhost listener for the collector, traces to it (telemetry.tf).
          local.telemetry_environment,
          # Catalog reads go to the replicas when there are any (the service falls back to the primary on lag or
          # failure); without replicas DB_READ_HOST is absent and everything uses DB_HOST.
          var.db_read_host == null ? [] : [{ name = "DB_READ_HOST", value = var.db_read_host }],
        )
        secrets = [
          { name = "DB_USER", valueFrom = "${var.app_secret_arn}:username::" },
          { name = "DB_PASSWORD", valueFrom = "${var.app_secret_arn}:password::" },
          { name = "API_KEYS", valueFrom = aws_secretsmanager_secret.api_keys.arn },
        ]
        healthCheck = {
          command     = ["CMD", "/usr/local/bin/beer-catalog", "healthcheck"]
          interval    = 15
          timeout     = 5
          retries     = 3
          startPeriod = 15
        }
      }
      secret_arns = [var.app_secret_arn, aws_secretsmanager_secret.api_keys.arn]
      # The OpenTelemetry collector beside the service (telemetry.tf), not essential.
      sidecars = [local.otel_collector_container]
    }

    migrate = {
      cpu    = 256
      memory = 512
      container = {
        command     = ["migrate"]
        stopTimeout = local.stop_timeout_seconds
        environment = local.db_environment
        # Connects as the schema owner role.
        secrets = [
          { name = "DB_USER", valueFrom = "${var.migrator_secret_arn}:username::" },
          { name = "DB_PASSWORD", valueFrom = "${var.migrator_secret_arn}:password::" },
        ]
      }
      secret_arns = [var.migrator_secret_arn]
      sidecars    = []
    }

    db-roles = {
      cpu    = 256
      memory = 512
      container = {
        command     = ["provision-roles"]
        stopTimeout = local.stop_timeout_seconds
        environment = concat(local.db_environment, [
          { name = "DB_SCHEMA", value = var.db_schema },
        ])
        # Connects as the RDS master user (RDS-managed secret) and creates/updates the two roles from their secrets.
        secrets = [
          { name = "DB_USER", valueFrom = "${var.master_secret_arn}:username::" },
          { name = "DB_PASSWORD", valueFrom = "${var.master_secret_arn}:password::" },
          { name = "MIGRATOR_DB_USER", valueFrom = "${var.migrator_secret_arn}:username::" },
          { name = "MIGRATOR_DB_PASSWORD", valueFrom = "${var.migrator_secret_arn}:password::" },
          { name = "APP_DB_USER", valueFrom = "${var.app_secret_arn}:username::" },
          { name = "APP_DB_PASSWORD", valueFrom = "${var.app_secret_arn}:password::" },
        ]
      }
      secret_arns = [var.master_secret_arn, var.migrator_secret_arn, var.app_secret_arn]
      sidecars    = []
    }
  }
}

resource "aws_ecs_task_definition" "this" {
  for_each = local.tasks

  family                   = "${var.name_prefix}-${each.key}"
  requires_compatibilities = ["FARGATE"]
  network_mode             = "awsvpc"
  cpu                      = each.value.cpu
  memory                   = each.value.memory
  execution_role_arn       = aws_iam_role.execution[each.key].arn
  task_role_arn            = aws_iam_role.task.arn
  # The task's own container first (the deploy workflow swaps its image by name), then its sidecars.
  container_definitions = jsonencode(concat([merge(
    {
      name                   = each.key
      image                  = local.image
      essential              = true
      readonlyRootFilesystem = true
      user                   = local.nonroot_uid
      logConfiguration = {
        logDriver = "awslogs"
        options = {
          awslogs-group         = local.log_group
          awslogs-region        = local.region
          awslogs-stream-prefix = each.key
        }
      }
    },
    each.value.container,
  )], each.value.sidecars))

  runtime_platform {
    operating_system_family = "LINUX"
    cpu_architecture        = var.cpu_architecture
  }
}

# The three resources were separate before the for_each; these keep the existing revisions in state.
moved {
  from = aws_ecs_task_definition.api
  to   = aws_ecs_task_definition.this["api"]
}

moved {
  from = aws_ecs_task_definition.migrate
  to   = aws_ecs_task_definition.this["migrate"]
}

moved {
  from = aws_ecs_task_definition.db_roles
  to   = aws_ecs_task_definition.this["db-roles"]
}
