variable "name_prefix" {
  description = "Name prefix, <project>-<env>; groups are named <name_prefix>-alb, -tasks, -db, -endpoints. Its rule (at most 28 characters) is checked once, in modules/environment."
  type        = string
}

variable "vpc_id" {
  description = "ID of the VPC the groups belong to."
  type        = string
}

variable "app_port" {
  description = "Port the service listens on in the container (the service's PORT, default 8080)."
  type        = number
  default     = 8080
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
}
