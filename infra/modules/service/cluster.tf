resource "aws_ecs_cluster" "this" {
  name = var.name_prefix

  setting {
    name  = "containerInsights"
    value = "enabled"
  }
}

# The two Fargate capacity providers the api service's strategy uses (service.tf). No default strategy: the
# one-off tasks (migrate, db-roles) are started by the deploy workflow with launch type FARGATE (on-demand), so a
# migration is never interrupted by a Spot reclaim.
resource "aws_ecs_cluster_capacity_providers" "this" {
  cluster_name       = aws_ecs_cluster.this.name
  capacity_providers = ["FARGATE", "FARGATE_SPOT"]
}

resource "aws_cloudwatch_log_group" "ecs" {
  #checkov:skip=CKV_AWS_338:Retention is var.log_retention_days, an environment decision: production keeps a year, staging less to save cost.
  name              = local.log_group
  retention_in_days = var.log_retention_days
  kms_key_id        = var.kms_key_arn
}
