variable "name_prefix" {
  description = "Name prefix, <project>-<env>: names of the distribution's policies, web ACL, log groups and alarms."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{2,40}$", var.name_prefix))
    error_message = "name_prefix must be lower-case letters, digits and dashes (3-41 characters)."
  }
}

variable "alb_dns_name" {
  description = "DNS name of the ALB: the origin when the ALB has no certificate (HTTP-only bring-up)."
  type        = string
}

variable "alb_https" {
  description = "Whether the ALB listens with HTTPS (it has a certificate); then origin_domain_name is required."
  type        = bool
}

variable "origin_domain_name" {
  description = "Host name covered by the ALB's certificate that resolves to the ALB (e.g. origin.api.example.com); CloudFront connects to it over HTTPS. null: HTTP to the ALB's DNS name."
  type        = string
  default     = null
}

variable "origin_header_name" {
  description = "Header CloudFront adds to every origin request; the ALB listener rules require it."
  type        = string
}

variable "origin_secret" {
  description = "Value of the origin header (from modules/load_balancer)."
  type        = string
  sensitive   = true
}

variable "test_traffic_header_name" {
  description = "Header that routes a request to the new colour during a blue/green deployment; part of the cache key."
  type        = string
}

variable "domain_name" {
  description = "Public host name of the API (e.g. api.example.com); null: the distribution's *.cloudfront.net name."
  type        = string
  default     = null

  validation {
    condition     = var.domain_name == null || can(regex("^([a-z0-9-]+\\.)+[a-z]{2,}$", coalesce(var.domain_name, "x.io")))
    error_message = "domain_name must be a lower-case DNS name or null."
  }
}

variable "hosted_zone_id" {
  description = "Route 53 public hosted zone of domain_name: certificate validation and alias records are created in it. null: create them by hand (see the certificate_validation_records output)."
  type        = string
  default     = null
}

variable "price_class" {
  description = "CloudFront price class (PriceClass_100: North America and Europe edges, the cheapest)."
  type        = string
  default     = "PriceClass_100"

  validation {
    condition     = contains(["PriceClass_100", "PriceClass_200", "PriceClass_All"], var.price_class)
    error_message = "price_class must be PriceClass_100, PriceClass_200 or PriceClass_All."
  }
}

variable "origin_read_timeout_seconds" {
  description = "Seconds CloudFront waits for the origin; above the service's REQUEST_TIMEOUT_SECS so its 503 arrives rather than a 504."
  type        = number
  default     = 30

  validation {
    condition     = var.origin_read_timeout_seconds >= 1 && var.origin_read_timeout_seconds <= 60
    error_message = "origin_read_timeout_seconds must be between 1 and 60 (above 60 needs a quota increase)."
  }
}

variable "rate_limit_per_5_minutes" {
  description = "Requests one client IP may make in any 5 minutes before the WAF answers 429 (the global limit; the service's RATE_LIMIT_PER_HOUR is per task)."
  type        = number
  default     = 1500

  validation {
    condition     = var.rate_limit_per_5_minutes >= 10 && var.rate_limit_per_5_minutes <= 2000000000
    error_message = "rate_limit_per_5_minutes must be between 10 and 2,000,000,000 (WAF's bounds)."
  }
}

variable "blocked_requests_threshold" {
  description = "Blocked requests in 5 minutes above which the WAF alarm fires."
  type        = number
  default     = 500
}

variable "error_rate_threshold_percent" {
  description = "CloudFront 5xx error rate (%) above which the edge alarm fires."
  type        = number
  default     = 5
}

variable "log_retention_days" {
  description = "Days the WAF and CloudFront access logs are kept."
  type        = number

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be a CloudWatch Logs retention value (e.g. 30, 90, 365)."
  }
}

variable "alarm_emails" {
  description = "E-mail addresses subscribed to the edge alarm topic (us-east-1)."
  type        = list(string)
  default     = []
}

variable "kms_deletion_window_days" {
  description = "Deletion window of the edge's KMS key (us-east-1: log groups and alarm topic)."
  type        = number
  default     = 30
}
