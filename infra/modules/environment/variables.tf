variable "project" {
  description = "Project name: the ECR repository name (created by infra/global) and the first part of every name. <project>-<environment> is the name_prefix of every module, and its one rule is here: lower-case letters, digits and dashes, at most 28 characters, because the tightest AWS name limit it feeds is 32 characters (the ALB <name_prefix>-alb and the target group <name_prefix>-api); everything else it names allows 63 or more."
  type        = string
  default     = "beer-catalog"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{2,27}$", "${var.project}-${var.environment}"))
    error_message = "<project>-<environment> must be lower-case letters, digits and dashes, at most 28 characters (ALB and target group names, <project>-<environment>-alb and -api, are limited to 32)."
  }
}

variable "ecr_public_cache_prefix" {
  description = "Prefix of the ECR Public pull-through cache infra/global creates (its ecr_public_cache_prefix); the api task pulls its collector sidecar through it. null: straight from public.ecr.aws, which only tasks with internet egress (tasks_public_ip or NAT) can reach."
  type        = string
  default     = "ecr-public"

  validation {
    # public.ecr.aws has no VPC endpoint: without NAT or public IPs the collector's image has no other path.
    condition     = var.ecr_public_cache_prefix != null || var.settings.tasks_public_ip || var.settings.nat_gateway_mode != "none"
    error_message = "ecr_public_cache_prefix: without NAT or tasks_public_ip the tasks cannot reach public.ecr.aws; pull the collector through the pull-through cache."
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
    nat_gateway_mode = string # per_az, single or none (modules/network)
    # How the tasks reach ECR, CloudWatch Logs and Secrets Manager (infra/README.md, "Network: NAT, endpoints or
    # public IPs", with the cost of each): interface endpoints and/or NAT, or public IPs on the tasks (no NAT, no
    # endpoints: the tasks run in the public subnets, reachable from nothing but the ALB's group).
    interface_endpoints          = bool
    tasks_public_ip              = bool
    log_retention_days           = number # flow logs and /ecs/<name_prefix>
    db_engine                    = string # rds (instance + replicas) or aurora (Serverless v2 cluster; modules/database)
    db_instance_class            = string # rds only; aurora instances are db.serverless
    db_aurora_min_acu            = number # aurora: 0 (pauses when idle) or 0.5-256 ACUs
    db_aurora_max_acu            = number # aurora: 1-256 ACUs, 1 ACU ~ 2 GiB
    db_aurora_auto_pause_seconds = number # aurora with min 0: idle seconds before the pause, 300-86400
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
    api_cpu_architecture         = string # ARM64 (Graviton, ~20% less per vCPU-hour) or X86_64; the image has both
    api_on_demand_base           = number # api tasks always on on-demand Fargate (FARGATE)
    api_spot_above_base          = bool   # tasks above the base on FARGATE_SPOT (true) or on-demand (false)
    # Scheduled scale-to-zero of the api service (null: always on): at sleep_at min = max = 0 tasks, at wake_at back
    # to api_min_count..api_max_count, on the days given (cron day-of-week, e.g. MON-FRI), in the IANA time zone.
    api_schedule = object({
      timezone = string # e.g. Europe/Dublin (daylight saving time follows)
      days     = string # MON-FRI, MON-SAT or *
      wake_at  = string # HH:MM
      sleep_at = string # HH:MM
    })
    api_memory               = number # MiB
    api_desired_count        = number
    api_min_count            = number
    api_max_count            = number
    secret_recovery_days     = number # 0 or 7-30
    kms_deletion_window_days = number # 7-30
    cdn_price_class          = string # PriceClass_100 (NA + Europe edges), _200 or _All
    # How CloudFront reaches the ALB: vpc_origin (internal ALB in the private subnets, no public IPv4 address) or
    # internet (internet-facing ALB, one public IPv4 address per AZ at $0.005/h each). infra/README.md, "The edge".
    cdn_origin = string
    # ECS Container Insights of the cluster: enhanced, enabled or disabled. Per-task and per-service CPU, memory,
    # network and storage metrics, billed as custom metrics; without them the free AWS/ECS service CPU and memory
    # metrics remain (the autoscaling policies use those). infra/README.md, "Estimated monthly cost".
    container_insights           = string
    waf_rate_limit_per_5_minutes = number # per client IP, across every task (the global limit)
    api_rate_limit_per_hour      = number # per task and client (RATE_LIMIT_PER_HOUR); 0 disables
    deployment_bake_minutes      = number # blue/green: minutes both colours stay up after the shift
  })

  validation {
    condition     = contains(["per_az", "single", "none"], var.settings.nat_gateway_mode)
    error_message = "settings.nat_gateway_mode must be per_az, single or none."
  }

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.settings.log_retention_days)
    error_message = "settings.log_retention_days must be a retention CloudWatch Logs accepts (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288 or 3653)."
  }

  validation {
    # The tasks pull their image and send their logs over one of the three; with none they could not start.
    condition     = var.settings.nat_gateway_mode != "none" || var.settings.interface_endpoints || var.settings.tasks_public_ip
    error_message = "settings: with nat_gateway_mode none, the tasks need interface_endpoints or tasks_public_ip to reach ECR, Logs and Secrets Manager."
  }

  validation {
    # Public IPs put the tasks in the public subnets: a NAT gateway would then serve nothing.
    condition     = !var.settings.tasks_public_ip || var.settings.nat_gateway_mode == "none"
    error_message = "settings.tasks_public_ip needs nat_gateway_mode none (the tasks then leave through the internet gateway)."
  }

  validation {
    condition     = contains(["rds", "aurora"], var.settings.db_engine)
    error_message = "settings.db_engine must be rds or aurora."
  }

  validation {
    condition = (var.settings.db_aurora_min_acu >= 0 && var.settings.db_aurora_max_acu >= 1
      && var.settings.db_aurora_max_acu <= 256 && var.settings.db_aurora_min_acu <= var.settings.db_aurora_max_acu
      && floor(var.settings.db_aurora_min_acu * 2) == var.settings.db_aurora_min_acu * 2
    && floor(var.settings.db_aurora_max_acu * 2) == var.settings.db_aurora_max_acu * 2)
    error_message = "settings must satisfy 0 <= db_aurora_min_acu <= db_aurora_max_acu, 1 <= db_aurora_max_acu <= 256, both in steps of 0.5 ACU."
  }

  validation {
    condition     = var.settings.db_aurora_auto_pause_seconds >= 300 && var.settings.db_aurora_auto_pause_seconds <= 86400
    error_message = "settings.db_aurora_auto_pause_seconds must be between 300 and 86400 (Aurora's bounds)."
  }

  validation {
    condition     = startswith(var.settings.db_instance_class, "db.")
    error_message = "settings.db_instance_class must be an RDS instance class (db.*)."
  }

  # RDS storage autoscaling needs a maximum above the allocated size.
  validation {
    condition = (var.settings.db_allocated_storage_gb >= 20 && var.settings.db_max_storage_gb > var.settings.db_allocated_storage_gb
    && var.settings.db_max_storage_gb <= 65536)
    error_message = "settings must satisfy 20 <= db_allocated_storage_gb < db_max_storage_gb <= 65536."
  }

  validation {
    condition     = var.settings.db_backup_retention_days >= 1 && var.settings.db_backup_retention_days <= 35
    error_message = "settings.db_backup_retention_days must be between 1 and 35."
  }

  validation {
    condition     = contains([0, 1, 5, 10, 15, 30, 60], var.settings.db_monitoring_interval)
    error_message = "settings.db_monitoring_interval must be 0 (off), 1, 5, 10, 15, 30 or 60."
  }

  # The CPU/memory pairs Fargate accepts.
  validation {
    condition = contains(lookup({
      "256"  = [512, 1024, 2048],
      "512"  = [1024, 2048, 3072, 4096],
      "1024" = range(2048, 8193, 1024),
      "2048" = range(4096, 16385, 1024),
      "4096" = range(8192, 30721, 1024),
    }, tostring(var.settings.api_cpu), []), var.settings.api_memory)
    error_message = "settings.api_cpu must be 256, 512, 1024, 2048 or 4096 and settings.api_memory a size Fargate accepts with it (e.g. 256: 512-2048, 512: 1024-4096 MiB)."
  }

  validation {
    condition     = contains(["ARM64", "X86_64"], var.settings.api_cpu_architecture)
    error_message = "settings.api_cpu_architecture must be ARM64 or X86_64 (the images CI publishes)."
  }

  validation {
    condition = (var.settings.api_on_demand_base >= 0 && var.settings.api_on_demand_base <= var.settings.api_max_count
    && floor(var.settings.api_on_demand_base) == var.settings.api_on_demand_base)
    error_message = "settings.api_on_demand_base must be a whole number of tasks between 0 and api_max_count."
  }

  validation {
    condition = var.settings.api_schedule == null || (
      can(regex("^([01][0-9]|2[0-3]):[0-5][0-9]$", var.settings.api_schedule.wake_at))
      && can(regex("^([01][0-9]|2[0-3]):[0-5][0-9]$", var.settings.api_schedule.sleep_at))
    && var.settings.api_schedule.wake_at != var.settings.api_schedule.sleep_at)
    error_message = "settings.api_schedule: wake_at and sleep_at are two different times of day, HH:MM (24 h)."
  }

  validation {
    condition     = var.settings.api_schedule == null || contains(["MON-FRI", "MON-SAT", "*"], try(var.settings.api_schedule.days, "*"))
    error_message = "settings.api_schedule.days must be MON-FRI, MON-SAT or * (every day)."
  }

  validation {
    # An IANA zone name (Europe/Dublin, America/New_York, UTC); Application Auto Scaling refuses unknown ones.
    condition     = var.settings.api_schedule == null || can(regex("^(UTC|[A-Z][A-Za-z]+(/[A-Z][A-Za-z0-9_+-]+){1,2})$", try(var.settings.api_schedule.timezone, "UTC")))
    error_message = "settings.api_schedule.timezone must be an IANA time zone name such as Europe/Dublin or UTC."
  }

  validation {
    condition = (var.settings.api_min_count >= 1 && var.settings.api_min_count <= var.settings.api_desired_count
    && var.settings.api_desired_count <= var.settings.api_max_count && var.settings.api_max_count <= 100)
    error_message = "settings must satisfy 1 <= api_min_count <= api_desired_count <= api_max_count <= 100."
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
    condition     = contains(["vpc_origin", "internet"], var.settings.cdn_origin)
    error_message = "settings.cdn_origin must be vpc_origin (internal ALB behind a CloudFront VPC origin) or internet (internet-facing ALB)."
  }

  validation {
    condition     = contains(["enhanced", "enabled", "disabled"], var.settings.container_insights)
    error_message = "settings.container_insights must be enhanced, enabled or disabled (ECS cluster setting containerInsights)."
  }

  validation {
    # Production's alarms and dashboard read Container Insights; only staging may do without it.
    condition     = var.environment != "production" || var.settings.container_insights != "disabled"
    error_message = "production keeps Container Insights (settings.container_insights enabled or enhanced)."
  }

  validation {
    condition     = contains(["PriceClass_100", "PriceClass_200", "PriceClass_All"], var.settings.cdn_price_class)
    error_message = "settings.cdn_price_class must be PriceClass_100, PriceClass_200 or PriceClass_All."
  }

  validation {
    condition     = var.settings.waf_rate_limit_per_5_minutes >= 10 && var.settings.waf_rate_limit_per_5_minutes <= 2000000000
    error_message = "settings.waf_rate_limit_per_5_minutes must be between 10 and 2,000,000,000 (the WAF's bounds)."
  }

  validation {
    condition     = var.settings.api_rate_limit_per_hour >= 0 && floor(var.settings.api_rate_limit_per_hour) == var.settings.api_rate_limit_per_hour
    error_message = "settings.api_rate_limit_per_hour must be a whole number, 0 (off) or more."
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
    # At most /16: modules/network cuts it into sixteenths (/20 public and private subnets per AZ from a /16).
    condition     = can(cidrnetmask(var.vpc_cidr)) && try(tonumber(split("/", var.vpc_cidr)[1]) <= 16, false)
    error_message = "vpc_cidr must be a valid IPv4 CIDR of size /16 or larger."
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
  description = "Bump to generate new passwords for the master, migrator and app DB roles (then run the db-roles task)."
  type        = number
  default     = 1

  validation {
    condition     = var.db_role_password_version >= 1 && floor(var.db_role_password_version) == var.db_role_password_version
    error_message = "db_role_password_version must be a whole number, at least 1."
  }
}

variable "domain_name" {
  description = "Public host name of the API (CloudFront alias, ACM certificate in us-east-1); null: the distribution's *.cloudfront.net name."
  type        = string
  default     = null

  validation {
    condition     = var.domain_name == null || can(regex("^([a-z0-9-]+\\.)+[a-z]{2,}$", coalesce(var.domain_name, "x.io")))
    error_message = "domain_name must be a lower-case DNS name (api.example.com) or null."
  }
}

variable "hosted_zone_id" {
  description = "Route 53 public hosted zone of domain_name (certificate validation and alias records); required with domain_name."
  type        = string
  default     = null

  # Without the zone, ACM waits for validation records created by hand, and aws_acm_certificate_validation waits up
  # to 75 minutes for them by default: longer than the apply role's one-hour session, so the apply dies mid-way
  # with the lock held. With the zone, Terraform creates the records and validation takes minutes.
  validation {
    condition     = var.domain_name == null || var.hosted_zone_id != null
    error_message = "domain_name needs hosted_zone_id (the Route 53 zone of that name): the certificate's DNS validation must be automatic to finish within the apply role's one-hour session."
  }
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
