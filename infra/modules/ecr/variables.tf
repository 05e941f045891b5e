variable "repository_name" {
  description = "Name of the ECR repository (fixed: beer-catalog; the workflows push to it by name)."
  type        = string
  default     = "beer-catalog"
}

variable "keep_images" {
  description = "How many images the lifecycle policy keeps (older ones expire); must cover production's rollback window."
  type        = number
  default     = 50
}
