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
    rds_storage = "${var.name_prefix}-db-free-storage"
  }
  alb_dimensions      = { LoadBalancer = var.alb_arn_suffix }
  replica_alarm_names = { for id in var.replica_identifiers : id => "${id}-replica-lag" }
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
  alarm_description   = "At least one api task failing the ALB health check (/health), in either target group. Runbook: ${local.runbook}unhealthy-api-tasks"
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

resource "aws_cloudwatch_metric_alarm" "rds_cpu" {
  alarm_name          = local.alarm_names.rds_cpu
  alarm_description   = "Database CPU above ${var.rds_cpu_threshold_percent}%. Runbook: ${local.runbook}database-cpu"
  namespace           = "AWS/RDS"
  metric_name         = "CPUUtilization"
  dimensions          = { DBInstanceIdentifier = var.db_instance_identifier }
  statistic           = "Average"
  period              = 300
  evaluation_periods  = 3
  comparison_operator = "GreaterThanThreshold"
  threshold           = var.rds_cpu_threshold_percent
  treat_missing_data  = "missing"
  alarm_actions       = [aws_sns_topic.alarms.arn]
  ok_actions          = [aws_sns_topic.alarms.arn]
}

resource "aws_cloudwatch_metric_alarm" "rds_free_storage" {
  alarm_name          = local.alarm_names.rds_storage
  alarm_description   = "Database free storage below ${var.rds_free_storage_threshold_gb} GiB (storage autoscaling may be at its ceiling). Runbook: ${local.runbook}database-free-storage"
  namespace           = "AWS/RDS"
  metric_name         = "FreeStorageSpace"
  dimensions          = { DBInstanceIdentifier = var.db_instance_identifier }
  statistic           = "Minimum"
  period              = 300
  evaluation_periods  = 2
  comparison_operator = "LessThanThreshold"
  threshold           = var.rds_free_storage_threshold_gb * 1024 * 1024 * 1024
  treat_missing_data  = "missing"
  alarm_actions       = [aws_sns_topic.alarms.arn]
  ok_actions          = [aws_sns_topic.alarms.arn]
}

# A replica behind by more than the service tolerates (DB_READ_MAX_LAG_SECS) is already bypassed: reads go to the
# primary. The alarm says that the primary is carrying the reads, and why (write burst, replica too small, stuck).
resource "aws_cloudwatch_metric_alarm" "replica_lag" {
  for_each = local.replica_alarm_names

  alarm_name          = each.value
  alarm_description   = "Read replica ${each.key} more than ${var.replica_lag_threshold_seconds}s behind the primary: the service reads from the primary meanwhile. Runbook: ${local.runbook}replica-lag"
  namespace           = "AWS/RDS"
  metric_name         = "ReplicaLag"
  dimensions          = { DBInstanceIdentifier = each.key }
  statistic           = "Maximum"
  period              = 60
  evaluation_periods  = 5
  datapoints_to_alarm = 3
  comparison_operator = "GreaterThanThreshold"
  threshold           = var.replica_lag_threshold_seconds
  treat_missing_data  = "breaching" # a replica that reports no lag at all is not replicating
  alarm_actions       = [aws_sns_topic.alarms.arn]
  ok_actions          = [aws_sns_topic.alarms.arn]
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
      {
        type = "metric", x = 16, y = 6, width = 8, height = 6
        properties = {
          title  = "RDS CPU (%) and connections"
          region = local.region
          stat   = "Average"
          period = 60
          metrics = [
            ["AWS/RDS", "CPUUtilization", "DBInstanceIdentifier", var.db_instance_identifier],
            ["AWS/RDS", "DatabaseConnections", "DBInstanceIdentifier", var.db_instance_identifier, { yAxis = "right" }],
          ]
        }
      },
      {
        type = "metric", x = 0, y = 12, width = 12, height = 6
        properties = {
          title  = "RDS free storage (bytes)"
          region = local.region
          stat   = "Minimum"
          period = 300
          metrics = [
            ["AWS/RDS", "FreeStorageSpace", "DBInstanceIdentifier", var.db_instance_identifier],
          ]
        }
      },
      {
        type = "alarm", x = 12, y = 12, width = 12, height = 6
        properties = {
          title = "Alarms"
          alarms = concat(
            [for a in [aws_cloudwatch_metric_alarm.target_5xx, aws_cloudwatch_metric_alarm.p99_latency, aws_cloudwatch_metric_alarm.unhealthy_hosts, aws_cloudwatch_metric_alarm.rds_cpu, aws_cloudwatch_metric_alarm.rds_free_storage] : a.arn],
            [for a in aws_cloudwatch_metric_alarm.replica_lag : a.arn],
            local.application_alarm_arns,
            var.edge.alarm_arns,
          )
        }
      },
      {
        type = "metric", x = 0, y = 18, width = 8, height = 6
        properties = {
          title  = "Read replica lag (s)"
          region = local.region
          stat   = "Maximum"
          period = 60
          # An empty metrics list is an invalid widget: without replicas, show the primary's (absent) lag line.
          metrics = length(var.replica_identifiers) > 0 ? [for id in var.replica_identifiers : ["AWS/RDS", "ReplicaLag", "DBInstanceIdentifier", id]] : [["AWS/RDS", "ReplicaLag", "DBInstanceIdentifier", var.db_instance_identifier]]
          annotations = {
            horizontal = [{ label = "alarm", value = var.replica_lag_threshold_seconds }]
          }
        }
      },
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
