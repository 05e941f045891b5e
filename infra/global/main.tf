# Account-wide resources both environments share, applied by an administrator (not by CI):
#  - the one ECR repository (staging and production deploy the same image digest),
#  - the ECR pull-through cache for ECR Public (ecr-public/...: the collector sidecar's image, pulled through the
#    environments' ECR endpoints, since a task without NAT cannot reach public.ecr.aws),
#  - the GitHub Actions OIDC provider and every role the workflows assume.

module "ecr" {
  source = "../modules/ecr"

  repository_name = var.project
  keep_images     = var.ecr_keep_images
}

module "ecr_public_cache" {
  source = "../modules/ecr_public_cache"

  # The environments build the cached image's address from this prefix (modules/environment,
  # ecr_public_cache_prefix), as they build the app repository's from the project name.
  prefix      = var.ecr_public_cache_prefix
  kms_key_arn = module.ecr.kms_key_arn
}

module "github_actions" {
  source = "../modules/github_actions"

  project            = var.project
  github_repository  = var.github_repository
  environments       = var.environments
  aws_region         = var.aws_region
  ecr_repository_arn = module.ecr.repository_arn
  # The execution roles' boundary allows pulls through the cache.
  ecr_public_cache_prefix = module.ecr_public_cache.prefix
  state_bucket_name       = var.state_bucket_name
  state_kms_key_arn       = var.state_kms_key_arn
}
