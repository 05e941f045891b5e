variable "name_prefix" {
  description = "Name prefix, <project>-<env>; the ALB is <name_prefix>-alb, the target group <name_prefix>-api. Its rule (at most 28 characters) is checked once, in modules/environment."
  type        = string
}

variable "vpc_id" {
  description = "ID of the VPC (for the target group)."
  type        = string
}

variable "subnet_ids" {
  description = "Subnets of the ALB, at least two AZs: the public ones for an internet-facing ALB, the private ones for an internal ALB (var.internal)."
  type        = list(string)

  validation {
    condition     = length(var.subnet_ids) >= 2
    error_message = "subnet_ids: an ALB needs subnets in at least two Availability Zones."
  }
}

variable "internal" {
  description = "true: internal ALB in private subnets, no public IPv4 address, reached by CloudFront through a VPC origin (modules/edge); false: internet-facing, one public IPv4 address per AZ ($0.005/h each), reached by CloudFront over the internet."
  type        = bool
  default     = false
}

variable "security_group_id" {
  description = "ALB security group (the listener port from CloudFront only, egress to the tasks only)."
  type        = string
}

variable "certificate_arn" {
  description = "ACM certificate ARN for HTTPS. null: the listener is HTTP on port 80; setting it later turns that same listener into HTTPS on 443 in place."
  type        = string
  default     = null
}

variable "ssl_policy" {
  description = "TLS policy of the HTTPS listener."
  type        = string
  default     = "ELBSecurityPolicy-TLS13-1-2-2021-06"
}

variable "target_port" {
  description = "Container port the target group forwards to (the service's PORT, 8080)."
  type        = number
  default     = 8080
}

variable "health_check_path" {
  description = "Target group health check path: the start-up endpoint /started (503 only while a new task warms up; not /ready, which fails without the database, see infra/README.md)."
  type        = string
  default     = "/started"
}

variable "deregistration_delay_seconds" {
  description = "Seconds the ALB drains a deregistering task; a little above the service's 20 s shutdown grace, below ECS's 30 s stopTimeout."
  type        = number
  default     = 25
}

variable "idle_timeout_seconds" {
  description = "ALB idle connection timeout in seconds."
  type        = number
  default     = 60
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
}

variable "origin_header_name" {
  description = "Header CloudFront adds to every origin request with the origin secret; the listener forwards only requests bearing it."
  type        = string
  default     = "X-Origin-Verify"
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
}
