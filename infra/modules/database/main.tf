# RDS PostgreSQL 17 in private subnets. The master password is generated and kept by RDS in Secrets Manager
# (manage_master_user_password): it never appears in Terraform configuration, plan, state or outputs. The master
# user is only used by the one-off db-roles task; the service connects as a DML-only role, migrations run as the
# schema owner role. Those two roles' credentials are Secrets Manager secrets created here.

data "aws_partition" "current" {}
data "aws_region" "current" {}

locals {
  identifier = "${var.name_prefix}-db"
}

resource "aws_db_parameter_group" "this" {
  # name_prefix, not name: with create_before_destroy a change that replaces the group (e.g. a new family at a major
  # upgrade) creates the new one before deleting the old, and a fixed name would collide with the old group.
  name_prefix = "${var.name_prefix}-postgres17-"
  family      = "postgres17"
  description = "${var.name_prefix}: TLS-only connections, connection and slow-statement logging"

  # Refuse unencrypted connections: the service connects with DB_SSLMODE=require.
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

  # Statements slower than this are logged (milliseconds); -1 disables.
  parameter {
    name  = "log_min_duration_statement"
    value = tostring(var.log_min_duration_statement_ms)
  }

  lifecycle {
    create_before_destroy = true
  }
}

data "aws_iam_policy_document" "monitoring_assume" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["monitoring.rds.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "monitoring" {
  count = var.monitoring_interval > 0 ? 1 : 0

  name                 = "${var.name_prefix}-rds-monitoring"
  assume_role_policy   = data.aws_iam_policy_document.monitoring_assume.json
  permissions_boundary = var.permissions_boundary_arn
}

resource "aws_iam_role_policy_attachment" "monitoring" {
  count = var.monitoring_interval > 0 ? 1 : 0

  role       = aws_iam_role.monitoring[0].name
  policy_arn = "arn:${data.aws_partition.current.partition}:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole"
}

resource "aws_db_instance" "this" {
  #checkov:skip=CKV_AWS_157:Multi-AZ is var.multi_az: on in production, off in staging to halve its cost (staging can tolerate an AZ outage).
  #checkov:skip=CKV_AWS_118:Enhanced monitoring is optional (var.monitoring_interval); Performance Insights and CloudWatch metrics are always on.
  #checkov:skip=CKV_AWS_161:IAM database authentication is optional (var.iam_database_authentication_enabled); the service authenticates with Secrets Manager-held passwords.
  #checkov:skip=CKV_AWS_293:Deletion protection is var.deletion_protection: on in production, off in staging so it can be torn down.
  #checkov:skip=CKV2_AWS_30:Query logging is configured in the parameter group (log_min_duration_statement, connections); full statement logging would log request data.
  identifier     = local.identifier
  engine         = "postgres"
  engine_version = var.engine_version
  instance_class = var.instance_class

  db_name  = var.db_name
  username = var.master_username
  # RDS generates the master password and stores it in a Secrets Manager secret it manages and rotates;
  # Terraform only learns that secret's ARN.
  manage_master_user_password   = true
  master_user_secret_kms_key_id = var.kms_key_arn

  allocated_storage     = var.allocated_storage_gb
  max_allocated_storage = var.max_allocated_storage_gb
  storage_type          = "gp3"
  storage_encrypted     = true
  kms_key_id            = var.kms_key_arn

  db_subnet_group_name   = var.db_subnet_group_name
  vpc_security_group_ids = [var.security_group_id]
  publicly_accessible    = false
  multi_az               = var.multi_az
  port                   = 5432

  parameter_group_name = aws_db_parameter_group.this.name

  backup_retention_period  = var.backup_retention_days
  backup_window            = "02:00-03:00"
  maintenance_window       = "sun:03:30-sun:04:30"
  copy_tags_to_snapshot    = true
  delete_automated_backups = false

  deletion_protection       = var.deletion_protection
  skip_final_snapshot       = !var.final_snapshot
  final_snapshot_identifier = var.final_snapshot ? "${local.identifier}-final" : null

  auto_minor_version_upgrade  = true
  allow_major_version_upgrade = false
  apply_immediately           = var.apply_immediately

  performance_insights_enabled          = true
  performance_insights_kms_key_id       = var.kms_key_arn
  performance_insights_retention_period = var.performance_insights_retention_days

  monitoring_interval = var.monitoring_interval
  monitoring_role_arn = var.monitoring_interval > 0 ? aws_iam_role.monitoring[0].arn : null

  iam_database_authentication_enabled = var.iam_database_authentication_enabled
  enabled_cloudwatch_logs_exports     = ["postgresql", "upgrade"]

  tags = { Name = local.identifier }
}

