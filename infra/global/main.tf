# Account-wide resources both environments share, applied by an administrator (not by CI):
#  - the one ECR repository (staging and production deploy the same image digest),
#  - the GitHub Actions OIDC provider and every role the workflows assume.

module "ecr" {
  source = "../modules/ecr"

  repository_name = var.project
  keep_images     = var.ecr_keep_images
}

module "github_actions" {
  source = "../modules/github_actions"

  project            = var.project
  github_repository  = var.github_repository
  environments       = var.environments
  aws_region         = var.aws_region
  ecr_repository_arn = module.ecr.repository_arn
  state_bucket_name  = var.state_bucket_name
  state_kms_key_arn  = var.state_kms_key_arn
}
