# The Terraform state bucket shared by every root (keys global/, staging/, production/): versioned (any state can be
# restored), KMS-encrypted, never public, TLS-only. Locking uses S3 conditional writes (use_lockfile = true in each
# backend), so no DynamoDB table is needed.

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}

locals {
  bucket = coalesce(var.state_bucket_name, "${var.project}-tfstate-${data.aws_caller_identity.current.account_id}")
}

data "aws_iam_policy_document" "kms" {
  #checkov:skip=CKV_AWS_111:Key policy: "*" as resource means this key only; the account-root statement delegates use to IAM policies, which grant it narrowly.
  #checkov:skip=CKV_AWS_356:Key policy: "*" as resource means this key only (key policies cannot name other resources).
  #checkov:skip=CKV_AWS_109:Key policy: the account-root statement is the standard delegation to IAM; without it the key becomes unmanageable.
  statement {
    sid       = "AccountAdministersThroughIam"
    actions   = ["kms:*"]
    resources = ["*"] # in a key policy, "*" is this key
    principals {
      type        = "AWS"
      identifiers = ["arn:${data.aws_partition.current.partition}:iam::${data.aws_caller_identity.current.account_id}:root"]
    }
  }
}

resource "aws_kms_key" "state" {
  description             = "${var.project}: Terraform state encryption"
  enable_key_rotation     = true
  deletion_window_in_days = 30
  policy                  = data.aws_iam_policy_document.kms.json
}

resource "aws_kms_alias" "state" {
  name          = "alias/${var.project}-tfstate"
  target_key_id = aws_kms_key.state.key_id
}

resource "aws_s3_bucket" "state" {
  #checkov:skip=CKV_AWS_18:Server access logs would need a second bucket for a few requests a day; CloudTrail records who touched the state.
  #checkov:skip=CKV_AWS_144:Cross-region replication is not worth it for state: versioning restores any revision, and state can be rebuilt by import.
  #checkov:skip=CKV2_AWS_62:Nothing consumes state-object events.
  bucket = local.bucket

  lifecycle {
    prevent_destroy = true
  }
}

resource "aws_s3_bucket_versioning" "state" {
  bucket = aws_s3_bucket.state.id
  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "state" {
  bucket = aws_s3_bucket.state.id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = "aws:kms"
      kms_master_key_id = aws_kms_key.state.arn
    }
    bucket_key_enabled = true
  }
}

resource "aws_s3_bucket_public_access_block" "state" {
  bucket                  = aws_s3_bucket.state.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_ownership_controls" "state" {
  bucket = aws_s3_bucket.state.id
  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "state" {
  bucket = aws_s3_bucket.state.id

  rule {
    id     = "expire-old-state-versions"
    status = "Enabled"

    filter {}

    # Keep old revisions long enough to recover from a bad apply noticed late.
    noncurrent_version_expiration {
      noncurrent_days = var.noncurrent_version_retention_days
    }

    abort_incomplete_multipart_upload {
      days_after_initiation = 1
    }
  }
}

data "aws_iam_policy_document" "state" {
  statement {
    sid     = "DenyInsecureTransport"
    effect  = "Deny"
    actions = ["s3:*"]
    resources = [
      aws_s3_bucket.state.arn,
      "${aws_s3_bucket.state.arn}/*",
    ]
    principals {
      type        = "*"
      identifiers = ["*"]
    }
    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }

  # Every object (state and <key>.tflock) must be written with SSE-KMS under the state key. IfExists: a request
  # without the header is denied too (a missing key evaluates the condition to true). Terraform's S3 backend sends
  # both headers only when the backend has kms_key_id (client.go put() and lockWithFile() in Terraform v1.11); with
  # `encrypt = true` alone it sends AES256 and is refused here. So every root's init passes
  # -backend-config="kms_key_id=<state_kms_key_arn>" (infra/README.md, .github/workflows/infra.yml), and
  # tests/infra_contract checks the backends and the documented inits against this statement.
  statement {
    sid       = "DenyUnencryptedUploads"
    effect    = "Deny"
    actions   = ["s3:PutObject"]
    resources = ["${aws_s3_bucket.state.arn}/*"]
    principals {
      type        = "*"
      identifiers = ["*"]
    }
    condition {
      test     = "StringNotEqualsIfExists"
      variable = "s3:x-amz-server-side-encryption"
      values   = ["aws:kms"]
    }
  }

  # ...and under this key, not another KMS key of the account (the backend sends the ARN given as kms_key_id).
  statement {
    sid       = "DenyOtherKmsKeys"
    effect    = "Deny"
    actions   = ["s3:PutObject"]
    resources = ["${aws_s3_bucket.state.arn}/*"]
    principals {
      type        = "*"
      identifiers = ["*"]
    }
    condition {
      test     = "StringNotEqualsIfExists"
      variable = "s3:x-amz-server-side-encryption-aws-kms-key-id"
      values   = [aws_kms_key.state.arn]
    }
  }
}

resource "aws_s3_bucket_policy" "state" {
  bucket = aws_s3_bucket.state.id
  policy = data.aws_iam_policy_document.state.json

  depends_on = [aws_s3_bucket_public_access_block.state]
}
