output "interface_endpoint_ids" {
  description = "IDs of the interface endpoints, keyed by service (ecr.api, ecr.dkr, logs, secretsmanager, xray)."
  value       = { for k, e in aws_vpc_endpoint.interface : k => e.id }
}

output "s3_gateway_endpoint_id" {
  description = "ID of the S3 gateway endpoint."
  value       = aws_vpc_endpoint.s3.id
}
