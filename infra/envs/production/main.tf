# Production: same shape as staging, larger, highly available and protected against accidental deletion.
# Only `settings` (and the vpc_cidr default) differ between infra/envs/staging and infra/envs/production.
# The wiring of every module is in infra/modules/environment.

locals {
  project     = "beer-catalog"
  environment = "production"
}

module "environment" {
  source = "../../modules/environment"
  providers = {
    aws           = aws
    aws.us_east_1 = aws.us_east_1
  }

  project                  = local.project
  environment              = local.environment
  vpc_cidr                 = var.vpc_cidr
  image_tag                = var.image_tag
  certificate_arn          = var.certificate_arn
  origin_domain_name       = var.origin_domain_name
  domain_name              = var.domain_name
  hosted_zone_id           = var.hosted_zone_id
  alarm_emails             = var.alarm_emails
  db_role_password_version = var.db_role_password_version

  settings = {
    nat_gateway_mode             = "none" # nothing the tasks may send needs NAT (infra/README.md#network-nat-endpoints-or-public-ips)
    interface_endpoints          = true   # image pulls, logs, secrets and traces stay in the VPC
    tasks_public_ip              = false
    log_retention_days           = 365
    db_engine                    = "aurora" # Serverless v2: writer + 1 reader (the failover target and DB_READ_HOST)
    db_aurora_min_acu            = 1
    db_aurora_max_acu            = 8   # 16 GiB: at least the memory of the db.m7g.large it replaces
    db_aurora_auto_pause_seconds = 300 # unused: min 1 never pauses
    db_instance_class            = "db.m7g.large"
    db_allocated_storage_gb      = 50
    db_max_storage_gb            = 500
    db_multi_az                  = true
    db_backup_retention_days     = 14
    db_deletion_protection       = true
    db_final_snapshot            = true
    db_monitoring_interval       = 60
    db_replica_count             = 1     # catalog reads (DB_READ_HOST); the primary keeps the writes
    db_apply_immediately         = false # changes wait for the maintenance window
    alb_deletion_protection      = true
    alb_access_logs              = true
    api_cpu                      = 512
    api_cpu_architecture         = "ARM64"
    api_on_demand_base           = 2    # = api_min_count: the floor never depends on Spot capacity
    api_spot_above_base          = true # scale-out beyond the floor on Spot
    api_schedule                 = null # always on
    api_memory                   = 1024
    api_desired_count            = 2
    api_min_count                = 2
    api_max_count                = 10
    secret_recovery_days         = 30
    kms_deletion_window_days     = 30
    cdn_price_class              = "PriceClass_100" # North America and Europe edges; _All adds cost for few clients
    waf_rate_limit_per_5_minutes = 1500             # 5 requests/s sustained per client IP, across every task
    api_rate_limit_per_hour      = 3600             # per task: a second line behind the WAF's global limit
    deployment_bake_minutes      = 15               # both colours stay up; an alarm in that window rolls back at once
    # Internal ALB behind a CloudFront VPC origin, as staging: no public address, $7.30 a month less. infra.yml
    # applies production only after staging's apply succeeded, so staging's apply proves the VPC origin first;
    # "internet" is the way back (infra/README.md, "The edge").
    cdn_origin         = "vpc_origin"
    container_insights = "enabled" # the request-count scaling policy reads its RunningTaskCount
  }
}
