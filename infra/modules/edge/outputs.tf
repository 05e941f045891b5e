output "distribution_id" {
  description = "ID of the CloudFront distribution (invalidations, metrics)."
  value       = aws_cloudfront_distribution.this.id
}

output "distribution_arn" {
  description = "ARN of the CloudFront distribution."
  value       = aws_cloudfront_distribution.this.arn
}

output "distribution_domain_name" {
  description = "The distribution's *.cloudfront.net name (point the public DNS name at it when hosted_zone_id is null)."
  value       = aws_cloudfront_distribution.this.domain_name
}

output "public_base_url" {
  description = "https://<public host>: the custom domain, or the distribution's name without one (the service's PUBLIC_BASE_URL)."
  value       = "https://${local.public_host}"
}

output "web_acl_arn" {
  description = "ARN of the WAF web ACL on the distribution."
  value       = aws_wafv2_web_acl.this.arn
}

output "web_acl_name" {
  description = "Name of the WAF web ACL (console, logs). Not the metrics' dimension: see web_acl_metric_name."
  value       = aws_wafv2_web_acl.this.name
}

output "web_acl_metric_name" {
  description = "Metric name of the WAF web ACL: the WebACL dimension of its AWS/WAFV2 metrics (visibility_config.metric_name)."
  value       = local.waf_metric
}

output "waf_log_group_name" {
  description = "CloudWatch log group of the WAF logs (us-east-1)."
  value       = aws_cloudwatch_log_group.waf.name
}

output "access_log_group_name" {
  description = "CloudWatch log group of the CloudFront access logs (us-east-1)."
  value       = aws_cloudwatch_log_group.access.name
}

output "alarm_arns" {
  description = "ARNs of the edge alarms (us-east-1), for the environment dashboard."
  value       = [aws_cloudwatch_metric_alarm.waf_blocked.arn, aws_cloudwatch_metric_alarm.cdn_5xx.arn]
}

output "alarm_topic_arn" {
  description = "SNS topic (us-east-1) the edge alarms notify."
  value       = aws_sns_topic.alarms.arn
}

output "certificate_validation_records" {
  description = "DNS records proving ownership of domain_name to ACM (create them when hosted_zone_id is null)."
  value = local.custom_domain ? [
    for o in aws_acm_certificate.public[0].domain_validation_options : {
      name = o.resource_record_name, type = o.resource_record_type, value = o.resource_record_value
    }
  ] : []
}
