terraform {
  # 1.11: write-only arguments (secret_string_wo) keep the generated role passwords out of plan and state.
  required_version = ">= 1.11"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 6.0"
    }
    # 3.7: the ephemeral random_password resource.
    random = {
      source  = "hashicorp/random"
      version = "~> 3.7"
    }
  }
}
