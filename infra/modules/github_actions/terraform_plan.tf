resource "aws_iam_role" "plan" {
  name                 = "${var.project}-github-terraform-plan"
  description          = "GitHub Actions: read-only terraform plan of global, staging and production"
  assume_role_policy   = data.aws_iam_policy_document.trust["plan"].json
  max_session_duration = 3600
}

data "aws_iam_policy_document" "plan" {
  # Terraform refresh reads every managed resource. Describe/List/Get APIs of these services mostly have no
  # resource-level permissions, so they take Resource "*"; none of them reads data (no s3:GetObject outside the state
  # bucket, no logs:GetLogEvents) except the statement on role secrets below.
  #checkov:skip=CKV_AWS_356:Read-only Describe/List/Get calls of the managed services need "*" (no resource-level permissions); no write action is granted.
  statement {
    sid = "ReadManagedResources"
    actions = [
      "acm:DescribeCertificate",
      "acm:ListTagsForCertificate",
      "application-autoscaling:Describe*",
      "cloudfront:Get*",
      "cloudfront:List*",
      "application-autoscaling:ListTagsForResource",
      "cloudwatch:Describe*",
      "cloudwatch:GetDashboard",
      "cloudwatch:ListTagsForResource",
      "ec2:Describe*",
      "ec2:GetManagedPrefixListEntries",
      "ecr:DescribeRepositories",
      "ecr:GetLifecyclePolicy",
      "ecr:GetRepositoryPolicy",
      "ecr:ListTagsForResource",
      "ecs:Describe*",
      "ecs:List*",
      "elasticloadbalancing:Describe*",
      "iam:GetOpenIDConnectProvider",
      "iam:GetPolicy",
      "iam:GetPolicyVersion",
      "iam:GetRole",
      "iam:GetRolePolicy",
      "iam:ListAttachedRolePolicies",
      "iam:ListOpenIDConnectProviders",
      "iam:ListRolePolicies",
      "iam:ListRoleTags",
      "kms:DescribeKey",
      "kms:GetKeyPolicy",
      "kms:GetKeyRotationStatus",
      "kms:ListAliases",
      "kms:ListResourceTags",
      "logs:DescribeDeliveries",
      "logs:DescribeDeliveryDestinations",
      "logs:DescribeDeliverySources",
      "logs:DescribeLogGroups",
      "logs:GetDelivery",
      "logs:GetDeliveryDestination",
      "logs:GetDeliverySource",
      "logs:ListTagsForResource",
      "logs:ListTagsLogGroup",
      "rds:Describe*",
      "route53:GetChange",
      "route53:GetHostedZone",
      "route53:ListResourceRecordSets",
      "route53:ListTagsForResource",
      "rds:ListTagsForResource",
      "s3:GetAccelerateConfiguration",
      "s3:GetBucket*",
      "s3:GetEncryptionConfiguration",
      "s3:GetLifecycleConfiguration",
      "s3:GetReplicationConfiguration",
      "secretsmanager:DescribeSecret",
      "secretsmanager:GetResourcePolicy",
      "secretsmanager:ListSecretVersionIds",
      "sns:GetSubscriptionAttributes",
      "sns:GetTopicAttributes",
      "sns:ListTagsForResource",
      "wafv2:GetLoggingConfiguration",
      "wafv2:GetWebACL",
      "wafv2:ListTagsForResource",
    ]
    resources = ["*"]
  }

  # The AWS provider refreshes aws_secretsmanager_secret_version with GetSecretValue even when the value is
  # write-only (it drops the value and keeps only the version). Limited to the generated DB role secrets, which are
  # only usable from inside the VPC (the database accepts connections from the tasks' security group only). The
  # RDS master secret and the API keys secret are not readable by this role.
  statement {
    sid       = "RefreshRoleSecretVersions"
    actions   = ["secretsmanager:GetSecretValue"]
    resources = ["arn:${local.partition}:secretsmanager:${var.aws_region}:${local.account_id}:secret:${var.project}-*/db/*"]
  }

  # ...which Secrets Manager decrypts with the environment's KMS key on the caller's behalf. The key IDs are not
  # known here (they are created by the environment roots), so the grant is scoped by the calling service and the
  # secret in the encryption context instead.
  statement {
    sid       = "DecryptRoleSecretVersions"
    actions   = ["kms:Decrypt"]
    resources = ["arn:${local.partition}:kms:${var.aws_region}:${local.account_id}:key/*"]

    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values   = ["secretsmanager.${var.aws_region}.amazonaws.com"]
    }

    condition {
      test     = "StringLike"
      variable = "kms:EncryptionContext:SecretARN"
      values   = ["arn:${local.partition}:secretsmanager:${var.aws_region}:${local.account_id}:secret:${var.project}-*/db/*"]
    }
  }

  statement {
    sid       = "ListStateBucket"
    actions   = ["s3:ListBucket"]
    resources = [local.state_bucket_arn]
  }

  statement {
    sid       = "ReadState"
    actions   = ["s3:GetObject"]
    resources = ["${local.state_bucket_arn}/*"]
  }

  # No s3:PutObject: the plan job runs `terraform plan -lock=false` (a plan changes nothing; the apply job takes
  # the lock and refuses a saved plan whose state changed since).
  statement {
    sid       = "DecryptState"
    actions   = ["kms:Decrypt"]
    resources = [var.state_kms_key_arn]
  }
}

resource "aws_iam_role_policy" "plan" {
  name   = "${var.project}-github-terraform-plan"
  role   = aws_iam_role.plan.id
  policy = data.aws_iam_policy_document.plan.json
}
