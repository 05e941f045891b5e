output "sns_topic_arn" {
  description = "ARN of the alarm SNS topic."
  value       = aws_sns_topic.alarms.arn
}

output "deployment_alarm_names" {
  description = "Alarms that fail and roll back an ECS deployment (also during the blue/green bake): target 5xx rate, p99 response time, unhealthy hosts."
  value = [
    aws_cloudwatch_metric_alarm.target_5xx.alarm_name,
    aws_cloudwatch_metric_alarm.p99_latency.alarm_name,
    aws_cloudwatch_metric_alarm.unhealthy_hosts.alarm_name,
  ]
}

output "alarm_names" {
  description = "All alarm names keyed by purpose (RDS replica lag alarms under replica_lag, keyed by replica; aurora_acu and aurora_replica_lag with aurora; route_5xx by route, pool_acquire by pool)."
  value       = merge(local.alarm_names, local.database_alarm_names, { replica_lag = local.replica_alarm_names }, local.application_alarm_names)
}

output "dashboard_name" {
  description = "Name of the CloudWatch dashboard."
  value       = aws_cloudwatch_dashboard.this.dashboard_name
}
