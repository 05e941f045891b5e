# One environment (infra/envs/staging, infra/envs/production): every module of the environment, wired together.
# What differs between environments comes in through var.environment, var.settings and the root inputs.

locals {
  name_prefix = "${var.project}-${var.environment}"
  app_port    = 8080 # the service's DEFAULT_PORT: container port, target group port, security group rules
  # The service's own metrics (the api task's collector writes them, the dashboard and alarms read them).
  metrics_namespace = "${var.project}/${var.environment}"
  alb_https         = var.certificate_arn != null
  # cdn_origin = "vpc_origin": the ALB is internal, in the private subnets, and CloudFront reaches it through a VPC
  # origin (modules/edge); "internet": internet-facing in the public subnets, one public IPv4 address per AZ.
  alb_internal = var.settings.cdn_origin == "vpc_origin"
}

# The ECR repository is created by infra/global (modules/ecr, named var.project). Its URL and ARN are built from
# the account, region and name rather than read with data "aws_ecr_repository": in AWS provider 6.x that data
# source also calls ecr:DescribeImages (for most_recent_image_tags) and fails the whole plan when the role may not,
# and neither the plan nor the apply roles need to list images. tests/infra_contract keeps every data source a root
# reads in a list of the API calls it makes and checks the roles allow them.
data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}
data "aws_region" "current" {}

locals {
  ecr_registry       = "${data.aws_caller_identity.current.account_id}.dkr.ecr.${data.aws_region.current.region}.${data.aws_partition.current.dns_suffix}"
  ecr_repository_url = "${local.ecr_registry}/${var.project}"
  ecr_repository_arn = "arn:${data.aws_partition.current.partition}:ecr:${data.aws_region.current.region}:${data.aws_caller_identity.current.account_id}:repository/${var.project}"

  # The permissions boundary every role of this environment carries: a managed policy of infra/global
  # (modules/github_actions, boundary.tf), which this environment's apply role can neither change nor remove, and
  # without which it may not create a role at all.
  permissions_boundary_arn = "arn:${data.aws_partition.current.partition}:iam::${data.aws_caller_identity.current.account_id}:policy/${local.name_prefix}-workload-boundary"
}

module "kms" {
  source = "../kms"

  name_prefix             = local.name_prefix
  deletion_window_in_days = var.settings.kms_deletion_window_days
}

module "network" {
  source = "../network"

  name_prefix             = local.name_prefix
  vpc_cidr                = var.vpc_cidr
  az_count                = 2
  nat_gateway_mode        = var.settings.nat_gateway_mode
  flow_log_retention_days = var.settings.log_retention_days
  flow_log_class          = "INFREQUENT_ACCESS"
  kms_key_arn             = module.kms.key_arn

  permissions_boundary_arn = local.permissions_boundary_arn
}

module "security_groups" {
  source = "../security_groups"

  name_prefix = local.name_prefix
  vpc_id      = module.network.vpc_id
  app_port    = local.app_port
  # The one port CloudFront reaches the ALB on: HTTPS with a certificate, HTTP in a bring-up without one.
  alb_listener_port = local.alb_https ? 443 : 80
  # Tasks with public IPs reach ECR, Logs and Secrets Manager at their public HTTPS endpoints.
  tasks_internet_egress = var.settings.tasks_public_ip
}

module "vpc_endpoints" {
  source = "../vpc_endpoints"

  name_prefix       = local.name_prefix
  vpc_id            = module.network.vpc_id
  subnet_ids        = module.network.private_subnet_ids
  route_table_ids   = module.network.private_route_table_ids
  security_group_id = module.security_groups.endpoints_security_group_id
  # Without them (tasks_public_ip, or NAT only) the S3 gateway endpoint remains: it costs nothing.
  interface_endpoints = var.settings.interface_endpoints
}

module "database" {
  source = "../database"

  name_prefix                     = local.name_prefix
  engine                          = var.settings.db_engine
  aurora_min_capacity             = var.settings.db_aurora_min_acu
  aurora_max_capacity             = var.settings.db_aurora_max_acu
  aurora_seconds_until_auto_pause = var.settings.db_aurora_auto_pause_seconds
  instance_class                  = var.settings.db_instance_class
  allocated_storage_gb            = var.settings.db_allocated_storage_gb
  max_allocated_storage_gb        = var.settings.db_max_storage_gb
  multi_az                        = var.settings.db_multi_az
  backup_retention_days           = var.settings.db_backup_retention_days
  deletion_protection             = var.settings.db_deletion_protection
  final_snapshot                  = var.settings.db_final_snapshot
  monitoring_interval             = var.settings.db_monitoring_interval
  apply_immediately               = var.settings.db_apply_immediately
  db_subnet_group_name            = module.network.db_subnet_group_name
  security_group_id               = module.security_groups.db_security_group_id
  kms_key_arn                     = module.kms.key_arn
  role_password_version           = var.db_role_password_version
  secret_recovery_window_days     = var.settings.secret_recovery_days
  replica_count                   = var.settings.db_replica_count
  log_retention_days              = var.settings.log_retention_days
  vpc_id                          = module.network.vpc_id

  permissions_boundary_arn = local.permissions_boundary_arn
}

module "load_balancer" {
  source = "../load_balancer"

