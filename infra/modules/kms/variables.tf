variable "name_prefix" {
  description = "Name prefix, <project>-<env> (e.g. beer-catalog-staging); the key alias is alias/<name_prefix>."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{2,40}$", var.name_prefix))
    error_message = "name_prefix must be lower-case letters, digits and dashes (3-41 characters)."
  }
}

variable "deletion_window_in_days" {
  description = "Days a scheduled key deletion waits before the key (and everything encrypted with it) is gone."
  type        = number
  default     = 30

  validation {
    condition     = var.deletion_window_in_days >= 7 && var.deletion_window_in_days <= 30
    error_message = "deletion_window_in_days must be between 7 and 30."
  }
}
