output "vpc_id" {
  description = "ID of the VPC."
  value       = aws_vpc.this.id
}

output "vpc_cidr" {
  description = "CIDR block of the VPC."
  value       = aws_vpc.this.cidr_block
}

output "availability_zones" {
  description = "Availability zones the subnets are spread over."
  value       = local.azs
}

output "public_subnet_ids" {
  description = "IDs of the public subnets (ALB, NAT gateways), one per AZ."
  value       = [for az in local.azs : aws_subnet.public[az].id]
}

output "private_subnet_ids" {
  description = "IDs of the private subnets (ECS tasks, RDS, interface endpoints), one per AZ."
  value       = [for az in local.azs : aws_subnet.private[az].id]
}

output "private_route_table_ids" {
  description = "IDs of the private route tables (the S3 gateway endpoint attaches to them)."
  value       = [for az in local.azs : aws_route_table.private[az].id]
}

output "db_subnet_group_name" {
  description = "Name of the RDS subnet group over the private subnets."
  value       = aws_db_subnet_group.this.name
}

output "nat_gateway_public_ips" {
  description = "Public IPs of the NAT gateways (outbound source addresses, e.g. for third-party allow-lists)."
  value       = [for k, e in aws_eip.nat : e.public_ip]
}

output "flow_log_group_name" {
  description = "CloudWatch log group receiving the VPC flow logs."
  value       = aws_cloudwatch_log_group.flow_logs.name
}
