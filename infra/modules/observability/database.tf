# The database's alarms and dashboard widgets, for either engine of modules/database (var.db_engine):
#
#   rds     CPU and free storage of the instance (DBInstanceIdentifier), ReplicaLag (s) per read replica
#   aurora  CPU of the cluster (DBClusterIdentifier), ACU utilisation (the share of max_capacity in use: near 100%
#           the cluster cannot grow and queries queue), AuroraReplicaLagMaximum (ms, the worst reader) with readers.
#           No free-storage alarm: Aurora's storage grows by itself.
#
# Aurora's lag is read at the cluster (the readers' maximum), not per instance: after a failover the writer and a
# reader swap names and roles, and a per-instance alarm would then watch a writer that reports no lag at all.

locals {
  aurora = var.db_engine == "aurora"
  # The dimension naming the database in AWS/RDS: the instance (rds) or the cluster (aurora).
  db_dimension = local.aurora ? { DBClusterIdentifier = var.db_instance_identifier } : { DBInstanceIdentifier = var.db_instance_identifier }
  db_dim_list  = flatten([for k, v in local.db_dimension : [k, v]])

  replica_alarm_names = local.aurora ? {} : { for id in var.replica_identifiers : id => "${id}-replica-lag" }
  database_alarm_names = merge(
    local.aurora ? {} : { rds_storage = "${var.name_prefix}-db-free-storage" },
    local.aurora ? { aurora_acu = "${var.name_prefix}-db-acu-utilization" } : {},
    local.aurora && var.aurora_reader_count > 0 ? { aurora_replica_lag = "${var.name_prefix}-db-aurora-replica-lag" } : {},
  )
  database_alarm_arns = concat(
    [aws_cloudwatch_metric_alarm.rds_cpu.arn],
    aws_cloudwatch_metric_alarm.rds_free_storage[*].arn,
    [for a in aws_cloudwatch_metric_alarm.replica_lag : a.arn],
    aws_cloudwatch_metric_alarm.aurora_acu[*].arn,
    aws_cloudwatch_metric_alarm.aurora_replica_lag[*].arn,
  )

  database_widgets = {
    activity = {
      type = "metric", x = 16, y = 6, width = 8, height = 6
      properties = {
        title   = "Database CPU (%) and connections"
        region  = local.region
        stat    = "Average"
        period  = 60
        metrics = [concat(["AWS/RDS", "CPUUtilization"], local.db_dim_list), concat(["AWS/RDS", "DatabaseConnections"], local.db_dim_list, [{ yAxis = "right" }])]
      }
    }
    capacity = {
      type = "metric", x = 0, y = 12, width = 12, height = 6
      properties = local.aurora ? {
        title  = "Aurora capacity: ACUs in use, ACU utilisation (%)"
        region = local.region
        stat   = "Maximum"
        period = 60
        metrics = [
          concat(["AWS/RDS", "ServerlessDatabaseCapacity"], local.db_dim_list),
          concat(["AWS/RDS", "ACUUtilization"], local.db_dim_list, [{ yAxis = "right" }]),
        ]
        } : {
        title   = "RDS free storage (bytes)"
        region  = local.region
        stat    = "Minimum"
        period  = 300
        metrics = [concat(["AWS/RDS", "FreeStorageSpace"], local.db_dim_list)]
      }
    }
    replica_lag = {
      type = "metric", x = 0, y = 18, width = 8, height = 6
      properties = {
        title  = local.aurora ? "Aurora replica lag, worst reader (ms)" : "Read replica lag (s)"
        region = local.region
        stat   = "Maximum"
        period = 60
        # An empty metrics list is an invalid widget: without replicas, show the primary's (absent) lag line.
        metrics = local.aurora ? [concat(["AWS/RDS", "AuroraReplicaLagMaximum"], local.db_dim_list)] : (
          length(var.replica_identifiers) > 0 ? [for id in var.replica_identifiers : ["AWS/RDS", "ReplicaLag", "DBInstanceIdentifier", id]] : [["AWS/RDS", "ReplicaLag", "DBInstanceIdentifier", var.db_instance_identifier]]
        )
        annotations = {
          horizontal = [{ label = "alarm", value = local.aurora ? var.replica_lag_threshold_seconds * 1000 : var.replica_lag_threshold_seconds }]
        }
      }
    }
  }
}

