# The application's own view, from the metrics the api task's OpenTelemetry collector sends as EMF
# (modules/service, otel-collector.yaml: namespace var.metrics_namespace, the dimension sets declared there) and
# from the service's request log lines: alarms on what hurts users and the dashboard widgets (main.tf appends them).
#
# Histograms reach CloudWatch as statistic sets (count, sum, min, max), so CloudWatch has averages and maxima of
# them but no percentiles: p50/p99 by route come from the request log lines (one per request, with latency_ms and
# the request span's route) through a Logs Insights widget, and the pool alarm reads the average acquire time.
#
# Every alarm's description names its runbook entry in docs/operations.md ("Alarms"); tests/infra_contract checks
# that each named heading exists.

locals {
  ns       = var.metrics_namespace
  runbook  = "docs/operations.md#"
  requests = "beer_catalog_http_requests_total"

  application_alarm_names = {
    read_model_stale = "${var.name_prefix}-read-model-stale"
    pool_acquire     = { for p in local.pools : p => "${var.name_prefix}-db-pool-${p}-acquire-time" }
    route_5xx        = { for r in var.alarm_routes : r => "${var.name_prefix}-route-5xx${replace(replace(r, "/[{}]/", ""), "/", "-")}" }
  }
  # The replica pool exists only where replicas do (DB_READ_HOST set).
  pools = length(var.replica_identifiers) > 0 ? ["primary", "replica"] : ["primary"]
}

# The read model answers from memory and is patched from the change log within the 1 s freshness bound
# (docs/architecture.md). A lag above zero in every minute for five minutes means it stopped following: some task
# serves a catalog older than the bound (the readiness check does not see it; the database is fine).
resource "aws_cloudwatch_metric_alarm" "read_model_stale" {
  alarm_name          = local.application_alarm_names.read_model_stale
  alarm_description   = "The read model of an api task stayed behind the catalog's change signal for 5 minutes (freshness bound 1 s): stale catalog answers. Runbook: ${local.runbook}read-model-stale"
  namespace           = local.ns
  metric_name         = "beer_catalog_read_model_version_lag"
  statistic           = "Maximum"
  period              = 60
  evaluation_periods  = 5
  datapoints_to_alarm = 5
  comparison_operator = "GreaterThanThreshold"
  threshold           = 0
  # No data = the collector sends nothing (it is not essential); that hurts no user.
  treat_missing_data = "notBreaching"
  alarm_actions      = [aws_sns_topic.alarms.arn]
  ok_actions         = [aws_sns_topic.alarms.arn]
}

# 5xx share of one route's requests, in percent, with a floor of requests so a single failure at night does not
# page. The ALB's 5xx alarm (main.tf) sees the service as a whole; this one sees a route failing while the rest of
# the service hides it.
resource "aws_cloudwatch_metric_alarm" "route_5xx" {
  for_each = local.application_alarm_names.route_5xx

  alarm_name          = each.value
  alarm_description   = "More than ${var.route_error_rate_threshold_percent}% of ${each.key} requests answered 5xx (at least ${var.route_min_requests} requests a minute). Runbook: ${local.runbook}route-5xx-ratio"
  comparison_operator = "GreaterThanThreshold"
  threshold           = var.route_error_rate_threshold_percent
  evaluation_periods  = 3
  datapoints_to_alarm = 2
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_sns_topic.alarms.arn]
  ok_actions          = [aws_sns_topic.alarms.arn]

  metric_query {
    id          = "ratio"
    expression  = "IF(requests >= ${var.route_min_requests}, 100 * FILL(errors, 0) / requests, 0)"
    label       = "${each.key} 5xx (%)"
    return_data = true
  }

  metric_query {
    id = "errors"
    metric {
      namespace   = local.ns
      metric_name = local.requests
      dimensions  = { route = each.key, status_class = "5xx" }
      period      = 60
      stat        = "Sum"
    }
  }

  metric_query {
    id = "requests"
    metric {
      namespace   = local.ns
      metric_name = local.requests
      dimensions  = { route = each.key }
      period      = 60
      stat        = "Sum"
    }
  }
}

