# Staging: same shape as production, smaller and cheaper, without the protections that make it hard to tear down.
# Only `settings` (and the vpc_cidr default) differ between infra/envs/staging and infra/envs/production.
# The wiring of every module is in infra/modules/environment.

locals {
  project     = "beer-catalog"
  environment = "staging"
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
    nat_gateway_mode             = "none" # no NAT: the tasks have public IPs (tasks_public_ip)
    interface_endpoints          = false  # ~$80 a month saved; ECR, Logs, Secrets Manager, X-Ray at their public endpoints
    tasks_public_ip              = true   # in the public subnets, reachable from the ALB's group only
    log_retention_days           = 30
    db_engine                    = "aurora" # Serverless v2: pauses when idle (min 0 ACU)
    db_aurora_min_acu            = 0
    db_aurora_max_acu            = 2
    db_aurora_auto_pause_seconds = 300
    db_instance_class            = "db.t4g.micro"
    db_allocated_storage_gb      = 20
    db_max_storage_gb            = 50
    db_multi_az                  = false
    db_backup_retention_days     = 3
    db_deletion_protection       = false
    db_final_snapshot            = false
    db_monitoring_interval       = 0
    db_replica_count             = 0 # reads go to the primary (DB_READ_HOST unset)
    db_apply_immediately         = true
    alb_deletion_protection      = false
    alb_access_logs              = false
    api_cpu                      = 256
    api_cpu_architecture         = "ARM64"
    api_on_demand_base           = 0 # every staging task on Spot: an interruption only costs a restart
    api_spot_above_base          = true
    api_schedule = { # asleep nights and weekends; the deploy workflow wakes it for a release
      timezone = "Europe/Dublin"
      days     = "MON-FRI"
      wake_at  = "08:00" # an 11-hour working day; outside it the deploy workflow (or
      sleep_at = "19:00" # .github/scripts/ecs-wake-service.sh by hand) wakes it until the next sleep
    }
    api_memory                   = 512
    api_desired_count            = 1
    api_min_count                = 1
    api_max_count                = 2
    secret_recovery_days         = 0 # staging secrets can be recreated at once
    kms_deletion_window_days     = 7
    cdn_price_class              = "PriceClass_100"
    waf_rate_limit_per_5_minutes = 1000
    api_rate_limit_per_hour      = 3600
    deployment_bake_minutes      = 5 # short: staging deploys often
    # Internal ALB behind a CloudFront VPC origin: no public IPv4 on the ALB ($7.30 a month for its two) and no
    # public address to probe; the WAF, the origin header and the security group stay as they are.
    cdn_origin = "vpc_origin"
    # Off in staging (~$3 a month of custom metrics): the free AWS/ECS CPU and memory metrics, the ALB's and the
    # service's own metrics remain, and so does every alarm; only the request-count scaling policy goes with it.
    container_insights = "disabled"
  }
}
