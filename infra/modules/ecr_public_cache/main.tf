# ECR's pull-through cache for ECR Public: images of public.ecr.aws (today the api task's OpenTelemetry collector)
# are pulled as <account>.dkr.ecr.<region>.amazonaws.com/<prefix>/<public path>, so a task in a VPC without NAT
# pulls them through the ecr.api / ecr.dkr interface endpoints and the S3 gateway endpoint like the app's image.
# ECR fetches the image from public.ecr.aws on the first pull (and checks for updates of a tag at most once a day);
# ECR Public needs no credentials. The digest stays the same, so a task pinning repo:tag@sha256:... gets exactly
# the image the public reference names.

resource "aws_ecr_pull_through_cache_rule" "ecr_public" {
  ecr_repository_prefix = var.prefix
  upstream_registry_url = "public.ecr.aws"
}

# The cached repositories are created here, before the first pull, rather than by ECR on that pull. Created by the
# pull, each would need ecr:CreateRepository in the pulling role (the tasks' execution role, which then could
# create any repository under the prefix) and would get ECR's defaults: AES256 instead of the KMS key of the app's
# repository and no lifecycle policy. Created here, the execution role only reads and imports
# (ecr:BatchImportUpstreamImage) into a repository that exists, encrypted and expiring like the app's.
resource "aws_ecr_repository" "cached" {
  #checkov:skip=CKV_AWS_51:The cache mirrors public.ecr.aws, whose tags it refreshes; the tasks pin every cached image by digest (repo:tag@sha256:...), so a moved tag changes nothing they run.
  for_each = var.repositories

  name = "${var.prefix}/${each.key}"
  # MUTABLE: the cache refreshes a tag when upstream moves it, which an immutable repository would refuse; the tasks
  # pin the digest, which is what keeps what staging tested what production runs.
  image_tag_mutability = "MUTABLE"
  # Deleting the cache loses nothing: the next pull fetches the image again.
  force_delete = true

  image_scanning_configuration {
    scan_on_push = true
  }

  encryption_configuration {
    encryption_type = "KMS"
    kms_key         = var.kms_key_arn
  }
}

resource "aws_ecr_lifecycle_policy" "cached" {
  for_each = aws_ecr_repository.cached

  repository = each.value.name

  policy = jsonencode({
    rules = [
      {
        rulePriority = 1
        description  = "Keep the last ${var.keep_images} cached images (a pinned digest that expires is fetched again on the next pull)"
        selection = {
          tagStatus   = "any"
          countType   = "imageCountMoreThan"
          countNumber = var.keep_images
        }
        action = { type = "expire" }
      },
    ]
  })
}
