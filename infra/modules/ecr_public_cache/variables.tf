variable "prefix" {
  description = "Repository prefix of the cache: public.ecr.aws/<path> is pulled as <registry>/<prefix>/<path>. The environments' ecr_public_cache_prefix must be the same."
  type        = string
  default     = "ecr-public"

  validation {
    # ECR's rule for a pull-through cache prefix: 2-30 characters, lower-case letters, digits, . _ - and /.
    condition     = can(regex("^[a-z0-9]+(?:[._-][a-z0-9]+)*$", var.prefix)) && length(var.prefix) >= 2 && length(var.prefix) <= 30
    error_message = "prefix must be 2-30 lower-case letters and digits, separated by single . _ or -."
  }
}

variable "repositories" {
  description = "Paths of the public.ecr.aws repositories the tasks pull (without tag), created up front under the prefix (see main.tf for why)."
  type        = set(string)
  default     = ["aws-observability/aws-otel-collector"]

  validation {
    condition     = alltrue([for r in var.repositories : can(regex("^[a-z0-9]+(?:[._-][a-z0-9]+)*(?:/[a-z0-9]+(?:[._-][a-z0-9]+)*)+$", r))])
    error_message = "repositories must be public.ecr.aws repository paths such as aws-observability/aws-otel-collector."
  }
}

variable "kms_key_arn" {
  description = "KMS key the cached repositories are encrypted with (the app repository's, modules/ecr)."
  type        = string
}

variable "keep_images" {
  description = "Images each cached repository keeps."
  type        = number
  default     = 10
}