# Time a request waits for a database connection. The average (the statistic set has no percentile) above the
# threshold for 3 of 5 minutes means the pool is exhausted: every request of the task queues behind it.
resource "aws_cloudwatch_metric_alarm" "pool_acquire" {
  for_each = local.application_alarm_names.pool_acquire

  alarm_name          = each.value
  alarm_description   = "Average wait for a ${each.key} database connection above ${var.pool_acquire_threshold_seconds}s: the pool is exhausted and requests queue. Runbook: ${local.runbook}database-pool-acquire-time"
  namespace           = local.ns
  metric_name         = "beer_catalog_db_pool_acquire_duration_seconds"
  dimensions          = { pool = each.key }
  statistic           = "Average"
  period              = 60
  evaluation_periods  = 5
  datapoints_to_alarm = 3
  comparison_operator = "GreaterThanThreshold"
  threshold           = var.pool_acquire_threshold_seconds
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_sns_topic.alarms.arn]
  ok_actions          = [aws_sns_topic.alarms.arn]
}

locals {
  application_alarm_arns = concat(
    [aws_cloudwatch_metric_alarm.read_model_stale.arn],
    [for a in aws_cloudwatch_metric_alarm.route_5xx : a.arn],
    [for a in aws_cloudwatch_metric_alarm.pool_acquire : a.arn],
  )

  # SEARCH expressions find every route, pool or reason there is, without a list to keep up to date.
  search = {
    requests_by_route = "SEARCH('{${local.ns},route} MetricName=\"${local.requests}\"', 'Sum', 60)"
    errors_by_route   = "SEARCH('{${local.ns},route,status_class} MetricName=\"${local.requests}\" status_class=\"5xx\"', 'Sum', 60)"
    latency_by_route  = "SEARCH('{${local.ns},route} MetricName=\"beer_catalog_http_request_duration_seconds\"', 'Average', 60)"
    fallbacks         = "SEARCH('{${local.ns},reason} MetricName=\"beer_catalog_replica_fallbacks_total\"', 'Sum', 60)"
    acquire_by_pool   = "SEARCH('{${local.ns},pool} MetricName=\"beer_catalog_db_pool_acquire_duration_seconds\"', 'Average', 60)"
    connections       = "SEARCH('{${local.ns},pool,state} MetricName=\"beer_catalog_db_pool_connections\"', 'Average', 60)"
    store_by_op       = "SEARCH('{${local.ns},operation} MetricName=\"beer_catalog_store_call_duration_seconds\"', 'Average', 60)"
  }

  # A hit ratio in percent from the lookups counter of one cache (outcome = hit, miss and, for the response cache,
  # stale): hits (fresh or stale) over all lookups.
  cache_ratio = {
    response_cache = [for o in ["hit", "miss", "stale"] : [local.ns, "beer_catalog_response_cache_lookups_total", "outcome", o, { id = "response_cache_${o}", visible = false, stat = "Sum" }]]
    rendered_rows  = [for o in ["hit", "miss"] : [local.ns, "beer_catalog_rendered_row_cache_lookups_total", "outcome", o, { id = "rendered_rows_${o}", visible = false, stat = "Sum" }]]
  }

  application_widgets = [
    {
      type       = "text", x = 0, y = 24, width = 24, height = 1
      properties = { markdown = "## Application (${local.ns}, from the service's own metrics and request logs)" }
    },
    {
      type = "log", x = 0, y = 25, width = 12, height = 6
      properties = {
        title  = "Latency p50 / p99 by route (ms, request log lines)"
        region = local.region
        view   = "table"
        query  = "SOURCE '${var.log_group_name}' | fields @timestamp | filter message = \"request\" and ispresent(latency_ms) | stats pct(latency_ms, 50) as p50_ms, pct(latency_ms, 99) as p99_ms, count(*) as requests by span.route | sort p99_ms desc"
      }
    },
    {
      type = "metric", x = 12, y = 25, width = 12, height = 6
      properties = {
        title   = "Requests by route (per minute) and 5xx by route"
        region  = local.region
        period  = 60
        metrics = [[{ expression = local.search.requests_by_route, id = "req" }], [{ expression = local.search.errors_by_route, id = "err", yAxis = "right" }]]
      }
    },
    {
      type = "metric", x = 0, y = 31, width = 8, height = 6
      properties = {
        title   = "Mean latency by route (s)"
        region  = local.region
        period  = 60
        metrics = [[{ expression = local.search.latency_by_route, id = "lat" }]]
      }
    },
    {
      type = "metric", x = 8, y = 31, width = 8, height = 6
      properties = {
        title  = "Cache hit ratio (%): responses, rendered rows"
        region = local.region
        period = 60
        yAxis  = { left = { min = 0, max = 100 } }
        metrics = concat(
          local.cache_ratio.response_cache,
          local.cache_ratio.rendered_rows,
          [
            [{ expression = "100 * (FILL(response_cache_hit, 0) + FILL(response_cache_stale, 0)) / (FILL(response_cache_hit, 0) + FILL(response_cache_miss, 0) + FILL(response_cache_stale, 0))", label = "response cache", id = "response_ratio" }],
            [{ expression = "100 * FILL(rendered_rows_hit, 0) / (FILL(rendered_rows_hit, 0) + FILL(rendered_rows_miss, 0))", label = "rendered rows", id = "rows_ratio" }],
          ],
        )
      }
    },
    {
      type = "metric", x = 16, y = 31, width = 8, height = 6
      properties = {
        title  = "Read model: version lag (max) and refreshes"
        region = local.region
        period = 60
        metrics = [
          [local.ns, "beer_catalog_read_model_version_lag", { stat = "Maximum", label = "lag (versions)" }],
          [local.ns, "beer_catalog_read_model_refreshes_total", "kind", "patch", { stat = "Sum", yAxis = "right" }],
          [local.ns, "beer_catalog_read_model_refreshes_total", "kind", "rebuild", { stat = "Sum", yAxis = "right" }],
        ]
        annotations = { horizontal = [{ label = "stale alarm: above 0 for 5 min", value = 0 }] }
      }
    },
    {
      type = "metric", x = 0, y = 37, width = 8, height = 6
      properties = {
        title  = "Replica: fallbacks to the primary by reason, in use, lag (s)"
        region = local.region
        period = 60
        metrics = [
          [{ expression = local.search.fallbacks, id = "fallbacks" }],
          [local.ns, "beer_catalog_replica_in_use", { stat = "Minimum", yAxis = "right", label = "replica in use (min)" }],
          [local.ns, "beer_catalog_replica_lag_seconds", { stat = "Maximum", yAxis = "right", label = "lag seen by the service (s)" }],
        ]
      }
    },
    {
      type = "metric", x = 8, y = 37, width = 8, height = 6
      properties = {
        title  = "Rate limit: limited / allowed requests, tracked clients"
        region = local.region
        period = 60
        metrics = [
          [local.ns, "beer_catalog_rate_limit_decisions_total", "decision", "limited", { stat = "Sum" }],
          [local.ns, "beer_catalog_rate_limit_decisions_total", "decision", "allowed", { stat = "Sum", yAxis = "right" }],
          [local.ns, "beer_catalog_rate_limit_tracked_clients", { stat = "Maximum", yAxis = "right" }],
        ]
      }
    },
    {
      type = "metric", x = 16, y = 37, width = 8, height = 6
      properties = {
        title   = "Database pools: mean acquire time (s), connections by state"
        region  = local.region
        period  = 60
        metrics = [[{ expression = local.search.acquire_by_pool, id = "acquire" }], [{ expression = local.search.connections, id = "conns", yAxis = "right" }]]
        annotations = {
          horizontal = [{ label = "pool alarm", value = var.pool_acquire_threshold_seconds }]
        }
      }
    },
    {
      type = "metric", x = 0, y = 43, width = 12, height = 6
      properties = {
        title   = "Store calls: mean duration by operation (s)"
        region  = local.region
        period  = 60
        metrics = [[{ expression = local.search.store_by_op, id = "store" }]]
      }
    },
    {
      type = "metric", x = 12, y = 43, width = 12, height = 6
      properties = {
        title  = "Outage guard transitions, requests in flight, response cache bytes"
        region = local.region
        period = 60
        metrics = [
          [local.ns, "beer_catalog_outage_guard_transitions_total", "to", "outage", { stat = "Sum" }],
          [local.ns, "beer_catalog_outage_guard_transitions_total", "to", "recovered", { stat = "Sum" }],
          [local.ns, "beer_catalog_http_requests_in_flight", { stat = "Maximum" }],
          [local.ns, "beer_catalog_response_cache_bytes", { stat = "Maximum", yAxis = "right" }],
        ]
      }
    },
  ]
}
