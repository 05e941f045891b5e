# ALB behind CloudFront -> two IP target groups on the service's port (ECS blue/green swaps them). One
# listener: HTTPS on 443 (TLS 1.2+/1.3 policy) with a certificate, HTTP on 80 without one (a first bring-up before
# DNS exists); adding the certificate later modifies that listener in place. Internal (var.internal, private
# subnets, no public address: CloudFront reaches it through a VPC origin, modules/edge) or internet-facing.
#
# Only CloudFront reaches the listener (the security group admits the CloudFront origin-facing prefix list only), and
# the listener forwards only requests bearing the secret origin header CloudFront adds: any other request, e.g. from
# another CloudFront distribution (same prefix list), gets a 403 without reaching a task. Health checks go from the
# ALB straight to the targets: they pass through no listener rule, no CloudFront and no WAF.

data "aws_elb_service_account" "this" {}
data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}

locals {
  https = var.certificate_arn != null
  # Keys: the service module's primary (load_balancer.target_group_arn) and alternate target group.
  target_groups = {
    primary   = "${var.name_prefix}-api"
    alternate = "${var.name_prefix}-alt"
  }
  forbidden_body = jsonencode({ title = "Forbidden", status = 403, detail = "Use the public hostname: this load balancer only serves its CloudFront distribution." })
}

# The value CloudFront sends in var.origin_header_name and the listener rules require. Generated here rather than
# kept in Secrets Manager: it has to sit in plain text in the CloudFront origin configuration and in the listener
# rule conditions anyway (both readable by whoever may describe them), so a secret would only add a third copy. It
# lives in the state (encrypted with the state bucket's KMS key); rotate it by bumping var.origin_secret_version.
resource "random_password" "origin_secret" {
  length  = 48
  special = false # the listener condition treats * and ? as wildcards; alphanumeric keeps the match exact

  keepers = {
    version = var.origin_secret_version
  }
}

resource "aws_lb" "this" {
  #checkov:skip=CKV2_AWS_28:The WAF web ACL sits on the CloudFront distribution in front of this ALB (modules/edge); the ALB admits only CloudFront with the secret origin header, so nothing reaches it unfiltered.
  #checkov:skip=CKV2_AWS_76:The WAF is on CloudFront (modules/edge, see CKV2_AWS_28); the service is Rust, not Java, so the Log4j rule set does not apply.
  #checkov:skip=CKV_AWS_91:Access logs are var.access_logs_enabled: on in production, off in staging to save the S3 cost.
  #checkov:skip=CKV2_AWS_20:One listener, reached only by CloudFront on its one port (HTTPS with a certificate); no HTTP port is open to redirect from.
  #checkov:skip=CKV_AWS_150:Deletion protection is var.deletion_protection: on in production, off in staging so it can be torn down.
  name               = "${var.name_prefix}-alb"
  load_balancer_type = "application"
  internal           = var.internal
  subnets            = var.subnet_ids
  security_groups    = [var.security_group_id]

  # Reject requests with malformed headers instead of passing them to the service (request smuggling defence).
  drop_invalid_header_fields = true
  enable_deletion_protection = var.deletion_protection
  idle_timeout               = var.idle_timeout_seconds

  dynamic "access_logs" {
    for_each = var.access_logs_enabled ? [1] : []
    content {
      bucket  = aws_s3_bucket.access_logs[0].id
      prefix  = "alb"
      enabled = true
    }
  }

  depends_on = [aws_s3_bucket_policy.access_logs]
}

# Two identical target groups: ECS blue/green registers the new revision's tasks in whichever one is idle, shifts the
# production listener rule to it and, after the bake time, drains the other. Which one is "blue" alternates.
resource "aws_lb_target_group" "api" {
  #checkov:skip=CKV_AWS_378:TLS terminates at the ALB; ALB-to-task traffic stays inside the VPC, confined by security groups to the tasks' port.
  for_each = local.target_groups

  name        = each.value
  target_type = "ip" # awsvpc (Fargate) tasks register by IP
  port        = var.target_port
  protocol    = "HTTP"
  vpc_id      = var.vpc_id

  # Slightly longer than the service's SHUTDOWN_GRACE_SECS (20 s): the ALB stops sending new requests at once and
  # lets in-flight ones finish; ECS stopTimeout (30 s) is the hard limit after SIGTERM. See infra/README.md.
  deregistration_delay = var.deregistration_delay_seconds

  health_check {
    enabled             = true
    path                = var.health_check_path
    protocol            = "HTTP"
    port                = "traffic-port"
    matcher             = "200"
    interval            = 15
    timeout             = 5
    healthy_threshold   = 2
    unhealthy_threshold = 3
  }
}

