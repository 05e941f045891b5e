variable "name_prefix" {
  description = "Name prefix, <project>-<env>; the dashboard, topic and alarm names start with it."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{2,40}$", var.name_prefix))
    error_message = "name_prefix must be lower-case letters, digits and dashes (3-41 characters)."
  }
}

variable "kms_key_arn" {
  description = "KMS key encrypting the SNS topic (its policy must let cloudwatch.amazonaws.com use it)."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:kms:", var.kms_key_arn))
    error_message = "kms_key_arn must be a KMS key ARN."
  }
}

variable "alarm_emails" {
  description = "E-mail addresses subscribed to the alarm topic (each must confirm the subscription)."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for e in var.alarm_emails : can(regex("^[^@\\s]+@[^@\\s]+$", e))])
    error_message = "alarm_emails must be e-mail addresses."
  }
}

variable "alb_arn_suffix" {
  description = "ARN suffix of the ALB (LoadBalancer dimension)."
  type        = string

  validation {
    condition     = startswith(var.alb_arn_suffix, "app/")
    error_message = "alb_arn_suffix must look like app/<name>/<id>."
  }
}

variable "target_group_arn_suffixes" {
  description = "ARN suffixes of both api target groups (TargetGroup dimension): blue/green moves the live tasks between them."
  type        = list(string)

  validation {
    condition     = length(var.target_group_arn_suffixes) == 2 && alltrue([for t in var.target_group_arn_suffixes : startswith(t, "targetgroup/")])
    error_message = "target_group_arn_suffixes must be two ARN suffixes like targetgroup/<name>/<id>."
  }
}

variable "cluster_name" {
  description = "ECS cluster name (ClusterName dimension). Pass the name, not the module output, to avoid a cycle with the service's deployment alarms."
  type        = string

  validation {
    condition     = length(var.cluster_name) > 0
    error_message = "cluster_name must not be empty."
  }
}

variable "service_name" {
  description = "ECS service name (ServiceName dimension)."
  type        = string

  validation {
    condition     = length(var.service_name) > 0
    error_message = "service_name must not be empty."
  }
}

variable "db_instance_identifier" {
  description = "RDS instance identifier (DBInstanceIdentifier dimension)."
  type        = string

  validation {
    condition     = length(var.db_instance_identifier) > 0
    error_message = "db_instance_identifier must not be empty."
  }
}

variable "error_rate_threshold_percent" {
  description = "Alarm when more than this percentage of requests get a 5xx from the service."
  type        = number
  default     = 5

  validation {
    condition     = var.error_rate_threshold_percent > 0 && var.error_rate_threshold_percent <= 100
    error_message = "error_rate_threshold_percent must be in (0, 100]."
  }
}

variable "p99_latency_threshold_seconds" {
  description = "Alarm when p99 target response time exceeds this many seconds."
  type        = number
  default     = 1

  validation {
    condition     = var.p99_latency_threshold_seconds > 0
    error_message = "p99_latency_threshold_seconds must be positive."
  }
}

variable "rds_cpu_threshold_percent" {
  description = "Alarm when average database CPU exceeds this percentage for 15 minutes."
  type        = number
  default     = 80

  validation {
    condition     = var.rds_cpu_threshold_percent > 0 && var.rds_cpu_threshold_percent <= 100
    error_message = "rds_cpu_threshold_percent must be in (0, 100]."
  }
}

variable "rds_free_storage_threshold_gb" {
  description = "Alarm when database free storage falls below this many GiB."
  type        = number
  default     = 5

  validation {
    condition     = var.rds_free_storage_threshold_gb > 0
    error_message = "rds_free_storage_threshold_gb must be positive."
  }
}

variable "replica_identifiers" {
  description = "RDS read replica identifiers (a ReplicaLag alarm and dashboard line each); empty without replicas."
  type        = list(string)
  default     = []
}

variable "replica_lag_threshold_seconds" {
  description = "ReplicaLag (s) above which the replica alarm fires; keep it at or below the service's DB_READ_MAX_LAG_SECS, beyond which reads already go to the primary."
  type        = number
  default     = 5
}

variable "edge" {
  description = "The edge of the environment (modules/edge, us-east-1): distribution ID, web ACL name and the edge alarm ARNs, for the dashboard."
  type = object({
    distribution_id = string
    web_acl_name    = string
    alarm_arns      = list(string)
  })
}
