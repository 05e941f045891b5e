variable "name_prefix" {
  description = "Name prefix, <project>-<env>; the instance is <name_prefix>-db."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{2,40}$", var.name_prefix))
    error_message = "name_prefix must be lower-case letters, digits and dashes (3-41 characters)."
  }
}

variable "engine_version" {
  description = "PostgreSQL version; a major version (\"17\") lets auto minor version upgrades move within it."
  type        = string
  default     = "17"

  validation {
    condition     = can(regex("^17(\\.[0-9]+)?$", var.engine_version))
    error_message = "engine_version must be PostgreSQL 17 (\"17\" or \"17.x\"); the parameter group family is postgres17."
  }
}

variable "instance_class" {
  description = "RDS instance class (e.g. db.t4g.micro for staging, db.m7g.large for production)."
  type        = string

  validation {
    condition     = startswith(var.instance_class, "db.")
    error_message = "instance_class must be an RDS instance class (db.*)."
  }
}

variable "db_name" {
  description = "Name of the database created in the instance (the service's DB_NAME)."
  type        = string
  default     = "beer_catalog"

  validation {
    condition     = can(regex("^[a-z][a-z0-9_]{0,62}$", var.db_name))
    error_message = "db_name must start with a letter and hold lower-case letters, digits and underscores."
  }
}

variable "master_username" {
  description = "Master user name (its password is managed by RDS in Secrets Manager)."
  type        = string
  default     = "beer_catalog_admin"

  validation {
    condition     = can(regex("^[a-z][a-z0-9_]{0,62}$", var.master_username)) && var.master_username != "postgres"
    error_message = "master_username must be a lower-case identifier and not the reserved name postgres."
  }
}

variable "migrator_username" {
  description = "PostgreSQL role that owns the schema and runs migrations (MIGRATOR_DB_USER)."
  type        = string
  default     = "beer_catalog_owner"

  validation {
    condition     = can(regex("^[a-z][a-z0-9_]{0,62}$", var.migrator_username))
    error_message = "migrator_username must be a lower-case identifier."
  }
}

variable "app_username" {
  description = "PostgreSQL DML-only role the service connects as (APP_DB_USER)."
  type        = string
  default     = "beer_catalog_app"

  validation {
    condition     = can(regex("^[a-z][a-z0-9_]{0,62}$", var.app_username))
    error_message = "app_username must be a lower-case identifier."
  }
}

variable "role_password_version" {
  description = "Version of the generated role passwords; bump it to write new passwords (then run the db-roles task)."
  type        = number
  default     = 1

  validation {
    condition     = var.role_password_version >= 1 && floor(var.role_password_version) == var.role_password_version
    error_message = "role_password_version must be a positive integer."
  }
}

variable "allocated_storage_gb" {
  description = "Initial gp3 storage in GiB."
  type        = number
  default     = 20

  validation {
    condition     = var.allocated_storage_gb >= 20 && var.allocated_storage_gb <= 65536
    error_message = "allocated_storage_gb must be between 20 and 65536."
  }
}

variable "max_allocated_storage_gb" {
  description = "Storage autoscaling ceiling in GiB (must be above allocated_storage_gb)."
  type        = number
  default     = 100

  validation {
    condition     = var.max_allocated_storage_gb >= 20 && var.max_allocated_storage_gb <= 65536
    error_message = "max_allocated_storage_gb must be between 20 and 65536."
  }

  validation {
    condition     = var.max_allocated_storage_gb > var.allocated_storage_gb
    error_message = "max_allocated_storage_gb must be above allocated_storage_gb (storage autoscaling ceiling)."
  }
}

variable "db_subnet_group_name" {
  description = "Name of the DB subnet group (private subnets) from the network module."
  type        = string

  validation {
    condition     = length(var.db_subnet_group_name) > 0
    error_message = "db_subnet_group_name must not be empty."
  }
}

variable "security_group_id" {
  description = "Database security group (accepts 5432 from the tasks' group only)."
  type        = string

  validation {
    condition     = startswith(var.security_group_id, "sg-")
    error_message = "security_group_id must be a security group ID (sg-...)."
  }
}

variable "kms_key_arn" {
  description = "KMS key for storage, Performance Insights, the master secret and the role secrets."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:kms:", var.kms_key_arn))
    error_message = "kms_key_arn must be a KMS key ARN."
  }
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

  validation {
    condition     = var.backup_retention_days >= 1 && var.backup_retention_days <= 35
    error_message = "backup_retention_days must be between 1 and 35 (0 would disable backups)."
  }
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

  validation {
    condition     = var.performance_insights_retention_days == 7 || (var.performance_insights_retention_days % 31 == 0 && var.performance_insights_retention_days <= 731) || var.performance_insights_retention_days == 731
    error_message = "performance_insights_retention_days must be 7, a multiple of 31, or 731."
  }
}

variable "monitoring_interval" {
  description = "Enhanced monitoring interval in seconds; 0 turns it off (and creates no monitoring role)."
  type        = number
  default     = 0

  validation {
    condition     = contains([0, 1, 5, 10, 15, 30, 60], var.monitoring_interval)
    error_message = "monitoring_interval must be one of 0, 1, 5, 10, 15, 30, 60."
  }
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

  validation {
    condition     = var.log_min_duration_statement_ms >= -1
    error_message = "log_min_duration_statement_ms must be -1 or more."
  }
}

variable "secret_recovery_window_days" {
  description = "Days a deleted role secret can be restored (0 deletes at once, 7-30 otherwise)."
  type        = number
  default     = 7

  validation {
    condition     = var.secret_recovery_window_days == 0 || (var.secret_recovery_window_days >= 7 && var.secret_recovery_window_days <= 30)
    error_message = "secret_recovery_window_days must be 0 or between 7 and 30."
  }
}

variable "replica_count" {
  description = "Read replicas of the primary (0: none, the service reads from the primary)."
  type        = number
  default     = 0

  validation {
    condition     = var.replica_count >= 0 && var.replica_count <= 5 && floor(var.replica_count) == var.replica_count
    error_message = "replica_count must be a whole number from 0 to 5 (RDS PostgreSQL allows up to 15; more is an Aurora question, see infra/README.md)."
  }
}

variable "replica_instance_class" {
  description = "Instance class of the read replicas; null: the primary's class (a smaller replica falls behind under write bursts)."
  type        = string
  default     = null

  validation {
    condition     = var.replica_instance_class == null || startswith(coalesce(var.replica_instance_class, "db."), "db.")
    error_message = "replica_instance_class must be null or an RDS instance class (db.*)."
  }
}

variable "vpc_id" {
  description = "VPC of the database: the private hosted zone holding the read endpoint name is associated with it."
  type        = string

  validation {
    condition     = startswith(var.vpc_id, "vpc-")
    error_message = "vpc_id must be a VPC ID (vpc-...)."
  }
}
