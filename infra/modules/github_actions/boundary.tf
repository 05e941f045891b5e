# The permissions boundary of every IAM role an environment root creates (ECS execution, task and infrastructure
# roles, the RDS monitoring role, the flow logs role). It lives here, in the global root an administrator applies,
# so no pipeline role can edit it: the apply roles may create and change <project>-<env>-* roles only with this
# boundary attached (terraform_apply.tf, statement CreateRolesOnlyWithTheBoundary) and are denied every change to
# the boundary policy itself and its removal from a role. Whatever inline policy an apply role writes on such a
# role, the role can do no more than what is listed here: pull the image (and the cached collector image), write its own logs (and metric events),
# send traces, read its own environment's secrets, and move its own service's listener rules between its two
# target groups.
#
# modules/environment builds the ARN from the same name (var.permissions_boundary_name there); tests/infra_contract
# checks that every aws_iam_role of the environment modules sets permissions_boundary.

data "aws_iam_policy_document" "workload_boundary" {
  for_each = local.envs

  #checkov:skip=CKV_AWS_356:Only ecr:GetAuthorizationToken, the elasticloadbalancing:Describe* reads and the two X-Ray trace writes take "*" (no resource-level permissions); every other statement names this environment's resources.
  statement {
    sid       = "EcrLogin"
    actions   = ["ecr:GetAuthorizationToken"]
    resources = ["*"]
  }

  statement {
    sid       = "PullTheImage"
    actions   = ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:BatchCheckLayerAvailability"]
    resources = [var.ecr_repository_arn]
  }

  # The collector sidecar's image through the ECR Public pull-through cache (modules/ecr_public_cache): read the
  # cached repositories and import into them on a first pull; creating one is not allowed (global creates them).
  statement {
    sid       = "PullThroughTheCache"
    actions   = ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:BatchCheckLayerAvailability", "ecr:BatchImportUpstreamImage"]
    resources = ["arn:${local.partition}:ecr:${var.aws_region}:${local.account_id}:repository/${var.ecr_public_cache_prefix}/*"]
  }

  # ECS task logs, the collector's metric events (EMF) and VPC flow logs.
  statement {
    sid = "WriteOwnLogs"
    actions = [
      "logs:CreateLogStream",
      "logs:PutLogEvents",
      "logs:DescribeLogStreams",
    ]
    resources = [
      "${local.env[each.key].log_group}:*",
      "${local.env[each.key].metrics_log_group}:*",
      "${local.env[each.key].flow_log_group}:*",
    ]
  }

  # The api task's OpenTelemetry collector sends trace segments (modules/service, telemetry.tf); X-Ray has no
  # resource-level permissions for these two writes.
  statement {
    sid       = "WriteTraces"
    actions   = ["xray:PutTraceSegments", "xray:PutTelemetryRecords"]
    resources = ["*"]
  }

  # RDS Enhanced Monitoring: the AWS managed AmazonRDSEnhancedMonitoringRole writes to RDSOSMetrics, one
  # account-wide log group RDS names itself.
  statement {
    sid = "RdsEnhancedMonitoringLogs"
    actions = [
      "logs:CreateLogGroup", "logs:PutRetentionPolicy", "logs:DescribeLogGroups", "logs:GetLogEvents",
      "logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams",
    ]
    resources = [
      "arn:${local.partition}:logs:${var.aws_region}:${local.account_id}:log-group:RDS*",
      "arn:${local.partition}:logs:${var.aws_region}:${local.account_id}:log-group:RDS*:*",
    ]
  }

  statement {
    sid       = "FlowLogsDescribe"
    actions   = ["logs:DescribeLogGroups"]
    resources = ["arn:${local.partition}:logs:${var.aws_region}:${local.account_id}:log-group:*"]
  }

  statement {
    sid       = "ReadOwnSecrets"
    actions   = ["secretsmanager:GetSecretValue"]
    resources = [local.env[each.key].secrets]
  }

  # With engine = "aurora" the master secret is RDS's own (rds!cluster-<id>, not under <project>-<env>/): the
  # db-roles task's execution role reads it, and only the one whose tag names this environment's cluster.
  statement {
    sid       = "ReadOwnRdsManagedSecret"
    actions   = ["secretsmanager:GetSecretValue"]
    resources = ["arn:${local.partition}:secretsmanager:${var.aws_region}:${local.account_id}:secret:rds!cluster-*"]

    condition {
      test     = "StringEquals"
      variable = "secretsmanager:ResourceTag/aws:rds:primaryDBClusterArn"
      values   = [local.env[each.key].db_cluster_arn]
    }
  }

  statement {
    sid       = "DecryptOwnSecrets"
    actions   = ["kms:Decrypt"]
    resources = ["arn:${local.partition}:kms:${var.aws_region}:${local.account_id}:key/*"]

    condition {
      test     = "StringEquals"
      variable = "aws:ResourceTag/Environment"
      values   = [each.key]
    }

    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values   = ["secretsmanager.${var.aws_region}.amazonaws.com"]
    }
  }

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
    sid       = "ShiftOwnListenerRules"
    actions   = ["elasticloadbalancing:ModifyRule"]
    resources = [local.env[each.key].listener_rules]
  }

  statement {
    sid       = "RegisterInOwnTargetGroups"
    actions   = ["elasticloadbalancing:RegisterTargets", "elasticloadbalancing:DeregisterTargets"]
    resources = [local.env[each.key].target_groups]
  }
}

resource "aws_iam_policy" "workload_boundary" {
  for_each = local.envs

  name        = local.env[each.key].boundary_name
  description = "Permissions boundary of every role the ${each.key} environment creates (applied by an administrator in infra/global)"
  policy      = data.aws_iam_policy_document.workload_boundary[each.key].json
}
