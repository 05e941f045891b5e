variable "project" {
  description = "Project name; prefix of every role (<project>-github-*, <project>-<env>-github-*)."
  type        = string
  default     = "beer-catalog"
}

variable "github_repository" {
  description = "GitHub repository allowed to assume the roles, as OWNER/REPO (e.g. my-org/beer-catalog)."
  type        = string
}

variable "environments" {
  description = "GitHub environments (= deployment environments) that get deploy and apply roles."
  type        = list(string)
  default     = ["staging", "production"]
}

variable "aws_region" {
  description = "Region the environments run in (ARNs of clusters, services, log groups, secrets)."
  type        = string
}

variable "ecr_repository_arn" {
  description = "ARN of the ECR repository the push role may push to and deploy roles may inspect."
  type        = string
}

variable "ecr_public_cache_prefix" {
  description = "Prefix of the ECR Public pull-through cache (modules/ecr_public_cache): the workload boundary allows pulling from its repositories."
  type        = string
}

variable "state_bucket_name" {
  description = "Name of the Terraform state bucket (from infra/bootstrap)."
  type        = string
}

variable "state_kms_key_arn" {
  description = "ARN of the KMS key encrypting the state bucket (from infra/bootstrap)."
  type        = string
}
