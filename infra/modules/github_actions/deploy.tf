resource "aws_iam_role" "deploy" {
  for_each = local.envs

  name                 = "${var.project}-${each.key}-github-deploy"
  description          = "GitHub Actions (environment ${each.key}): register task definitions, run migrate/db-roles, update the api service"
  assume_role_policy   = data.aws_iam_policy_document.env_trust[each.key].json
  max_session_duration = 3600
}

data "aws_iam_policy_document" "deploy" {
  for_each = local.envs

  # RegisterTaskDefinition, DescribeTaskDefinition and DeregisterTaskDefinition do not support resource-level
  # permissions: AWS requires Resource "*". What matters is guarded elsewhere: the roles a task definition may carry
  # (PassRole below) and which families may run / which service may be updated.
  statement {
    sid       = "TaskDefinitions"
    actions   = ["ecs:RegisterTaskDefinition", "ecs:DescribeTaskDefinition", "ecs:DeregisterTaskDefinition"]
    resources = ["*"]
  }

  statement {
    sid     = "RunOneOffTasks"
    actions = ["ecs:RunTask"]
    resources = [
      "${local.env[each.key].task_def_arn}migrate:*",
      "${local.env[each.key].task_def_arn}db-roles:*",
    ]

    condition {
      test     = "ArnEquals"
      variable = "ecs:cluster"
      values   = [local.env[each.key].cluster_arn]
    }
  }

  statement {
    sid       = "WatchTasks"
    actions   = ["ecs:DescribeTasks", "ecs:StopTask"]
    resources = [local.env[each.key].task_arns]
  }

  # The task definitions carry tags (provider default_tags), which the deploy script keeps: tagging at creation
  # needs ecs:TagResource, limited to creating this environment's task definitions and tasks.
  statement {
    sid     = "TagOnCreate"
    actions = ["ecs:TagResource"]
    resources = [
      "${local.env[each.key].task_def_arn}*",
      local.env[each.key].task_arns,
    ]

    condition {
      test     = "StringEquals"
      variable = "ecs:CreateAction"
      values   = ["RegisterTaskDefinition", "RunTask"]
    }
  }

  # update-service names only the task definition: the blue/green settings and the ECS infrastructure role stay
  # as Terraform set them, so no iam:PassRole of that role is needed (the apply role passes it).
  statement {
    sid       = "UpdateTheService"
    actions   = ["ecs:UpdateService", "ecs:DescribeServices", "ecs:ListServiceDeployments"]
    resources = [local.env[each.key].service_arn]
  }

  # .github/scripts/ecs-deploy-service.sh: find the deployment of the new revision and follow it to SUCCESSFUL or a
  # rollback.
  statement {
    sid       = "FollowBlueGreenDeployments"
    actions   = ["ecs:DescribeServiceDeployments", "ecs:DescribeServiceRevisions"]
    resources = [local.env[each.key].service_deployments, local.env[each.key].service_revisions]
  }

  statement {
    sid     = "PassOnlyTheTaskRoles"
    actions = ["iam:PassRole"]
    # Exactly the roles modules/service gives the task definitions (tests/infra_contract checks the two agree).
    resources = [
      "${local.env[each.key].role_arn}api-execution",
      "${local.env[each.key].role_arn}migrate-execution",
      "${local.env[each.key].role_arn}db-roles-execution",
      "${local.env[each.key].role_arn}task",
    ]

    condition {
      test     = "StringEquals"
      variable = "iam:PassedToService"
      values   = ["ecs-tasks.amazonaws.com"]
    }
  }

  statement {
    sid       = "ReadTaskLogs"
    actions   = ["logs:GetLogEvents", "logs:FilterLogEvents", "logs:DescribeLogStreams"]
    resources = [local.env[each.key].log_group, "${local.env[each.key].log_group}:*"]
  }

  # BatchGetImage: the manifest (list) of the digest; GetDownloadUrlForLayer: the config blob of a single-platform
  # image, whose architecture ecr-image-has-architecture.sh compares with the task's before registering it.
  statement {
    sid       = "ResolveImageDigest"
    actions   = ["ecr:DescribeImages", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"]
    resources = [var.ecr_repository_arn]
  }
}

resource "aws_iam_role_policy" "deploy" {
  for_each = local.envs

  name   = "${var.project}-${each.key}-github-deploy"
  role   = aws_iam_role.deploy[each.key].id
  policy = data.aws_iam_policy_document.deploy[each.key].json
}
