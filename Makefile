# Two commands on a fresh machine (see README): `make run` and `make test`.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
PG_TEST_URL ?= postgresql://postgres@127.0.0.1:5432/test
HOST ?= 127.0.0.1
PORT ?= 5000

.PHONY: install wheel run test test-sqlite test-postgres suite-sqlite suite-postgres lint clean translations

$(BIN)/cpe: pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	@touch $@

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund
	@touch $@

# After `npm ci`: copy the served front-end files (with licences) and the shipped models into the package
# (webapp/static/vendor/, engine/programme/shipped_models/; generated, git-ignored). Cheap: runs every time.
install: $(BIN)/cpe node_modules/.package-lock.json
	$(BIN)/python tooling/build_assets.py

# The installable package (what production installs): dist/cpe_workflow-<version>-py3-none-any.whl
wheel: install
	rm -rf build
	$(BIN)/pip wheel -q --no-deps . -w dist

run: install
	$(BIN)/cpe db upgrade
	$(BIN)/cpe demo
	$(BIN)/cpe serve --host $(HOST) --port $(PORT)

lint: install
	$(BIN)/ruff check engine webapp cli tooling tests

# The whole suite: lint, then every test on SQLite and on PostgreSQL. The two runs share nothing (a
# temporary SQLite file or a PostgreSQL schema per test, ports chosen free) and run side by side, one
# per core; each run's output is printed whole when it ends (--output-sync).
test: install lint
	@$(MAKE) --no-print-directory -j2 --output-sync=target suite-sqlite suite-postgres

test-sqlite: install
	@$(MAKE) --no-print-directory suite-sqlite

test-postgres: install
	@$(MAKE) --no-print-directory suite-postgres

suite-sqlite:
	@echo "== tests on SQLite"
	$(BIN)/pytest -p no:cacheprovider

suite-postgres:
	@if $(BIN)/python -c "import psycopg,sys; psycopg.connect('$(PG_TEST_URL)', connect_timeout=3).close()" 2>/dev/null; then \
		echo "== tests on PostgreSQL ($(PG_TEST_URL))"; \
		CPE_TEST_DATABASE_URL='$(PG_TEST_URL)' $(BIN)/pytest -p no:cacheprovider; \
	elif [ -n "$$CI" ]; then \
		echo "PostgreSQL is not reachable at $(PG_TEST_URL); CI requires it" >&2; exit 1; \
	else \
		echo "PostgreSQL not reachable at $(PG_TEST_URL): skipping the PostgreSQL run (set PG_TEST_URL)"; \
	fi

clean:
	rm -rf $(VENV) node_modules instance .pytest_cache build dist webapp/static/vendor engine/programme/shipped_models

# After changing UI strings: refresh the catalogue, translate the new entries in
# webapp/translations/en/LC_MESSAGES/messages.po, then compile it.
translations: install
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext -o /tmp/cpe-messages.pot webapp
	$(BIN)/pybabel update -w 100 -i /tmp/cpe-messages.pot -d webapp/translations
	$(BIN)/pybabel compile -d webapp/translations
