# Interface endpoints for ECR (api + dkr), CloudWatch Logs, Secrets Manager and X-Ray, and a gateway endpoint for S3
# (ECR stores image layers in S3): image pulls (the app's and, through the pull-through cache, the collector's), log
# shipping (the EMF metrics too), secret injection and the collector's traces stay inside the VPC and keep working
# without NAT (and do not pay NAT data processing). The interface endpoints are optional (var.interface_endpoints):
# an environment whose tasks have public IPs (staging) reaches the same services at their public endpoints, and
# saves their hourly price; the S3 gateway endpoint has none and stays.

data "aws_region" "current" {}

locals {
  # Every AWS API a task calls: ECR and Secrets Manager (the ECS agent, for the task), Logs (awslogs and the
  # collector's awsemf exporter), X-Ray (the collector's awsxray exporter; tests/infra_contract checks the
  # collector's exporters against this list).
  interface_services = toset(["ecr.api", "ecr.dkr", "logs", "secretsmanager", "xray"])
}

resource "aws_vpc_endpoint" "interface" {
  for_each = var.interface_endpoints ? local.interface_services : toset([])

  vpc_id              = var.vpc_id
  service_name        = "com.amazonaws.${data.aws_region.current.region}.${each.key}"
  vpc_endpoint_type   = "Interface"
  subnet_ids          = var.subnet_ids
  security_group_ids  = [var.security_group_id]
  private_dns_enabled = true

  tags = { Name = "${var.name_prefix}-${replace(each.key, ".", "-")}" }
}

resource "aws_vpc_endpoint" "s3" {
  vpc_id            = var.vpc_id
  service_name      = "com.amazonaws.${data.aws_region.current.region}.s3"
  vpc_endpoint_type = "Gateway"
  route_table_ids   = var.route_table_ids

  tags = { Name = "${var.name_prefix}-s3" }
}
