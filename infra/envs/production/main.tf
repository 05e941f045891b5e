# Production: same shape as staging, larger, highly available and protected against accidental deletion.
# Only `settings` (and the vpc_cidr default) differ between infra/envs/staging and infra/envs/production.
# The wiring of every module is in infra/modules/environment.

locals {
  project     = "beer-catalog"
  environment = "production"
}

module "environment" {
  source = "../../modules/environment"

  project                  = local.project
  environment              = local.environment
  vpc_cidr                 = var.vpc_cidr
  image_tag                = var.image_tag
  certificate_arn          = var.certificate_arn
  alarm_emails             = var.alarm_emails
  db_role_password_version = var.db_role_password_version

  settings = {
    nat_gateway_mode         = "per_az" # an AZ outage does not take the other AZ's egress with it
    log_retention_days       = 365
    db_instance_class        = "db.m7g.large"
    db_allocated_storage_gb  = 50
    db_max_storage_gb        = 500
    db_multi_az              = true
    db_backup_retention_days = 14
    db_deletion_protection   = true
    db_final_snapshot        = true
    db_monitoring_interval   = 60
    db_apply_immediately     = false # changes wait for the maintenance window
    alb_deletion_protection  = true
    alb_access_logs          = true
    api_cpu                  = 512
    api_memory               = 1024
    api_desired_count        = 2
    api_min_count            = 2
    api_max_count            = 10
    secret_recovery_days     = 30
    kms_deletion_window_days = 30
  }
}
