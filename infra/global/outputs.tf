output "ecr_repository_name" {
  description = "Name of the ECR repository (beer-catalog)."
  value       = module.ecr.repository_name
}

output "ecr_repository_url" {
  description = "URL of the ECR repository."
  value       = module.ecr.repository_url
}

output "ecr_public_cache_prefix" {
  description = "Repository prefix of the ECR Public pull-through cache (public.ecr.aws/<path> is <registry>/<prefix>/<path>)."
  value       = module.ecr_public_cache.prefix
}

output "github_oidc_provider_arn" {
  description = "ARN of the GitHub Actions OIDC provider."
  value       = module.github_actions.oidc_provider_arn
}

output "ecr_push_role_arn" {
  description = "Role for pushing images (beer-catalog-github-ecr-push)."
  value       = module.github_actions.ecr_push_role_arn
}

output "terraform_plan_role_arn" {
  description = "Role for terraform plan on main (beer-catalog-github-terraform-plan): global, staging and production."
  value       = module.github_actions.terraform_plan_role_arn
}

output "terraform_plan_pr_role_arn" {
  description = "Role for terraform plan of pull requests (beer-catalog-github-terraform-plan-pr): staging and global only."
  value       = module.github_actions.terraform_plan_pr_role_arn
}

output "workload_boundary_arns" {
  description = "Permissions boundaries of the roles each environment creates (beer-catalog-<env>-workload-boundary)."
  value       = module.github_actions.workload_boundary_arns
}

output "deploy_role_arns" {
  description = "Deploy roles by environment (beer-catalog-<env>-github-deploy)."
  value       = module.github_actions.deploy_role_arns
}

output "terraform_apply_role_arns" {
  description = "Terraform apply roles by environment (beer-catalog-<env>-github-terraform-apply)."
  value       = module.github_actions.terraform_apply_role_arns
}
