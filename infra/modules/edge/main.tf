# The edge of one environment: a CloudFront distribution in front of the ALB, an AWS WAF web ACL on it, the ACM
# certificate of the public hostname, access and WAF logs, and the edge alarms.
#
# Everything here lives in us-east-1: CloudFront only takes ACM certificates from there, a CLOUDFRONT-scope web ACL
# and its log group must be there, and CloudFront and WAF publish their metrics there (so the alarms, their SNS topic
# and its KMS key are there too). The environment passes its us-east-1 provider alias in as this module's default
# provider (`providers = { aws = aws.us_east_1 }`), so no resource here can land in the wrong region by omission.
#
# Caching: the service decides. The cache policy has min TTL 0 and default TTL 0, so a response is cached exactly as
# long as its own Cache-Control allows (images for a year, lists briefly, nothing that says no-store or says nothing).
# Only GET and HEAD are ever cached; writes pass through. See infra/README.md for why Authorization is in the key.

locals {
  custom_domain = var.domain_name != null
  manage_dns    = local.custom_domain && var.hosted_zone_id != null
  origin_https  = var.origin_domain_name != null
  origin_id     = "alb"
  public_host   = local.custom_domain ? var.domain_name : aws_cloudfront_distribution.this.domain_name
  # The web ACL's metric name: AWS/WAFV2 metrics carry it (visibility_config.metric_name), not the ACL's name, in
  # their WebACL dimension. One value for the ACL, the alarm and the dashboard (tests/infra_contract checks it).
  waf_metric     = replace("${var.name_prefix}-edge", "-", "_")
  waf_log_group  = "aws-waf-logs-${var.name_prefix}" # WAF only logs to groups named aws-waf-logs-*
  cdn_log_group  = "/cloudfront/${var.name_prefix}"
  blocked_alarm  = "${var.name_prefix}-waf-blocked-requests"
  cdn_5xx_alarm  = "${var.name_prefix}-cloudfront-5xx-rate"
  cache_key_hdrs = ["Authorization", "Accept", var.test_traffic_header_name]
}

# --- Encryption key and alarm topic (us-east-1) ------------------------------------------------------------------

module "kms" {
  source = "../kms"

  name_prefix             = "${var.name_prefix}-edge"
  deletion_window_in_days = var.kms_deletion_window_days
}

resource "aws_sns_topic" "alarms" {
  name              = "${var.name_prefix}-edge-alarms"
  kms_master_key_id = module.kms.key_arn
}

resource "aws_sns_topic_subscription" "email" {
  for_each = toset(var.alarm_emails)

  topic_arn = aws_sns_topic.alarms.arn
  protocol  = "email"
  endpoint  = each.value
}

# --- Certificate of the public hostname --------------------------------------------------------------------------

resource "aws_acm_certificate" "public" {
  count = local.custom_domain ? 1 : 0

  domain_name       = var.domain_name
  validation_method = "DNS"

  lifecycle {
    create_before_destroy = true
  }
}

# With the hosted zone, validation is automatic. modules/environment requires hosted_zone_id with domain_name (a
# validation left to hand-made records could outlast the apply role's session); the module still accepts a null
# zone for a caller that creates the records of the certificate_validation_records output itself.
resource "aws_route53_record" "certificate_validation" {
  for_each = local.manage_dns ? {
    for o in aws_acm_certificate.public[0].domain_validation_options : o.domain_name => o
  } : {}

  zone_id         = var.hosted_zone_id
  name            = each.value.resource_record_name
  type            = each.value.resource_record_type
  records         = [each.value.resource_record_value]
  ttl             = 300
  allow_overwrite = true
}

resource "aws_acm_certificate_validation" "public" {
  count = local.custom_domain ? 1 : 0

  certificate_arn         = aws_acm_certificate.public[0].arn
  validation_record_fqdns = local.manage_dns ? [for r in aws_route53_record.certificate_validation : r.fqdn] : null

  # The provider waits 75 minutes by default, beyond the apply role's one-hour session. With the records in Route 53
  # (hosted_zone_id, required with domain_name by modules/environment) ACM issues within minutes; fail well inside
  # the session otherwise, so the state lock is released and the error says what is missing.
  timeouts {
    create = "30m"
  }
}

