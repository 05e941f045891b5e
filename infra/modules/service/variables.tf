variable "name_prefix" {
  description = "Name prefix, <project>-<env>: the cluster name, and the prefix of the service, task families, roles and log group. Its rule (at most 28 characters) is checked once, in modules/environment."
  type        = string
}

variable "image_repository_url" {
  description = "ECR repository URL (without tag) of the service image."
  type        = string
}

variable "image_repository_arn" {
  description = "ARN of the ECR repository (the execution roles may pull from it only)."
  type        = string
}

variable "image_tag" {
  description = "Image tag (git SHA) for Terraform's task definitions. null (default): keep the image the api service runs now; required on the first apply only."
  type        = string
  default     = null
}

variable "cpu_architecture" {
  description = "CPU architecture of the image: X86_64 or ARM64 (Graviton, ~20% cheaper, needs an arm64 image)."
  type        = string
  default     = "X86_64"
}

variable "container_insights" {
  description = "ECS Container Insights of the cluster: enhanced, enabled or disabled. disabled also drops the request-count scaling policy, which reads Container Insights' RunningTaskCount (CPU and memory scaling remain)."
  type        = string
  default     = "enabled"

  validation {
    condition     = contains(["enhanced", "enabled", "disabled"], var.container_insights)
    error_message = "container_insights must be enhanced, enabled or disabled."
  }
}

variable "capacity" {
  description = "Where the api tasks run: on_demand_base tasks always on FARGATE, the rest on FARGATE_SPOT (spot = true) or FARGATE (spot = false). Validated in modules/environment."
  type = object({
    on_demand_base = number
    spot           = bool
  })
  default = { on_demand_base = 0, spot = false }
}

variable "schedule" {
  description = "Scheduled scale-to-zero of the api service (null: always on): min = max = 0 at sleep_at, min_count..max_count at wake_at, on days (cron day-of-week) in timezone (IANA). Validated in modules/environment."
  type = object({
    timezone = string
    days     = string
    wake_at  = string
    sleep_at = string
  })
  default = null
}

variable "container_port" {
  description = "Port the service listens on (PORT); the container port and the target group port."
  type        = number
  default     = 8080
}

variable "cpu" {
  description = "Fargate CPU units of an api task (256 = 0.25 vCPU)."
  type        = number
  default     = 256
}

variable "memory" {
  description = "Fargate memory (MiB) of an api task; must be a valid combination with cpu."
  type        = number
  default     = 512
}

variable "desired_count" {
  description = "Initial number of api tasks (autoscaling owns it afterwards)."
  type        = number
  default     = 2
}

variable "min_count" {
  description = "Autoscaling minimum number of api tasks (2+ spreads them over AZs)."
  type        = number
  default     = 2
}

variable "max_count" {
  description = "Autoscaling maximum number of api tasks."
  type        = number
  default     = 4
}

variable "cpu_target_percent" {
  description = "Target average CPU utilisation for autoscaling."
  type        = number
  default     = 60
}

variable "memory_target_percent" {
  description = "Target average memory utilisation for autoscaling."
  type        = number
  default     = 75
}

variable "requests_per_target" {
  description = "Target requests per api task per minute: the load balancer's RequestCount divided by the service's RunningTaskCount (metric math in service.tf; not ALBRequestCountPerTarget, which names one target group while blue/green moves the tasks between two)."
  type        = number
  default     = 1000
}

variable "private_subnet_ids" {
  description = "Private subnets the tasks run in."
  type        = list(string)
}

variable "assign_public_ip" {
  description = "Give the api tasks public IPs (they then run in public subnets, without NAT or interface endpoints)."
  type        = bool
  default     = false
}

variable "tasks_security_group_id" {
  description = "Security group of the tasks (<name_prefix>-tasks)."
  type        = string
}

variable "target_group_arn" {
  description = "ALB target group the api tasks register in."
  type        = string
}

variable "alb_arn_suffix" {
  description = "ARN suffix of the ALB (app/<name>/<id>): the LoadBalancer dimension of RequestCount in the requests-per-task scaling policy."
  type        = string
}

variable "blue_green" {
  description = "Blue/green wiring from modules/load_balancer: the alternate target group and the production and test listener rules ECS shifts."
  type = object({
    alternate_target_group_arn   = string
    production_listener_rule_arn = string
    test_listener_rule_arn       = string
  })
}

variable "bake_time_minutes" {
  description = "Blue/green bake time: minutes blue stays up after production moved to green; an alarm in that window rolls back at once."
  type        = number
  default     = 10
}

variable "public_base_url" {
  description = "https://<public host> (CloudFront name or custom domain): PUBLIC_BASE_URL, the base of the service's absolute links (image_url)."
  type        = string
}

variable "db_read_host" {
  description = "Read endpoint of the replicas (DB_READ_HOST); null without replicas: DB_READ_HOST is then not set and reads go to the primary. Required, so that it is always wired."
  type        = string
}

variable "trusted_proxies" {
  description = "CIDRs whose X-Forwarded-For the service believes (TRUSTED_PROXIES): the VPC (the ALB) and CloudFront's origin-facing ranges, so the client address is the viewer's."
  type        = list(string)
}

variable "rate_limit_per_hour" {
  description = "Per-task, per-client request limit (RATE_LIMIT_PER_HOUR); 0 disables. The WAF holds the global limit."
  type        = number
  default     = 3600
}

variable "db_host" {
  description = "Database host name (DB_HOST)."
  type        = string
}

variable "db_port" {
  description = "Database port (DB_PORT)."
  type        = number
  default     = 5432
}

variable "db_name" {
  description = "Database name (DB_NAME)."
  type        = string
}