  name_prefix         = local.name_prefix
  vpc_id              = module.network.vpc_id
  internal            = local.alb_internal
  subnet_ids          = local.alb_internal ? module.network.private_subnet_ids : module.network.public_subnet_ids
  security_group_id   = module.security_groups.alb_security_group_id
  certificate_arn     = var.certificate_arn
  target_port         = local.app_port
  health_check_path   = "/started"
  deletion_protection = var.settings.alb_deletion_protection
  access_logs_enabled = var.settings.alb_access_logs
}

# CloudFront, WAF, the public certificate and the edge alarms: all in us-east-1 (see modules/edge).
module "edge" {
  source = "../edge"
  providers = {
    aws = aws.us_east_1
  }

  name_prefix              = local.name_prefix
  alb_dns_name             = module.load_balancer.alb_dns_name
  alb_arn                  = module.load_balancer.alb_arn
  alb_internal             = local.alb_internal
  alb_https                = local.alb_https
  origin_domain_name       = var.origin_domain_name
  origin_header_name       = module.load_balancer.origin_header_name
  origin_secret            = module.load_balancer.origin_secret
  test_traffic_header_name = module.load_balancer.test_traffic_header_name
  domain_name              = var.domain_name
  hosted_zone_id           = var.hosted_zone_id
  price_class              = var.settings.cdn_price_class
  rate_limit_per_5_minutes = var.settings.waf_rate_limit_per_5_minutes
  log_retention_days       = var.settings.log_retention_days
  alarm_emails             = var.alarm_emails
  kms_deletion_window_days = var.settings.kms_deletion_window_days
}

module "observability" {
  source = "../observability"

  name_prefix               = local.name_prefix
  kms_key_arn               = module.kms.key_arn
  alarm_emails              = var.alarm_emails
  alb_arn_suffix            = module.load_balancer.alb_arn_suffix
  target_group_arn_suffixes = module.load_balancer.target_group_arn_suffixes
  replica_identifiers       = module.database.replica_identifiers
  db_engine                 = module.database.engine
  aurora_reader_count       = module.database.aurora_reader_count
  edge = {
    distribution_id     = module.edge.distribution_id
    web_acl_metric_name = module.edge.web_acl_metric_name
    alarm_arns          = module.edge.alarm_arns
  }
  # Names, not module.service outputs: the service takes this module's alarm names (no dependency cycle).
  cluster_name           = local.name_prefix
  service_name           = "${local.name_prefix}-api"
  log_group_name         = "/ecs/${local.name_prefix}"
  db_instance_identifier = module.database.instance_identifier
  metrics_namespace      = local.metrics_namespace
}

module "service" {
  source = "../service"

  name_prefix          = local.name_prefix
  image_repository_url = local.ecr_repository_url
  image_repository_arn = local.ecr_repository_arn
  image_tag            = var.image_tag
  # The collector sidecar's image through infra/global's ECR Public pull-through cache, in both environments: the
  # only path without internet egress (production), and staging pulls the way production does.
  collector_pull_through_prefix = var.ecr_public_cache_prefix
  container_port                = local.app_port
  cpu                           = var.settings.api_cpu
  cpu_architecture              = var.settings.api_cpu_architecture
  container_insights            = var.settings.container_insights
  capacity = {
    on_demand_base = var.settings.api_on_demand_base
    spot           = var.settings.api_spot_above_base
  }
  schedule      = var.settings.api_schedule
  memory        = var.settings.api_memory
  desired_count = var.settings.api_desired_count
  min_count     = var.settings.api_min_count
  max_count     = var.settings.api_max_count
  # Public IPs (no NAT, no endpoints): the public subnets; the security group still admits only the ALB.
  private_subnet_ids      = var.settings.tasks_public_ip ? module.network.public_subnet_ids : module.network.private_subnet_ids
  assign_public_ip        = var.settings.tasks_public_ip
  tasks_security_group_id = module.security_groups.tasks_security_group_id
  target_group_arn        = module.load_balancer.target_group_arn
  alb_arn_suffix          = module.load_balancer.alb_arn_suffix
  db_host                 = module.database.address
  db_port                 = module.database.port
  db_name                 = module.database.db_name
  master_secret_arn       = module.database.master_user_secret_arn
  migrator_secret_arn     = module.database.migrator_secret_arn
  app_secret_arn          = module.database.app_secret_arn
  kms_key_arn             = module.kms.key_arn
  log_retention_days      = var.settings.log_retention_days
  # A failed deployment (target 5xx rate, p99 latency, unhealthy hosts) rolls back on these alarms as well as on
  # the circuit breaker, during the blue/green bake too.
  deployment_alarm_names      = module.observability.deployment_alarm_names
  secret_recovery_window_days = var.settings.secret_recovery_days

  blue_green = {
    alternate_target_group_arn   = module.load_balancer.alternate_target_group_arn
    production_listener_rule_arn = module.load_balancer.production_listener_rule_arn
    test_listener_rule_arn       = module.load_balancer.test_listener_rule_arn
  }
  bake_time_minutes = var.settings.deployment_bake_minutes

  public_base_url = module.edge.public_base_url
  db_read_host    = module.database.read_host
  # The ALB (inside the VPC) and CloudFront are the two proxies in front of the service.
  trusted_proxies     = concat([var.vpc_cidr], module.security_groups.cloudfront_origin_cidrs)
  rate_limit_per_hour = var.settings.api_rate_limit_per_hour
  metrics_namespace   = local.metrics_namespace
  # Idle keep-alive connections: the ALB closes them first.
  load_balancer_idle_timeout_seconds = module.load_balancer.idle_timeout_seconds

  permissions_boundary_arn = local.permissions_boundary_arn
}
