# Terraform creates the API keys secret but never its value: an operator sets it out of band
#   aws secretsmanager put-secret-value --secret-id <name_prefix>/api-keys --secret-string 'key1,key2'
# so the write keys never pass through Terraform plan, state or CI logs. Until it has a value, api tasks cannot
# start (ECS cannot resolve the secret), which is the safe failure: no write keys, no service.

resource "aws_secretsmanager_secret" "api_keys" {
  #checkov:skip=CKV2_AWS_57:API keys are issued to clients by hand; rotating them means handing new keys out, not a Lambda rotation.
  name                    = "${var.name_prefix}/api-keys"
  description             = "Comma-separated bearer keys allowed to write (API_KEYS). Value set out of band."
  kms_key_id              = var.kms_key_arn
  recovery_window_in_days = var.secret_recovery_window_days
}
