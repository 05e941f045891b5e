output "alb_security_group_id" {
  description = "ID of the ALB security group (<name_prefix>-alb)."
  value       = aws_security_group.alb.id
}

output "tasks_security_group_id" {
  description = "ID of the ECS tasks security group (<name_prefix>-tasks), used by the api, migrate and db-roles tasks."
  value       = aws_security_group.tasks.id
}

output "db_security_group_id" {
  description = "ID of the database security group (<name_prefix>-db)."
  value       = aws_security_group.db.id
}

output "endpoints_security_group_id" {
  description = "ID of the VPC interface endpoints security group (<name_prefix>-endpoints)."
  value       = aws_security_group.endpoints.id
}

output "cloudfront_origin_cidrs" {
  description = "CIDRs of the CloudFront origin-facing prefix list (the addresses CloudFront reaches origins from), as of this apply."
  value       = [for e in data.aws_ec2_managed_prefix_list.cloudfront.entries : e.cidr]
}
