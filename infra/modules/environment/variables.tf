variable "project" {
  description = "Project name: the ECR repository name (created by infra/global) and the first part of every name (<project>-<environment>-<component>)."
  type        = string
  default     = "beer-catalog"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,30}$", var.project))
    error_message = "project must be lower-case letters, digits and dashes."
  }
}

variable "environment" {
  description = "Environment name (staging or production): the second part of every name."
  type        = string

  validation {
    condition     = contains(["staging", "production"], var.environment)
    error_message = "environment must be staging or production."
  }
}

variable "settings" {
  description = "Sizes and protections of the environment (see the environment roots for the values and the modules they feed for the meaning of each)."
  type = object({
    nat_gateway_mode             = string # per_az, single or none (modules/network)
    log_retention_days           = number # flow logs and /ecs/<name_prefix>
    db_instance_class            = string
    db_allocated_storage_gb      = number
    db_max_storage_gb            = number
    db_multi_az                  = bool
    db_backup_retention_days     = number
    db_deletion_protection       = bool
    db_final_snapshot            = bool
    db_monitoring_interval       = number # Enhanced Monitoring interval in seconds, 0: off
    db_apply_immediately         = bool
    db_replica_count             = number # read replicas (DB_READ_HOST); 0: reads go to the primary
    alb_deletion_protection      = bool
    alb_access_logs              = bool
    api_cpu                      = number # Fargate CPU units of an api task
    api_memory                   = number # MiB
    api_desired_count            = number
    api_min_count                = number
    api_max_count                = number
    secret_recovery_days         = number # 0 or 7-30
    kms_deletion_window_days     = number # 7-30
    cdn_price_class              = string # PriceClass_100 (NA + Europe edges), _200 or _All
    waf_rate_limit_per_5_minutes = number # per client IP, across every task (the global limit)
    api_rate_limit_per_hour      = number # per task and client (RATE_LIMIT_PER_HOUR); 0 disables
    deployment_bake_minutes      = number # blue/green: minutes both colours stay up after the shift
  })

  validation {
    condition     = contains(["per_az", "single", "none"], var.settings.nat_gateway_mode)
    error_message = "settings.nat_gateway_mode must be per_az, single or none."
  }

  validation {
    condition     = var.settings.db_allocated_storage_gb >= 20 && var.settings.db_max_storage_gb >= var.settings.db_allocated_storage_gb
    error_message = "settings.db_allocated_storage_gb must be at least 20 and settings.db_max_storage_gb at least that."
  }

  validation {
    condition = (var.settings.api_min_count >= 1 && var.settings.api_min_count <= var.settings.api_desired_count
    && var.settings.api_desired_count <= var.settings.api_max_count)
    error_message = "settings must satisfy 1 <= api_min_count <= api_desired_count <= api_max_count."
  }

  validation {
    condition     = var.settings.secret_recovery_days == 0 || (var.settings.secret_recovery_days >= 7 && var.settings.secret_recovery_days <= 30)
    error_message = "settings.secret_recovery_days must be 0 or between 7 and 30."
  }

  validation {
    condition     = var.settings.db_replica_count >= 0 && var.settings.db_replica_count <= 5
    error_message = "settings.db_replica_count must be between 0 and 5."
  }

  validation {
    condition     = var.environment != "production" || var.settings.db_replica_count >= 1
    error_message = "production reads from at least one replica (settings.db_replica_count >= 1)."
  }

  validation {
    condition     = var.settings.deployment_bake_minutes >= 0 && var.settings.deployment_bake_minutes <= 1440
    error_message = "settings.deployment_bake_minutes must be between 0 and 1440."
  }

  validation {
    condition     = var.settings.kms_deletion_window_days >= 7 && var.settings.kms_deletion_window_days <= 30
    error_message = "settings.kms_deletion_window_days must be between 7 and 30."
  }
}

variable "vpc_cidr" {
  description = "CIDR of the environment's VPC."
  type        = string

  validation {
    condition     = can(cidrnetmask(var.vpc_cidr))
    error_message = "vpc_cidr must be a valid IPv4 CIDR."
  }
}

variable "image_tag" {
  description = "Image tag (git SHA, already in ECR) for the first apply only; null keeps the image the service runs."
  type        = string
  default     = null

  validation {
    condition     = var.image_tag == null || (can(regex("^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$", coalesce(var.image_tag, "x"))) && var.image_tag != "latest")
    error_message = "image_tag must be a valid, immutable Docker tag (not \"latest\")."
  }
}

variable "certificate_arn" {
  description = "ACM certificate for HTTPS on the ALB; null: HTTP only."
  type        = string
  default     = null

  validation {
    condition     = var.certificate_arn == null || can(regex("^arn:aws[a-z-]*:acm:", var.certificate_arn))
    error_message = "certificate_arn must be null or an ACM certificate ARN."
  }
}

variable "alarm_emails" {
  description = "E-mail addresses subscribed to the alarm topic."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for e in var.alarm_emails : can(regex("^[^@\\s]+@[^@\\s]+$", e))])
    error_message = "alarm_emails must be e-mail addresses."
  }
}

variable "db_role_password_version" {
  description = "Bump to generate new passwords for the migrator and app DB roles (then run the db-roles task)."
  type        = number
  default     = 1

  validation {
    condition     = var.db_role_password_version >= 1
    error_message = "db_role_password_version must be at least 1."
  }
}

variable "domain_name" {
  description = "Public host name of the API (CloudFront alias, ACM certificate in us-east-1); null: the distribution's *.cloudfront.net name."
  type        = string
  default     = null
}

variable "hosted_zone_id" {
  description = "Route 53 public hosted zone of domain_name (certificate validation and alias records); null: create them by hand."
  type        = string
  default     = null
}

variable "origin_domain_name" {
  description = "Host name covered by certificate_arn that resolves to the ALB (CloudFront's HTTPS origin); required with certificate_arn."
  type        = string
  default     = null

  validation {
    condition     = (var.origin_domain_name == null) == (var.certificate_arn == null)
    error_message = "origin_domain_name and certificate_arn go together: CloudFront reaches an HTTPS ALB by a name its certificate covers."
  }
}
