#!/usr/bin/env bash
# Install tipg (the reference OGC API - Features server) into its own venv, bench/.venv-tipg.
# Never part of the project's environment or of `make test`.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
VENV="$HERE/.venv-tipg"
PYTHON="${PYTHON:-python3}"
TIPG_VERSION="${TIPG_VERSION:-}"
if [[ ! -x "$VENV/bin/python" ]]; then
    "$PYTHON" -m venv "$VENV"
fi
"$VENV/bin/python" -m pip install -q --upgrade pip
"$VENV/bin/python" -m pip install -q "tipg${TIPG_VERSION:+==$TIPG_VERSION}" "uvicorn[standard]"
"$VENV/bin/python" -c "import tipg; print('tipg', tipg.__version__, 'ready in $VENV')"
