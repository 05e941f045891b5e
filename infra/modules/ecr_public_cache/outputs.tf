output "prefix" {
  description = "Repository prefix of the ECR Public pull-through cache."
  value       = aws_ecr_pull_through_cache_rule.ecr_public.ecr_repository_prefix
}

output "repository_urls" {
  description = "URLs of the cached repositories, by public.ecr.aws path."
  value       = { for k, r in aws_ecr_repository.cached : k => r.repository_url }
}
