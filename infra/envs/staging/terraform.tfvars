# Inputs of the staging root that live in the repository, so that every plan, CI's (.github/workflows/infra.yml) and
# an administrator's, uses the same values: Terraform loads terraform.tfvars of the root by itself. Each of these
# variables has no default on purpose (variables.tf): a plan without this file fails instead of planning the values
# back to nothing. No secrets here; these are names and addresses anyone resolving the service can see.
# Change them in a pull request: its plan shows the effect, and the push to main applies it.
#
# Not here: aws_region and github_repository come from the workflow (TF_VAR_*; a value here would override them),
# image_tag is passed with -var on the very first apply only (docs/deployment.md#one-time-setup-in-order).

# Public host name of the API and its Route 53 zone. null: the distribution's *.cloudfront.net name
# (infra/README.md#the-edge-cloudfront-waf-and-the-public-hostname).
domain_name    = null
hosted_zone_id = null

# HTTPS from CloudFront to the ALB: an ACM certificate in the region of the ALB and the origin name it covers.
# null: HTTP to the ALB, for a first look only; set both before real traffic.
certificate_arn    = null
origin_domain_name = null

# Who receives the alarms (each address confirms the SNS subscription once).
alarm_emails = []

# Bump to rotate the master, migrator and app DB passwords. The infra workflow refuses to apply a rotation on its own:
# an administrator applies it and runs the db-roles task, then the service is redeployed (infra/README.md).
db_role_password_version = 1
