terraform {
  # 1.11: ephemeral values in provisioners (the generated role passwords never reach plan or state).
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
