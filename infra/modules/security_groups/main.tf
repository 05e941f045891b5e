# Security groups chained by reference: CloudFront -> ALB (listener port) -> tasks (app port) -> database (5432).
# The ALB admits only the AWS-managed CloudFront origin-facing prefix list (no CIDR ingress anywhere in the
# configuration); every other ingress names the security group it accepts traffic from. The migration and db-roles tasks run with the tasks' group (they
# need exactly the same paths: VPC endpoints and the database), so there is no second group that can reach the DB.

data "aws_region" "current" {}

# The S3 prefix list: ECR image layers are served from S3 through the gateway endpoint.
data "aws_ec2_managed_prefix_list" "s3" {
  name = "com.amazonaws.${data.aws_region.current.region}.s3"
}

# The addresses CloudFront connects to origins from, kept current by AWS. A prefix list counts as its max entries
# (55 for this one) against the 60-rules-per-group quota, so the ALB has one ingress rule (the listener port), not two.
data "aws_ec2_managed_prefix_list" "cloudfront" {
  name = "com.amazonaws.global.cloudfront.origin-facing"
}

resource "aws_security_group" "alb" {
  #checkov:skip=CKV2_AWS_5:Attached outside this module (ALB, ECS service/tasks, RDS, VPC endpoints) through its output; checkov does not follow module outputs.
  name        = "${var.name_prefix}-alb"
  description = "ALB: listener port from CloudFront only, forwards to the tasks only"
  vpc_id      = var.vpc_id

  tags = { Name = "${var.name_prefix}-alb" }
}

resource "aws_security_group" "tasks" {
  #checkov:skip=CKV2_AWS_5:Attached outside this module (ALB, ECS service/tasks, RDS, VPC endpoints) through its output; checkov does not follow module outputs.
  name        = "${var.name_prefix}-tasks"
  description = "ECS tasks (api, migrate, db-roles): app port from the ALB only"
  vpc_id      = var.vpc_id

  tags = { Name = "${var.name_prefix}-tasks" }
}

resource "aws_security_group" "db" {
  #checkov:skip=CKV2_AWS_5:Attached outside this module (ALB, ECS service/tasks, RDS, VPC endpoints) through its output; checkov does not follow module outputs.
  name        = "${var.name_prefix}-db"
  description = "RDS PostgreSQL: 5432 from the ECS tasks only"
  vpc_id      = var.vpc_id

  tags = { Name = "${var.name_prefix}-db" }
}

resource "aws_security_group" "endpoints" {
  #checkov:skip=CKV2_AWS_5:Attached outside this module (ALB, ECS service/tasks, RDS, VPC endpoints) through its output; checkov does not follow module outputs.
  name        = "${var.name_prefix}-endpoints"
  description = "VPC interface endpoints: HTTPS from the ECS tasks only"
  vpc_id      = var.vpc_id

  tags = { Name = "${var.name_prefix}-endpoints" }
}

# --- ALB ----------------------------------------------------------------------------------------------------------

resource "aws_vpc_security_group_ingress_rule" "alb_from_cloudfront" {
  security_group_id = aws_security_group.alb.id
  description       = "Listener port from CloudFront origin-facing addresses only (the edge cannot be bypassed)"
  ip_protocol       = "tcp"
  from_port         = var.alb_listener_port
  to_port           = var.alb_listener_port
  prefix_list_id    = data.aws_ec2_managed_prefix_list.cloudfront.id
}

resource "aws_vpc_security_group_egress_rule" "alb_to_tasks" {
  security_group_id            = aws_security_group.alb.id
  description                  = "Forward requests and health checks to the tasks"
  ip_protocol                  = "tcp"
  from_port                    = var.app_port
  to_port                      = var.app_port
  referenced_security_group_id = aws_security_group.tasks.id
}

# --- Tasks --------------------------------------------------------------------------------------------------------

resource "aws_vpc_security_group_ingress_rule" "tasks_from_alb" {
  security_group_id            = aws_security_group.tasks.id
  description                  = "App port from the ALB only"
  ip_protocol                  = "tcp"
  from_port                    = var.app_port
  to_port                      = var.app_port
  referenced_security_group_id = aws_security_group.alb.id
}

resource "aws_vpc_security_group_egress_rule" "tasks_to_db" {
  security_group_id            = aws_security_group.tasks.id
  description                  = "PostgreSQL to the database"
  ip_protocol                  = "tcp"
  from_port                    = 5432
  to_port                      = 5432
  referenced_security_group_id = aws_security_group.db.id
}

resource "aws_vpc_security_group_egress_rule" "tasks_to_endpoints" {
  security_group_id            = aws_security_group.tasks.id
  description                  = "HTTPS to the VPC interface endpoints (ECR, Logs, Secrets Manager, X-Ray)"
  ip_protocol                  = "tcp"
  from_port                    = 443
  to_port                      = 443
  referenced_security_group_id = aws_security_group.endpoints.id
}

resource "aws_vpc_security_group_egress_rule" "tasks_to_s3" {
  security_group_id = aws_security_group.tasks.id
  description       = "HTTPS to S3 through the gateway endpoint (ECR image layers)"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  prefix_list_id    = data.aws_ec2_managed_prefix_list.s3.id
}

# Off by default: the service calls nothing outside AWS. Turn on only if it ever must (traffic then leaves via NAT).
resource "aws_vpc_security_group_egress_rule" "tasks_to_internet" {
  count = var.tasks_internet_egress ? 1 : 0

  security_group_id = aws_security_group.tasks.id
  description       = "HTTPS to the internet through NAT (opt-in: var.tasks_internet_egress)"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  cidr_ipv4         = "0.0.0.0/0"
}

# --- Database -----------------------------------------------------------------------------------------------------

resource "aws_vpc_security_group_ingress_rule" "db_from_tasks" {
  security_group_id            = aws_security_group.db.id
  description                  = "PostgreSQL from the ECS tasks only"
  ip_protocol                  = "tcp"
  from_port                    = 5432
  to_port                      = 5432
  referenced_security_group_id = aws_security_group.tasks.id
}

# No egress rules on the database group: RDS answers on established connections and needs nothing else.

# --- Interface endpoints ------------------------------------------------------------------------------------------

resource "aws_vpc_security_group_ingress_rule" "endpoints_from_tasks" {
  security_group_id            = aws_security_group.endpoints.id
  description                  = "HTTPS from the ECS tasks (image pulls, logs and metrics, secrets, traces)"
  ip_protocol                  = "tcp"
  from_port                    = 443
  to_port                      = 443
  referenced_security_group_id = aws_security_group.tasks.id
}
