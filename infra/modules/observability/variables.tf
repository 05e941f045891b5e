variable "name_prefix" {
  description = "Name prefix, <project>-<env>; the dashboard, topic and alarm names start with it. Its rule (at most 28 characters) is checked once, in modules/environment."
  type        = string
}

variable "kms_key_arn" {
  description = "KMS key encrypting the SNS topic (its policy must let cloudwatch.amazonaws.com use it)."
  type        = string
}

variable "alarm_emails" {
  description = "E-mail addresses subscribed to the alarm topic (each must confirm the subscription)."
  type        = list(string)
  default     = []
}

variable "alb_arn_suffix" {
  description = "ARN suffix of the ALB (LoadBalancer dimension)."
  type        = string
}

variable "target_group_arn_suffixes" {
  description = "ARN suffixes of both api target groups (TargetGroup dimension): blue/green moves the live tasks between them."
  type        = list(string)
}

variable "cluster_name" {
  description = "ECS cluster name (ClusterName dimension). Pass the name, not the module output, to avoid a cycle with the service's deployment alarms."
  type        = string
}

variable "service_name" {
  description = "ECS service name (ServiceName dimension)."
  type        = string
}

variable "db_instance_identifier" {
  description = "The database in AWS/RDS metrics: the RDS instance identifier (DBInstanceIdentifier dimension), or with db_engine aurora the cluster identifier (DBClusterIdentifier)."
  type        = string
}

variable "db_engine" {
  description = "Engine of modules/database (rds or aurora): which database alarms and widgets apply (database.tf)."
  type        = string
  default     = "rds"
}

variable "aurora_reader_count" {
  description = "Aurora reader instances (0 with rds): the AuroraReplicaLagMaximum alarm exists with readers only."
  type        = number
  default     = 0
}

variable "aurora_acu_utilization_threshold_percent" {
  description = "Alarm when an Aurora cluster's ACUUtilization (share of max_capacity in use) stays above this for 15 minutes."
  type        = number
  default     = 90
}

variable "error_rate_threshold_percent" {
  description = "Alarm when more than this percentage of requests get a 5xx from the service."
  type        = number
  default     = 5
}

variable "p99_latency_threshold_seconds" {
  description = "Alarm when p99 target response time exceeds this many seconds."
  type        = number
  default     = 1
}

variable "rds_cpu_threshold_percent" {
  description = "Alarm when average database CPU exceeds this percentage for 15 minutes."
  type        = number
  default     = 80
}

variable "rds_free_storage_threshold_gb" {
  description = "Alarm when database free storage falls below this many GiB."
  type        = number
  default     = 5
}

variable "replica_identifiers" {
  description = "RDS read replica identifiers (a ReplicaLag alarm and dashboard line each); empty without replicas."
  type        = list(string)
  default     = []
}

variable "replica_lag_threshold_seconds" {
  description = "ReplicaLag (s) above which the replica alarm fires; keep it at or below the service's DB_READ_MAX_LAG_SECS, beyond which reads already go to the primary."
  type        = number
  default     = 5
}

variable "edge" {
  description = "The edge of the environment (modules/edge, us-east-1): distribution ID, the web ACL's metric name (the WebACL dimension of AWS/WAFV2 metrics, which is visibility_config.metric_name, not the ACL's name) and the edge alarm ARNs, for the dashboard."
  type = object({
    distribution_id     = string
    web_acl_metric_name = string
    alarm_arns          = list(string)
  })
}

variable "metrics_namespace" {
  description = "CloudWatch namespace of the service's own metrics (the api task's collector writes them there, modules/service)."
  type        = string
}

variable "log_group_name" {
  description = "Log group of the api tasks (/ecs/<name_prefix>): the dashboard's latency percentiles by route come from its request lines. The name, not the service module's output (no dependency cycle)."
  type        = string
}

variable "alarm_routes" {
  description = "Route templates (the service's `route` label, e.g. /v2/beers/{id}) that each get a 5xx ratio alarm."
  type        = list(string)
  default     = ["/v2/beers", "/v2/beers/{id}", "/v2/beers/random", "/beers", "/beers/{id}"]
}

variable "route_error_rate_threshold_percent" {
  description = "Alarm when more than this percentage of one route's requests get a 5xx."
  type        = number
  default     = 5
}

variable "route_min_requests" {
  description = "Requests a minute below which a route's 5xx ratio counts as 0 (one failed request at night is no outage)."
  type        = number
  default     = 20
}

variable "pool_acquire_threshold_seconds" {
  description = "Alarm when the average wait for a database connection (per pool) exceeds this many seconds."
  type        = number
  default     = 0.1
}
