variable "name_prefix" {
  description = "Name prefix, <project>-<env> (e.g. beer-catalog-staging); the key alias is alias/<name_prefix>. Its rule (at most 28 characters) is checked once, in modules/environment."
  type        = string
}

variable "deletion_window_in_days" {
  description = "Days a scheduled key deletion waits before the key (and everything encrypted with it) is gone."
  type        = number
  default     = 30
}
