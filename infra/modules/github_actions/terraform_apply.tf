resource "aws_iam_role" "apply" {
  for_each = local.envs

  name                 = "${var.project}-${each.key}-github-terraform-apply"
  description          = "GitHub Actions (environment ${each.key}): terraform apply of infra/envs/${each.key}"
  assume_role_policy   = data.aws_iam_policy_document.env_trust[each.key].json
  max_session_duration = 3600
}

data "aws_iam_policy_document" "apply" {
  for_each = local.envs

  #checkov:skip=CKV_AWS_355:Creating VPCs, RDS, ALBs, ECS and their parts cannot be scoped to ARNs that do not exist yet; limited to these services and this region, and the role is only assumable from the protected GitHub environment.
  #checkov:skip=CKV_AWS_290:Same reason: an apply role writes the environment's resources; scoped by service, region and environment protection.
  #checkov:skip=CKV_AWS_289:IAM permission management is limited to <project>-<env>-* roles and policies (statement ManageEnvironmentRoles); KMS key policies are written by this root only.
  #checkov:skip=CKV_AWS_286:Privilege escalation paths are limited to roles named <project>-<env>-*; the GitHub roles themselves live in the global root, which this role cannot change.
  #checkov:skip=CKV_AWS_287:secretsmanager:GetSecretValue is needed to refresh the role secret versions; limited to this environment's secrets.
  #checkov:skip=CKV_AWS_288:Same as CKV_AWS_287: reads are limited to this environment's secrets and the state bucket.
  #checkov:skip=CKV_AWS_356:See CKV_AWS_355.
  #checkov:skip=CKV_AWS_111:See CKV_AWS_290.
  #checkov:skip=CKV_AWS_109:See CKV_AWS_289.
  statement {
    sid = "ManageEnvironmentServices"
    actions = [
      "application-autoscaling:*",
      "cloudwatch:*",
      "ec2:*",
      "ecs:*",
      "elasticloadbalancing:*",
      "kms:*",
      "logs:*",
      "rds:*",
      "sns:*",
      "acm:DescribeCertificate",
      "acm:ListTagsForCertificate",
      "ecr:DescribeRepositories",
      "ecr:ListTagsForResource",
    ]
    resources = ["*"]

    condition {
      test     = "StringEquals"
      variable = "aws:RequestedRegion"
      values   = [var.aws_region]
    }
  }

  # modules/edge: CloudFront and its certificate, the CLOUDFRONT-scope WAF, and their logs, key, topic and alarms all
  # live in us-east-1 (CloudFront and Route 53 are global services, whose calls are signed for us-east-1 too).
  statement {
    sid = "ManageEnvironmentEdge"
    actions = [
      "acm:*",
      "cloudfront:*",
      "cloudwatch:*",
      "kms:*",
      "logs:*",
      "route53:*",
      "sns:*",
      "wafv2:*",
    ]
    resources = ["*"]

    condition {
      test     = "StringEquals"
      variable = "aws:RequestedRegion"
      values   = ["us-east-1"]
    }
  }

  statement {
    sid     = "ManageEnvironmentSecrets"
    actions = ["secretsmanager:*"]
    resources = [
      "arn:${local.partition}:secretsmanager:${var.aws_region}:${local.account_id}:secret:${local.env[each.key].prefix}/*",
    ]
  }

  # manage_master_user_password: RDS creates its master secret (named rds!db-...) with the caller's permissions.
  statement {
    sid = "RdsManagedMasterSecret"
    actions = [
      "secretsmanager:CreateSecret",
      "secretsmanager:TagResource",
      "secretsmanager:DescribeSecret",
      "secretsmanager:RotateSecret",
      "secretsmanager:DeleteSecret",
    ]
    resources = ["arn:${local.partition}:secretsmanager:${var.aws_region}:${local.account_id}:secret:rds!*"]
  }

  statement {
    sid       = "SecretsManagerAccountCalls"
    actions   = ["secretsmanager:ListSecrets", "secretsmanager:GetRandomPassword"]
    resources = ["*"]
  }

  statement {
    sid     = "ManageEnvironmentBuckets"
    actions = ["s3:*"]
    resources = [
      "arn:${local.partition}:s3:::${local.env[each.key].prefix}-*",
      "arn:${local.partition}:s3:::${local.env[each.key].prefix}-*/*",
    ]
  }

  statement {
    sid = "ManageEnvironmentRoles"
    actions = [
      "iam:AttachRolePolicy",
      "iam:CreateRole",
      "iam:DeleteRole",
      "iam:DeleteRolePolicy",
      "iam:DetachRolePolicy",
      "iam:GetRole",
      "iam:GetRolePolicy",
      "iam:ListAttachedRolePolicies",
      "iam:ListInstanceProfilesForRole",
      "iam:ListRolePolicies",
      "iam:ListRoleTags",
      "iam:PassRole",
      "iam:PutRolePolicy",
      "iam:TagRole",
      "iam:UntagRole",
      "iam:UpdateAssumeRolePolicy",
      "iam:UpdateRole",
      "iam:UpdateRoleDescription",
    ]
    resources = ["${local.env[each.key].role_arn}*"]
  }

  statement {
    sid       = "ReadManagedPolicies"
    actions   = ["iam:GetPolicy", "iam:GetPolicyVersion"]
    resources = ["arn:${local.partition}:iam::aws:policy/*"]
  }

  # RDS, ECS, ELB and Application Auto Scaling create their service-linked roles on first use in an account.
  statement {
    sid       = "CreateServiceLinkedRoles"
    actions   = ["iam:CreateServiceLinkedRole"]
    resources = ["arn:${local.partition}:iam::${local.account_id}:role/aws-service-role/*"]

    condition {
      test     = "StringEquals"
      variable = "iam:AWSServiceName"
      values = [
        "rds.amazonaws.com",
        "ecs.amazonaws.com",
        "elasticloadbalancing.amazonaws.com",
        "ecs.application-autoscaling.amazonaws.com",
        "wafv2.amazonaws.com",
        "delivery.logs.amazonaws.com",
      ]
    }
  }

  statement {
    sid       = "ListStateBucket"
    actions   = ["s3:ListBucket"]
    resources = [local.state_bucket_arn]

    condition {
      test     = "StringLike"
      variable = "s3:prefix"
      values   = ["${local.env[each.key].state_prefix}*"]
    }
  }

  statement {
    sid       = "ReadWriteOwnState"
    actions   = ["s3:GetObject", "s3:PutObject"]
    resources = ["${local.state_bucket_arn}/${local.env[each.key].state_prefix}*"]
  }

  statement {
    sid       = "ReleaseOwnLock"
    actions   = ["s3:DeleteObject"]
    resources = ["${local.state_bucket_arn}/${local.env[each.key].state_prefix}*.tflock"]
  }

  statement {
    sid       = "UseStateKey"
    actions   = ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"]
    resources = [var.state_kms_key_arn]
  }
}

resource "aws_iam_role_policy" "apply" {
  for_each = local.envs

  name   = "${var.project}-${each.key}-github-terraform-apply"
  role   = aws_iam_role.apply[each.key].id
  policy = data.aws_iam_policy_document.apply[each.key].json
}