# --- Cache and origin request policies ---------------------------------------------------------------------------

resource "aws_cloudfront_cache_policy" "api" {
  name    = "${var.name_prefix}-api"
  comment = "Honours the service's Cache-Control; keyed on the full query string, Authorization, Accept and the test-traffic header"

  min_ttl     = 0
  default_ttl = 0        # no Cache-Control from the service: not cached
  max_ttl     = 31536000 # the longest the service asks for (content-addressed images, immutable)

  parameters_in_cache_key_and_forwarded_to_origin {
    # The viewer's Accept-Encoding, normalised to br or gzip, is keyed and forwarded: the service answers text in
    # that coding (kept, with its own ETag), cached as is; CloudFront compresses only what arrives uncompressed.
    enable_accept_encoding_gzip   = true
    enable_accept_encoding_brotli = true

    # Every parameter changes the answer (filters, pages; unknown ones are a 400 on the native API).
    query_strings_config {
      query_string_behavior = "all"
    }

    # Authorization: writes need it at the origin, and CloudFront forwards it only from the cache key. Keyed, a
    # response to a keyed request is never served to anyone without the same key; writes are never cached (only
    # GET/HEAD are). Accept: the service answers HTML or JSON error pages by it. The test-traffic header: a response
    # from the new colour during a deployment stays apart from production's.
    headers_config {
      header_behavior = "whitelist"
      headers {
        items = local.cache_key_hdrs
      }
    }

    cookies_config {
      cookie_behavior = "none" # the service uses no cookies
    }
  }
}

# Forwarded but not keyed. Host is NOT forwarded: the origin is reached by its own name (the ALB certificate's), and
# the service builds its absolute links from PUBLIC_BASE_URL, so it never needs the viewer's Host.
resource "aws_cloudfront_origin_request_policy" "api" {
  name    = "${var.name_prefix}-api"
  comment = "What the service reads besides the cache key: conditional requests, body type, CORS preflight"

  headers_config {
    header_behavior = "whitelist"
    headers {
      items = [
        "If-None-Match", # the service answers 304 for an unchanged ETag on a cache miss
        "Content-Type",  # JSON bodies and image uploads
        "Origin",
        "Access-Control-Request-Method",
        "Access-Control-Request-Headers",
      ]
    }
  }

  query_strings_config {
    query_string_behavior = "all"
  }

  cookies_config {
    cookie_behavior = "none"
  }
}

data "aws_cloudfront_response_headers_policy" "security_headers" {
  name = "Managed-SecurityHeadersPolicy" # HSTS, nosniff, frame options, referrer policy
}

# --- Distribution ------------------------------------------------------------------------------------------------

