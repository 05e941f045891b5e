resource "aws_iam_role" "apply" {
  for_each = local.envs

  name                 = "${var.project}-${each.key}-github-terraform-apply"
  description          = "GitHub Actions (environment ${each.key}): terraform apply of infra/envs/${each.key}"
  assume_role_policy   = data.aws_iam_policy_document.env_trust[each.key].json
  max_session_duration = 3600
}

# What an apply of infra/envs/<env> may do, and nothing of the other environment. Three ways of scoping, by what
# each service supports:
#  - by name, where the ARN carries the resource's fixed name <project>-<env>-* (ECS, load balancing, RDS, log
#    groups, alarms, topics, secrets, buckets, IAM roles, the web ACL);
#  - by the Environment tag every resource carries (provider default_tags): creating requires
#    aws:RequestTag/Environment = <env>, changing requires aws:ResourceTag/Environment = <env> (EC2, KMS,
#    CloudFront distributions, ACM, Application Auto Scaling), and no tag may be set to another environment;
#  - the few calls AWS only authorises on "*" are listed (and explained) in infra/iam-policy-exceptions.txt.
# IAM: roles only with the environment's permissions boundary (boundary.tf), which this role can neither change nor
# remove. Reads (Describe/List/Get of configuration, never of data) are the plan role's list (terraform_plan.tf).
data "aws_iam_policy_document" "apply" {
  for_each = local.envs

  #checkov:skip=CKV_AWS_356:Only reads (Describe/List/Get of configuration) and the creation calls AWS authorises on "*" take "*"; creations carry aws:RequestTag/Environment conditions. See infra/iam-policy-exceptions.txt.
  #checkov:skip=CKV_AWS_111:Writes without resource-level permissions (e.g. ecs:DeregisterTaskDefinition, logs:PutResourcePolicy) take "*"; each is listed with its reason in infra/iam-policy-exceptions.txt.
  statement {
    sid       = "ReadConfiguration"
    actions   = local.read_actions
    resources = ["*"]
  }

  # --- by name ----------------------------------------------------------------------------------------------------

  statement {
    sid = "EcsOwnClusterAndService"
    actions = [
      "ecs:CreateCluster", "ecs:DeleteCluster", "ecs:UpdateCluster", "ecs:PutClusterCapacityProviders",
      "ecs:CreateService", "ecs:DeleteService", "ecs:UpdateService",
      "ecs:TagResource", "ecs:UntagResource",
    ]
    resources = [
      local.env[each.key].cluster_arn,
      "arn:${local.partition}:ecs:${var.aws_region}:${local.account_id}:service/${local.env[each.key].prefix}/*",
      "${local.env[each.key].task_def_arn}*",
    ]
  }

  # RegisterTaskDefinition has no resource-level permissions: limited to requests tagged with this environment
  # (default_tags). DeregisterTaskDefinition supports neither (see infra/iam-policy-exceptions.txt).
  statement {
    sid       = "EcsRegisterOwnTaskDefinitions"
    actions   = ["ecs:RegisterTaskDefinition"]
    resources = ["*"]

    condition {
      test     = "StringEquals"
      variable = "aws:RequestTag/Environment"
      values   = [each.key]
    }
  }

  statement {
    sid       = "EcsDeregisterTaskDefinitions"
    actions   = ["ecs:DeregisterTaskDefinition"]
    resources = ["*"]
  }

  statement {
    sid     = "LoadBalancingOwnResources"
    actions = ["elasticloadbalancing:*"]
    resources = [
      "arn:${local.partition}:elasticloadbalancing:${var.aws_region}:${local.account_id}:loadbalancer/app/${local.env[each.key].prefix}-alb/*",
      "arn:${local.partition}:elasticloadbalancing:${var.aws_region}:${local.account_id}:listener/app/${local.env[each.key].prefix}-alb/*",
      local.env[each.key].listener_rules,
      local.env[each.key].target_groups,
    ]
  }

  statement {
    sid = "RdsOwnResources"
    # Listed, not rds:*: no snapshot sharing (ModifyDBSnapshotAttribute), no DB security group ingress.
    actions = [
      "rds:CreateDBInstance", "rds:CreateDBInstanceReadReplica", "rds:ModifyDBInstance", "rds:DeleteDBInstance",
      "rds:RebootDBInstance", "rds:CreateDBSnapshot", "rds:AddTagsToResource", "rds:RemoveTagsFromResource",
      "rds:CreateDBParameterGroup", "rds:ModifyDBParameterGroup", "rds:ResetDBParameterGroup",
      "rds:DeleteDBParameterGroup", "rds:CreateDBSubnetGroup", "rds:ModifyDBSubnetGroup", "rds:DeleteDBSubnetGroup",
      # engine = "aurora" (modules/database, aurora.tf): the cluster, its parameter group and final snapshot.
      "rds:CreateDBCluster", "rds:ModifyDBCluster", "rds:DeleteDBCluster", "rds:CreateDBClusterSnapshot",
      "rds:CreateDBClusterParameterGroup", "rds:ModifyDBClusterParameterGroup",
      "rds:ResetDBClusterParameterGroup", "rds:DeleteDBClusterParameterGroup",
    ]
    resources = [
      "arn:${local.partition}:rds:${var.aws_region}:${local.account_id}:db:${local.env[each.key].prefix}-db*",
      "arn:${local.partition}:rds:${var.aws_region}:${local.account_id}:cluster:${local.env[each.key].prefix}-db",
      "arn:${local.partition}:rds:${var.aws_region}:${local.account_id}:cluster-pg:${local.env[each.key].prefix}-*",
      "arn:${local.partition}:rds:${var.aws_region}:${local.account_id}:cluster-snapshot:${local.env[each.key].prefix}-*",
      "arn:${local.partition}:rds:${var.aws_region}:${local.account_id}:pg:${local.env[each.key].prefix}-*",
      "arn:${local.partition}:rds:${var.aws_region}:${local.account_id}:subgrp:${local.env[each.key].prefix}-*",
      "arn:${local.partition}:rds:${var.aws_region}:${local.account_id}:snapshot:${local.env[each.key].prefix}-*",
    ]
  }

  # An instance is created with (and modified against) the engine's default option group, which RDS owns.
  statement {
    sid       = "UseDefaultOptionGroup"
    actions   = ["rds:CreateDBInstance", "rds:CreateDBInstanceReadReplica", "rds:ModifyDBInstance"]
    resources = ["arn:${local.partition}:rds:${var.aws_region}:${local.account_id}:og:default:*"]
  }

  statement {
    sid     = "LogGroupsOfTheEnvironment"
    actions = ["logs:*"]
    resources = [
      "${local.env[each.key].log_group}*",
      "${local.env[each.key].flow_log_group}*",
      # The database's exported logs (modules/database, logs.tf), created by Terraform with a retention.
      "arn:${local.partition}:logs:${var.aws_region}:${local.account_id}:log-group:/aws/rds/instance/${local.env[each.key].prefix}-db*",
      "arn:${local.partition}:logs:${var.aws_region}:${local.account_id}:log-group:/aws/rds/cluster/${local.env[each.key].prefix}-db*",
      "arn:${local.partition}:logs:us-east-1:${local.account_id}:log-group:aws-waf-logs-${local.env[each.key].prefix}*",
      "arn:${local.partition}:logs:us-east-1:${local.account_id}:log-group:/cloudfront/${local.env[each.key].prefix}*",
      "arn:${local.partition}:logs:us-east-1:${local.account_id}:delivery-source:${local.env[each.key].prefix}-*",
      "arn:${local.partition}:logs:us-east-1:${local.account_id}:delivery-destination:${local.env[each.key].prefix}-*",
    ]
  }

  statement {
    sid     = "AlarmsAndDashboardsOfTheEnvironment"
    actions = ["cloudwatch:PutMetricAlarm", "cloudwatch:DeleteAlarms", "cloudwatch:PutDashboard", "cloudwatch:DeleteDashboards", "cloudwatch:TagResource", "cloudwatch:UntagResource"]
    resources = [
      "arn:${local.partition}:cloudwatch:*:${local.account_id}:alarm:${local.env[each.key].prefix}-*",
      # The alarms Application Auto Scaling creates for the target tracking policies (on the caller's permissions).
      "arn:${local.partition}:cloudwatch:${var.aws_region}:${local.account_id}:alarm:TargetTracking-service/${local.env[each.key].prefix}/*",
      "arn:${local.partition}:cloudwatch::${local.account_id}:dashboard/${local.env[each.key].prefix}*",
    ]
  }

  statement {
    sid = "TopicsOfTheEnvironment"
    actions = [
      "sns:CreateTopic", "sns:DeleteTopic", "sns:SetTopicAttributes", "sns:Subscribe", "sns:Unsubscribe",
      "sns:TagResource", "sns:UntagResource",
    ]
    resources = ["arn:${local.partition}:sns:*:${local.account_id}:${local.env[each.key].prefix}-*"]
  }

  # Values are written, never read back: no secretsmanager:GetSecretValue (modules/database, role passwords).
  statement {
    sid = "SecretsOfTheEnvironment"
    actions = [
      "secretsmanager:CreateSecret", "secretsmanager:DeleteSecret", "secretsmanager:RestoreSecret",
      "secretsmanager:UpdateSecret", "secretsmanager:PutSecretValue", "secretsmanager:TagResource",
      "secretsmanager:UntagResource",
    ]
    resources = [local.env[each.key].secrets]
  }

  # engine = "aurora": RDS creates (and on deletion removes) the master secret it manages, rds!cluster-<id>, with the
  # caller's permissions; the secret carries the tag aws:rds:primaryDBClusterArn naming this environment's cluster.
  statement {
    sid       = "RdsManagedMasterSecret"
    actions   = ["secretsmanager:CreateSecret", "secretsmanager:TagResource", "secretsmanager:DeleteSecret", "secretsmanager:RotateSecret"]
    resources = ["arn:${local.partition}:secretsmanager:${var.aws_region}:${local.account_id}:secret:rds!cluster-*"]

    condition {
      test     = "StringEquals"
      variable = "aws:RequestTag/aws:rds:primaryDBClusterArn"
      values   = [local.env[each.key].db_cluster_arn]
    }
  }

  statement {
    sid     = "BucketsOfTheEnvironment"
    actions = ["s3:*"]
    resources = [
      "arn:${local.partition}:s3:::${local.env[each.key].prefix}-*",
      "arn:${local.partition}:s3:::${local.env[each.key].prefix}-*/*",
    ]
  }

  statement {
    sid       = "WebAclOfTheEnvironment"
    actions   = ["wafv2:CreateWebACL", "wafv2:UpdateWebACL", "wafv2:DeleteWebACL", "wafv2:PutLoggingConfiguration", "wafv2:DeleteLoggingConfiguration", "wafv2:AssociateWebACL", "wafv2:DisassociateWebACL", "wafv2:TagResource", "wafv2:UntagResource"]
    resources = ["arn:${local.partition}:wafv2:us-east-1:${local.account_id}:global/webacl/${local.env[each.key].prefix}-*/*"]
  }

  # A web ACL names AWS managed rule groups; creating or updating it is authorised on them too.
  statement {
    sid       = "UseManagedRuleGroups"
    actions   = ["wafv2:CreateWebACL", "wafv2:UpdateWebACL"]
    resources = ["arn:${local.partition}:wafv2:us-east-1:${local.account_id}:global/managedruleset/*/*"]
  }

  statement {
    sid       = "KmsAliasesOfTheEnvironment"
    actions   = ["kms:CreateAlias", "kms:DeleteAlias", "kms:UpdateAlias"]
    resources = ["arn:${local.partition}:kms:*:${local.account_id}:alias/${local.env[each.key].prefix}*"]
  }

  # --- by tag -----------------------------------------------------------------------------------------------------

  statement {
    sid = "CreateTaggedWithTheEnvironment"
    actions = [
      "ec2:CreateVpc", "ec2:CreateSubnet", "ec2:CreateRouteTable", "ec2:CreateInternetGateway", "ec2:AllocateAddress",
      "ec2:CreateNatGateway", "ec2:CreateSecurityGroup", "ec2:CreateVpcEndpoint", "ec2:CreateFlowLogs",
      "ec2:AuthorizeSecurityGroupIngress", "ec2:AuthorizeSecurityGroupEgress",
      "kms:CreateKey",
      "acm:RequestCertificate",
      "cloudfront:CreateDistribution", "cloudfront:CreateDistributionWithTags",
      # cdn_origin = "vpc_origin": the VPC origin of the environment's internal ALB (modules/edge).
      "cloudfront:CreateVpcOrigin",
      "application-autoscaling:RegisterScalableTarget",
    ]
    resources = ["*"]

    condition {
      test     = "StringEquals"
      variable = "aws:RequestTag/Environment"
      values   = [each.key]
    }
  }

  statement {
    sid = "ChangeWhatIsTaggedWithTheEnvironment"
    actions = [
      "ec2:AssociateRouteTable", "ec2:AttachInternetGateway", "ec2:AuthorizeSecurityGroupEgress",
      "ec2:AuthorizeSecurityGroupIngress", "ec2:CreateNatGateway", "ec2:CreateRoute", "ec2:CreateSubnet",
      "ec2:CreateVpcEndpoint", "ec2:CreateFlowLogs", "ec2:DeleteFlowLogs", "ec2:DeleteInternetGateway",
      "ec2:DeleteNatGateway", "ec2:DeleteRoute", "ec2:DeleteRouteTable", "ec2:DeleteSecurityGroup",
      "ec2:DeleteSubnet", "ec2:DeleteTags", "ec2:DeleteVpc", "ec2:DeleteVpcEndpoints", "ec2:DetachInternetGateway",
      "ec2:DisassociateAddress", "ec2:DisassociateRouteTable", "ec2:ModifySecurityGroupRules",
      "ec2:ModifySubnetAttribute", "ec2:ModifyVpcAttribute", "ec2:ModifyVpcEndpoint", "ec2:ReleaseAddress",
      "ec2:ReplaceRoute", "ec2:ReplaceRouteTableAssociation", "ec2:RevokeSecurityGroupEgress",
      "ec2:RevokeSecurityGroupIngress", "ec2:UpdateSecurityGroupRuleDescriptionsEgress",
      "ec2:UpdateSecurityGroupRuleDescriptionsIngress",
      "kms:CancelKeyDeletion", "kms:CreateGrant", "kms:Decrypt", "kms:DescribeKey", "kms:DisableKeyRotation",
      "kms:EnableKeyRotation", "kms:Encrypt", "kms:GenerateDataKey", "kms:GenerateDataKeyWithoutPlaintext",
      "kms:PutKeyPolicy", "kms:ReEncryptFrom", "kms:ReEncryptTo", "kms:ScheduleKeyDeletion", "kms:UpdateKeyDescription",
      "kms:CreateAlias", "kms:DeleteAlias", "kms:UpdateAlias", "kms:UntagResource",
      "acm:DeleteCertificate", "acm:RemoveTagsFromCertificate",
      "cloudfront:UpdateDistribution", "cloudfront:DeleteDistribution", "cloudfront:UntagResource",
      "cloudfront:UpdateVpcOrigin", "cloudfront:DeleteVpcOrigin",
      "application-autoscaling:RegisterScalableTarget", "application-autoscaling:DeregisterScalableTarget",
      "application-autoscaling:PutScalingPolicy", "application-autoscaling:DeleteScalingPolicy",
      "application-autoscaling:UntagResource",
      "logs:UntagResource",
      # CloudFront standard logging (v2): the log delivery source names the distribution.
      "cloudfront:AllowVendedLogDeliveryForResource",
    ]
    resources = ["*"]

    condition {
      test     = "StringEquals"
      variable = "aws:ResourceTag/Environment"
      values   = [each.key]
    }
  }

  # Tagging: on creation (ec2:CreateAction), or a resource of this environment or not yet tagged (the VPC's default
  # security group, which Terraform adopts and tags), and never with another environment's tag.
  statement {
    sid = "TagWithTheEnvironmentOnly"
    actions = [
      "ec2:CreateTags", "kms:TagResource", "acm:AddTagsToCertificate", "cloudfront:TagResource",
      "application-autoscaling:TagResource", "logs:TagResource",
    ]
    resources = ["*"]

    condition {
      test     = "StringEquals"
      variable = "aws:RequestTag/Environment"
      values   = [each.key]
    }

    condition {
      test     = "StringEqualsIfExists"
      variable = "aws:ResourceTag/Environment"
      values   = [each.key]
    }
  }

  # The default security group of the environment's VPC has no Environment tag until Terraform adopts it.
  statement {
    sid       = "RestrictTheDefaultSecurityGroup"
    actions   = ["ec2:RevokeSecurityGroupIngress", "ec2:RevokeSecurityGroupEgress"]
    resources = ["arn:${local.partition}:ec2:${var.aws_region}:${local.account_id}:security-group/*"]

    condition {
      test     = "StringEqualsIfExists"
      variable = "aws:ResourceTag/Environment"
      values   = [each.key]
    }
  }

  # --- no resource-level permissions (listed in infra/iam-policy-exceptions.txt) --------------------------------

  statement {
    sid = "AccountLevelCalls"
    actions = [
      "cloudfront:CreateCachePolicy", "cloudfront:UpdateCachePolicy", "cloudfront:DeleteCachePolicy",
      "cloudfront:CreateOriginRequestPolicy", "cloudfront:UpdateOriginRequestPolicy",
      "cloudfront:DeleteOriginRequestPolicy",
      "logs:PutResourcePolicy", "logs:DeleteResourcePolicy", "logs:CreateLogDelivery", "logs:DeleteLogDelivery",
      "logs:PutDeliverySource", "logs:PutDeliveryDestination", "logs:DeleteDeliverySource",
      "logs:DeleteDeliveryDestination", "logs:CreateDelivery", "logs:DeleteDelivery",
      # Route 53 has no tag or name condition keys for these: the private zone of the read endpoint and the
      # certificate validation and alias records in the hosted zone the environment is given.
      "route53:CreateHostedZone", "route53:ChangeResourceRecordSets", "route53:ChangeTagsForResource", "route53:DeleteHostedZone",
      "route53:AssociateVPCWithHostedZone", "route53:DisassociateVPCFromHostedZone",
    ]
    resources = ["*"]
  }

  # --- IAM: the environment's roles, always inside the boundary ------------------------------------------------

  statement {
    sid       = "CreateRolesOnlyWithTheBoundary"
    actions   = ["iam:CreateRole", "iam:PutRolePolicy", "iam:PutRolePermissionsBoundary", "iam:AttachRolePolicy"]
    resources = ["${local.env[each.key].role_arn}*"]

    condition {
      test     = "StringEquals"
      variable = "iam:PermissionsBoundary"
      values   = [local.env[each.key].boundary_arn]
    }
  }

  statement {
    sid = "ManageOwnRoles"
    actions = [
      "iam:DeleteRole", "iam:DeleteRolePolicy", "iam:DetachRolePolicy", "iam:TagRole", "iam:UntagRole",
      "iam:UpdateAssumeRolePolicy", "iam:UpdateRole", "iam:UpdateRoleDescription",
    ]
    resources = ["${local.env[each.key].role_arn}*"]
  }

  statement {
    sid       = "PassOwnRolesToTheirServices"
    actions   = ["iam:PassRole"]
    resources = ["${local.env[each.key].role_arn}*"]

    condition {
      test     = "StringEquals"
      variable = "iam:PassedToService"
      values   = ["ecs-tasks.amazonaws.com", "ecs.amazonaws.com", "monitoring.rds.amazonaws.com", "vpc-flow-logs.amazonaws.com"]
    }
  }

  # RDS, ECS, ELB, Application Auto Scaling, WAF, log delivery and CloudFront VPC origins (the role that places the
  # VPC origin's network interfaces in the ALB's subnets) create their service-linked roles on first use.
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
        "vpcorigin.cloudfront.amazonaws.com",
      ]
    }
  }

  statement {
    sid    = "TheBoundaryStays"
    effect = "Deny"
    actions = [
      "iam:CreatePolicyVersion", "iam:DeletePolicy", "iam:DeletePolicyVersion", "iam:SetDefaultPolicyVersion",
      "iam:TagPolicy", "iam:UntagPolicy",
    ]
    resources = [local.env[each.key].boundary_arn]
  }

  statement {
    sid       = "NoRoleWithoutTheBoundary"
    effect    = "Deny"
    actions   = ["iam:DeleteRolePermissionsBoundary"]
    resources = ["*"]
  }

  statement {
    sid       = "NoOtherBoundary"
    effect    = "Deny"
    actions   = ["iam:CreateRole", "iam:PutRolePermissionsBoundary"]
    resources = ["*"]

    condition {
      test     = "StringNotEquals"
      variable = "iam:PermissionsBoundary"
      values   = [local.env[each.key].boundary_arn]
    }
  }

  # --- state ------------------------------------------------------------------------------------------------------

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
