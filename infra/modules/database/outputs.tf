output "instance_identifier" {
  description = "RDS instance identifier (<name_prefix>-db), for CloudWatch metrics."
  value       = aws_db_instance.this.identifier
}

output "instance_arn" {
  description = "ARN of the RDS instance."
  value       = aws_db_instance.this.arn
}

output "address" {
  description = "Host name of the instance (DB_HOST)."
  value       = aws_db_instance.this.address
}

output "port" {
  description = "Port of the instance (DB_PORT)."
  value       = aws_db_instance.this.port
}

output "db_name" {
  description = "Database name (DB_NAME)."
  value       = aws_db_instance.this.db_name
}

output "master_user_secret_arn" {
  description = "ARN of the secret holding the master credentials (<name_prefix>/db/master, JSON keys username, password). Only the ARN: the password is never in state."
  value       = aws_secretsmanager_secret.master.arn
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
  description = "Host name the service reads the catalog from (DB_READ_HOST): the replicas' weighted CNAME, or null without replicas."
  value       = var.replica_count > 0 ? local.read_host : null
  # The name resolves only once its records exist: a task started with DB_READ_HOST before them would fail its
  # reads over to the primary (or fail to start its read pool) until DNS caught up.
  depends_on = [aws_route53_record.read]
}

output "replica_identifiers" {
  description = "Identifiers of the read replicas (ReplicaLag alarms and dashboard), empty without replicas."
  value       = aws_db_instance.replica[*].identifier
}