resource "aws_cloudwatch_metric_alarm" "rds_cpu" {
  alarm_name          = local.alarm_names.rds_cpu
  alarm_description   = "Database CPU above ${var.rds_cpu_threshold_percent}%. Runbook: ${local.runbook}database-cpu"
  namespace           = "AWS/RDS"
  metric_name         = "CPUUtilization"
  dimensions          = local.db_dimension
  statistic           = "Average"
  period              = 300
  evaluation_periods  = 3
  comparison_operator = "GreaterThanThreshold"
  threshold           = var.rds_cpu_threshold_percent
  treat_missing_data  = "missing" # a paused Aurora cluster reports nothing: not an alarm
  alarm_actions       = [aws_sns_topic.alarms.arn]
  ok_actions          = [aws_sns_topic.alarms.arn]
}

resource "aws_cloudwatch_metric_alarm" "rds_free_storage" {
  count = local.aurora ? 0 : 1

  alarm_name          = local.database_alarm_names.rds_storage
  alarm_description   = "Database free storage below ${var.rds_free_storage_threshold_gb} GiB (storage autoscaling may be at its ceiling). Runbook: ${local.runbook}database-free-storage"
  namespace           = "AWS/RDS"
  metric_name         = "FreeStorageSpace"
  dimensions          = local.db_dimension
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
  comparison_operator = "GreaterThanThreshold"
  threshold           = var.replica_lag_threshold_seconds
  treat_missing_data  = "breaching" # a replica that reports no lag at all is not replicating
  alarm_actions       = [aws_sns_topic.alarms.arn]
  ok_actions          = [aws_sns_topic.alarms.arn]
}

# Aurora: the cluster near its max_capacity for 15 minutes. It cannot grow further, so load beyond it queues
# (pool acquire waits, p99): raise db_aurora_max_acu.
resource "aws_cloudwatch_metric_alarm" "aurora_acu" {
  count = local.aurora ? 1 : 0

  alarm_name          = local.database_alarm_names.aurora_acu
  alarm_description   = "Aurora ACU utilisation above ${var.aurora_acu_utilization_threshold_percent}% of max_capacity for 15 minutes: the cluster is at its ceiling. Runbook: ${local.runbook}database-capacity-aurora"
  namespace           = "AWS/RDS"
  metric_name         = "ACUUtilization"
  dimensions          = local.db_dimension
  statistic           = "Average"
  period              = 300
  evaluation_periods  = 3
  comparison_operator = "GreaterThanThreshold"
  threshold           = var.aurora_acu_utilization_threshold_percent
  treat_missing_data  = "notBreaching" # paused (min 0): no data, and nothing is at its ceiling
  alarm_actions       = [aws_sns_topic.alarms.arn]
  ok_actions          = [aws_sns_topic.alarms.arn]
}

# Aurora readers replay the writer's log from shared storage, normally within milliseconds; the threshold is the
# same as the RDS replicas' (var.replica_lag_threshold_seconds), in the metric's milliseconds.
resource "aws_cloudwatch_metric_alarm" "aurora_replica_lag" {
  count = local.aurora && var.aurora_reader_count > 0 ? 1 : 0

  alarm_name          = local.database_alarm_names.aurora_replica_lag
  alarm_description   = "An Aurora reader more than ${var.replica_lag_threshold_seconds}s behind the writer (AuroraReplicaLagMaximum): the service reads from the writer meanwhile. Runbook: ${local.runbook}replica-lag"
  namespace           = "AWS/RDS"
  metric_name         = "AuroraReplicaLagMaximum"
  dimensions          = local.db_dimension
  statistic           = "Maximum"
  period              = 60
  evaluation_periods  = 5
  comparison_operator = "GreaterThanThreshold"
  threshold           = var.replica_lag_threshold_seconds * 1000
  treat_missing_data  = "missing" # paused with its writer, or between a failover's old and new reader
  alarm_actions       = [aws_sns_topic.alarms.arn]
  ok_actions          = [aws_sns_topic.alarms.arn]
}
