#!/usr/bin/env bash
# Offline checks of the Terraform under infra/: formatting, checkov's security policies, and the IAM policies
# rendered to JSON under parliament and cloudsplaining (scripts/render-iam-policies.py, check-iam-policies.py).
# `terraform validate` and `plan` need the providers (downloaded from the Terraform registry), so they run only in
# GitHub Actions; see infra/README.md. Exits non-zero on any failure.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
export TF_CLI_CONFIG_FILE="${TF_CLI_CONFIG_FILE:-/dev/null}" # no ~/.terraformrc needed (and no warning about it)


command -v terraform >/dev/null || { echo "check-infra: terraform is not installed" >&2; exit 1; }

echo "check-infra: terraform fmt -check -recursive infra"
if ! terraform fmt -check -recursive -diff infra; then
  echo "check-infra: FAILED: files above need 'terraform fmt -recursive infra'" >&2
  exit 1
fi

# No third-party modules: every module source must be a local path.
echo "check-infra: module sources are local"
if grep -rnE '^\s*source\s*=\s*"[^.]' --include='*.tf' infra | grep -v 'hashicorp/' ; then
  echo "check-infra: FAILED: module sources above are not local paths (./ or ../)" >&2
  exit 1
fi

tools_bin=$("$root/scripts/tools-venv.sh")
export PATH="$tools_bin:$PATH"
export CKV_SKIP_PACKAGE_UPDATE_CHECK=true

echo "check-infra: checkov $(checkov --version) over infra/ (terraform framework)"
report=$(mktemp)
trap 'rm -f "$report"' EXIT
set +e
checkov -d infra --framework terraform --skip-download --quiet --compact >"$report" 2>&1
status=$?
set -e

summary=$(grep -E '^Passed checks: [0-9]+, Failed checks: [0-9]+, Skipped checks: [0-9]+' "$report" | head -n1 || true)
if [ -z "$summary" ]; then
  cat "$report" >&2
  echo "check-infra: FAILED: checkov printed no summary (exit $status)" >&2
  exit 1
fi
failed=$(sed -E 's/.*Failed checks: ([0-9]+).*/\1/' <<<"$summary")
if [ "$status" -ne 0 ] || [ "$failed" -ne 0 ]; then
  cat "$report" >&2
  echo "check-infra: FAILED: checkov: $summary" >&2
  exit 1
fi

skips=$(grep -rhoE '#checkov:skip=[A-Z0-9_]+' infra | wc -l)
unexplained=$(grep -rnE '#checkov:skip=[A-Z0-9_]+:?\s*$' infra || true)
if [ -n "$unexplained" ]; then
  echo "$unexplained" >&2
  echo "check-infra: FAILED: every checkov skip needs a reason (#checkov:skip=ID:reason)" >&2
  exit 1
fi

echo "check-infra: checkov: $summary ($skips inline skips, each with a reason)"

# IAM: every aws_iam_policy_document rendered to JSON, then parliament and cloudsplaining over them; a finding
# passes only with a reason in infra/iam-policy-exceptions.txt (no privilege escalation path, data exfiltration or
# resource exposure goes unexplained). checkov's own IAM checks above stay unskipped except where a reason says so.
iam_bin=$("$root/scripts/tools-venv.sh" iam)
policies="$root/target/iam-policies"
rm -rf "$policies"
echo "check-infra: IAM policies: $("$iam_bin/parliament" --version 2>&1 | tail -n1), cloudsplaining $("$iam_bin/pip" show cloudsplaining 2>/dev/null | sed -n 's/^Version: //p')"
# Self-test first: a policy with a privilege escalation path (PassRole + RunInstances on "*", the shape of the
# earlier apply role's ec2:* grant) must fail the check, so a broken scanner cannot pass everything.
selftest=$(mktemp -d)
trap 'rm -f "$report"; rm -rf "$selftest"' EXIT
mkdir -p "$selftest/identity"
echo '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["iam:PassRole","ec2:RunInstances"],"Resource":"*"}]}' \
  >"$selftest/identity/escalation.json"
: >"$selftest/no-exceptions.txt"
if "$iam_bin/python" "$root/scripts/check-iam-policies.py" "$selftest" "$selftest/no-exceptions.txt" >/dev/null 2>&1; then
  echo "check-infra: FAILED: the IAM check passed a policy with a privilege escalation path (self-test)" >&2
  exit 1
fi
"$iam_bin/python" "$root/scripts/render-iam-policies.py" infra "$policies"
if ! "$iam_bin/python" "$root/scripts/check-iam-policies.py" "$policies" infra/iam-policy-exceptions.txt; then
  echo "check-infra: FAILED: IAM findings above need a fix or a reason in infra/iam-policy-exceptions.txt" >&2
  exit 1
fi
echo "check-infra: OK"