variable "db_schema" {
  description = "Schema the application's tables live in (DB_SCHEMA of provision-roles)."
  type        = string
  default     = "beer_catalog"
}

variable "db_max_connections" {
  description = "Connection pool size per api task (DB_MAX_CONNECTIONS); times max_count must stay below the instance's max_connections."
  type        = number
  default     = 10

  validation {
    # The service refuses 0 at start-up; failing the plan says so before a deploy.
    condition     = var.db_max_connections >= 1 && floor(var.db_max_connections) == var.db_max_connections
    error_message = "db_max_connections is a whole number of connections, at least 1."
  }
}

variable "load_balancer_idle_timeout_seconds" {
  description = "The ALB's idle timeout; the service keeps idle keep-alive connections 15 s longer (KEEP_ALIVE_TIMEOUT_SECS)."
  type        = number
  default     = 60

  validation {
    condition     = var.load_balancer_idle_timeout_seconds >= 1 && var.load_balancer_idle_timeout_seconds <= 4000
    error_message = "The ALB idle timeout is 1 to 4000 seconds."
  }
}

variable "request_timeout_seconds" {
  description = "Per-request timeout of the service (REQUEST_TIMEOUT_SECS)."
  type        = number
  default     = 10

  validation {
    # The service refuses 0 at start-up; failing the plan says so before a deploy.
    condition     = var.request_timeout_seconds >= 1 && floor(var.request_timeout_seconds) == var.request_timeout_seconds
    error_message = "request_timeout_seconds is a whole number of seconds, at least 1."
  }
}

variable "log_level" {
  description = "LOG_LEVEL of the containers (a level or tracing directives)."
  type        = string
  default     = "info"
}

variable "master_secret_arn" {
  description = "ARN of the master user secret (read by the db-roles task only)."
  type        = string
}

variable "migrator_secret_arn" {
  description = "ARN of the migrator role secret (migrate and db-roles tasks)."
  type        = string
}

variable "app_secret_arn" {
  description = "ARN of the application role secret (api and db-roles tasks)."
  type        = string
}

variable "kms_key_arn" {
  description = "KMS key of the environment (log group encryption, secret decryption)."
  type        = string
}

variable "log_retention_days" {
  description = "Retention of /ecs/<name_prefix>, in days (a value CloudWatch Logs accepts)."
  type        = number
  default     = 30
}

variable "secret_recovery_window_days" {
  description = "Days a deleted API keys secret can be restored (0 or 7-30)."
  type        = number
  default     = 7
}

variable "deployment_alarm_names" {
  description = "CloudWatch alarms that fail and roll back a deployment when they fire during it (empty: circuit breaker only)."
  type        = list(string)
  default     = []
}

variable "permissions_boundary_arn" {
  description = "Managed policy every IAM role of this module carries as its permissions boundary (<project>-<env>-workload-boundary, created by infra/global; the apply role may create roles only with it)."
  type        = string
}

variable "metrics_namespace" {
  description = "CloudWatch namespace of the service's own metrics (the collector's awsemf namespace; modules/observability reads the same one)."
  type        = string
}

variable "otel_collector_image" {
  description = "AWS Distro for OpenTelemetry collector image of the api task's sidecar at its public address, pinned by tag and digest (public.ecr.aws/<path>:<tag>@sha256:<digest>). With collector_pull_through_prefix the task pulls the same digest through the account's ECR."
  type        = string

  validation {
    # The digest is what the task runs; the tag is for people. The pull-through address is derived from this form.
    condition     = can(regex("^public\\.ecr\\.aws/[a-z0-9._/-]+:[A-Za-z0-9_.-]+@sha256:[0-9a-f]{64}$", var.otel_collector_image))
    error_message = "otel_collector_image must be public.ecr.aws/<path>:<tag>@sha256:<64 hex digits>."
  }
  # Verify before the first apply (a wrong digest fails the image pull, and with it the whole task, sidecar or not):
  #   docker buildx imagetools inspect public.ecr.aws/aws-observability/aws-otel-collector:v0.48.0
  default = "public.ecr.aws/aws-observability/aws-otel-collector:v0.48.0@sha256:9b28046359054b414f4ba76056ba4e8cffda2d53fbcee06171d7eeecd71326c3"
}

variable "collector_pull_through_prefix" {
  description = "Repository prefix of the account's ECR pull-through cache for ECR Public (infra/global, modules/ecr_public_cache): the collector is pulled as <registry of image_repository_url>/<prefix>/<path>:<tag>@sha256:<digest>, through the ECR endpoints. null: straight from public.ecr.aws, which needs internet egress (public IPs or NAT)."
  type        = string
  default     = null

  validation {
    condition     = var.collector_pull_through_prefix == null || can(regex("^[a-z0-9]+(?:[._-][a-z0-9]+)*$", var.collector_pull_through_prefix))
    error_message = "collector_pull_through_prefix must be null or an ECR pull-through cache prefix (lower-case letters and digits, separated by single . _ or -)."
  }
}

variable "otel_collector_memory_mib" {
  description = "Hard memory limit (MiB) of the collector container, within the api task's memory; its memory_limiter stops accepting data 48 MiB below it."
  type        = number
  default     = 160
}

variable "trace_sample_ratio" {
  description = "Share of requests the service traces (OTEL_TRACES_SAMPLER_ARG of parentbased_traceidratio), 0 to 1."
  type        = number
  default     = 0.05
}

variable "metrics_log_retention_days" {
  description = "Retention of the EMF log group /ecs/<name_prefix>/metrics, in days: the raw events behind the metrics, which CloudWatch keeps on its own."
  type        = number
  default     = 7
}
