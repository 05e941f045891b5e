# One customer-managed key per environment for everything that holds its data at rest: RDS storage and Performance
# Insights, the RDS-managed master secret and the role secrets, CloudWatch log groups and the alarm SNS topic.
# One key keeps the key policy reviewable in one place; split it per service if separate key administrators are needed.

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}
data "aws_region" "current" {}

locals {
  account_id = data.aws_caller_identity.current.account_id
  partition  = data.aws_partition.current.partition
  region     = data.aws_region.current.region
}

data "aws_iam_policy_document" "key" {
  #checkov:skip=CKV_AWS_111:Key policy: "*" as resource means this key only; the account-root statement delegates use to IAM policies, which grant it narrowly.
  #checkov:skip=CKV_AWS_356:Key policy: "*" as resource means this key only (key policies cannot name other resources).
  #checkov:skip=CKV_AWS_109:Key policy: the account-root statement is the standard delegation to IAM; without it the key becomes unmanageable.
  # Key policies always need a statement for the account; it delegates access to IAM policies, which is how the
  # ECS execution roles and the Terraform roles get exactly the key actions they need. "*" as the resource in a key
  # policy means "this key".
  statement {
    sid       = "AccountAdministersThroughIam"
    actions   = ["kms:*"]
    resources = ["*"]

    principals {
      type        = "AWS"
      identifiers = ["arn:${local.partition}:iam::${local.account_id}:root"]
    }
  }

  # CloudWatch Logs encrypts log groups with the key itself; the condition limits it to this account's log groups.
  statement {
    sid = "CloudWatchLogsEncryptsLogGroups"
    actions = [
      "kms:Encrypt*",
      "kms:Decrypt*",
      "kms:ReEncrypt*",
      "kms:GenerateDataKey*",
      "kms:Describe*",
    ]
    resources = ["*"]

    principals {
      type        = "Service"
      identifiers = ["logs.${local.region}.amazonaws.com"]
    }

    condition {
      test     = "ArnLike"
      variable = "kms:EncryptionContext:aws:logs:arn"
      values   = ["arn:${local.partition}:logs:${local.region}:${local.account_id}:log-group:*"]
    }
  }

  # CloudWatch alarms publish to the KMS-encrypted SNS topic; without this the notifications are silently dropped.
  statement {
    sid       = "CloudWatchAlarmsPublishToEncryptedTopic"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey*"]
    resources = ["*"]

    principals {
      type        = "Service"
      identifiers = ["cloudwatch.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

resource "aws_kms_key" "this" {
  description             = "${var.name_prefix}: RDS, Secrets Manager, CloudWatch Logs and SNS encryption"
  enable_key_rotation     = true
  rotation_period_in_days = 365
  deletion_window_in_days = var.deletion_window_in_days
  policy                  = data.aws_iam_policy_document.key.json
}

resource "aws_kms_alias" "this" {
  name          = "alias/${var.name_prefix}"
  target_key_id = aws_kms_key.this.key_id
}