resource "aws_cloudfront_distribution" "this" {
  #checkov:skip=CKV_AWS_86:Access logs go through CloudFront standard logging v2 (aws_cloudwatch_log_delivery below), which checkov does not recognise; the legacy logging_config would need S3 ACLs.
  #checkov:skip=CKV_AWS_174:With a custom domain the viewer certificate enforces TLSv1.2_2021; without one (no domain yet) CloudFront's default *.cloudfront.net certificate cannot take a minimum protocol version.
  #checkov:skip=CKV_AWS_305:The origin is the service, which answers / itself (the catalog page); a default root object rewrites / for S3 origins.
  #checkov:skip=CKV_AWS_310:One origin, the ALB: a failover origin group would need a second region's stack, out of scope (see infra/README.md).
  #checkov:skip=CKV_AWS_374:No geo restriction: a public catalog API for clients anywhere; the WAF's IP reputation and rate rules handle abuse.
  #checkov:skip=CKV2_AWS_46:The origin is an ALB (custom or VPC origin), not S3; origin access control applies to S3 and Lambda origins only.
  #checkov:skip=CKV2_AWS_47:The web ACL includes AWSManagedRulesKnownBadInputsRuleSet, which holds the Log4j rules; checkov cannot follow the module's web ACL reference.
  enabled         = true
  is_ipv6_enabled = true
  http_version    = "http2and3"
  price_class     = var.price_class
  comment         = "${var.name_prefix}: public edge of the API"
  aliases         = local.custom_domain ? [var.domain_name] : []
  web_acl_id      = aws_wafv2_web_acl.this.arn

  origin {
    origin_id   = local.origin_id
    domain_name = coalesce(var.origin_domain_name, var.alb_dns_name)

    # Internet-facing ALB: CloudFront connects to its public addresses.
    dynamic "custom_origin_config" {
      for_each = var.alb_internal ? [] : [1]
      content {
        http_port  = 80
        https_port = 443
        # HTTPS needs a name the ALB certificate covers (origin_domain_name); the ALB's own DNS name is only good for
        # an HTTP-only bring-up (no certificate yet), where the origin secret crosses the network unencrypted.
        origin_protocol_policy = local.origin_https ? "https-only" : "http-only"
        origin_ssl_protocols   = ["TLSv1.2"]
        # Above the service's REQUEST_TIMEOUT_SECS, so the service's own 503 reaches the client instead of a 504.
        origin_read_timeout      = var.origin_read_timeout_seconds
        origin_keepalive_timeout = 5
      }
    }

    # Internal ALB: CloudFront connects through the VPC origin (its own network interfaces in the ALB's subnets);
    # the protocol is the VPC origin's. Same timeouts as above.
    dynamic "vpc_origin_config" {
      for_each = var.alb_internal ? [1] : []
      content {
        vpc_origin_id            = aws_cloudfront_vpc_origin.alb[0].id
        origin_read_timeout      = var.origin_read_timeout_seconds
        origin_keepalive_timeout = 5
      }
    }

    # Kept with a VPC origin too: the ALB's security group admits the CloudFront origin-facing prefix list, shared
    # by every distribution, so the header still tells this distribution's requests apart (defence in depth).
    custom_header {
      name  = var.origin_header_name
      value = var.origin_secret
    }
  }

  default_cache_behavior {
    target_origin_id           = local.origin_id
    allowed_methods            = ["GET", "HEAD", "OPTIONS", "PUT", "POST", "PATCH", "DELETE"]
    cached_methods             = ["GET", "HEAD"]
    viewer_protocol_policy     = "https-only" # an API client following a redirect would turn a POST into a GET
    compress                   = true
    cache_policy_id            = aws_cloudfront_cache_policy.api.id
    origin_request_policy_id   = aws_cloudfront_origin_request_policy.api.id
    response_headers_policy_id = data.aws_cloudfront_response_headers_policy.security_headers.id
  }

  restrictions {
    geo_restriction {
      restriction_type = "none"
    }
  }

  viewer_certificate {
    cloudfront_default_certificate = !local.custom_domain
    acm_certificate_arn            = local.custom_domain ? aws_acm_certificate_validation.public[0].certificate_arn : null
    ssl_support_method             = local.custom_domain ? "sni-only" : null
    minimum_protocol_version       = local.custom_domain ? "TLSv1.2_2021" : "TLSv1"
  }

  lifecycle {
    precondition {
      condition     = var.alb_https == local.origin_https
      error_message = "With an ALB certificate, origin_domain_name must name a host it covers (CloudFront verifies the origin certificate); without one, leave origin_domain_name null."
    }
  }
}

# The VPC origin of an internal ALB (var.alb_internal): CloudFront places network interfaces in the ALB's private
# subnets (through its service-linked role AWSServiceRoleForCloudFrontVPCOrigin) and reaches the ALB over AWS's
# network, so the ALB needs no public address: no public IPv4 charge ($0.005/h per AZ) and nothing on the internet
# to probe, the secret origin header notwithstanding. The VPC must have an internet gateway (it has: modules/network);
# no traffic of the origin crosses it. No charge for the VPC origin itself. Creating or updating it takes ~15 minutes.
resource "aws_cloudfront_vpc_origin" "alb" {
  count = var.alb_internal ? 1 : 0

  vpc_origin_endpoint_config {
    name                   = "${var.name_prefix}-alb"
    arn                    = var.alb_arn
    http_port              = 80
    https_port             = 443
    origin_protocol_policy = local.origin_https ? "https-only" : "http-only"

    origin_ssl_protocols {
      items    = ["TLSv1.2"]
      quantity = 1
    }
  }
}

