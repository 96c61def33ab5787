# gis-registry: `make demo` and `make test` do all of the set-up themselves.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# where `make demo` serves: `make demo PORT=8001 HOST=0.0.0.0` (the command line only: a HOST
# or PORT in the environment, as some shells and platforms set, is not taken)
HOST   := 127.0.0.1
PORT   := 8000

.PHONY: setup system venv assets db demo notebooks test bench lint clean

setup: system venv assets db  ## OS packages, virtualenv, map assets, PostGIS started and migrated

system:
	@./scripts/install-system.sh

$(STAMP): pyproject.toml requirements.lock
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@echo "installing the Python dependencies into $(VENV) (a minute or two on a fresh machine)"
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -r requirements.lock
	$(BIN)/python -m pip install -q --no-deps -e .
	@touch $(STAMP)

venv: $(STAMP)

assets:  ## Leaflet & co. from the npm registry, for maps that work offline
	@./scripts/install-map-assets.sh

db: venv
	@$(BIN)/gis-registry db start
	@$(BIN)/gis-registry migrate

demo: setup  ## load the demo, write the maps, serve on HOST:PORT (make demo PORT=8001)
	@$(BIN)/gis-registry serve --host $(HOST) --port $(PORT) --check >/dev/null
	$(BIN)/gis-registry demo --if-empty
	$(BIN)/gis-registry demo-summary
	$(BIN)/gis-registry map all -o out/maps
	@echo "serving the registry at http://$(HOST):$(PORT) (OGC API, /maps); Ctrl-C to stop"
	$(BIN)/gis-registry serve --host $(HOST) --port $(PORT)

notebooks: setup  ## JupyterLab on notebooks/, reading the running registry (run `make demo` once first)
	./scripts/notebooks.sh $(JUPYTER_ARGS)

test: setup  ## dependency direction (import-linter), then the whole suite
	$(BIN)/lint-imports --no-cache
	$(BIN)/python -m pytest -q $(PYTEST_ARGS)

bench: setup
	$(BIN)/python -m bench $(BENCH_ARGS)

lint: venv  ## ruff (style, docstrings of public functions), formatting, import layers, mypy
	$(BIN)/ruff check gis_registry api tests bench notebooks
	$(BIN)/ruff format --check gis_registry api tests bench notebooks
	$(BIN)/lint-imports --no-cache
	$(BIN)/mypy gis_registry api

clean:
	-$(BIN)/gis-registry db stop
	rm -rf $(VENV) .gis-registry