# --- Role credentials -------------------------------------------------------------------------------------------
# The two secrets are Terraform's; their values are not. aws_secretsmanager_secret_version cannot hold them: even
# with the write-only secret_string_wo, the provider refreshes that resource with secretsmanager:GetSecretValue
# (terraform-provider-aws internal/service/secretsmanager/secret_version.go, resourceSecretVersionRead ->
# findSecretVersionByTwoPartKey), so every plan role would need to read the passwords. Instead the password is
# generated by an ephemeral resource (never in plan or state) and written once by a provisioner of a terraform_data
# resource, which has nothing to refresh: a plan never calls Secrets Manager for the values, and only the apply
# role (PutSecretValue on this environment's secrets) writes them. Terraform suppresses the provisioner's output
# because its configuration holds an ephemeral value (Terraform v1.11 internal/terraform/
# node_resource_abstract_instance.go, applyProvisioners). The value reaches the AWS CLI on stdin, never its
# command line. To rotate, bump var.role_password_version, apply (the terraform_data is replaced and writes a new
# version), then run the db-roles task (it ALTERs the roles' passwords to the new secret values) and redeploy.

ephemeral "random_password" "role" {
  for_each = local.role_secrets

  length  = 40
  special = false # alphanumeric: safe in any connection string or shell, still ~238 bits
}

locals {
  # Role secret -> the PostgreSQL role whose credentials it holds.
  role_secrets = {
    migrator = var.migrator_username
    app      = var.app_username
  }
}

resource "aws_secretsmanager_secret" "migrator" {
  #checkov:skip=CKV2_AWS_57:Rotation needs a rotation Lambda that knows the db-roles flow; rotate by bumping role_password_version and running the db-roles task (see infra/README.md).
  name                    = "${var.name_prefix}/db/migrator"
  description             = "PostgreSQL schema owner role (runs migrations). JSON: username, password."
  kms_key_id              = var.kms_key_arn
  recovery_window_in_days = var.secret_recovery_window_days
}

resource "aws_secretsmanager_secret" "app" {
  #checkov:skip=CKV2_AWS_57:Rotation needs a rotation Lambda that knows the db-roles flow; rotate by bumping role_password_version and running the db-roles task (see infra/README.md).
  name                    = "${var.name_prefix}/db/app"
  description             = "PostgreSQL DML-only role the service connects as. JSON: username, password."
  kms_key_id              = var.kms_key_arn
  recovery_window_in_days = var.secret_recovery_window_days
}

resource "terraform_data" "role_password" {
  for_each = local.role_secrets

  # A new secret or a new password version writes a new value; nothing else does.
  triggers_replace = [
    each.key == "migrator" ? aws_secretsmanager_secret.migrator.arn : aws_secretsmanager_secret.app.arn,
    var.role_password_version,
  ]

  provisioner "local-exec" {
    interpreter = ["/bin/bash", "-c"]
    command     = "set -euo pipefail; printf '%s' \"$SECRET_STRING\" | aws secretsmanager put-secret-value --region \"$REGION\" --secret-id \"$SECRET_ID\" --secret-string file:///dev/stdin --query VersionId --output text"
    environment = {
      REGION        = data.aws_region.current.region
      SECRET_ID     = each.key == "migrator" ? aws_secretsmanager_secret.migrator.arn : aws_secretsmanager_secret.app.arn
      SECRET_STRING = jsonencode({ username = each.value, password = ephemeral.random_password.role[each.key].result })
    }
  }
}

# The earlier aws_secretsmanager_secret_version resources: forget them without deleting the values they wrote.
removed {
  from = aws_secretsmanager_secret_version.migrator
  lifecycle {
    destroy = false
  }
}

removed {
  from = aws_secretsmanager_secret_version.app
  lifecycle {
    destroy = false
  }
}

