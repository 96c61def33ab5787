#!/bin/sh
# Install the OS packages the project needs (Debian 12): PostgreSQL 15 with PostGIS 3 and
# pgRouting for the embedded cluster, GDAL's command-line tools (ogrinfo/ogr2ogr: real OGC API
# clients in the tests, references in the benchmarks), Chromium and its driver with Thai fonts
# (map tests in a real browser), wrk (the API benchmark's load generator; `make bench` ran into
# its absence on a fresh machine), osm2pgsql (a reference of the OSM import benchmark),
# python3-qgis (QGIS 3.22's Python bindings for /usr/bin/python3, with the OAPIF and postgres
# providers of its dependency qgis-providers: tests/qgis opens every layer and the generated
# project in headless PyQGIS, as a GIS officer's QGIS would; about 160 packages, 900 MB, 40 s
# on a machine that has the rest). Quick and silent when everything is already there.
set -eu
PACKAGES="postgresql-15 postgresql-15-postgis-3 postgresql-15-pgrouting postgresql-contrib gdal-bin
    chromium chromium-driver fonts-thai-tlwg wrk osm2pgsql python3-qgis"
missing=""
for p in $PACKAGES; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ -n "${GIS_REGISTRY_DATABASE_URL:-}" ] && [ "${GIS_REGISTRY_SKIP_SYSTEM:-}" = 1 ]; then
    echo "skipping OS packages ($missing): using GIS_REGISTRY_DATABASE_URL"; exit 0
fi
echo "installing OS packages:$missing"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo -n"
export DEBIAN_FRONTEND=noninteractive
# Debian's postgresql-common creates and starts a system cluster by default; the project runs
# its own, so tell it not to.
if [ ! -e /etc/postgresql-common/createcluster.conf ]; then
    $SUDO mkdir -p /etc/postgresql-common/createcluster.d
    echo "create_main_cluster = false" | $SUDO tee /etc/postgresql-common/createcluster.d/gis-registry.conf >/dev/null
fi
$SUDO apt-get update -qq || true
$SUDO apt-get install -y -qq --no-install-recommends $missing
