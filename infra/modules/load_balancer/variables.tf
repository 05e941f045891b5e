variable "name_prefix" {
  description = "Name prefix, <project>-<env>; the ALB is <name_prefix>-alb, the target group <name_prefix>-api."
  type        = string

  validation {
    # ALB and target group names are limited to 32 characters: <name_prefix>-alb must fit.
    condition     = can(regex("^[a-z][a-z0-9-]{2,27}$", var.name_prefix))
    error_message = "name_prefix must be lower-case letters, digits and dashes, at most 28 characters."
  }
}

variable "vpc_id" {
  description = "ID of the VPC (for the target group)."
  type        = string

  validation {
    condition     = startswith(var.vpc_id, "vpc-")
    error_message = "vpc_id must be a VPC ID (vpc-...)."
  }
}

variable "public_subnet_ids" {
  description = "Public subnets for the ALB (at least two AZs)."
  type        = list(string)

  validation {
    condition     = length(var.public_subnet_ids) >= 2
    error_message = "An ALB needs subnets in at least two AZs."
  }
}

variable "security_group_id" {
  description = "ALB security group (80/443 from the internet, egress to the tasks only)."
  type        = string

  validation {
    condition     = startswith(var.security_group_id, "sg-")
    error_message = "security_group_id must be a security group ID (sg-...)."
  }
}

variable "certificate_arn" {
  description = "ACM certificate ARN for HTTPS. null: HTTP-only listener (no redirect)."
  type        = string
  default     = null

  validation {
    condition     = var.certificate_arn == null || can(regex("^arn:aws[a-z-]*:acm:", var.certificate_arn))
    error_message = "certificate_arn must be null or an ACM certificate ARN."
  }
}

variable "ssl_policy" {
  description = "TLS policy of the HTTPS listener."
  type        = string
  default     = "ELBSecurityPolicy-TLS13-1-2-2021-06"

  validation {
    condition     = startswith(var.ssl_policy, "ELBSecurityPolicy-TLS13-") || startswith(var.ssl_policy, "ELBSecurityPolicy-FS-1-2")
    error_message = "ssl_policy must be a TLS 1.2+ policy (ELBSecurityPolicy-TLS13-* or ELBSecurityPolicy-FS-1-2-*)."
  }
}

variable "target_port" {
  description = "Container port the target group forwards to (the service's PORT, 8080)."
  type        = number
  default     = 8080

  validation {
    condition     = var.target_port >= 1024 && var.target_port <= 65535
    error_message = "target_port must be an unprivileged port (1024-65535)."
  }
}

variable "health_check_path" {
  description = "Target group health check path: the liveness endpoint /health (not /ready, see infra/README.md)."
  type        = string
  default     = "/health"

  validation {
    condition     = startswith(var.health_check_path, "/")
    error_message = "health_check_path must start with /."
  }
}

variable "deregistration_delay_seconds" {
  description = "Seconds the ALB drains a deregistering task; a little above the service's 20 s shutdown grace, below ECS's 30 s stopTimeout."
  type        = number
  default     = 25

  validation {
    condition     = var.deregistration_delay_seconds >= 0 && var.deregistration_delay_seconds <= 3600
    error_message = "deregistration_delay_seconds must be between 0 and 3600."
  }
}

variable "idle_timeout_seconds" {
  description = "ALB idle connection timeout in seconds."
  type        = number
  default     = 60

  validation {
    condition     = var.idle_timeout_seconds >= 1 && var.idle_timeout_seconds <= 4000
    error_message = "idle_timeout_seconds must be between 1 and 4000."
  }
}

variable "deletion_protection" {
  description = "Refuse to delete the ALB (on in production)."
  type        = bool
  default     = true
}

variable "access_logs_enabled" {
  description = "Write ALB access logs to an S3 bucket created here (on in production)."
  type        = bool
  default     = true
}

variable "access_logs_retention_days" {
  description = "Days access log objects are kept."
  type        = number
  default     = 90

  validation {
    condition     = var.access_logs_retention_days >= 1
    error_message = "access_logs_retention_days must be at least 1."
  }
}

variable "origin_header_name" {
  description = "Header CloudFront adds to every origin request with the origin secret; the listener forwards only requests bearing it."
  type        = string
  default     = "X-Origin-Verify"

  validation {
    condition     = can(regex("^[A-Za-z0-9-]{1,40}$", var.origin_header_name))
    error_message = "origin_header_name must be a header name (letters, digits, dashes)."
  }
}

variable "origin_secret_version" {
  description = "Bump to generate a new origin secret (CloudFront and the listener rules take it in the same apply)."
  type        = number
  default     = 1
}

variable "test_traffic_header_name" {
  description = "Header (value green) that sends a request to the new colour through the test listener rule during a blue/green deployment."
  type        = string
  default     = "X-Deployment-Test"

  validation {
    condition     = can(regex("^[A-Za-z0-9-]{1,40}$", var.test_traffic_header_name))
    error_message = "test_traffic_header_name must be a header name (letters, digits, dashes)."
  }
}
