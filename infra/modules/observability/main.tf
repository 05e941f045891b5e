# Alarms to a KMS-encrypted SNS topic and one dashboard per environment. The names of the alarms that mean
# "a deployment is hurting users" (target 5xx rate, p99 response time, unhealthy hosts) are exported for the ECS
# deployment alarms block: firing during a blue/green bake, they roll the deployment back.
#
# Blue/green moves the live tasks between two target groups at every deploy, so the request alarms read the load
# balancer's own metrics (all targets) and the host alarm takes the worse of the two groups. The edge's alarms
# (CloudFront 5xx, WAF blocked requests) live in us-east-1 (modules/edge) and are shown here on the dashboard. The
# application's own alarms and widgets (its metrics and request logs) are in application.tf.

data "aws_region" "current" {}

locals {
  region = data.aws_region.current.region
  alarm_names = {
    target_5xx  = "${var.name_prefix}-api-5xx-rate"
    p99_latency = "${var.name_prefix}-api-p99-latency"
    unhealthy   = "${var.name_prefix}-api-unhealthy-hosts"
    rds_cpu     = "${var.name_prefix}-db-cpu"
  }
  alb_dimensions = { LoadBalancer = var.alb_arn_suffix }
}

resource "aws_sns_topic" "alarms" {
  name              = "${var.name_prefix}-alarms"
  kms_master_key_id = var.kms_key_arn
}

resource "aws_sns_topic_subscription" "email" {
  for_each = toset(var.alarm_emails)

  topic_arn = aws_sns_topic.alarms.arn
  protocol  = "email"
  endpoint  = each.value
}

# 5xx rate = target 5xx / requests, in percent, over 1-minute periods; quiet when there is no traffic.
resource "aws_cloudwatch_metric_alarm" "target_5xx" {
  alarm_name          = local.alarm_names.target_5xx
  alarm_description   = "More than ${var.error_rate_threshold_percent}% of requests answered 5xx by the service. Runbook: ${local.runbook}service-5xx-rate"
  comparison_operator = "GreaterThanThreshold"
  threshold           = var.error_rate_threshold_percent
  evaluation_periods  = 3
  datapoints_to_alarm = 2
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_sns_topic.alarms.arn]
  ok_actions          = [aws_sns_topic.alarms.arn]

  metric_query {
    id          = "rate"
    expression  = "IF(requests > 0, 100 * errors / requests, 0)"
    label       = "5xx rate (%)"
    return_data = true
  }

  metric_query {
    id = "errors"
    metric {
      namespace   = "AWS/ApplicationELB"
      metric_name = "HTTPCode_Target_5XX_Count"
      dimensions  = local.alb_dimensions
      period      = 60
      stat        = "Sum"
    }
  }

  metric_query {
    id = "requests"
    metric {
      namespace   = "AWS/ApplicationELB"
      metric_name = "RequestCount"
      dimensions  = local.alb_dimensions
      period      = 60
      stat        = "Sum"
    }
  }
}

resource "aws_cloudwatch_metric_alarm" "p99_latency" {
  alarm_name          = local.alarm_names.p99_latency
  alarm_description   = "p99 target response time above ${var.p99_latency_threshold_seconds}s. Runbook: ${local.runbook}p99-latency"
  namespace           = "AWS/ApplicationELB"
  metric_name         = "TargetResponseTime"
  dimensions          = local.alb_dimensions
  extended_statistic  = "p99"
  period              = 60
  evaluation_periods  = 5
  datapoints_to_alarm = 3
  comparison_operator = "GreaterThanThreshold"
  threshold           = var.p99_latency_threshold_seconds
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_sns_topic.alarms.arn]
  ok_actions          = [aws_sns_topic.alarms.arn]
}

resource "aws_cloudwatch_metric_alarm" "unhealthy_hosts" {
  alarm_name          = local.alarm_names.unhealthy
  alarm_description   = "At least one api task failing the ALB health check (/started), in either target group. Runbook: ${local.runbook}unhealthy-api-tasks"
  evaluation_periods  = 3
  datapoints_to_alarm = 2
  comparison_operator = "GreaterThanOrEqualToThreshold"
  threshold           = 1
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_sns_topic.alarms.arn]
  ok_actions          = [aws_sns_topic.alarms.arn]

  metric_query {
    id          = "worst"
    expression  = "MAX([unhealthy0, unhealthy1])"
    label       = "Unhealthy api tasks (worse target group)"
    return_data = true
  }

  dynamic "metric_query" {
    for_each = var.target_group_arn_suffixes
    content {
      id = "unhealthy${metric_query.key}"
      metric {
        namespace   = "AWS/ApplicationELB"
        metric_name = "UnHealthyHostCount"
        dimensions  = { LoadBalancer = var.alb_arn_suffix, TargetGroup = metric_query.value }
        period      = 60
        stat        = "Maximum"
      }
    }
  }
}

