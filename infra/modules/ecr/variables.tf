variable "repository_name" {
  description = "Name of the ECR repository (fixed: beer-catalog; the workflows push to it by name)."
  type        = string
  default     = "beer-catalog"

  validation {
    condition     = can(regex("^[a-z0-9]+([._/-][a-z0-9]+)*$", var.repository_name))
    error_message = "repository_name must be a valid ECR repository name."
  }
}

variable "keep_images" {
  description = "How many images the lifecycle policy keeps (older ones expire); must cover production's rollback window."
  type        = number
  default     = 50

  validation {
    condition     = var.keep_images >= 5 && var.keep_images <= 1000
    error_message = "keep_images must be between 5 and 1000."
  }
}
