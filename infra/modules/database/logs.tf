# The log groups RDS exports the database's logs to (enabled_cloudwatch_logs_exports): created here, before the
# database, so they have a retention and the environment's key. Left to RDS, they would be created on first write,
# unencrypted and kept forever. Standard class: during an incident the PostgreSQL log is read live (Live Tail),
# which the Infrequent Access class does not offer.

locals {
  exported_log_groups = toset(local.rds ? concat(
    ["/aws/rds/instance/${local.identifier}/postgresql", "/aws/rds/instance/${local.identifier}/upgrade"],
    [for n in range(var.replica_count) : "/aws/rds/instance/${local.identifier}-replica-${n + 1}/postgresql"],
    [for n in range(var.replica_count) : "/aws/rds/instance/${local.identifier}-replica-${n + 1}/upgrade"],
  ) : ["/aws/rds/cluster/${local.identifier}/postgresql"])
}

resource "aws_cloudwatch_log_group" "exports" {
  #checkov:skip=CKV_AWS_338:Retention is var.log_retention_days, an environment decision: production keeps a year, staging less to save cost.
  for_each = local.exported_log_groups

  name              = each.key
  retention_in_days = var.log_retention_days
  kms_key_id        = var.kms_key_arn
}
