#!/bin/sh
# Install the offline copies of the map libraries (Leaflet, jQuery, Bootstrap, Font Awesome,
# Leaflet.awesome-markers) and of Swagger UI (the API's /api.html) from the npm registry into
# gis_registry/maps/assets/node_modules
# (git-ignored, never committed), exactly as pinned by the committed package-lock.json.
# Maps then load nothing from outside the machine. Installs Debian's npm when npm is missing.
# Quick and silent when the installed copies already match the lock file.
set -eu
HERE=$(CDPATH= cd -- "$(dirname -- "$0")/.." && pwd)
ASSETS="$HERE/gis_registry/maps/assets"
STAMP="$ASSETS/node_modules/.gis-registry-lock"

if [ -f "$STAMP" ] && cmp -s "$STAMP" "$ASSETS/package-lock.json"; then
    exit 0
fi

if ! command -v npm >/dev/null 2>&1; then
    echo "npm not found: installing Debian's npm package"
    SUDO=""
    [ "$(id -u)" -eq 0 ] || SUDO="sudo -n"
    export DEBIAN_FRONTEND=noninteractive
    $SUDO apt-get update -qq || true
    $SUDO apt-get install -y -qq --no-install-recommends npm
fi

cd "$ASSETS"
# npm ci: exactly the lock file's versions and integrity hashes; no install scripts run, no
# audit/fund calls, no update check; a local npm cache first when it already has the tarballs.
npm ci --ignore-scripts --no-audit --no-fund --prefer-offline --loglevel=error \
    --no-update-notifier
cp package-lock.json "$STAMP"
echo "map assets installed in $ASSETS/node_modules"
