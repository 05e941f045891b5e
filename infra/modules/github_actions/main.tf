# GitHub Actions -> AWS without long-lived keys: the OIDC provider for token.actions.githubusercontent.com and the
# roles the workflows assume. Every trust policy pins the audience (sts.amazonaws.com) and the subject to this
# repository, and to a branch, pull requests or a GitHub environment (whose protection rules, e.g. required
# reviewers on production, then gate the role).
#
#   <project>-github-ecr-push                 push images to the one ECR repository      main, environments
#   <project>-github-terraform-plan           read-only plan of every root              pull_request, main
#   <project>-<env>-github-deploy             register task defs, run migrate/db-roles,  environment:<env>
#                                             update the service, PassRole on its roles
#   <project>-<env>-github-terraform-apply    apply the <env> root                        environment:<env>
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
      prefix       = "${var.project}-${e}"
      cluster_arn  = "arn:${local.partition}:ecs:${var.aws_region}:${local.account_id}:cluster/${var.project}-${e}"
      service_arn  = "arn:${local.partition}:ecs:${var.aws_region}:${local.account_id}:service/${var.project}-${e}/${var.project}-${e}-api"
      task_def_arn = "arn:${local.partition}:ecs:${var.aws_region}:${local.account_id}:task-definition/${var.project}-${e}-"
      task_arns    = "arn:${local.partition}:ecs:${var.aws_region}:${local.account_id}:task/${var.project}-${e}/*"
      log_group    = "arn:${local.partition}:logs:${var.aws_region}:${local.account_id}:log-group:/ecs/${var.project}-${e}"
      role_arn     = "arn:${local.partition}:iam::${local.account_id}:role/${var.project}-${e}-"
      policy_arn   = "arn:${local.partition}:iam::${local.account_id}:policy/${var.project}-${e}-"
      state_prefix = "${e}/"
    }
  }

  state_bucket_arn = "arn:${local.partition}:s3:::${var.state_bucket_name}"
}

resource "aws_iam_openid_connect_provider" "github" {
  url            = "https://${local.oidc_host}"
  client_id_list = ["sts.amazonaws.com"]
  # AWS validates GitHub's OIDC endpoint against its trusted root CAs and no longer uses these thumbprints; they are
  # GitHub's published intermediates, kept because older API versions required the field.
  thumbprint_list = [
    "6938fd4d98bab03faadb97b34396831e3780aea1",
    "1c58a3a8518e8759bf075b76b750d4f2df264fcd",
  ]
}

data "aws_iam_policy_document" "trust" {
  for_each = {
    ecr_push = concat(["${local.repo_sub}:ref:refs/heads/main"], [for e in var.environments : "${local.repo_sub}:environment:${e}"])
    plan     = ["${local.repo_sub}:pull_request", "${local.repo_sub}:ref:refs/heads/main"]
  }

  statement {
    actions = ["sts:AssumeRoleWithWebIdentity"]

    principals {
      type        = "Federated"
      identifiers = [aws_iam_openid_connect_provider.github.arn]
    }

    condition {
      test     = "StringEquals"
      variable = "${local.oidc_host}:aud"
      values   = ["sts.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "${local.oidc_host}:sub"
      values   = each.value
    }
  }
}

data "aws_iam_policy_document" "env_trust" {
  for_each = local.envs

  statement {
    actions = ["sts:AssumeRoleWithWebIdentity"]

    principals {
      type        = "Federated"
      identifiers = [aws_iam_openid_connect_provider.github.arn]
    }

    condition {
      test     = "StringEquals"
      variable = "${local.oidc_host}:aud"
      values   = ["sts.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "${local.oidc_host}:sub"
      values   = ["${local.repo_sub}:environment:${each.key}"]
    }
  }
}

# --- ECR push -----------------------------------------------------------------------------------------------------

resource "aws_iam_role" "ecr_push" {
  name                 = "${var.project}-github-ecr-push"
  description          = "GitHub Actions: push images to the ${var.project} ECR repository"
  assume_role_policy   = data.aws_iam_policy_document.trust["ecr_push"].json
  max_session_duration = 3600
}

data "aws_iam_policy_document" "ecr_push" {
  # GetAuthorizationToken has no resource-level permissions; AWS requires Resource "*". The token alone grants
  # nothing: what it can push or pull is decided by the statement below.
  statement {
    sid       = "EcrLogin"
    actions   = ["ecr:GetAuthorizationToken"]
    resources = ["*"]
  }

  statement {
    sid = "PushAndInspectThisRepository"
    actions = [
      "ecr:BatchCheckLayerAvailability",
      "ecr:InitiateLayerUpload",
      "ecr:UploadLayerPart",
      "ecr:CompleteLayerUpload",
      "ecr:PutImage",
      "ecr:BatchGetImage",
      "ecr:GetDownloadUrlForLayer",
      "ecr:DescribeImages",
      "ecr:DescribeImageScanFindings",
    ]
    resources = [var.ecr_repository_arn]
  }
}

resource "aws_iam_role_policy" "ecr_push" {
  name   = "${var.project}-github-ecr-push"
  role   = aws_iam_role.ecr_push.id
  policy = data.aws_iam_policy_document.ecr_push.json
}

# --- Deploy (per environment) -------------------------------------------------------------------------------------

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

  statement {
    sid       = "UpdateTheService"
    actions   = ["ecs:UpdateService", "ecs:DescribeServices"]
    resources = [local.env[each.key].service_arn]
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

  statement {
    sid       = "ResolveImageDigest"
    actions   = ["ecr:DescribeImages", "ecr:BatchGetImage"]
    resources = [var.ecr_repository_arn]
  }
}

resource "aws_iam_role_policy" "deploy" {
  for_each = local.envs

  name   = "${var.project}-${each.key}-github-deploy"
  role   = aws_iam_role.deploy[each.key].id
  policy = data.aws_iam_policy_document.deploy[each.key].json
}

# --- Terraform plan (read-only, every root) ------------------------------------------------------------------------

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
      "logs:DescribeLogGroups",
      "logs:ListTagsForResource",
      "logs:ListTagsLogGroup",
      "rds:Describe*",
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

# --- Terraform apply (per environment) ----------------------------------------------------------------------------

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
