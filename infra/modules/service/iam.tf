data "aws_iam_policy_document" "ecs_tasks_assume" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["ecs-tasks.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [data.aws_caller_identity.current.account_id]
    }
  }
}

# One execution role per task definition (used by the ECS agent to pull the image, create log streams and inject
# secrets), so the long-running api cannot read the master or migrator credentials.
resource "aws_iam_role" "execution" {
  for_each = local.tasks

  name               = "${var.name_prefix}-${each.key}-execution"
  description        = "ECS execution role of ${var.name_prefix}-${each.key}: image pull, logs, its own secrets"
  assume_role_policy = data.aws_iam_policy_document.ecs_tasks_assume.json

  permissions_boundary = var.permissions_boundary_arn
}

data "aws_iam_policy_document" "execution" {
  for_each = local.tasks

  # ecr:GetAuthorizationToken is account-wide: the API has no resource-level permissions, so it requires "*".
  statement {
    sid       = "EcrLogin"
    actions   = ["ecr:GetAuthorizationToken"]
    resources = ["*"]
  }

  statement {
    sid       = "PullThisRepository"
    actions   = ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:BatchCheckLayerAvailability"]
    resources = [var.image_repository_arn]
  }

  statement {
    sid       = "WriteThisLogGroup"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.ecs.arn}:log-stream:*"]
  }

  # Nothing more than the secrets its container references.
  statement {
    sid       = "ReadOwnSecrets"
    actions   = ["secretsmanager:GetSecretValue"]
    resources = each.value.secret_arns
  }

  statement {
    sid       = "DecryptOwnSecrets"
    actions   = ["kms:Decrypt"]
    resources = [var.kms_key_arn]

    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values   = ["secretsmanager.${local.region}.amazonaws.com"]
    }
  }
}

resource "aws_iam_role_policy" "execution" {
  for_each = local.tasks

  name   = "${var.name_prefix}-${each.key}-execution"
  role   = aws_iam_role.execution[each.key].id
  policy = data.aws_iam_policy_document.execution[each.key].json
}

# The api task's collector image through the ECR Public pull-through cache (telemetry.tf), for the api's execution
# role only (the one-off tasks run no collector): read its one cached repository, and ecr:BatchImportUpstreamImage,
# which ECR checks when a pull has to fetch the image from public.ecr.aws. No ecr:CreateRepository: infra/global
# creates the repository up front. None without the cache (collector_pull_through_prefix null).
data "aws_iam_policy_document" "execution_collector_cache" {
  count = var.collector_pull_through_prefix == null ? 0 : 1

  statement {
    sid       = "PullCollectorThroughCache"
    actions   = ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:BatchCheckLayerAvailability", "ecr:BatchImportUpstreamImage"]
    resources = ["arn:${data.aws_partition.current.partition}:ecr:${local.region}:${data.aws_caller_identity.current.account_id}:repository/${var.collector_pull_through_prefix}/${local.otel_collector_repository}"]
  }
}

resource "aws_iam_role_policy" "execution_collector_cache" {
  count = var.collector_pull_through_prefix == null ? 0 : 1

  name   = "${var.name_prefix}-api-execution-collector-cache"
  role   = aws_iam_role.execution["api"].id
  policy = data.aws_iam_policy_document.execution_collector_cache[0].json
}

# The task role is what the application code itself could use: the service calls no AWS API, so it has no policy.
# It exists so the tasks never fall back to broader credentials and so a future permission has one place to go.
resource "aws_iam_role" "task" {
  name               = "${var.name_prefix}-task"
  description        = "Runtime role of ${var.name_prefix} containers: no permissions (the service calls no AWS API)"
  assume_role_policy = data.aws_iam_policy_document.ecs_tasks_assume.json

  permissions_boundary = var.permissions_boundary_arn
}

# --- ECS infrastructure role for blue/green ----------------------------------------------------------------------
# ECS assumes it during a blue/green deployment to register the new tasks in the alternate target group and move the
# listener rules' weights between the two groups. Inline and narrower than the AWS managed
# AmazonECSInfrastructureRolePolicyForLoadBalancers (which allows the writes on every listener, rule and target group
# of the account): writes only on this service's two rules and two target groups. The Describe calls have no
# resource-level permissions in Elastic Load Balancing, so they take "*" (read-only).

data "aws_iam_policy_document" "ecs_infrastructure_assume" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["ecs.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [data.aws_caller_identity.current.account_id]
    }
  }
}

resource "aws_iam_role" "ecs_infrastructure" {
  name               = "${var.name_prefix}-ecs-infrastructure"
  description        = "Assumed by ECS during blue/green deployments of ${var.name_prefix}-api: shifts its listener rules between its two target groups"
  assume_role_policy = data.aws_iam_policy_document.ecs_infrastructure_assume.json

  permissions_boundary = var.permissions_boundary_arn
}

data "aws_iam_policy_document" "ecs_infrastructure" {
  #checkov:skip=CKV_AWS_356:Only the elasticloadbalancing:Describe* calls take "*" (they support no resource-level permissions); every write names this service's rules and target groups.
  statement {
    sid = "ReadLoadBalancerState"
    actions = [
      "elasticloadbalancing:DescribeListeners",
      "elasticloadbalancing:DescribeRules",
      "elasticloadbalancing:DescribeTargetGroups",
      "elasticloadbalancing:DescribeTargetHealth",
    ]
    resources = ["*"]
  }

  statement {
    sid       = "ShiftTrafficBetweenColours"
    actions   = ["elasticloadbalancing:ModifyRule"]
    resources = [var.blue_green.production_listener_rule_arn, var.blue_green.test_listener_rule_arn]
  }

  statement {
    sid       = "RegisterTasksInEitherColour"
    actions   = ["elasticloadbalancing:RegisterTargets", "elasticloadbalancing:DeregisterTargets"]
    resources = [var.target_group_arn, var.blue_green.alternate_target_group_arn]
  }
}

resource "aws_iam_role_policy" "ecs_infrastructure" {
  name   = "${var.name_prefix}-ecs-infrastructure"
  role   = aws_iam_role.ecs_infrastructure.id
  policy = data.aws_iam_policy_document.ecs_infrastructure.json
}
