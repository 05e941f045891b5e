output "oidc_provider_arn" {
  description = "ARN of the GitHub Actions OIDC provider."
  value       = aws_iam_openid_connect_provider.github.arn
}

output "ecr_push_role_arn" {
  description = "ARN of <project>-github-ecr-push."
  value       = aws_iam_role.ecr_push.arn
}

output "terraform_plan_role_arn" {
  description = "ARN of <project>-github-terraform-plan (pushes to main)."
  value       = aws_iam_role.plan.arn
}

output "terraform_plan_pr_role_arn" {
  description = "ARN of <project>-github-terraform-plan-pr (pull requests: staging and global only)."
  value       = aws_iam_role.plan_pr.arn
}

output "workload_boundary_arns" {
  description = "ARNs of the permissions boundaries of the roles each environment creates, keyed by environment."
  value       = { for e, p in aws_iam_policy.workload_boundary : e => p.arn }
}

output "deploy_role_arns" {
  description = "ARNs of <project>-<env>-github-deploy, keyed by environment."
  value       = { for e, r in aws_iam_role.deploy : e => r.arn }
}

output "terraform_apply_role_arns" {
  description = "ARNs of <project>-<env>-github-terraform-apply, keyed by environment."
  value       = { for e, r in aws_iam_role.apply : e => r.arn }
}
