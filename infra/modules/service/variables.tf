variable "name_prefix" {
  description = "Name prefix, <project>-<env>: the cluster name, and the prefix of the service, task families, roles and log group."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{2,27}$", var.name_prefix))
    error_message = "name_prefix must be lower-case letters, digits and dashes, at most 28 characters."
  }
}

variable "image_repository_url" {
  description = "ECR repository URL (without tag) of the service image."
  type        = string

  validation {
    condition     = can(regex("^[0-9]{12}\\.dkr\\.ecr\\.[a-z0-9-]+\\.amazonaws\\.com/.+$", var.image_repository_url))
    error_message = "image_repository_url must be an ECR repository URL (<account>.dkr.ecr.<region>.amazonaws.com/<name>)."
  }
}

variable "image_repository_arn" {
  description = "ARN of the ECR repository (the execution roles may pull from it only)."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:ecr:", var.image_repository_arn))
    error_message = "image_repository_arn must be an ECR repository ARN."
  }
}

variable "image_tag" {
  description = "Image tag (git SHA) for Terraform's task definitions. null (default): keep the image the api service runs now; required on the first apply only."
  type        = string
  default     = null

  validation {
    condition     = var.image_tag == null || (can(regex("^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$", coalesce(var.image_tag, "x"))) && var.image_tag != "latest")
    error_message = "image_tag must be a valid, immutable Docker tag (not \"latest\")."
  }
}

variable "cpu_architecture" {
  description = "CPU architecture of the image: X86_64 or ARM64 (Graviton, ~20% cheaper, needs an arm64 image)."
  type        = string
  default     = "X86_64"

  validation {
    condition     = contains(["X86_64", "ARM64"], var.cpu_architecture)
    error_message = "cpu_architecture must be X86_64 or ARM64."
  }
}

variable "container_port" {
  description = "Port the service listens on (PORT); the container port and the target group port."
  type        = number
  default     = 8080

  validation {
    condition     = var.container_port >= 1024 && var.container_port <= 65535
    error_message = "container_port must be an unprivileged port (1024-65535): the container runs as a non-root user."
  }
}

variable "cpu" {
  description = "Fargate CPU units of an api task (256 = 0.25 vCPU)."
  type        = number
  default     = 256

  validation {
    condition     = contains([256, 512, 1024, 2048, 4096], var.cpu)
    error_message = "cpu must be 256, 512, 1024, 2048 or 4096."
  }
}

variable "memory" {
  description = "Fargate memory (MiB) of an api task; must be a valid combination with cpu."
  type        = number
  default     = 512

  validation {
    condition     = var.memory >= 512 && var.memory <= 30720
    error_message = "memory must be between 512 and 30720 MiB."
  }
}

variable "desired_count" {
  description = "Initial number of api tasks (autoscaling owns it afterwards)."
  type        = number
  default     = 2

  validation {
    condition     = var.desired_count >= 1
    error_message = "desired_count must be at least 1."
  }
}

variable "min_count" {
  description = "Autoscaling minimum number of api tasks (2+ spreads them over AZs)."
  type        = number
  default     = 2

  validation {
    condition     = var.min_count >= 1
    error_message = "min_count must be at least 1."
  }
}

variable "max_count" {
  description = "Autoscaling maximum number of api tasks."
  type        = number
  default     = 4

  validation {
    condition     = var.max_count >= 1 && var.max_count <= 100
    error_message = "max_count must be between 1 and 100."
  }

  # Cross-variable validation needs Terraform >= 1.9 (this configuration targets >= 1.10).
  validation {
    condition     = var.max_count >= var.min_count
    error_message = "max_count must be at least min_count."
  }
}

variable "cpu_target_percent" {
  description = "Target average CPU utilisation for autoscaling."
  type        = number
  default     = 60

  validation {
    condition     = var.cpu_target_percent > 10 && var.cpu_target_percent < 95
    error_message = "cpu_target_percent must be between 10 and 95."
  }
}

variable "memory_target_percent" {
  description = "Target average memory utilisation for autoscaling."
  type        = number
  default     = 75

  validation {
    condition     = var.memory_target_percent > 10 && var.memory_target_percent < 95
    error_message = "memory_target_percent must be between 10 and 95."
  }
}

variable "requests_per_target" {
  description = "Target ALB requests per task per minute (ALBRequestCountPerTarget)."
  type        = number
  default     = 1000

  validation {
    condition     = var.requests_per_target >= 10
    error_message = "requests_per_target must be at least 10."
  }
}

variable "private_subnet_ids" {
  description = "Private subnets the tasks run in."
  type        = list(string)

  validation {
    condition     = length(var.private_subnet_ids) >= 2
    error_message = "Give at least two private subnets (two AZs)."
  }
}

