# var.engine = "aurora": an Aurora PostgreSQL Serverless v2 cluster in place of the RDS instance and its replicas
# (main.tf). The rest of the stack sees the same outputs: the writer endpoint (DB_HOST), the reader endpoint
# (DB_READ_HOST, with readers), the master secret ARN, the same security group and subnets, the same KMS key.
#
# - Capacity is billed per ACU-second between var.aurora_min_capacity and var.aurora_max_capacity (1 ACU ~ 2 GiB).
#   min 0 (staging): the writer pauses after var.aurora_seconds_until_auto_pause without connections and costs
#   only storage while paused; the first connection after a pause waits for the resume (up to ~15 s, see
#   docs/operations.md#a-paused-database-aurora-auto-pause for how the service answers meanwhile).
# - The master password is managed by RDS (manage_master_user_password) in a secret encrypted with the
#   environment's key: unlike RDS instance replicas, Aurora readers share the cluster's storage and users, so the
#   limitation that made main.tf generate the password (no replicas of a managed-password instance) does not apply.
# - Readers sit in promotion tier 1: Aurora Serverless v2 scales readers in tiers 0-1 with the writer, so a failover
#   lands on an instance already sized for the writer's load (tiers 2-15 scale on their own load only).
# - TLS only: rds.force_ssl = 1 in the cluster parameter group, as in the RDS parameter group.

resource "aws_rds_cluster_parameter_group" "aurora" {
  count = local.aurora ? 1 : 0

  # name_prefix + create_before_destroy: a new family at a major upgrade creates the new group first.
  name_prefix = "${var.name_prefix}-aurora-pg17-"
  family      = "aurora-postgresql17"
  description = "${var.name_prefix}: TLS-only connections, connection and slow-statement logging (Aurora)"

  parameter {
    name  = "rds.force_ssl"
    value = "1"
  }

  parameter {
    name  = "log_connections"
    value = "1"
  }

  parameter {
    name  = "log_disconnections"
    value = "1"
  }

  parameter {
    name  = "log_min_duration_statement"
    value = tostring(var.log_min_duration_statement_ms)
  }

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_rds_cluster" "aurora" {
  #checkov:skip=CKV_AWS_139:Deletion protection is var.deletion_protection: on in production, off in staging so it can be torn down.
  #checkov:skip=CKV_AWS_162:IAM database authentication is optional (var.iam_database_authentication_enabled); the service authenticates with Secrets Manager-held passwords.
  #checkov:skip=CKV2_AWS_8:Backups are Aurora's continuous backups (backup_retention_period, point-in-time recovery); no separate AWS Backup plan.
  #checkov:skip=CKV2_AWS_27:Query logging is configured in the cluster parameter group (log_min_duration_statement, connections); full statement logging would log request data.
  count = local.aurora ? 1 : 0

  cluster_identifier = local.identifier
  engine             = "aurora-postgresql"
  engine_mode        = "provisioned" # Serverless v2 is the provisioned mode with db.serverless instances
  engine_version     = var.aurora_engine_version

  database_name                 = var.db_name
  master_username               = var.master_username
  manage_master_user_password   = true
  master_user_secret_kms_key_id = var.kms_key_arn

  storage_encrypted = true
  kms_key_id        = var.kms_key_arn

  db_subnet_group_name            = var.db_subnet_group_name
  vpc_security_group_ids          = [var.security_group_id]
  port                            = 5432
  db_cluster_parameter_group_name = aws_rds_cluster_parameter_group.aurora[0].name

  serverlessv2_scaling_configuration {
    min_capacity = var.aurora_min_capacity
    max_capacity = var.aurora_max_capacity
    # Only meaningful (and only accepted) with min_capacity 0: the idle time before the writer pauses.
    seconds_until_auto_pause = var.aurora_min_capacity == 0 ? var.aurora_seconds_until_auto_pause : null
  }

  backup_retention_period      = var.backup_retention_days
  preferred_backup_window      = "02:00-03:00"
  preferred_maintenance_window = "sun:03:30-sun:04:30"
  copy_tags_to_snapshot        = true

  deletion_protection       = var.deletion_protection
  skip_final_snapshot       = !var.final_snapshot
  final_snapshot_identifier = var.final_snapshot ? "${local.identifier}-final" : null

  allow_major_version_upgrade         = false
  apply_immediately                   = var.apply_immediately
  iam_database_authentication_enabled = var.iam_database_authentication_enabled
  enabled_cloudwatch_logs_exports     = ["postgresql"]

  tags = { Name = local.identifier }

  depends_on = [aws_cloudwatch_log_group.exports] # with its retention before Aurora writes to it
}

# Instance 1 is created first and becomes the writer; 2.. are readers (var.replica_count of them). After a failover
# the roles swap: the names say nothing about the role, the cluster endpoints always do.
resource "aws_rds_cluster_instance" "aurora" {
  #checkov:skip=CKV_AWS_118:Enhanced monitoring is optional (var.monitoring_interval); Performance Insights and CloudWatch metrics are always on.
  count = local.aurora ? 1 + var.replica_count : 0

  identifier          = "${local.identifier}-${count.index + 1}"
  cluster_identifier  = aws_rds_cluster.aurora[0].id
  instance_class      = "db.serverless"
  engine              = aws_rds_cluster.aurora[0].engine
  engine_version      = aws_rds_cluster.aurora[0].engine_version
  publicly_accessible = false
  # 0 for the first (writer) instance, 1 for the readers: tiers 0-1 follow the writer's capacity.
  promotion_tier = count.index == 0 ? 0 : 1

  auto_minor_version_upgrade   = true
  apply_immediately            = var.apply_immediately
  preferred_maintenance_window = "sun:04:30-sun:05:30"
  copy_tags_to_snapshot        = true

  performance_insights_enabled          = true
  performance_insights_kms_key_id       = var.kms_key_arn
  performance_insights_retention_period = var.performance_insights_retention_days

  monitoring_interval = var.monitoring_interval
  monitoring_role_arn = var.monitoring_interval > 0 ? aws_iam_role.monitoring[0].arn : null

  tags = { Name = "${local.identifier}-${count.index + 1}", Role = count.index == 0 ? "writer" : "reader" }
}
