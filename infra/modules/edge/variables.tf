variable "name_prefix" {
  description = "Name prefix, <project>-<env>: names of the distribution's policies, web ACL, log groups and alarms. Its rule (at most 28 characters) is checked once, in modules/environment."
  type        = string
}

variable "alb_dns_name" {
  description = "DNS name of the ALB: the origin when the ALB has no certificate (HTTP-only bring-up)."
  type        = string
}

variable "alb_arn" {
  description = "ARN of the ALB: the target of the VPC origin when alb_internal."
  type        = string
}

variable "alb_internal" {
  description = "true: the ALB is internal (no public address) and CloudFront reaches it through a VPC origin; false: over the internet to its public addresses."
  type        = bool
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
}

variable "origin_read_timeout_seconds" {
  description = "Seconds CloudFront waits for the origin; above the service's REQUEST_TIMEOUT_SECS so its 503 arrives rather than a 504."
  type        = number
  default     = 30
}

variable "rate_limit_per_5_minutes" {
  description = "Requests one client IP may make in any 5 minutes before the WAF answers 429 (the global limit; the service's RATE_LIMIT_PER_HOUR is per task)."
  type        = number
  default     = 1500
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
