# ECS on Fargate: the cluster, the log group, three task definitions sharing one image (api = the HTTP service,
# migrate = one-off schema migration, db-roles = one-off PostgreSQL role provisioning), the api service behind the
# ALB and its autoscaling. Names are fixed because the deploy workflow uses them:
#   cluster <name_prefix>, service <name_prefix>-api, families <name_prefix>-{api,migrate,db-roles},
#   containers api / migrate / db-roles, log group /ecs/<name_prefix>.

data "aws_region" "current" {}
data "aws_partition" "current" {}

# Which image Terraform's task definition revisions carry. The deploy workflow owns the running image (it registers
# revisions with repo@sha256:digest and updates the service), so by default Terraform reads the image the api service
# runs now and keeps it: an infrastructure apply never changes the running code, and a plan needs no image input.
# Only the very first apply (no service yet) must name an image: -var image_tag=<git sha pushed to ECR>.
data "aws_ecs_service" "running" {
  count = var.image_tag == null ? 1 : 0

  service_name = "${var.name_prefix}-api"
  cluster_arn  = "arn:${data.aws_partition.current.partition}:ecs:${data.aws_region.current.region}:${data.aws_caller_identity.current.account_id}:cluster/${var.name_prefix}"
}

data "aws_ecs_container_definition" "running" {
  count = var.image_tag == null ? 1 : 0

  task_definition = data.aws_ecs_service.running[0].task_definition
  container_name  = "api"
}

locals {
  region      = data.aws_region.current.region
  image       = var.image_tag != null ? "${var.image_repository_url}:${var.image_tag}" : data.aws_ecs_container_definition.running[0].image
  log_group   = "/ecs/${var.name_prefix}"
  nonroot_uid = "65532" # the distroless "nonroot" user the image runs as

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

  api_container = {
    name      = "api"
    image     = local.image
    essential = true
    # No command: the image's default is `serve`.
    readonlyRootFilesystem = true
    user                   = local.nonroot_uid
    # SIGTERM, then SIGKILL after 30 s: above the service's 20 s SHUTDOWN_GRACE_SECS and the ALB's 25 s drain.
    stopTimeout = 30
    portMappings = [
      { containerPort = var.container_port, hostPort = var.container_port, protocol = "tcp", name = "http" },
    ]
    environment = concat(local.db_environment, [
      { name = "PORT", value = tostring(var.container_port) },
      { name = "DB_MAX_CONNECTIONS", value = tostring(var.db_max_connections) },
      { name = "SHUTDOWN_GRACE_SECS", value = "20" },
      { name = "REQUEST_TIMEOUT_SECS", value = tostring(var.request_timeout_seconds) },
    ])
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
    logConfiguration = {
      logDriver = "awslogs"
      options = {
        awslogs-group         = local.log_group
        awslogs-region        = local.region
        awslogs-stream-prefix = "api"
      }
    }
  }

  migrate_container = {
    name                   = "migrate"
    image                  = local.image
    essential              = true
    command                = ["migrate"]
    readonlyRootFilesystem = true
    user                   = local.nonroot_uid
    stopTimeout            = 30
    environment            = local.db_environment
    # Connects as the schema owner role.
    secrets = [
      { name = "DB_USER", valueFrom = "${var.migrator_secret_arn}:username::" },
      { name = "DB_PASSWORD", valueFrom = "${var.migrator_secret_arn}:password::" },
    ]
    logConfiguration = {
      logDriver = "awslogs"
      options = {
        awslogs-group         = local.log_group
        awslogs-region        = local.region
        awslogs-stream-prefix = "migrate"
      }
    }
  }

  db_roles_container = {
    name                   = "db-roles"
    image                  = local.image
    essential              = true
    command                = ["provision-roles"]
    readonlyRootFilesystem = true
    user                   = local.nonroot_uid
    stopTimeout            = 30
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
    logConfiguration = {
      logDriver = "awslogs"
      options = {
        awslogs-group         = local.log_group
        awslogs-region        = local.region
        awslogs-stream-prefix = "db-roles"
      }
    }
  }

  # Which secrets each task's execution role may read: nothing more than its container references.
  task_secrets = {
    api      = [var.app_secret_arn, aws_secretsmanager_secret.api_keys.arn]
    migrate  = [var.migrator_secret_arn]
    db-roles = [var.master_secret_arn, var.migrator_secret_arn, var.app_secret_arn]
  }
}

# --- Cluster and logs -------------------------------------------------------------------------------------------

resource "aws_ecs_cluster" "this" {
  name = var.name_prefix

  setting {
    name  = "containerInsights"
    value = "enabled"
  }
}

resource "aws_cloudwatch_log_group" "ecs" {
  #checkov:skip=CKV_AWS_338:Retention is var.log_retention_days, an environment decision: production keeps a year, staging less to save cost.
  name              = local.log_group
  retention_in_days = var.log_retention_days
  kms_key_id        = var.kms_key_arn
}

