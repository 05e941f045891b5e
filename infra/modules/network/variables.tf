variable "name_prefix" {
  description = "Name prefix, <project>-<env> (e.g. beer-catalog-staging). Its rule (at most 28 characters) is checked once, in modules/environment."
  type        = string
}

variable "vpc_cidr" {
  description = "CIDR block of the VPC; split into /20 subnets (public from the first, private from the ninth)."
  type        = string
  default     = "10.0.0.0/16"
}

variable "az_count" {
  description = "Number of availability zones to spread subnets over (at least 2: the ALB and RDS subnet group need two)."
  type        = number
  default     = 2
}

variable "nat_gateway_mode" {
  description = "per_az: one NAT gateway per AZ (production); single: one shared NAT (staging); none: no NAT."
  type        = string
  default     = "single"
}

variable "flow_log_retention_days" {
  description = "Retention of the VPC flow log group, in days (a value CloudWatch Logs accepts)."
  type        = number
  default     = 30
}

variable "kms_key_arn" {
  description = "ARN of the KMS key that encrypts the flow log group."
  type        = string
}

variable "permissions_boundary_arn" {
  description = "Managed policy every IAM role of this module carries as its permissions boundary (<project>-<env>-workload-boundary, created by infra/global; the apply role may create roles only with it)."
  type        = string
}

variable "flow_log_class" {
  description = "Log class of the flow logs group: INFREQUENT_ACCESS (half the ingestion price; Logs Insights works, Live Tail and metric filters do not, and nothing here uses them) or STANDARD. Changing it replaces the group."
  type        = string
  default     = "INFREQUENT_ACCESS"
}
