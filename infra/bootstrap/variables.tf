variable "project" {
  description = "Project name, used in the bucket name and tags."
  type        = string
  default     = "beer-catalog"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{2,20}$", var.project))
    error_message = "project must be lower-case letters, digits and dashes (3-21 characters)."
  }
}

variable "aws_region" {
  description = "Region of the state bucket (and of every root)."
  type        = string
  default     = "eu-west-1"

  validation {
    condition     = can(regex("^[a-z]{2}(-[a-z]+)+-[0-9]$", var.aws_region))
    error_message = "aws_region must be a region name such as eu-west-1."
  }
}

variable "github_repository" {
  description = "OWNER/REPO of the repository holding this configuration (Repository tag)."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$", var.github_repository))
    error_message = "github_repository must be OWNER/REPO."
  }
}

variable "state_bucket_name" {
  description = "Name of the state bucket; null: <project>-tfstate-<account id> (globally unique)."
  type        = string
  default     = null

  validation {
    condition     = var.state_bucket_name == null || can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.state_bucket_name))
    error_message = "state_bucket_name must be null or a valid S3 bucket name."
  }
}

variable "noncurrent_version_retention_days" {
  description = "Days old state revisions are kept."
  type        = number
  default     = 90

  validation {
    condition     = var.noncurrent_version_retention_days >= 7
    error_message = "noncurrent_version_retention_days must be at least 7."
  }
}