# --- API keys secret --------------------------------------------------------------------------------------------
# Terraform creates the secret but never its value: an operator sets it out of band
#   aws secretsmanager put-secret-value --secret-id <name_prefix>/api-keys --secret-string 'key1,key2'
# so the write keys never pass through Terraform plan, state or CI logs. Until it has a value, api tasks cannot
# start (ECS cannot resolve the secret), which is the safe failure: no write keys, no service.

resource "aws_secretsmanager_secret" "api_keys" {
  #checkov:skip=CKV2_AWS_57:API keys are issued to clients by hand; rotating them means handing new keys out, not a Lambda rotation.
  name                    = "${var.name_prefix}/api-keys"
  description             = "Comma-separated bearer keys allowed to write (API_KEYS). Value set out of band."
  kms_key_id              = var.kms_key_arn
  recovery_window_in_days = var.secret_recovery_window_days
}

# --- IAM --------------------------------------------------------------------------------------------------------

data "aws_iam_policy_document" "ecs_tasks_assume" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["ecs-tasks.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [data.aws_caller_identity.current.account_id]
    }
  }
}

data "aws_caller_identity" "current" {}

# One execution role per task definition (used by the ECS agent to pull the image, create log streams and inject
# secrets), so the long-running api cannot read the master or migrator credentials.
resource "aws_iam_role" "execution" {
  for_each = local.task_secrets

  name               = "${var.name_prefix}-${each.key}-execution"
  description        = "ECS execution role of ${var.name_prefix}-${each.key}: image pull, logs, its own secrets"
  assume_role_policy = data.aws_iam_policy_document.ecs_tasks_assume.json
}

data "aws_iam_policy_document" "execution" {
  for_each = local.task_secrets

  # ecr:GetAuthorizationToken is account-wide: the API has no resource-level permissions, so it requires "*".
  statement {
    sid       = "EcrLogin"
    actions   = ["ecr:GetAuthorizationToken"]
    resources = ["*"]
  }

  statement {
    sid       = "PullThisRepository"
    actions   = ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:BatchCheckLayerAvailability"]
    resources = [var.image_repository_arn]
  }

  statement {
    sid       = "WriteThisLogGroup"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.ecs.arn}:log-stream:*"]
  }

  statement {
    sid       = "ReadOwnSecrets"
    actions   = ["secretsmanager:GetSecretValue"]
    resources = each.value
  }

  statement {
    sid       = "DecryptOwnSecrets"
    actions   = ["kms:Decrypt"]
    resources = [var.kms_key_arn]

    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values   = ["secretsmanager.${local.region}.amazonaws.com"]
    }
  }
}

resource "aws_iam_role_policy" "execution" {
  for_each = local.task_secrets

  name   = "${var.name_prefix}-${each.key}-execution"
  role   = aws_iam_role.execution[each.key].id
  policy = data.aws_iam_policy_document.execution[each.key].json
}

# The task role is what the application code itself could use: the service calls no AWS API, so it has no policy.
# It exists so the tasks never fall back to broader credentials and so a future permission has one place to go.
resource "aws_iam_role" "task" {
  name               = "${var.name_prefix}-task"
  description        = "Runtime role of ${var.name_prefix} containers: no permissions (the service calls no AWS API)"
  assume_role_policy = data.aws_iam_policy_document.ecs_tasks_assume.json
}

# --- Task definitions -------------------------------------------------------------------------------------------
# Terraform registers a revision when these change; the deploy workflow registers new revisions of the same
# families with a new image (copying the latest revision), and the service ignores task_definition (see below).

resource "aws_ecs_task_definition" "api" {
  family                   = "${var.name_prefix}-api"
  requires_compatibilities = ["FARGATE"]
  network_mode             = "awsvpc"
  cpu                      = var.cpu
  memory                   = var.memory
  execution_role_arn       = aws_iam_role.execution["api"].arn
  task_role_arn            = aws_iam_role.task.arn
  container_definitions    = jsonencode([local.api_container])

  runtime_platform {
    operating_system_family = "LINUX"
    cpu_architecture        = var.cpu_architecture
  }
}

resource "aws_ecs_task_definition" "migrate" {
  family                   = "${var.name_prefix}-migrate"
  requires_compatibilities = ["FARGATE"]
  network_mode             = "awsvpc"
  cpu                      = 256
  memory                   = 512
  execution_role_arn       = aws_iam_role.execution["migrate"].arn
  task_role_arn            = aws_iam_role.task.arn
  container_definitions    = jsonencode([local.migrate_container])

  runtime_platform {
    operating_system_family = "LINUX"
    cpu_architecture        = var.cpu_architecture
  }
}