# The primary group was the module's only target group before blue/green: same object, new address.
moved {
  from = aws_lb_target_group.api
  to   = aws_lb_target_group.api["primary"]
}

# One listener, the one CloudFront reaches and the blue/green rules hang on. Turning HTTPS on later (setting
# certificate_arn) changes this listener in place (ModifyListener: port 80 -> 443, HTTP -> HTTPS, certificate):
# its ARN stays, so the listener rules below, whose listener_arn forces replacement, are neither replaced nor
# reset to their initial weights. With two listeners chosen by the certificate (the earlier layout) that switch
# recreated both rules on the new listener with 100/0 weights while ECS may have left production on the alternate
# group: an empty target group in production (and provider issue hashicorp/terraform-provider-aws#45678 makes
# Terraform-started blue/green deployments unreliable to repair it). tests/infra_contract checks that the rules'
# listener never depends on the certificate.
#
# No port-80 redirect listener with HTTPS: the security group admits CloudFront on the listener port only
# (modules/security_groups, alb_listener_port), so a redirect on 80 could never be reached.
resource "aws_lb_listener" "origin" {
  #checkov:skip=CKV_AWS_2:HTTP only while no certificate is given (an HTTP bring-up); with certificate_arn this same listener is HTTPS on 443.
  #checkov:skip=CKV_AWS_103:TLS policy var.ssl_policy (TLS 1.2+) applies once the listener is HTTPS; HTTP-only in a bring-up without a certificate.
  #checkov:skip=CKV2_AWS_20:Only CloudFront reaches this ALB, on the one listener port; there is no second port to redirect from.
  load_balancer_arn = aws_lb.this.arn
  port              = local.https ? 443 : 80
  protocol          = local.https ? "HTTPS" : "HTTP"
  ssl_policy        = local.https ? var.ssl_policy : null
  certificate_arn   = var.certificate_arn

  default_action {
    type = "fixed-response"

    fixed_response {
      content_type = "application/json"
      status_code  = "403"
      message_body = local.forbidden_body
    }
  }
}

# The HTTP-only listener of a bring-up without a certificate is this listener, at its new address.
moved {
  from = aws_lb_listener.http_forward[0]
  to   = aws_lb_listener.origin
}

# --- Blue/green listener rules ---------------------------------------------------------------------------------
# ECS owns the forward weights once the service exists (it moves 100% between the two groups at each deploy), so
# Terraform sets them once and then ignores the action. Both rules require the origin header: only CloudFront gets in.

resource "aws_lb_listener_rule" "production" {
  listener_arn = aws_lb_listener.origin.arn
  priority     = 100

  action {
    type = "forward"

    forward {
      target_group {
        arn    = aws_lb_target_group.api["primary"].arn
        weight = 100
      }
      target_group {
        arn    = aws_lb_target_group.api["alternate"].arn
        weight = 0
      }
    }
  }

  condition {
    http_header {
      http_header_name = var.origin_header_name
      values           = [random_password.origin_secret.result]
    }
  }

  lifecycle {
    ignore_changes = [action]
  }
}

# Test traffic: during a blue/green deployment ECS points this rule at the new colour before production moves, so a
# request through CloudFront with `X-Deployment-Test: green` reaches the new tasks early (smoke tests, lifecycle
# hooks). CloudFront forwards that header and keys its cache on it, so a test response is never served to others.
resource "aws_lb_listener_rule" "test" {
  listener_arn = aws_lb_listener.origin.arn
  priority     = 10

  action {
    type = "forward"

    forward {
      target_group {
        arn    = aws_lb_target_group.api["primary"].arn
        weight = 100
      }
      target_group {
        arn    = aws_lb_target_group.api["alternate"].arn
        weight = 0
      }
    }
  }

  condition {
    http_header {
      http_header_name = var.origin_header_name
      values           = [random_password.origin_secret.result]
    }
  }

  condition {
    http_header {
      http_header_name = var.test_traffic_header_name
      values           = ["green"]
    }
  }

  lifecycle {
    ignore_changes = [action]
  }
}