# --- Read replicas ----------------------------------------------------------------------------------------------
# Asynchronous streaming replicas of the primary (var.replica_count: 0 in staging, 1+ in production), in the same
# private subnets and security group, encrypted with the same key, with the same parameter group (rds.force_ssl = 1:
# the TLS-only rule holds on the replicas too). The service reads the catalog from them (DB_READ_HOST) and falls
# back to the primary when a replica lags more than DB_READ_MAX_LAG_SECS or is unreachable.
#
# RDS has no reader endpoint for plain instances (Aurora does): the service gets one stable name, a CNAME in a
# private hosted zone of the VPC with one weighted record per replica, so adding a replica needs no task change and
# the service's pool spreads its connections over the replicas as they are (re)opened. TLS is DB_SSLMODE=require
# (encryption, no host name verification), so the CNAME is accepted.

locals {
  read_host = "db-read.${var.name_prefix}.internal"
}

resource "aws_db_instance" "replica" {
  #checkov:skip=CKV_AWS_157:A replica is itself the redundancy for reads; the primary is Multi-AZ in production and the service falls back to it when a replica fails.
  #checkov:skip=CKV_AWS_118:Enhanced monitoring follows var.monitoring_interval, as on the primary.
  #checkov:skip=CKV_AWS_161:IAM database authentication follows the primary (password roles from Secrets Manager).
  #checkov:skip=CKV_AWS_293:A replica holds no data of its own; lowering replica_count must not need a second apply to lift a deletion lock.
  #checkov:skip=CKV2_AWS_30:Query logging is configured in the shared parameter group (log_min_duration_statement, connections).
  #checkov:skip=CKV_AWS_133:Backups are the primary's (PostgreSQL replicas are rebuilt from it, not restored); a replica with backups would only add cost.
  count = var.replica_count

  identifier          = "${local.identifier}-replica-${count.index + 1}"
  replicate_source_db = aws_db_instance.this.identifier # same region: the identifier; engine, users and db come from it
  instance_class      = coalesce(var.replica_instance_class, var.instance_class)

  # Storage size follows the primary; encryption and key must be given again for an encrypted same-region replica.
  max_allocated_storage = var.max_allocated_storage_gb
  storage_type          = "gp3"
  storage_encrypted     = true
  kms_key_id            = var.kms_key_arn

  db_subnet_group_name   = var.db_subnet_group_name
  vpc_security_group_ids = [var.security_group_id]
  publicly_accessible    = false
  multi_az               = false
  port                   = 5432

  parameter_group_name = aws_db_parameter_group.this.name

  backup_retention_period = 0
  maintenance_window      = "sun:04:30-sun:05:30" # after the primary's window, never both at once
  copy_tags_to_snapshot   = true
  skip_final_snapshot     = true
  deletion_protection     = false

  auto_minor_version_upgrade = true
  apply_immediately          = var.apply_immediately

  performance_insights_enabled          = true
  performance_insights_kms_key_id       = var.kms_key_arn
  performance_insights_retention_period = var.performance_insights_retention_days

  monitoring_interval = var.monitoring_interval
  monitoring_role_arn = var.monitoring_interval > 0 ? aws_iam_role.monitoring[0].arn : null

  iam_database_authentication_enabled = var.iam_database_authentication_enabled
  enabled_cloudwatch_logs_exports     = ["postgresql", "upgrade"]

  tags = { Name = "${local.identifier}-replica-${count.index + 1}", Role = "read-replica" }
}

resource "aws_route53_zone" "internal" {
  #checkov:skip=CKV2_AWS_38:DNSSEC signing applies to public zones; this is a private zone of the VPC.
  #checkov:skip=CKV2_AWS_39:Query logging is a public-zone feature; resolver query logs for the VPC would be the private-zone equivalent and record nothing this name does not already say.
  count = var.replica_count > 0 ? 1 : 0

  name    = "${var.name_prefix}.internal"
  comment = "${var.name_prefix}: private names of the VPC (the database read endpoint)"

  vpc {
    vpc_id = var.vpc_id
  }
}

resource "aws_route53_record" "read" {
  count = var.replica_count

  zone_id        = aws_route53_zone.internal[0].zone_id
  name           = local.read_host
  type           = "CNAME"
  ttl            = 30
  records        = [aws_db_instance.replica[count.index].address]
  set_identifier = "replica-${count.index + 1}"

  weighted_routing_policy {
    weight = 1
  }
}
