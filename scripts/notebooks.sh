#!/usr/bin/env bash
# JupyterLab on notebooks/ against this project's registry (`make notebooks`); extra
# arguments go to `jupyter lab` (e.g. --no-browser --port 8890); NOTEBOOK_DIR serves another
# folder (the tests run copies, so JupyterLab never saves outputs into notebooks/).
#
# Kernels run in notebooks/, so they are told where the embedded cluster lives (a relative
# GIS_REGISTRY_HOME would be looked up there), and get the project's .env settings;
# GIS_REGISTRY_DATABASE_URL, when set, still wins.
# JupyterLab is kept off the network: no news feed, no update check, no extension search on PyPI.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -f .env ]; then  # the GIS_REGISTRY_* settings the CLI reads from .env; the environment wins
  while IFS='=' read -r key value; do
    if [[ $key =~ ^GIS_REGISTRY_[A-Z_]+$ ]] && [ -z "${!key+x}" ]; then
      value="${value%\"}"; value="${value#\"}"
      export "$key=$value"
    fi
  done < .env
fi
export GIS_REGISTRY_HOME="$(realpath -m "${GIS_REGISTRY_HOME:-.gis-registry}")"
# JupyterLab's defaults for this environment: never ask to fetch news, never check for updates
settings=.venv/share/jupyter/lab/settings
mkdir -p "$settings"
cat > "$settings/overrides.json" <<'JSON'
{"@jupyterlab/apputils-extension:notification": {"fetchNews": "false", "checkForUpdates": false}}
JSON

as_root=()
[ "$(id -u)" -ne 0 ] || as_root=(--allow-root)  # containers and CI run as root
exec .venv/bin/jupyter lab \
  --notebook-dir="${NOTEBOOK_DIR:-notebooks}" \
  --LabApp.news_url=None \
  --LabApp.check_for_updates_class=jupyterlab.handlers.announcements.NeverCheckForUpdate \
  --LabApp.extension_manager=readonly \
  "${as_root[@]}" "$@"
