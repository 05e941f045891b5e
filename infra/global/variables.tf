variable "project" {
  description = "Project name: the ECR repository name and the prefix of every role."
  type        = string
  default     = "beer-catalog"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{2,20}$", var.project))
    error_message = "project must be lower-case letters, digits and dashes (3-21 characters)."
  }
}

variable "aws_region" {
  description = "AWS region."
  type        = string
  default     = "eu-west-1"

  validation {
    condition     = can(regex("^[a-z]{2}(-[a-z]+)+-[0-9]$", var.aws_region))
    error_message = "aws_region must be a region name such as eu-west-1."
  }
}

variable "github_repository" {
  description = "GitHub repository (OWNER/REPO) whose workflows may assume the roles."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$", var.github_repository))
    error_message = "github_repository must be OWNER/REPO."
  }
}

variable "environments" {
  description = "Deployment environments (GitHub environments of the same names)."
  type        = list(string)
  default     = ["staging", "production"]

  validation {
    condition     = length(var.environments) > 0 && alltrue([for e in var.environments : can(regex("^[a-z][a-z0-9-]{1,15}$", e))])
    error_message = "Give at least one environment, each lower-case letters, digits and dashes (2-16 characters)."
  }
}

variable "ecr_keep_images" {
  description = "Images the ECR lifecycle policy keeps. Every release is three: the amd64 and arm64 images (<sha>-amd64, <sha>-arm64) and their manifest list (<sha>), so 150 keeps the last 50 releases."
  type        = number
  default     = 150

  validation {
    condition     = var.ecr_keep_images >= 5 && var.ecr_keep_images <= 1000
    error_message = "ecr_keep_images must be between 5 and 1000."
  }
}

variable "ecr_public_cache_prefix" {
  description = "Repository prefix of the ECR Public pull-through cache (modules/ecr_public_cache); the environments' ecr_public_cache_prefix must be the same."
  type        = string
  default     = "ecr-public"
}

variable "state_bucket_name" {
  description = "Terraform state bucket (output state_bucket_name of infra/bootstrap)."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.state_bucket_name))
    error_message = "state_bucket_name must be a valid S3 bucket name."
  }
}

variable "state_kms_key_arn" {
  description = "KMS key of the state bucket (output state_kms_key_arn of infra/bootstrap)."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:kms:", var.state_kms_key_arn))
    error_message = "state_kms_key_arn must be a KMS key ARN."
  }
}
