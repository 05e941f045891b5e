#!/usr/bin/env bash
# Offline checks of the Terraform under infra/: formatting and checkov's security policies.
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
echo "check-infra: OK"
