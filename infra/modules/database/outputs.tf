output "engine" {
  description = "The database engine chosen (var.engine): rds or aurora."
  value       = var.engine
}

output "instance_identifier" {
  description = "Identifier of the database for CloudWatch metrics: the RDS instance (<name_prefix>-db, dimension DBInstanceIdentifier), or with aurora the cluster (<name_prefix>-db, dimension DBClusterIdentifier)."
  value       = local.rds ? aws_db_instance.this[0].identifier : aws_rds_cluster.aurora[0].cluster_identifier
}

output "instance_arn" {
  description = "ARN of the RDS instance, or with aurora of the cluster."
  value       = local.rds ? aws_db_instance.this[0].arn : aws_rds_cluster.aurora[0].arn
}

output "address" {
  description = "Host name of the writer (DB_HOST): the instance's address, or the Aurora cluster (writer) endpoint."
  value       = local.rds ? aws_db_instance.this[0].address : aws_rds_cluster.aurora[0].endpoint
}

output "port" {
  description = "Port of the database (DB_PORT)."
  value       = local.rds ? aws_db_instance.this[0].port : aws_rds_cluster.aurora[0].port
}

output "db_name" {
  description = "Database name (DB_NAME)."
  value       = local.rds ? aws_db_instance.this[0].db_name : aws_rds_cluster.aurora[0].database_name
}

output "master_user_secret_arn" {
  description = "ARN of the secret holding the master credentials (JSON keys username, password): <name_prefix>/db/master (rds), or the RDS-managed rds!cluster-* secret (aurora), both encrypted with the environment's key. Only the ARN: the password is never in state."
  value       = local.rds ? aws_secretsmanager_secret.master[0].arn : aws_rds_cluster.aurora[0].master_user_secret[0].secret_arn
  # The value is written by terraform_data.credentials; the db-roles task must not start before it.
  depends_on = [terraform_data.credentials]
}

output "migrator_secret_arn" {
  description = "ARN of the migrator (schema owner) role secret (JSON keys username, password)."
  value       = aws_secretsmanager_secret.migrator.arn
  depends_on  = [terraform_data.credentials] # the value exists before a task can reference it
}

output "app_secret_arn" {
  description = "ARN of the application (DML-only) role secret (JSON keys username, password)."
  value       = aws_secretsmanager_secret.app.arn
  depends_on  = [terraform_data.credentials] # the value exists before a task can reference it
}

output "migrator_username" {
  description = "Name of the migrator role."
  value       = var.migrator_username
}

output "app_username" {
  description = "Name of the application role."
  value       = var.app_username
}

output "read_host" {
  description = "Host name the service reads the catalog from (DB_READ_HOST): the replicas' weighted CNAME (rds) or the cluster's reader endpoint (aurora), or null without replicas / readers."
  value       = var.replica_count == 0 ? null : (local.rds ? local.read_host : aws_rds_cluster.aurora[0].reader_endpoint)
  # The name resolves only once its records exist: a task started with DB_READ_HOST before them would fail its
  # reads over to the primary (or fail to start its read pool) until DNS caught up.
  depends_on = [aws_route53_record.read, aws_rds_cluster_instance.aurora]
}

output "replica_identifiers" {
  description = "Identifiers of the RDS read replicas (ReplicaLag alarms and dashboard), empty without replicas and with aurora (whose lag is the cluster's AuroraReplicaLagMaximum)."
  value       = aws_db_instance.replica[*].identifier
}

output "aurora_reader_count" {
  description = "Aurora reader instances (0 with rds): the AuroraReplicaLagMaximum alarm exists only with readers."
  value       = local.aurora ? var.replica_count : 0
}
