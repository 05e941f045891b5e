# The deploy workflow reads these by name. Descriptions: infra/modules/environment/outputs.tf.

output "alb_dns_name" { value = module.environment.alb_dns_name }
output "alb_zone_id" { value = module.environment.alb_zone_id }
output "ecs_cluster_name" { value = module.environment.ecs_cluster_name }
output "ecs_service_name" { value = module.environment.ecs_service_name }
output "api_task_family" { value = module.environment.api_task_family }
output "migrate_task_family" { value = module.environment.migrate_task_family }
output "db_roles_task_family" { value = module.environment.db_roles_task_family }
output "private_subnet_ids" { value = module.environment.private_subnet_ids }
output "tasks_security_group_id" { value = module.environment.tasks_security_group_id }
output "log_group_name" { value = module.environment.log_group_name }
output "api_keys_secret_arn" { value = module.environment.api_keys_secret_arn }
output "dashboard_name" { value = module.environment.dashboard_name }
output "alarm_topic_arn" { value = module.environment.alarm_topic_arn }
output "db_instance_identifier" { value = module.environment.db_instance_identifier }
output "public_base_url" { value = module.environment.public_base_url }
output "cloudfront_distribution_id" { value = module.environment.cloudfront_distribution_id }
output "cloudfront_domain_name" { value = module.environment.cloudfront_domain_name }
output "certificate_validation_records" { value = module.environment.certificate_validation_records }
output "db_read_host" { value = module.environment.db_read_host }
