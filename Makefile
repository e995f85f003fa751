# Everything a fresh machine needs: `make demo` and `make test` create .venv and install first.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
VENDOR := src/ringtrace/web/static/vendor
DEMO_DIR ?= demo
SCALE ?= small

.PHONY: demo test lint bench venv vendor clean

# The web app's browser libraries (cytoscape), pinned in package-lock.json and copied into the package: the app
# loads nothing from outside, and a clean clone gets them with the install.
$(VENDOR)/cytoscape.min.js: package.json package-lock.json
	npm ci --ignore-scripts --no-audit --no-fund
	mkdir -p $(VENDOR)
	cp node_modules/cytoscape/dist/cytoscape.min.js $(VENDOR)/cytoscape.min.js

vendor: $(VENDOR)/cytoscape.min.js

$(STAMP): pyproject.toml $(VENDOR)/cytoscape.min.js
	test -d $(VENV) || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e ".[dev,pdf,case,web,dask,postgres,disk,backups,documents]"
	touch $(STAMP)

venv: $(STAMP)

demo: $(STAMP)
	$(BIN)/ringtrace demo $(DEMO_DIR) --scale $(SCALE)

test: $(STAMP)
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/mypy

bench: $(STAMP)
	$(BIN)/python bench/run_all.py

clean:
	rm -rf $(VENV) $(DEMO_DIR) node_modules $(VENDOR) .pytest_cache .mypy_cache .ruff_cache
