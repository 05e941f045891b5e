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
  description = "RDS instance identifier (DBInstanceIdentifier dimension)."
  type        = string
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
