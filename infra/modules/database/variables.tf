variable "name_prefix" {
  description = "Name prefix, <project>-<env>; the instance is <name_prefix>-db. Its rule (at most 28 characters) is checked once, in modules/environment."
  type        = string
}

variable "engine_version" {
  description = "PostgreSQL version; a major version (\"17\") lets auto minor version upgrades move within it."
  type        = string
  default     = "17"
}

variable "instance_class" {
  description = "RDS instance class (e.g. db.t4g.micro for staging, db.m7g.large for production)."
  type        = string
}

variable "db_name" {
  description = "Name of the database created in the instance (the service's DB_NAME)."
  type        = string
  default     = "beer_catalog"
}

variable "master_username" {
  description = "Master user name (its password is managed by RDS in Secrets Manager)."
  type        = string
  default     = "beer_catalog_admin"
}

variable "migrator_username" {
  description = "PostgreSQL role that owns the schema and runs migrations (MIGRATOR_DB_USER)."
  type        = string
  default     = "beer_catalog_owner"
}

variable "app_username" {
  description = "PostgreSQL DML-only role the service connects as (APP_DB_USER)."
  type        = string
  default     = "beer_catalog_app"
}

variable "role_password_version" {
  description = "Version of the generated passwords (master, migrator, app); bump it to write new ones: RDS takes the new master password_wo, the three secrets the new values (then run the db-roles task)."
  type        = number
  default     = 1
}

variable "allocated_storage_gb" {
  description = "Initial gp3 storage in GiB."
  type        = number
  default     = 20
}

variable "max_allocated_storage_gb" {
  description = "Storage autoscaling ceiling in GiB (must be above allocated_storage_gb)."
  type        = number
  default     = 100
}

variable "db_subnet_group_name" {
  description = "Name of the DB subnet group (private subnets) from the network module."
  type        = string
}

variable "security_group_id" {
  description = "Database security group (accepts 5432 from the tasks' group only)."
  type        = string
}

variable "kms_key_arn" {
  description = "KMS key for storage, Performance Insights, the master secret and the role secrets."
  type        = string
}

variable "multi_az" {
  description = "Run a synchronous standby in a second AZ (automatic failover). On in production."
  type        = bool
  default     = true
}

variable "backup_retention_days" {
  description = "Days of automated backups (point-in-time recovery window)."
  type        = number
  default     = 7
}

variable "deletion_protection" {
  description = "Refuse to delete the instance (on in production)."
  type        = bool
  default     = true
}

variable "final_snapshot" {
  description = "Take a final snapshot (<name_prefix>-db-final) when the instance is deleted (on in production)."
  type        = bool
  default     = true
}

variable "apply_immediately" {
  description = "Apply modifications now instead of in the maintenance window."
  type        = bool
  default     = false
}

variable "performance_insights_retention_days" {
  description = "Performance Insights retention: 7 (free tier) or a multiple of 31 up to 731."
  type        = number
  default     = 7
}

variable "monitoring_interval" {
  description = "Enhanced monitoring interval in seconds; 0 turns it off (and creates no monitoring role)."
  type        = number
  default     = 0
}

variable "iam_database_authentication_enabled" {
  description = "Allow IAM database authentication (optional; the service uses passwords from Secrets Manager)."
  type        = bool
  default     = false
}

variable "log_min_duration_statement_ms" {
  description = "Log statements slower than this many milliseconds (-1: off)."
  type        = number
  default     = 500
}

variable "secret_recovery_window_days" {
  description = "Days a deleted role secret can be restored (0 deletes at once, 7-30 otherwise)."
  type        = number
  default     = 7
}

variable "replica_count" {
  description = "Read replicas of the primary (0: none, the service reads from the primary)."
  type        = number
  default     = 0
}

variable "replica_instance_class" {
  description = "Instance class of the read replicas; null: the primary's class (a smaller replica falls behind under write bursts)."
  type        = string
  default     = null
}

variable "vpc_id" {
  description = "VPC of the database: the private hosted zone holding the read endpoint name is associated with it."
  type        = string
}

variable "permissions_boundary_arn" {
  description = "Managed policy every IAM role of this module carries as its permissions boundary (<project>-<env>-workload-boundary, created by infra/global; the apply role may create roles only with it)."
  type        = string
}