resource "aws_route53_record" "public" {
  for_each = local.manage_dns ? toset(["A", "AAAA"]) : toset([])

  zone_id = var.hosted_zone_id
  name    = var.domain_name
  type    = each.value

  alias {
    name                   = aws_cloudfront_distribution.this.domain_name
    zone_id                = aws_cloudfront_distribution.this.hosted_zone_id
    evaluate_target_health = false
  }
}

# --- Access logs: CloudFront standard logging (v2) to CloudWatch Logs ---------------------------------------------

resource "aws_cloudwatch_log_group" "access" {
  name              = local.cdn_log_group
  retention_in_days = var.log_retention_days
  kms_key_id        = module.kms.key_arn
}

resource "aws_cloudwatch_log_delivery_source" "access" {
  name         = "${var.name_prefix}-cloudfront"
  log_type     = "ACCESS_LOGS"
  resource_arn = aws_cloudfront_distribution.this.arn
}

resource "aws_cloudwatch_log_delivery_destination" "access" {
  name          = "${var.name_prefix}-cloudfront"
  output_format = "json"

  delivery_destination_configuration {
    destination_resource_arn = aws_cloudwatch_log_group.access.arn
  }
}

resource "aws_cloudwatch_log_delivery" "access" {
  delivery_source_name     = aws_cloudwatch_log_delivery_source.access.name
  delivery_destination_arn = aws_cloudwatch_log_delivery_destination.access.arn
}

# --- WAF ---------------------------------------------------------------------------------------------------------
# Rule order: drop known-bad addresses first (cheapest), then the per-IP rate limit (the global limit the service's
# per-task limiter cannot hold: with N tasks a client could get N times RATE_LIMIT_PER_HOUR), then the request
# inspections. The ALB's health checks never pass here: they go from the ALB to the tasks inside the VPC.

resource "aws_wafv2_web_acl" "this" {
  name        = "${var.name_prefix}-edge"
  description = "${var.name_prefix}: managed rule groups and a per-IP rate limit in front of the API"
  scope       = "CLOUDFRONT"

  default_action {
    allow {}
  }

  rule {
    name     = "aws-ip-reputation"
    priority = 10

    override_action {
      none {}
    }

    statement {
      managed_rule_group_statement {
        vendor_name = "AWS"
        name        = "AWSManagedRulesAmazonIpReputationList"
      }
    }

    visibility_config {
      cloudwatch_metrics_enabled = true
      metric_name                = "${local.waf_metric}_ip_reputation"
      sampled_requests_enabled   = true
    }
  }

  rule {
    name     = "rate-limit-per-ip"
    priority = 20

    action {
      block {
        custom_response {
          response_code = 429
        }
      }
    }

    statement {
      rate_based_statement {
        limit                 = var.rate_limit_per_5_minutes
        evaluation_window_sec = 300
        aggregate_key_type    = "IP" # the viewer's address: CloudFront is the connection WAF sees
      }
    }

    visibility_config {
      cloudwatch_metrics_enabled = true
      metric_name                = "${local.waf_metric}_rate_limit"
      sampled_requests_enabled   = true
    }
  }

  rule {
    name     = "aws-common"
    priority = 30

    override_action {
      none {}
    }

    statement {
      managed_rule_group_statement {
        vendor_name = "AWS"
        name        = "AWSManagedRulesCommonRuleSet"

        # The rule set blocks bodies over 8 KiB; label uploads (PUT /beers/{id}/image) are up to IMAGE_MAX_BYTES
        # (2 MiB). The service enforces its own body limits (64 KiB JSON, IMAGE_MAX_BYTES images) with clear 413s,
        # so this one rule only counts.
        rule_action_override {
          name = "SizeRestrictions_BODY"
          action_to_use {
            count {}
          }
        }
      }
    }

    visibility_config {
      cloudwatch_metrics_enabled = true
      metric_name                = "${local.waf_metric}_common"
      sampled_requests_enabled   = true
    }
  }

  rule {
    name     = "aws-known-bad-inputs"
    priority = 40

    override_action {
      none {}
    }

    statement {
      managed_rule_group_statement {
        vendor_name = "AWS"
        name        = "AWSManagedRulesKnownBadInputsRuleSet" # includes the Log4j (CVE-2021-44228) rules
      }
    }

    visibility_config {
      cloudwatch_metrics_enabled = true
      metric_name                = "${local.waf_metric}_known_bad_inputs"
      sampled_requests_enabled   = true
    }
  }

  visibility_config {
    cloudwatch_metrics_enabled = true
    metric_name                = local.waf_metric
    sampled_requests_enabled   = true
  }
}

