terraform {
  # 1.11: modules/database uses write-only arguments.
  required_version = ">= 1.11"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 6.0"
      # us_east_1: CloudFront's certificate, the CLOUDFRONT-scope WAF and the edge's logs and alarms (modules/edge).
      configuration_aliases = [aws.us_east_1]
    }
  }
}
