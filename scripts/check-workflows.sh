#!/usr/bin/env bash
# Offline checks of the GitHub Actions workflows, the same on a laptop, in .ci/run and in CI (ci.yml):
#   - actionlint over every workflow file (with shellcheck on PATH, so every `run:` script is checked too);
#   - shellcheck over the helper scripts the workflows call (.github/scripts/*.sh) and over this script.
# The checkers are the pinned ones from .ci/requirements-tools.txt (scripts/tools-venv.sh), so results do not
# drift between machines. Exits non-zero on any finding.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

PATH="$("$root/scripts/tools-venv.sh"):$PATH"
export PATH
command -v actionlint >/dev/null || { echo "check-workflows: actionlint not found" >&2; exit 1; }
command -v shellcheck >/dev/null || { echo "check-workflows: shellcheck not found (actionlint would skip run: scripts)" >&2; exit 1; }

shopt -s nullglob
workflows=(.github/workflows/*.yml .github/workflows/*.yaml)
if [ "${#workflows[@]}" -eq 0 ]; then
  echo "check-workflows: no workflow files under .github/workflows" >&2
  exit 1
fi

echo "check-workflows: actionlint $(actionlint --version | head -n1) on ${#workflows[@]} workflow file(s)"
actionlint -shellcheck="$(command -v shellcheck)" "${workflows[@]}"

scripts=(.github/scripts/*.sh scripts/check-workflows.sh)
echo "check-workflows: shellcheck on ${#scripts[@]} script(s)"
shellcheck --severity=style "${scripts[@]}"
echo "check-workflows: OK"
