# The two plan roles: read-only, no secret value, no state write.
#
#   <project>-github-terraform-plan      pushes to main only: plans global, staging and production (production is
#                                        planned on main, before its approval gate); reads those three states.
#   <project>-github-terraform-plan-pr   pull requests: plans staging and global only; reads those two states and
#                                        never production's (a pull request runs code the reviewers have not merged).
#
# Neither may call secretsmanager:GetSecretValue: the configuration no longer needs it (modules/database writes
# the role passwords without a Terraform-refreshed secret version). What a pull request can still see: staging's
# and global's state, which hold no secret value except staging's CloudFront origin header (modules/load_balancer,
# a random_password kept in state by design; it is not a credential to any data).

locals {
  # Terraform refresh reads every managed resource. Describe/List/Get of configuration only: none of these reads
  # data (no s3:GetObject outside the state bucket, no logs:GetLogEvents, no secretsmanager:GetSecretValue).
  # Shared with the apply roles (terraform_apply.tf). tests/infra_contract checks that the data sources the roots
  # read are allowed here.
  read_actions = [
    "acm:DescribeCertificate",
    "acm:ListTagsForCertificate",
    "application-autoscaling:Describe*",
    "application-autoscaling:ListTagsForResource",
    "cloudfront:Get*",
    "cloudfront:List*",
    "cloudwatch:Describe*",
    "cloudwatch:GetDashboard",
    "cloudwatch:ListTagsForResource",
    "ec2:Describe*",
    "ec2:GetManagedPrefixListEntries",
    "ecr:DescribePullThroughCacheRules",
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
    "iam:ListInstanceProfilesForRole",
    "iam:ListOpenIDConnectProviders",
    "iam:ListPolicyTags",
    "iam:ListPolicyVersions",
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
    "logs:DescribeResourcePolicies",
    "logs:GetDelivery",
    "logs:GetDeliveryDestination",
    "logs:GetDeliverySource",
    "logs:ListTagsForResource",
    "logs:ListTagsLogGroup",
    "rds:Describe*",
    "rds:ListTagsForResource",
    "route53:GetChange",
    "route53:GetHostedZone",
    "route53:ListResourceRecordSets",
    "route53:ListTagsForResource",
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

  # State objects each plan role may read.
  plan_state_prefixes = {
    plan    = ["global/", "staging/", "production/"]
    plan_pr = ["global/", "staging/"]
  }
}

resource "aws_iam_role" "plan" {
  name                 = "${var.project}-github-terraform-plan"
  description          = "GitHub Actions, pushes to main: read-only terraform plan of global, staging and production"
  assume_role_policy   = data.aws_iam_policy_document.trust["plan"].json
  max_session_duration = 3600
}

resource "aws_iam_role" "plan_pr" {
  name                 = "${var.project}-github-terraform-plan-pr"
  description          = "GitHub Actions, pull requests: read-only terraform plan of global and staging"
  assume_role_policy   = data.aws_iam_policy_document.trust["plan_pr"].json
  max_session_duration = 3600
}

data "aws_iam_policy_document" "plan" {
  for_each = local.plan_state_prefixes

  #checkov:skip=CKV_AWS_356:Read-only Describe/List/Get calls of the managed services need "*" (no resource-level permissions); no write action is granted.
  statement {
    sid       = "ReadConfiguration"
    actions   = local.read_actions
    resources = ["*"]
  }

  statement {
    sid       = "ListStateBucket"
    actions   = ["s3:ListBucket"]
    resources = [local.state_bucket_arn]

    condition {
      test     = "StringLike"
      variable = "s3:prefix"
      values   = [for p in each.value : "${p}*"]
    }
  }

  # No s3:PutObject: plans run with -lock=false (a plan changes nothing; the apply job takes the lock and refuses a
  # saved plan whose state changed since).
  statement {
    sid       = "ReadState"
    actions   = ["s3:GetObject"]
    resources = [for p in each.value : "${local.state_bucket_arn}/${p}*"]
  }

  statement {
    sid       = "DecryptState"
    actions   = ["kms:Decrypt"]
    resources = [var.state_kms_key_arn]
  }
}

resource "aws_iam_role_policy" "plan" {
  name   = "${var.project}-github-terraform-plan"
  role   = aws_iam_role.plan.id
  policy = data.aws_iam_policy_document.plan["plan"].json
}

resource "aws_iam_role_policy" "plan_pr" {
  name   = "${var.project}-github-terraform-plan-pr"
  role   = aws_iam_role.plan_pr.id
  policy = data.aws_iam_policy_document.plan["plan_pr"].json
}
