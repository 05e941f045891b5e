variable "name_prefix" {
  description = "Name prefix, <project>-<env>; groups are named <name_prefix>-alb, -tasks, -db, -endpoints."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{2,40}$", var.name_prefix))
    error_message = "name_prefix must be lower-case letters, digits and dashes (3-41 characters)."
  }
}

variable "vpc_id" {
  description = "ID of the VPC the groups belong to."
  type        = string

  validation {
    condition     = startswith(var.vpc_id, "vpc-")
    error_message = "vpc_id must be a VPC ID (vpc-...)."
  }
}

variable "app_port" {
  description = "Port the service listens on in the container (the service's PORT, default 8080)."
  type        = number
  default     = 8080

  validation {
    condition     = var.app_port >= 1024 && var.app_port <= 65535
    error_message = "app_port must be an unprivileged port (1024-65535): the container runs as a non-root user."
  }
}

variable "tasks_internet_egress" {
  description = "Allow the tasks HTTPS to the internet through NAT. Off: everything they need is behind VPC endpoints."
  type        = bool
  default     = false
}

variable "alb_listener_port" {
  description = "Port of the ALB listener CloudFront connects to (443 with a certificate, 80 in HTTP-only mode)."
  type        = number
  default     = 443

  validation {
    condition     = contains([80, 443], var.alb_listener_port)
    error_message = "alb_listener_port must be 80 or 443."
  }
}