resource "aws_cloudwatch_dashboard" "this" {
  dashboard_name = var.name_prefix

  # The infrastructure's view first (load balancer, tasks, database, edge), then the application's (application.tf).
  dashboard_body = jsonencode({
    widgets = concat([
      {
        type = "metric", x = 0, y = 0, width = 12, height = 6
        properties = {
          title  = "ALB requests and 5xx"
          region = local.region
          stat   = "Sum"
          period = 60
          metrics = [
            ["AWS/ApplicationELB", "RequestCount", "LoadBalancer", var.alb_arn_suffix],
            ["AWS/ApplicationELB", "HTTPCode_Target_5XX_Count", "LoadBalancer", var.alb_arn_suffix],
            ["AWS/ApplicationELB", "HTTPCode_ELB_5XX_Count", "LoadBalancer", var.alb_arn_suffix],
          ]
        }
      },
      {
        type = "metric", x = 12, y = 0, width = 12, height = 6
        properties = {
          title  = "Target response time p50 / p99 (s)"
          region = local.region
          period = 60
          metrics = [
            ["AWS/ApplicationELB", "TargetResponseTime", "LoadBalancer", var.alb_arn_suffix, { stat = "p50", label = "p50" }],
            ["AWS/ApplicationELB", "TargetResponseTime", "LoadBalancer", var.alb_arn_suffix, { stat = "p99", label = "p99" }],
          ]
        }
      },
      {
        type = "metric", x = 0, y = 6, width = 8, height = 6
        properties = {
          title  = "Healthy / unhealthy api tasks per target group (blue/green)"
          region = local.region
          stat   = "Minimum"
          period = 60
          metrics = concat(
            [for t in var.target_group_arn_suffixes : ["AWS/ApplicationELB", "HealthyHostCount", "LoadBalancer", var.alb_arn_suffix, "TargetGroup", t]],
            [for t in var.target_group_arn_suffixes : ["AWS/ApplicationELB", "UnHealthyHostCount", "LoadBalancer", var.alb_arn_suffix, "TargetGroup", t, { stat = "Maximum" }]],
          )
        }
      },
      {
        type = "metric", x = 8, y = 6, width = 8, height = 6
        properties = {
          title  = "ECS service CPU / memory (%)"
          region = local.region
          stat   = "Average"
          period = 60
          metrics = [
            ["AWS/ECS", "CPUUtilization", "ClusterName", var.cluster_name, "ServiceName", var.service_name],
            ["AWS/ECS", "MemoryUtilization", "ClusterName", var.cluster_name, "ServiceName", var.service_name],
          ]
        }
      },
      local.database_widgets.activity,
      local.database_widgets.capacity,
      {
        type = "alarm", x = 12, y = 12, width = 12, height = 6
        properties = {
          title = "Alarms"
          alarms = concat(
            [for a in [aws_cloudwatch_metric_alarm.target_5xx, aws_cloudwatch_metric_alarm.p99_latency, aws_cloudwatch_metric_alarm.unhealthy_hosts] : a.arn],
            local.database_alarm_arns,
            local.application_alarm_arns,
            var.edge.alarm_arns,
          )
        }
      },
      local.database_widgets.replica_lag,
      {
        type = "metric", x = 8, y = 18, width = 8, height = 6
        properties = {
          title  = "WAF allowed / blocked requests"
          region = "us-east-1" # CLOUDFRONT-scope web ACLs publish there
          stat   = "Sum"
          period = 300
          metrics = [
            ["AWS/WAFV2", "AllowedRequests", "WebACL", var.edge.web_acl_metric_name, "Rule", "ALL"],
            ["AWS/WAFV2", "BlockedRequests", "WebACL", var.edge.web_acl_metric_name, "Rule", "ALL"],
          ]
        }
      },
      {
        type = "metric", x = 16, y = 18, width = 8, height = 6
        properties = {
          title  = "CloudFront requests and 5xx rate (%)"
          region = "us-east-1" # CloudFront publishes there (Region = Global)
          period = 60
          metrics = [
            ["AWS/CloudFront", "Requests", "DistributionId", var.edge.distribution_id, "Region", "Global", { stat = "Sum" }],
            ["AWS/CloudFront", "5xxErrorRate", "DistributionId", var.edge.distribution_id, "Region", "Global", { stat = "Average", yAxis = "right" }],
          ]
        }
      },
    ], local.application_widgets)
  })
}
