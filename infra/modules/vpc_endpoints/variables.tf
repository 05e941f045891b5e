variable "name_prefix" {
  description = "Name prefix, <project>-<env>, for the endpoints' Name tags."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{2,40}$", var.name_prefix))
    error_message = "name_prefix must be lower-case letters, digits and dashes (3-41 characters)."
  }
}

variable "vpc_id" {
  description = "ID of the VPC."
  type        = string

  validation {
    condition     = startswith(var.vpc_id, "vpc-")
    error_message = "vpc_id must be a VPC ID (vpc-...)."
  }
}

variable "subnet_ids" {
  description = "Private subnet IDs to place the interface endpoint network interfaces in (one per AZ)."
  type        = list(string)

  validation {
    condition     = length(var.subnet_ids) >= 2
    error_message = "Give at least two subnets (one per AZ) so the endpoints survive an AZ outage."
  }
}

variable "route_table_ids" {
  description = "Private route table IDs the S3 gateway endpoint is added to."
  type        = list(string)

  validation {
    condition     = length(var.route_table_ids) >= 1
    error_message = "Give at least one route table."
  }
}

variable "security_group_id" {
  description = "Security group of the interface endpoints (accepts 443 from the tasks' group only)."
  type        = string

  validation {
    condition     = startswith(var.security_group_id, "sg-")
    error_message = "security_group_id must be a security group ID (sg-...)."
  }
}
