# GitHub Actions -> AWS without long-lived keys: the OIDC provider for token.actions.githubusercontent.com and the
# roles the workflows assume. Every trust policy pins the audience (sts.amazonaws.com) and the subject to this
# repository, and to a branch, pull requests or a GitHub environment (whose protection rules, e.g. required
# reviewers on production, then gate the role).
#
#   <project>-github-ecr-push                 push images to the one ECR repository      main, environments
#   <project>-github-terraform-plan           read-only plan of every root              main
#   <project>-github-terraform-plan-pr        read-only plan of staging and global      pull_request
#   <project>-<env>-github-deploy             register task defs, run migrate/db-roles,  environment:<env>
#                                             update the service, PassRole on its roles
#   <project>-<env>-github-terraform-apply    apply the <env> root                        environment:<env>
#
# Files by role: oidc.tf (the provider and the trust policies), ecr_push.tf, deploy.tf, terraform_plan.tf (both
# plan roles), terraform_apply.tf; boundary.tf holds the permissions boundary of every role the environments create.
#
# The environment roles live here (applied by an administrator) rather than in the environment roots, so an
# environment's apply role can never edit its own permissions.

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}

locals {
  account_id = data.aws_caller_identity.current.account_id
  partition  = data.aws_partition.current.partition
  oidc_host  = "token.actions.githubusercontent.com"
  repo_sub   = "repo:${var.github_repository}"

  envs = toset(var.environments)

  # Names of the resources each environment root creates (fixed names, see infra/README.md).
  env = {
    for e in var.environments : e => {
      prefix      = "${var.project}-${e}"
      cluster_arn = "arn:${local.partition}:ecs:${var.aws_region}:${local.account_id}:cluster/${var.project}-${e}"
      service_arn = "arn:${local.partition}:ecs:${var.aws_region}:${local.account_id}:service/${var.project}-${e}/${var.project}-${e}-api"
      # Blue/green deployments of that service and the revisions they deploy (the deploy script follows them).
      service_deployments = "arn:${local.partition}:ecs:${var.aws_region}:${local.account_id}:service-deployment/${var.project}-${e}/${var.project}-${e}-api/*"
      service_revisions   = "arn:${local.partition}:ecs:${var.aws_region}:${local.account_id}:service-revision/${var.project}-${e}/${var.project}-${e}-api/*"
      task_def_arn        = "arn:${local.partition}:ecs:${var.aws_region}:${local.account_id}:task-definition/${var.project}-${e}-"
      task_arns           = "arn:${local.partition}:ecs:${var.aws_region}:${local.account_id}:task/${var.project}-${e}/*"
      log_group           = "arn:${local.partition}:logs:${var.aws_region}:${local.account_id}:log-group:/ecs/${var.project}-${e}"
      metrics_log_group   = "arn:${local.partition}:logs:${var.aws_region}:${local.account_id}:log-group:/ecs/${var.project}-${e}/metrics"
      flow_log_group      = "arn:${local.partition}:logs:${var.aws_region}:${local.account_id}:log-group:/vpc/${var.project}-${e}/flow-logs"
      role_arn            = "arn:${local.partition}:iam::${local.account_id}:role/${var.project}-${e}-"
      secrets             = "arn:${local.partition}:secretsmanager:${var.aws_region}:${local.account_id}:secret:${var.project}-${e}/*"
      # The Aurora cluster (modules/database, engine = "aurora"); its RDS-managed master secret is tagged with it.
      db_cluster_arn = "arn:${local.partition}:rds:${var.aws_region}:${local.account_id}:cluster:${var.project}-${e}-db"
      listener_rules = "arn:${local.partition}:elasticloadbalancing:${var.aws_region}:${local.account_id}:listener-rule/app/${var.project}-${e}-alb/*"
      target_groups  = "arn:${local.partition}:elasticloadbalancing:${var.aws_region}:${local.account_id}:targetgroup/${var.project}-${e}-*"
      # The permissions boundary of the environment's roles (boundary.tf); modules/environment builds the same ARN.
      boundary_name = "${var.project}-${e}-workload-boundary"
      boundary_arn  = "arn:${local.partition}:iam::${local.account_id}:policy/${var.project}-${e}-workload-boundary"
      state_prefix  = "${e}/"
    }
  }

  state_bucket_arn = "arn:${local.partition}:s3:::${var.state_bucket_name}"
}
