# The two everyday commands: `make run` (embedded: SQLite, in-process tasks)
# and `make test` (the whole suite on PostgreSQL and Redis).
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
STAMP := $(VENV)/.installed

TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/caisi
TEST_BROKER_URL ?= redis://127.0.0.1:6379/0

.PHONY: run test lint install migrate seed clean provision provision-run assets

$(STAMP): pyproject.toml constraints.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet -c constraints.txt -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

# System packages, listed in system-packages.txt: `make run` needs the "run"
# set, `make test` all of them. Missing ones are installed as root; otherwise
# the command to install them is printed and make stops.
provision:
	scripts/provision test

provision-run:
	scripts/provision run

run: provision-run $(STAMP)
	DEBUG=1 $(PY) manage.py migrate --noinput
	DEBUG=1 $(PY) manage.py create_signing_identity
	DEBUG=1 $(PY) manage.py seed_demo
	DEBUG=1 STAFF_REQUIRE_WEBAUTHN=$${STAFF_REQUIRE_WEBAUTHN:-0} $(PY) manage.py runserver 127.0.0.1:8000

# The sign-in tests run a real OpenID Provider (Node's oidc-provider, pinned by
# its package-lock.json), installed once into tests/tools/oidc-provider.
OIDC_PROVIDER := tests/tools/oidc-provider

$(OIDC_PROVIDER)/node_modules: $(OIDC_PROVIDER)/package-lock.json
	npm ci --prefix $(OIDC_PROVIDER) --no-audit --no-fund
	touch $@

# Uploaded files of the test run go to a fresh folder, removed afterwards.
test: provision $(STAMP) $(OIDC_PROVIDER)/node_modules
	media=$$(mktemp -d) && trap 'rm -rf "$$media"' EXIT && \
	MEDIA_ROOT=$${MEDIA_ROOT:-$$media} \
	DATABASE_URL=$${DATABASE_URL:-$(TEST_DATABASE_URL)} \
	CELERY_BROKER_URL=$${CELERY_BROKER_URL:-$(TEST_BROKER_URL)} \
	$(PY) -m pytest $(PYTEST_ARGS)

# Style, the layers of DESIGN.md (an import may only go down), no import cycle
# between apps (function-local imports included), and no missing migration.
lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports
	$(PY) scripts/import_cycles.py
	$(PY) manage.py makemigrations --check --dry-run

# The U.S. Web Design System assets (frontend/ -> static/uswds/, and axe-core
# for the browser tests). Needs Node 20 and npm; the output is committed, so
# `make run` and `make test` need neither.
assets:
	cd frontend && npm ci --no-audit --no-fund && npm run build

clean:
	rm -rf $(VENV) db.sqlite3 media test-artifacts

# The benchmark (not part of `make test`): seeds BENCH_CASES cases into its own
# database (reused when already seeded), serves it with gunicorn on 127.0.0.1,
# measures, prints one table and writes bench/RESULTS.md. About 15 minutes.
BENCH_CASES ?= 100000
BENCH_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/caisi_bench
BENCH_BROKER_URL ?= redis://127.0.0.1:6379/5
# The server's shared cache (tokens, status answers, throttle counters); flushed at start.
BENCH_CACHE_URL ?= redis://127.0.0.1:6379/6

.PHONY: bench
bench: $(STAMP)
	BENCH_DATABASE_URL=$(BENCH_DATABASE_URL) BENCH_BROKER_URL=$(BENCH_BROKER_URL) \
	BENCH_CACHE_URL=$(BENCH_CACHE_URL) $(PY) -m bench.run --cases $(BENCH_CASES) $(BENCH_ARGS)