resource "aws_ecs_task_definition" "db_roles" {
  family                   = "${var.name_prefix}-db-roles"
  requires_compatibilities = ["FARGATE"]
  network_mode             = "awsvpc"
  cpu                      = 256
  memory                   = 512
  execution_role_arn       = aws_iam_role.execution["db-roles"].arn
  task_role_arn            = aws_iam_role.task.arn
  container_definitions    = jsonencode([local.db_roles_container])

  runtime_platform {
    operating_system_family = "LINUX"
    cpu_architecture        = var.cpu_architecture
  }
}

# --- Service ----------------------------------------------------------------------------------------------------

resource "aws_ecs_service" "api" {
  name             = "${var.name_prefix}-api"
  cluster          = aws_ecs_cluster.this.id
  task_definition  = aws_ecs_task_definition.api.arn
  desired_count    = var.desired_count
  launch_type      = "FARGATE"
  platform_version = "LATEST"

  # Rolling deployment that never drops below the desired count: new tasks start (up to 2x), pass the ALB health
  # check, then old ones drain.
  deployment_minimum_healthy_percent = 100
  deployment_maximum_percent         = 200
  health_check_grace_period_seconds  = 30
  enable_execute_command             = false
  propagate_tags                     = "SERVICE"

  network_configuration {
    subnets          = var.private_subnet_ids
    security_groups  = [var.tasks_security_group_id]
    assign_public_ip = false
  }

  load_balancer {
    target_group_arn = var.target_group_arn
    container_name   = "api"
    container_port   = var.container_port
  }

  # A deployment whose tasks keep failing to start or to become healthy is stopped and rolled back.
  deployment_circuit_breaker {
    enable   = true
    rollback = true
  }

  # Optionally also roll back when these CloudWatch alarms fire during a deployment (target 5xx, unhealthy hosts).
  dynamic "alarms" {
    for_each = length(var.deployment_alarm_names) > 0 ? [1] : []
    content {
      alarm_names = var.deployment_alarm_names
      enable      = true
      rollback    = true
    }
  }

  lifecycle {
    # The deploy workflow owns the running revision (it registers a task definition with the new image and updates
    # the service); Terraform would otherwise roll the service back to its own revision on every apply.
    # desired_count belongs to Application Auto Scaling once the service exists.
    ignore_changes = [task_definition, desired_count]
  }

  depends_on = [aws_iam_role_policy.execution]
}

# --- Autoscaling ------------------------------------------------------------------------------------------------

resource "aws_appautoscaling_target" "api" {
  service_namespace  = "ecs"
  resource_id        = "service/${aws_ecs_cluster.this.name}/${aws_ecs_service.api.name}"
  scalable_dimension = "ecs:service:DesiredCount"
  min_capacity       = var.min_count
  max_capacity       = var.max_count
}

resource "aws_appautoscaling_policy" "cpu" {
  name               = "${var.name_prefix}-api-cpu"
  policy_type        = "TargetTrackingScaling"
  service_namespace  = aws_appautoscaling_target.api.service_namespace
  resource_id        = aws_appautoscaling_target.api.resource_id
  scalable_dimension = aws_appautoscaling_target.api.scalable_dimension

  target_tracking_scaling_policy_configuration {
    target_value       = var.cpu_target_percent
    scale_in_cooldown  = 300
    scale_out_cooldown = 60

    predefined_metric_specification {
      predefined_metric_type = "ECSServiceAverageCPUUtilization"
    }
  }
}

resource "aws_appautoscaling_policy" "memory" {
  name               = "${var.name_prefix}-api-memory"
  policy_type        = "TargetTrackingScaling"
  service_namespace  = aws_appautoscaling_target.api.service_namespace
  resource_id        = aws_appautoscaling_target.api.resource_id
  scalable_dimension = aws_appautoscaling_target.api.scalable_dimension

  target_tracking_scaling_policy_configuration {
    target_value       = var.memory_target_percent
    scale_in_cooldown  = 300
    scale_out_cooldown = 60

    predefined_metric_specification {
      predefined_metric_type = "ECSServiceAverageMemoryUtilization"
    }
  }
}

resource "aws_appautoscaling_policy" "requests" {
  name               = "${var.name_prefix}-api-requests"
  policy_type        = "TargetTrackingScaling"
  service_namespace  = aws_appautoscaling_target.api.service_namespace
  resource_id        = aws_appautoscaling_target.api.resource_id
  scalable_dimension = aws_appautoscaling_target.api.scalable_dimension

  target_tracking_scaling_policy_configuration {
    target_value       = var.requests_per_target
    scale_in_cooldown  = 300
    scale_out_cooldown = 60

    predefined_metric_specification {
      predefined_metric_type = "ALBRequestCountPerTarget"
      resource_label         = "${var.alb_arn_suffix}/${var.target_group_arn_suffix}"
    }
  }
}
