# Every target is self-sufficient on a fresh clone: it builds what it needs first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
FLASK := FLASK_DEBUG=1 $(BIN)/flask --app wsgi
DEMO_FIRMS ?= 300

.PHONY: run test lint format demo assets install clean bench

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: $(BIN)/python setup.cfg pyproject.toml
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

static/vendor/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	rm -rf static/vendor && mkdir -p static/vendor/fonts
	cp node_modules/bootstrap/dist/css/bootstrap.min.css \
	   node_modules/bootstrap/dist/js/bootstrap.bundle.min.js \
	   node_modules/bootstrap-icons/font/bootstrap-icons.min.css \
	   node_modules/htmx.org/dist/htmx.min.js \
	   node_modules/sortablejs/Sortable.min.js \
	   node_modules/echarts/dist/echarts.min.js static/vendor/
	cp node_modules/bootstrap-icons/font/fonts/* static/vendor/fonts/
	touch $@

install: $(VENV)/.installed
assets: static/vendor/.installed

run: install assets
	$(FLASK) db upgrade
	$(FLASK) crm demo --firms $(DEMO_FIRMS)
	$(FLASK) crm serve --host 127.0.0.1 --port 5000

demo: install
	$(FLASK) db upgrade
	$(FLASK) crm demo --firms $(DEMO_FIRMS)

test: install assets
	$(BIN)/pytest $(PYTEST_ARGS)

# The import benchmark (BENCHMARKS.md); BENCH_ROWS=5000 for a quick look, DATABASE_URL for PostgreSQL.
BENCH_ROWS ?= 50000
bench: install
	$(BIN)/python bench/import_bench.py --rows $(BENCH_ROWS)

lint: install
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf $(VENV) node_modules static/vendor *.egg-info .pytest_cache .ruff_cache
