#!/usr/bin/env bash
# Creates (once) the virtualenv holding the pinned offline checkers from .ci/requirements-tools.txt and prints
# its bin directory, so callers can do: PATH="$(scripts/tools-venv.sh):$PATH".
# The venv lives in target/ (git-ignored, rebuilt from the pins whenever they change).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
req="$root/.ci/requirements-tools.txt"
venv="${TOOLS_VENV:-$root/target/tools-venv}"
stamp="$venv/.requirements.sha256"
want=$(sha256sum "$req" | cut -d' ' -f1)
if [ ! -x "$venv/bin/python" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "tools-venv: installing pinned checkers into $venv" >&2
  python3 -m venv "$venv" >&2
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$req" >&2
  echo "$want" >"$stamp"
fi
echo "$venv/bin"
