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

# The inputs below are validated by infra/modules/environment, which receives them unchanged.
#
# Required on purpose (no default): certificate_arn, origin_domain_name, domain_name, hosted_zone_id, alarm_emails
# and db_role_password_version. Their values live in this root's committed terraform.tfvars, so every plan,
# CI's and an administrator's, uses the same ones. With a default, a value an administrator once passed with -var
# would be planned back to that default by the next automatic apply (the domain, certificate and HTTPS origin
# removed, the alarm subscriptions deleted, the DB role passwords rewritten); without one, a plan that lacks the
# value fails with "No value for required variable". null / [] remain valid values, set explicitly.

variable "image_tag" {
  description = "Image tag (git SHA, already in ECR) for the first apply only; null (default) keeps the image the service runs."
  type        = string
  default     = null
}

variable "certificate_arn" {
  description = "ACM certificate for HTTPS on the ALB; null: HTTP only."
  type        = string
}

variable "origin_domain_name" {
  description = "Host name covered by certificate_arn that resolves to the ALB (CloudFront's HTTPS origin, e.g. origin.api.example.com); required with certificate_arn."
  type        = string
}

variable "domain_name" {
  description = "Public host name of the API (e.g. api.example.com); null: the CloudFront distribution's *.cloudfront.net name."
  type        = string
}

variable "hosted_zone_id" {
  description = "Route 53 public hosted zone of domain_name (certificate validation, alias records); required with domain_name."
  type        = string
}

variable "alarm_emails" {
  description = "E-mail addresses subscribed to the alarm topic."
  type        = list(string)
  nullable    = false
}

variable "vpc_cidr" {
  description = "CIDR of the environment's VPC."
  type        = string
  default     = "10.10.0.0/16"
}

variable "db_role_password_version" {
  description = "Bump to generate new passwords for the master, migrator and app DB roles (then run the db-roles task)."
  type        = number
  nullable    = false
}