# --- Access logs bucket (production) ----------------------------------------------------------------------------

resource "aws_s3_bucket" "access_logs" {
  #checkov:skip=CKV_AWS_18:This is the log bucket; logging it to another bucket would recurse. CloudTrail data events cover access if needed.
  #checkov:skip=CKV_AWS_144:Access logs are operational data; cross-region replication is not worth its cost here.
  #checkov:skip=CKV_AWS_145:ALB access log delivery supports only SSE-S3 (AES256), not SSE-KMS.
  #checkov:skip=CKV2_AWS_62:Nothing consumes new-object events for access logs.
  count = var.access_logs_enabled ? 1 : 0

  bucket        = "${var.name_prefix}-alb-logs-${data.aws_caller_identity.current.account_id}"
  force_destroy = false
}

resource "aws_s3_bucket_public_access_block" "access_logs" {
  count = var.access_logs_enabled ? 1 : 0

  bucket                  = aws_s3_bucket.access_logs[0].id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_ownership_controls" "access_logs" {
  count = var.access_logs_enabled ? 1 : 0

  bucket = aws_s3_bucket.access_logs[0].id
  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_versioning" "access_logs" {
  count = var.access_logs_enabled ? 1 : 0

  bucket = aws_s3_bucket.access_logs[0].id
  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "access_logs" {
  count = var.access_logs_enabled ? 1 : 0

  bucket = aws_s3_bucket.access_logs[0].id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm = "AES256" # the only server-side encryption ALB log delivery supports
    }
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "access_logs" {
  count = var.access_logs_enabled ? 1 : 0

  bucket = aws_s3_bucket.access_logs[0].id

  rule {
    id     = "expire-access-logs"
    status = "Enabled"

    filter {}

    expiration {
      days = var.access_logs_retention_days
    }

    noncurrent_version_expiration {
      noncurrent_days = 7
    }

    abort_incomplete_multipart_upload {
      days_after_initiation = 1
    }
  }
}

data "aws_iam_policy_document" "access_logs" {
  count = var.access_logs_enabled ? 1 : 0

  # ELB log delivery: the regional ELB account (older regions such as eu-west-1) and the log delivery service
  # principal (newer regions); writes only under alb/AWSLogs/<this account>/.
  statement {
    sid       = "ElbLogDelivery"
    actions   = ["s3:PutObject"]
    resources = ["${aws_s3_bucket.access_logs[0].arn}/alb/AWSLogs/${data.aws_caller_identity.current.account_id}/*"]

    principals {
      type        = "AWS"
      identifiers = [data.aws_elb_service_account.this.arn]
    }
  }

  statement {
    sid       = "ElbLogDeliveryService"
    actions   = ["s3:PutObject"]
    resources = ["${aws_s3_bucket.access_logs[0].arn}/alb/AWSLogs/${data.aws_caller_identity.current.account_id}/*"]

    principals {
      type        = "Service"
      identifiers = ["logdelivery.elasticloadbalancing.amazonaws.com"]
    }
  }

  statement {
    sid     = "DenyInsecureTransport"
    effect  = "Deny"
    actions = ["s3:*"]
    resources = [
      aws_s3_bucket.access_logs[0].arn,
      "${aws_s3_bucket.access_logs[0].arn}/*",
    ]

    principals {
      type        = "*"
      identifiers = ["*"]
    }

    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }
}

resource "aws_s3_bucket_policy" "access_logs" {
  count = var.access_logs_enabled ? 1 : 0

  bucket = aws_s3_bucket.access_logs[0].id
  policy = data.aws_iam_policy_document.access_logs[0].json

  depends_on = [aws_s3_bucket_public_access_block.access_logs]
}
