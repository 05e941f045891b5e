#!/usr/bin/env bash
# Creates (once) the virtualenv holding pinned offline checkers and prints its bin directory, so callers can do:
# PATH="$(scripts/tools-venv.sh):$PATH".
#   scripts/tools-venv.sh        .ci/requirements-tools.txt      (checkov, actionlint, shellcheck, hadolint, zizmor)
#   scripts/tools-venv.sh iam    .ci/requirements-iam-tools.txt  (parliament, cloudsplaining, python-hcl2; their
#                                dependencies conflict with checkov's pins, so they get a venv of their own)
#   scripts/tools-venv.sh compose .ci/requirements-compose.txt   (podman-compose, for scripts/container-test.sh)
#   scripts/tools-venv.sh recipes .ci/requirements-recipes.txt   (jsonschema, pybeerxml, for
#                                scripts/check-recipe-formats.sh)
# The venvs live in target/ (git-ignored, rebuilt from the pins whenever they change).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
case "${1:-}" in
  "") req="$root/.ci/requirements-tools.txt"; venv="${TOOLS_VENV:-$root/target/tools-venv}" ;;
  iam) req="$root/.ci/requirements-iam-tools.txt"; venv="${IAM_TOOLS_VENV:-$root/target/tools-venv-iam}" ;;
  compose) req="$root/.ci/requirements-compose.txt"; venv="${COMPOSE_TOOLS_VENV:-$root/target/tools-venv-compose}" ;;
  recipes) req="$root/.ci/requirements-recipes.txt"; venv="${RECIPES_TOOLS_VENV:-$root/target/tools-venv-recipes}" ;;
  *) echo "tools-venv: unknown tool set '$1' (none, iam, compose or recipes)" >&2; exit 2 ;;
esac
stamp="$venv/.requirements.sha256"
want=$(sha256sum "$req" | cut -d' ' -f1)
if [ ! -x "$venv/bin/python" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "tools-venv: installing pinned checkers from $(basename "$req") into $venv" >&2
  python3 -m venv "$venv" >&2
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$req" >&2
  echo "$want" >"$stamp"
fi
echo "$venv/bin"
