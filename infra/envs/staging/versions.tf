terraform {
  # 1.11: ephemeral values (the generated DB role passwords never reach plan or state; modules/database).
  required_version = ">= 1.11"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 6.0"
    }
    random = {
      source  = "hashicorp/random"
      version = "~> 3.7"
    }
  }

  # Partial configuration: the bucket and the state key (infra/bootstrap outputs state_bucket_name and
  # state_kms_key_arn) are given at init time, never hard-coded here:
  #   terraform init -backend-config="bucket=<state bucket>" -backend-config="kms_key_id=<state key ARN>"
  # kms_key_id is required, not optional: the bucket policy (infra/bootstrap, DenyUnencryptedUploads) refuses any
  # PutObject without SSE-KMS under that key, and with encrypt = true but no kms_key_id Terraform's S3 backend
  # sends `x-amz-server-side-encryption: AES256` on both the state and the <key>.tflock writes (Terraform v1.11
  # internal/backend/remote-state/s3/client.go, put() and lockWithFile()): every locked write would be denied.
  backend "s3" {
    key          = "staging/terraform.tfstate"
    region       = "eu-west-1"
    encrypt      = true
    use_lockfile = true # S3-native lock (<key>.tflock, conditional write); no DynamoDB table
  }
}

provider "aws" {
  region = var.aws_region

  default_tags {
    tags = {
      Project     = local.project
      Environment = local.environment
      ManagedBy   = "terraform"
      Repository  = var.github_repository
    }
  }
}

# CloudFront takes certificates only from us-east-1, a CLOUDFRONT-scope web ACL lives there, and CloudFront and WAF
# publish their metrics there: modules/edge runs entirely on this provider.
provider "aws" {
  alias  = "us_east_1"
  region = "us-east-1"

  default_tags {
    tags = {
      Project     = local.project
      Environment = local.environment
      ManagedBy   = "terraform"
      Repository  = var.github_repository
    }
  }
}
