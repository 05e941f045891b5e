output "cluster_name" {
  description = "ECS cluster name (<name_prefix>)."
  value       = aws_ecs_cluster.this.name
}

output "cluster_arn" {
  description = "ECS cluster ARN."
  value       = aws_ecs_cluster.this.arn
}

output "service_name" {
  description = "ECS service name (<name_prefix>-api)."
  value       = aws_ecs_service.api.name
}

output "api_task_family" {
  description = "Task definition family of the service (<name_prefix>-api, container api)."
  value       = aws_ecs_task_definition.this["api"].family
}

output "migrate_task_family" {
  description = "Task definition family of the migration task (<name_prefix>-migrate, container migrate)."
  value       = aws_ecs_task_definition.this["migrate"].family
}

output "db_roles_task_family" {
  description = "Task definition family of the role provisioning task (<name_prefix>-db-roles, container db-roles)."
  value       = aws_ecs_task_definition.this["db-roles"].family
}

output "log_group_name" {
  description = "Log group of every task (/ecs/<name_prefix>; stream prefixes api, migrate, db-roles)."
  value       = aws_cloudwatch_log_group.ecs.name
}

output "execution_role_arns" {
  description = "Execution role ARNs keyed by task (api, migrate, db-roles)."
  value       = { for k, r in aws_iam_role.execution : k => r.arn }
}

output "task_role_arn" {
  description = "ARN of the (permissionless) task role."
  value       = aws_iam_role.task.arn
}

output "api_keys_secret_arn" {
  description = "ARN of the API_KEYS secret (value set out of band)."
  value       = aws_secretsmanager_secret.api_keys.arn
}

output "metrics_log_group_name" {
  description = "Log group of the collector's EMF events (/ecs/<name_prefix>/metrics)."
  value       = aws_cloudwatch_log_group.metrics.name
}
