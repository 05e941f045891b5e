#!/usr/bin/env bash
# Offline checks of the GitHub Actions workflows, the same on a laptop, in .ci/run and in CI (ci.yml):
#   - actionlint over every workflow file (with shellcheck on PATH, so every `run:` script is checked too);
#   - shellcheck over the helper scripts the workflows call (.github/scripts/*.sh) and over this script;
#   - zizmor (offline: no GitHub API calls): every action pinned to a commit SHA (.github/zizmor.yml), no
#     excessive permissions, no credentials persisted by checkout, no template injection;
#   - checkov's secrets scan over .github: no AWS (or other) key committed in a workflow or script.
# tests/workflow_contract checks only what these cannot: that the workflows use the names infra/ creates.
# The checkers are the pinned ones from .ci/requirements-tools.txt (scripts/tools-venv.sh), so results do not
# drift between machines. Exits non-zero on any finding.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

PATH="$("$root/scripts/tools-venv.sh"):$PATH"
export PATH
command -v actionlint >/dev/null || { echo "check-workflows: actionlint not found" >&2; exit 1; }
command -v shellcheck >/dev/null || { echo "check-workflows: shellcheck not found (actionlint would skip run: scripts)" >&2; exit 1; }
command -v zizmor >/dev/null || { echo "check-workflows: zizmor not found" >&2; exit 1; }

shopt -s nullglob
workflows=(.github/workflows/*.yml .github/workflows/*.yaml)
if [ "${#workflows[@]}" -eq 0 ]; then
  echo "check-workflows: no workflow files under .github/workflows" >&2
  exit 1
fi

echo "check-workflows: actionlint $(actionlint --version | head -n1) on ${#workflows[@]} workflow file(s)"
actionlint -shellcheck="$(command -v shellcheck)" "${workflows[@]}"

scripts=(.github/scripts/*.sh scripts/check-workflows.sh scripts/pg-replica.sh scripts/browser-test.sh scripts/screenshots.sh scripts/metrics-check.sh)
echo "check-workflows: shellcheck on ${#scripts[@]} script(s)"
shellcheck --severity=style "${scripts[@]}"

echo "check-workflows: zizmor $(zizmor --version | cut -d' ' -f2) (offline, .github/zizmor.yml)"
zizmor --offline --no-progress --config .github/zizmor.yml .github/workflows

# Files one by one (-f): checkov's directory walk skips dot-directories such as .github.
mapfile -t github_files < <(find .github -type f | sort)
echo "check-workflows: checkov secrets scan of ${#github_files[@]} file(s) under .github"
export CKV_SKIP_PACKAGE_UPDATE_CHECK=true
checkov --framework secrets --skip-download --quiet --compact "${github_files[@]/#/-f=}"
echo "check-workflows: OK"
