# ECS on Fargate: the cluster, the log group, three task definitions sharing one image (api = the HTTP service,
# migrate = one-off schema migration, db-roles = one-off PostgreSQL role provisioning), the api service behind the
# ALB and its autoscaling. Names are fixed because the deploy workflow uses them:
#   cluster <name_prefix>, service <name_prefix>-api, families <name_prefix>-{api,migrate,db-roles},
#   containers api / migrate / db-roles, log group /ecs/<name_prefix>.
#
# Files by concern: cluster.tf (cluster, log group), secrets.tf (the API keys secret), iam.tf (execution and task
# roles), task_definitions.tf (the three tasks, one for_each), service.tf (the api service and its autoscaling).

data "aws_region" "current" {}
data "aws_partition" "current" {}
data "aws_caller_identity" "current" {}

# Which image Terraform's task definition revisions carry. The deploy workflow owns the running image (it registers
# revisions with repo@sha256:digest and updates the service), so by default Terraform reads the image the api service
# runs now and keeps it: an infrastructure apply never changes the running code, and a plan needs no image input.
# Only the very first apply (no service yet) must name an image: -var image_tag=<git sha pushed to ECR>.
data "aws_ecs_service" "running" {
  count = var.image_tag == null ? 1 : 0

  service_name = "${var.name_prefix}-api"
  cluster_arn  = "arn:${data.aws_partition.current.partition}:ecs:${data.aws_region.current.region}:${data.aws_caller_identity.current.account_id}:cluster/${var.name_prefix}"
}

data "aws_ecs_container_definition" "running" {
  count = var.image_tag == null ? 1 : 0

  task_definition = data.aws_ecs_service.running[0].task_definition
  container_name  = "api"
}

locals {
  region    = data.aws_region.current.region
  image     = var.image_tag != null ? "${var.image_repository_url}:${var.image_tag}" : data.aws_ecs_container_definition.running[0].image
  log_group = "/ecs/${var.name_prefix}"
}
