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

# The task role is what the application code itself could use: the service calls no AWS API, so it has no policy.
# It exists so the tasks never fall back to broader credentials and so a future permission has one place to go.
resource "aws_iam_role" "task" {
  name               = "${var.name_prefix}-task"
  description        = "Runtime role of ${var.name_prefix} containers: no permissions (the service calls no AWS API)"
  assume_role_policy = data.aws_iam_policy_document.ecs_tasks_assume.json
}
