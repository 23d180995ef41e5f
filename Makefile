# Every target is self-sufficient on a fresh clone: it builds what it needs first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
FLASK := FLASK_DEBUG=1 $(BIN)/flask --app wsgi
DEMO_FIRMS ?= 300

.PHONY: run test lint format demo assets install clean bench bench-pages package-check

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: $(BIN)/python setup.cfg pyproject.toml
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

crm/static/vendor/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	rm -rf crm/static/vendor && mkdir -p crm/static/vendor/fonts
	cp node_modules/bootstrap/dist/css/bootstrap.min.css \
	   node_modules/bootstrap/dist/js/bootstrap.bundle.min.js \
	   node_modules/bootstrap-icons/font/bootstrap-icons.min.css \
	   node_modules/htmx.org/dist/htmx.min.js \
	   node_modules/sortablejs/Sortable.min.js \
	   node_modules/echarts/dist/echarts.min.js crm/static/vendor/
	cp node_modules/bootstrap-icons/font/fonts/* crm/static/vendor/fonts/
	touch $@

install: $(VENV)/.installed
assets: crm/static/vendor/.installed

run: install assets
	$(FLASK) db upgrade
	$(FLASK) crm demo --firms $(DEMO_FIRMS)
	$(FLASK) crm serve --host 127.0.0.1 --port 5000

demo: install
	$(FLASK) db upgrade
	$(FLASK) crm demo --firms $(DEMO_FIRMS)

test: install assets
	$(BIN)/pytest $(PYTEST_ARGS)

# The import benchmark, then the daily reminder scan, the bell and 今日待办, the dashboard and the
# firm-list export on the demo database of bench-pages (BENCHMARKS.md); BENCH_ROWS=5000 and
# BENCH_FIRMS=20000 for a quick look, DATABASE_URL for PostgreSQL, BENCH_RUNS repetitions (medians
# of the import and the export, best of the scans).
BENCH_ROWS ?= 50000
BENCH_RUNS ?= 3
BENCH_FIRMS ?= 100000
#: The demo database bench-pages built (its SQLite copy), or DATABASE_URL's.
BENCH_DEMO_URL = $${DATABASE_URL:-sqlite:///$(CURDIR)/bench/.cache/pages-run.sqlite}
bench: install
	$(BIN)/python bench/import_bench.py --rows $(BENCH_ROWS) --repeat $(BENCH_RUNS)
	$(BIN)/python bench/reminders_bench.py --firms $(BENCH_FIRMS) --runs $(BENCH_RUNS)
	FLASK_DEBUG=1 $(BIN)/python bench/pages_bench.py --firms $(BENCH_FIRMS) --only dashboard
	FLASK_DEBUG=1 $(BIN)/python bench/funnel_bench.py --database-url "$(BENCH_DEMO_URL)"
	FLASK_DEBUG=1 $(BIN)/python bench/export_bench.py --runs $(BENCH_RUNS) \
	  --database-url "$(BENCH_DEMO_URL)"

# Every list, board and firm tab timed as each role on the demo data (BENCHMARKS.md). The demo
# database is built once into bench/.cache; BENCH_FIRMS=20000 for a quicker look, DATABASE_URL
# for PostgreSQL.
BENCH_REPEAT ?= 15
bench-pages: install
	$(BIN)/python bench/pages_bench.py --firms $(BENCH_FIRMS) --repeat $(BENCH_REPEAT)

# Build the wheel, install it alone into a clean venv and check, from an empty folder, that it
# upgrades a database and serves pages: templates, static files and migrations ship inside it.
package-check: install assets
	rm -rf build dist .package-check
	$(BIN)/pip wheel --no-deps --quiet --wheel-dir dist .
	$(PYTHON) -m venv .package-check
	.package-check/bin/pip install --quiet "$$(ls dist/crm-*.whl)"
	cd "$$(mktemp -d)" && $(CURDIR)/.package-check/bin/python $(CURDIR)/.ci/check_wheel.py
	rm -rf build dist .package-check

lint: install
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf $(VENV) node_modules crm/static/vendor *.egg-info .pytest_cache .ruff_cache build dist \
	   .package-check
