# Production: same shape as staging, larger, highly available and protected against accidental deletion.
# Only the "settings" locals differ between infra/envs/staging and infra/envs/production.

locals {
  project     = "beer-catalog"
  environment = "production"
  name_prefix = "${local.project}-${local.environment}"
  app_port    = 8080 # the service's DEFAULT_PORT: container port, target group port, security group rules

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

data "aws_ecr_repository" "app" {
  name = local.project # created by infra/global
}

module "kms" {
  source = "../../modules/kms"

  name_prefix             = local.name_prefix
  deletion_window_in_days = local.settings.kms_deletion_window_days
}

module "network" {
  source = "../../modules/network"

  name_prefix             = local.name_prefix
  vpc_cidr                = var.vpc_cidr
  az_count                = 2
  nat_gateway_mode        = local.settings.nat_gateway_mode
  flow_log_retention_days = local.settings.log_retention_days
  kms_key_arn             = module.kms.key_arn
}

module "security_groups" {
  source = "../../modules/security_groups"

  name_prefix = local.name_prefix
  vpc_id      = module.network.vpc_id
  app_port    = local.app_port
}

module "vpc_endpoints" {
  source = "../../modules/vpc_endpoints"

  name_prefix       = local.name_prefix
  vpc_id            = module.network.vpc_id
  subnet_ids        = module.network.private_subnet_ids
  route_table_ids   = module.network.private_route_table_ids
  security_group_id = module.security_groups.endpoints_security_group_id
}

module "database" {
  source = "../../modules/database"

  name_prefix                 = local.name_prefix
  instance_class              = local.settings.db_instance_class
  allocated_storage_gb        = local.settings.db_allocated_storage_gb
  max_allocated_storage_gb    = local.settings.db_max_storage_gb
  multi_az                    = local.settings.db_multi_az
  backup_retention_days       = local.settings.db_backup_retention_days
  deletion_protection         = local.settings.db_deletion_protection
  final_snapshot              = local.settings.db_final_snapshot
  monitoring_interval         = local.settings.db_monitoring_interval
  apply_immediately           = local.settings.db_apply_immediately
  db_subnet_group_name        = module.network.db_subnet_group_name
  security_group_id           = module.security_groups.db_security_group_id
  kms_key_arn                 = module.kms.key_arn
  role_password_version       = var.db_role_password_version
  secret_recovery_window_days = local.settings.secret_recovery_days
}

module "load_balancer" {
  source = "../../modules/load_balancer"

  name_prefix         = local.name_prefix
  vpc_id              = module.network.vpc_id
  public_subnet_ids   = module.network.public_subnet_ids
  security_group_id   = module.security_groups.alb_security_group_id
  certificate_arn     = var.certificate_arn
  target_port         = local.app_port
  health_check_path   = "/health"
  deletion_protection = local.settings.alb_deletion_protection
  access_logs_enabled = local.settings.alb_access_logs
}

module "observability" {
  source = "../../modules/observability"

  name_prefix             = local.name_prefix
  kms_key_arn             = module.kms.key_arn
  alarm_emails            = var.alarm_emails
  alb_arn_suffix          = module.load_balancer.alb_arn_suffix
  target_group_arn_suffix = module.load_balancer.target_group_arn_suffix
  # Names, not module.service outputs: the service takes this module's alarm names (no dependency cycle).
  cluster_name           = local.name_prefix
  service_name           = "${local.name_prefix}-api"
  db_instance_identifier = module.database.instance_identifier
}

module "service" {
  source = "../../modules/service"

  name_prefix             = local.name_prefix
  image_repository_url    = data.aws_ecr_repository.app.repository_url
  image_repository_arn    = data.aws_ecr_repository.app.arn
  image_tag               = var.image_tag
  container_port          = local.app_port
  cpu                     = local.settings.api_cpu
  memory                  = local.settings.api_memory
  desired_count           = local.settings.api_desired_count
  min_count               = local.settings.api_min_count
  max_count               = local.settings.api_max_count
  private_subnet_ids      = module.network.private_subnet_ids
  tasks_security_group_id = module.security_groups.tasks_security_group_id
  target_group_arn        = module.load_balancer.target_group_arn
  alb_arn_suffix          = module.load_balancer.alb_arn_suffix
  target_group_arn_suffix = module.load_balancer.target_group_arn_suffix
  db_host                 = module.database.address
  db_port                 = module.database.port
  db_name                 = module.database.db_name
  master_secret_arn       = module.database.master_user_secret_arn
  migrator_secret_arn     = module.database.migrator_secret_arn
  app_secret_arn          = module.database.app_secret_arn
  kms_key_arn             = module.kms.key_arn
  log_retention_days      = local.settings.log_retention_days
  deployment_alarm_names  = module.observability.deployment_alarm_names
  # A failed deployment (target 5xx rate, unhealthy hosts) rolls back on these alarms as well as on the circuit breaker.
  secret_recovery_window_days = local.settings.secret_recovery_days
}
