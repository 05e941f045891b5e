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
  description = "ARN of the primary api target group (the ECS service's load_balancer.target_group_arn)."
  value       = aws_lb_target_group.api["primary"].arn
}

output "alternate_target_group_arn" {
  description = "ARN of the alternate api target group (blue/green advanced_configuration.alternate_target_group_arn)."
  value       = aws_lb_target_group.api["alternate"].arn
}

output "target_group_arn_suffixes" {
  description = "ARN suffixes of both target groups (TargetGroup dimension of CloudWatch metrics): either may hold the live tasks."
  value       = [for k in ["primary", "alternate"] : aws_lb_target_group.api[k].arn_suffix]
}

output "production_listener_rule_arn" {
  description = "ARN of the listener rule carrying production traffic (blue/green production_listener_rule)."
  value       = aws_lb_listener_rule.production.arn
}

output "test_listener_rule_arn" {
  description = "ARN of the listener rule carrying test traffic to the new colour (blue/green test_listener_rule)."
  value       = aws_lb_listener_rule.test.arn
}

output "listener_arn" {
  description = "ARN of the listener holding the blue/green rules (HTTPS with a certificate, else HTTP)."
  value       = aws_lb_listener.origin.arn
}

output "listener_port" {
  description = "Port CloudFront connects to: 443 with a certificate, else 80."
  value       = local.https ? 443 : 80
}

output "origin_header_name" {
  description = "Header CloudFront must add to origin requests (value: origin_secret)."
  value       = var.origin_header_name
}

output "origin_secret" {
  description = "Value of the origin header the listener rules require."
  value       = random_password.origin_secret.result
  sensitive   = true
}

output "test_traffic_header_name" {
  description = "Header (value green) routing a request to the new colour during a blue/green deployment."
  value       = var.test_traffic_header_name
}

output "https_enabled" {
  description = "Whether the listener is HTTPS (a certificate was given)."
  value       = local.https
}

output "access_logs_bucket" {
  description = "Name of the access logs bucket, or null when access logs are off."
  value       = var.access_logs_enabled ? aws_s3_bucket.access_logs[0].id : null
}

output "idle_timeout_seconds" {
  description = "The ALB's idle timeout: the service keeps idle connections longer, so the ALB closes them first."
  value       = var.idle_timeout_seconds
}
