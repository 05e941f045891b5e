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
    # Plans of main (all three roots, production before its approval gate) and of pull requests (staging and
    # global only, without production's state) are separate roles: a pull request's code is not reviewed yet.
    plan    = ["${local.repo_sub}:ref:refs/heads/main"]
    plan_pr = ["${local.repo_sub}:pull_request"]
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
