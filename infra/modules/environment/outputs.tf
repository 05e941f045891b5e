# Everything an environment root outputs (the roots pass these through under the same names).

output "alb_dns_name" {
  description = "DNS name of the ALB."
  value       = module.load_balancer.alb_dns_name
}

output "alb_zone_id" {
  description = "Hosted zone ID of the ALB, for a Route 53 alias record."
  value       = module.load_balancer.alb_zone_id
}

output "ecs_cluster_name" {
  description = "ECS cluster (beer-catalog-<env>)."
  value       = module.service.cluster_name
}

output "ecs_service_name" {
  description = "ECS service (beer-catalog-<env>-api)."
  value       = module.service.service_name
}

output "api_task_family" {
  description = "Task family of the service (beer-catalog-<env>-api, container api)."
  value       = module.service.api_task_family
}

output "migrate_task_family" {
  description = "Task family of the migration (beer-catalog-<env>-migrate, container migrate, command migrate)."
  value       = module.service.migrate_task_family
}

output "db_roles_task_family" {
  description = "Task family of the role provisioning (beer-catalog-<env>-db-roles, container db-roles, command provision-roles)."
  value       = module.service.db_roles_task_family
}

output "private_subnet_ids" {
  description = "Subnets of the tasks, for one-off tasks (run-task --network-configuration): the private subnets, or the public ones with tasks_public_ip (then run them with assignPublicIp=ENABLED)."
  value       = var.settings.tasks_public_ip ? module.network.public_subnet_ids : module.network.private_subnet_ids
}

output "tasks_security_group_id" {
  description = "Security group for one-off tasks (beer-catalog-<env>-tasks)."
  value       = module.security_groups.tasks_security_group_id
}

output "log_group_name" {
  description = "Log group of every task (/ecs/beer-catalog-<env>)."
  value       = module.service.log_group_name
}

output "api_keys_secret_arn" {
  description = "Secret to put the API keys into (out of band) before the first deploy."
  value       = module.service.api_keys_secret_arn
}

output "dashboard_name" {
  description = "CloudWatch dashboard of the environment."
  value       = module.observability.dashboard_name
}

output "alarm_topic_arn" {
  description = "SNS topic receiving the alarms."
  value       = module.observability.sns_topic_arn
}

output "db_instance_identifier" {
  description = "RDS instance identifier, or with Aurora the cluster identifier."
  value       = module.database.instance_identifier
}

output "public_base_url" {
  description = "https://<public host> the API is reached at (custom domain or CloudFront name); the service's PUBLIC_BASE_URL."
  value       = module.edge.public_base_url
}

output "cloudfront_distribution_id" {
  description = "CloudFront distribution of the environment (invalidations: aws cloudfront create-invalidation)."
  value       = module.edge.distribution_id
}

output "cloudfront_domain_name" {
  description = "The distribution's *.cloudfront.net name (the DNS target of the public host name)."
  value       = module.edge.distribution_domain_name
}

output "certificate_validation_records" {
  description = "DNS records validating the public certificate (create them when hosted_zone_id is null)."
  value       = module.edge.certificate_validation_records
}

output "db_read_host" {
  description = "Read endpoint of the replicas (the task's DB_READ_HOST), null without replicas."
  value       = module.database.read_host
}
