output "alb_arn" {
  description = "ARN of the ALB."
  value       = aws_lb.this.arn
}

output "alb_arn_suffix" {
  description = "ARN suffix of the ALB (app/<name>/<id>), the LoadBalancer dimension of CloudWatch metrics."
  value       = aws_lb.this.arn_suffix
}

output "alb_dns_name" {
  description = "DNS name of the ALB (point the API's DNS record at it)."
  value       = aws_lb.this.dns_name
}

output "alb_zone_id" {
  description = "Hosted zone ID of the ALB, for a Route 53 alias record."
  value       = aws_lb.this.zone_id
}

output "target_group_arn" {
  description = "ARN of the api target group."
  value       = aws_lb_target_group.api.arn
}

output "target_group_arn_suffix" {
  description = "ARN suffix of the target group, the TargetGroup dimension of CloudWatch metrics."
  value       = aws_lb_target_group.api.arn_suffix
}

output "https_enabled" {
  description = "Whether the HTTPS listener exists (a certificate was given)."
  value       = local.https
}

output "access_logs_bucket" {
  description = "Name of the access logs bucket, or null when access logs are off."
  value       = var.access_logs_enabled ? aws_s3_bucket.access_logs[0].id : null
}
