output "state_bucket_name" {
  description = "Name of the state bucket: pass it to terraform init -backend-config=\"bucket=...\" -backend-config=\"kms_key_id=<state_kms_key_arn>\" in every root."
  value       = aws_s3_bucket.state.id
}

output "state_bucket_arn" {
  description = "ARN of the state bucket."
  value       = aws_s3_bucket.state.arn
}

output "state_kms_key_arn" {
  description = "ARN of the KMS key encrypting the state: input state_kms_key_arn of infra/global, the backend's kms_key_id at every init, the GitHub variable TF_STATE_KMS_KEY_ARN."
  value       = aws_kms_key.state.arn
}
