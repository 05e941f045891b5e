variable "project" {
  description = "Project name; prefix of every role (<project>-github-*, <project>-<env>-github-*)."
  type        = string
  default     = "beer-catalog"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{2,20}$", var.project))
    error_message = "project must be lower-case letters, digits and dashes (3-21 characters)."
  }
}

variable "github_repository" {
  description = "GitHub repository allowed to assume the roles, as OWNER/REPO (e.g. my-org/beer-catalog)."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$", var.github_repository))
    error_message = "github_repository must be OWNER/REPO."
  }
}

variable "environments" {
  description = "GitHub environments (= deployment environments) that get deploy and apply roles."
  type        = list(string)
  default     = ["staging", "production"]

  validation {
    condition     = length(var.environments) > 0 && alltrue([for e in var.environments : can(regex("^[a-z][a-z0-9-]{1,15}$", e))])
    error_message = "environments must be lower-case names (2-16 characters)."
  }
}

variable "aws_region" {
  description = "Region the environments run in (ARNs of clusters, services, log groups, secrets)."
  type        = string

  validation {
    condition     = can(regex("^[a-z]{2}(-[a-z]+)+-[0-9]$", var.aws_region))
    error_message = "aws_region must be a region name such as eu-west-1."
  }
}

variable "ecr_repository_arn" {
  description = "ARN of the ECR repository the push role may push to and deploy roles may inspect."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:ecr:", var.ecr_repository_arn))
    error_message = "ecr_repository_arn must be an ECR repository ARN."
  }
}

variable "state_bucket_name" {
  description = "Name of the Terraform state bucket (from infra/bootstrap)."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.state_bucket_name))
    error_message = "state_bucket_name must be a valid S3 bucket name."
  }
}

variable "state_kms_key_arn" {
  description = "ARN of the KMS key encrypting the state bucket (from infra/bootstrap)."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:kms:", var.state_kms_key_arn))
    error_message = "state_kms_key_arn must be a KMS key ARN."
  }
}