resource "aws_cloudwatch_log_group" "waf" {
  name              = local.waf_log_group
  retention_in_days = var.log_retention_days
  kms_key_id        = module.kms.key_arn
}

resource "aws_wafv2_web_acl_logging_configuration" "this" {
  resource_arn            = aws_wafv2_web_acl.this.arn
  log_destination_configs = [aws_cloudwatch_log_group.waf.arn]

  # API keys never reach a log.
  redacted_fields {
    single_header {
      name = "authorization"
    }
  }

  # Only what the WAF acted on (blocked, or counted by an overridden rule): the requests worth reading. Logging every
  # allowed request too would cost about as much as the web ACL itself; CloudFront's access logs have them.
  logging_filter {
    default_behavior = "DROP"

    filter {
      behavior    = "KEEP"
      requirement = "MEETS_ANY"

      condition {
        action_condition {
          action = "BLOCK"
        }
      }

      condition {
        action_condition {
          action = "COUNT"
        }
      }
    }
  }
}

# --- Alarms (us-east-1, where CloudFront and WAF publish) --------------------------------------------------------

# Many blocked requests mean an attack or a managed rule blocking real clients: either way someone should look at
# the WAF logs (sampled requests name the rule).
resource "aws_cloudwatch_metric_alarm" "waf_blocked" {
  alarm_name          = local.blocked_alarm
  alarm_description   = "More than ${var.blocked_requests_threshold} requests blocked by the WAF in 5 minutes (attack, or a rule blocking real clients: see ${local.waf_log_group}). Runbook: docs/operations.md#waf-blocked-requests"
  namespace           = "AWS/WAFV2"
  metric_name         = "BlockedRequests"
  dimensions          = { WebACL = local.waf_metric, Rule = "ALL" } # the metric name, not the ACL's name
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 1
  comparison_operator = "GreaterThanThreshold"
  threshold           = var.blocked_requests_threshold
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_sns_topic.alarms.arn]
  ok_actions          = [aws_sns_topic.alarms.arn]
}

# 5xx as clients see them: the service's, the ALB's (e.g. no healthy target) and CloudFront's own (origin unreachable).
resource "aws_cloudwatch_metric_alarm" "cdn_5xx" {
  alarm_name          = local.cdn_5xx_alarm
  alarm_description   = "More than ${var.error_rate_threshold_percent}% of CloudFront responses are 5xx. Runbook: docs/operations.md#cloudfront-5xx-rate"
  namespace           = "AWS/CloudFront"
  metric_name         = "5xxErrorRate"
  dimensions          = { DistributionId = aws_cloudfront_distribution.this.id, Region = "Global" }
  statistic           = "Average"
  period              = 60
  evaluation_periods  = 5
  datapoints_to_alarm = 3
  comparison_operator = "GreaterThanThreshold"
  threshold           = var.error_rate_threshold_percent
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_sns_topic.alarms.arn]
  ok_actions          = [aws_sns_topic.alarms.arn]
}
