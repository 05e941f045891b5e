variable "name_prefix" {
  description = "Name prefix, <project>-<env>, for the endpoints' Name tags. Its rule (at most 28 characters) is checked once, in modules/environment."
  type        = string
}

variable "vpc_id" {
  description = "ID of the VPC."
  type        = string
}

variable "subnet_ids" {
  description = "Private subnet IDs to place the interface endpoint network interfaces in (one per AZ)."
  type        = list(string)
}

variable "route_table_ids" {
  description = "Private route table IDs the S3 gateway endpoint is added to."
  type        = list(string)
}

variable "security_group_id" {
  description = "Security group of the interface endpoints (accepts 443 from the tasks' group only)."
  type        = string
}

variable "interface_endpoints" {
  description = "Create the interface endpoints (ECR api + dkr, Logs, Secrets Manager, X-Ray; ~$8 a month each per AZ); false leaves the free S3 gateway endpoint only."
  type        = bool
  default     = true
}
