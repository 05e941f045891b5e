# Container Insights per environment (var.container_insights): production keeps it (task-level CPU, memory and
# network metrics, and the RunningTaskCount the request-count scaling policy divides by); staging turns it off to
# save its custom-metric charge (infra/README.md, "Estimated monthly cost"): its scaling follows CPU and memory, whose
# AWS/ECS service metrics are free and published either way.
resource "aws_ecs_cluster" "this" {
  #checkov:skip=CKV_AWS_65:Container Insights is var.container_insights: on in production (validated in modules/environment), off in staging only, to save its custom metrics (~$3 a month); staging's alarms read the ALB's, Aurora's and the service's own metrics, and the free AWS/ECS CPU and memory metrics remain.
  name = var.name_prefix

  setting {
    name  = "containerInsights"
    value = var.container_insights
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