variable "tasks_security_group_id" {
  description = "Security group of the tasks (<name_prefix>-tasks)."
  type        = string

  validation {
    condition     = startswith(var.tasks_security_group_id, "sg-")
    error_message = "tasks_security_group_id must be a security group ID (sg-...)."
  }
}

variable "target_group_arn" {
  description = "ALB target group the api tasks register in."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:elasticloadbalancing:", var.target_group_arn))
    error_message = "target_group_arn must be an ELB target group ARN."
  }
}

variable "alb_arn_suffix" {
  description = "ARN suffix of the ALB (app/<name>/<id>), for ALBRequestCountPerTarget."
  type        = string

  validation {
    condition     = startswith(var.alb_arn_suffix, "app/")
    error_message = "alb_arn_suffix must look like app/<name>/<id>."
  }
}

variable "target_group_arn_suffix" {
  description = "ARN suffix of the target group (targetgroup/<name>/<id>), for ALBRequestCountPerTarget."
  type        = string

  validation {
    condition     = startswith(var.target_group_arn_suffix, "targetgroup/")
    error_message = "target_group_arn_suffix must look like targetgroup/<name>/<id>."
  }
}

variable "db_host" {
  description = "Database host name (DB_HOST)."
  type        = string

  validation {
    condition     = length(var.db_host) > 0
    error_message = "db_host must not be empty."
  }
}

variable "db_port" {
  description = "Database port (DB_PORT)."
  type        = number
  default     = 5432

  validation {
    condition     = var.db_port > 0 && var.db_port < 65536
    error_message = "db_port must be a TCP port."
  }
}

variable "db_name" {
  description = "Database name (DB_NAME)."
  type        = string

  validation {
    condition     = length(var.db_name) > 0
    error_message = "db_name must not be empty."
  }
}

variable "db_schema" {
  description = "Schema the application's tables live in (DB_SCHEMA of provision-roles)."
  type        = string
  default     = "beer_catalog"

  validation {
    condition     = can(regex("^[a-z][a-z0-9_]{0,62}$", var.db_schema))
    error_message = "db_schema must be a lower-case identifier."
  }
}

variable "db_max_connections" {
  description = "Connection pool size per api task (DB_MAX_CONNECTIONS); times max_count must stay below the instance's max_connections."
  type        = number
  default     = 10

  validation {
    condition     = var.db_max_connections >= 1 && var.db_max_connections <= 100
    error_message = "db_max_connections must be between 1 and 100."
  }
}

variable "request_timeout_seconds" {
  description = "Per-request timeout of the service (REQUEST_TIMEOUT_SECS)."
  type        = number
  default     = 10

  validation {
    condition     = var.request_timeout_seconds >= 1 && var.request_timeout_seconds <= 60
    error_message = "request_timeout_seconds must be between 1 and 60 (below the ALB idle timeout)."
  }
}

variable "log_level" {
  description = "LOG_LEVEL of the containers (a level or tracing directives)."
  type        = string
  default     = "info"

  validation {
    condition     = length(var.log_level) > 0
    error_message = "log_level must not be empty."
  }
}

variable "master_secret_arn" {
  description = "ARN of the RDS-managed master user secret (read by the db-roles task only)."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:secretsmanager:", var.master_secret_arn))
    error_message = "master_secret_arn must be a Secrets Manager secret ARN."
  }
}

variable "migrator_secret_arn" {
  description = "ARN of the migrator role secret (migrate and db-roles tasks)."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:secretsmanager:", var.migrator_secret_arn))
    error_message = "migrator_secret_arn must be a Secrets Manager secret ARN."
  }
}

variable "app_secret_arn" {
  description = "ARN of the application role secret (api and db-roles tasks)."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:secretsmanager:", var.app_secret_arn))
    error_message = "app_secret_arn must be a Secrets Manager secret ARN."
  }
}

variable "kms_key_arn" {
  description = "KMS key of the environment (log group encryption, secret decryption)."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:kms:", var.kms_key_arn))
    error_message = "kms_key_arn must be a KMS key ARN."
  }
}

variable "log_retention_days" {
  description = "Retention of /ecs/<name_prefix>, in days (a value CloudWatch Logs accepts)."
  type        = number
  default     = 30

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be a retention CloudWatch Logs accepts (1, 3, 5, 7, 14, 30, 60, 90, ..., 365, ...)."
  }
}

variable "secret_recovery_window_days" {
  description = "Days a deleted API keys secret can be restored (0 or 7-30)."
  type        = number
  default     = 7

  validation {
    condition     = var.secret_recovery_window_days == 0 || (var.secret_recovery_window_days >= 7 && var.secret_recovery_window_days <= 30)
    error_message = "secret_recovery_window_days must be 0 or between 7 and 30."
  }
}

variable "deployment_alarm_names" {
  description = "CloudWatch alarms that fail and roll back a deployment when they fire during it (empty: circuit breaker only)."
  type        = list(string)
  default     = []
}
