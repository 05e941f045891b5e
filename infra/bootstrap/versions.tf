terraform {
  required_version = ">= 1.10"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 6.0"
    }
  }

  # Bootstrap creates the state bucket, so its own state starts local (terraform.tfstate here, git-ignored).
  # After the first apply it can be moved into the bucket it created: see infra/README.md, "Bootstrap".
}

provider "aws" {
  region = var.aws_region

  default_tags {
    tags = {
      Project     = var.project
      Environment = "shared"
      ManagedBy   = "terraform"
      Repository  = var.github_repository
    }
  }
}
