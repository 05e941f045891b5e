variable "aws_region" {
  description = "AWS region (the backend's region is fixed to eu-west-1 in versions.tf)."
  type        = string
  default     = "eu-west-1"

  validation {
    condition     = can(regex("^[a-z]{2}(-[a-z]+)+-[0-9]$", var.aws_region))
    error_message = "aws_region must be a region name such as eu-west-1."
  }
}

variable "github_repository" {
  description = "OWNER/REPO of this repository (Repository tag)."
  type        = string
  default     = "beer-catalog/beer-catalog"

  validation {
    condition     = can(regex("^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$", var.github_repository))
    error_message = "github_repository must be OWNER/REPO."
  }
}

variable "image_tag" {
  description = "Image tag (git SHA, already in ECR) for the first apply only; null (default) keeps the image the service runs."
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

variable "vpc_cidr" {
  description = "CIDR of the environment's VPC."
  type        = string
  default     = "10.20.0.0/16"

  validation {
    condition     = can(cidrnetmask(var.vpc_cidr))
    error_message = "vpc_cidr must be a valid IPv4 CIDR."
  }
}

variable "db_role_password_version" {
  description = "Bump to generate new passwords for the migrator and app DB roles (then run the db-roles task)."
  type        = number
  default     = 1

  validation {
    condition     = var.db_role_password_version >= 1
    error_message = "db_role_password_version must be at least 1."
  }
}
