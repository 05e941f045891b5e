terraform {
  # 1.11: write-only arguments (the generated DB role passwords never reach plan or state).
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

  # Partial configuration: the bucket (infra/bootstrap output state_bucket_name) is given at init time:
  #   terraform init -backend-config="bucket=<state bucket>"
  backend "s3" {
    key          = "production/terraform.tfstate"
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
