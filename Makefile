# Kabinet: `make run` starts the demo portal, `make test` runs the whole suite.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PORT ?= 8000
HOST ?= 127.0.0.1
PYTEST_ARGS ?=
# Parallel test processes (pytest-xdist); 0 runs everything in one process.
PYTEST_WORKERS ?= 2

.PHONY: run install install-dev test lint format bench messages clean-db demo

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e ".[dev]"
	touch $(VENV)/.installed $@

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

run: install
	$(BIN)/kabinet migrate --noinput
	$(BIN)/kabinet demo
	@echo ""
	@echo "Kabinet is starting on http://$(HOST):$(PORT)/  (dev outbox: http://$(HOST):$(PORT)/dev/outbox/ or '$(BIN)/kabinet outbox')"
	$(BIN)/kabinet runserver $(HOST):$(PORT)

demo: install
	$(BIN)/kabinet migrate --noinput
	$(BIN)/kabinet demo

# On SQLite (no DATABASE_URL) the PostgreSQL-only tests are deselected; with DATABASE_URL they run.
test: install-dev
	@if [ -z "$$DATABASE_URL" ]; then \
	  echo "== tests on SQLite (set DATABASE_URL=postgres://... to run on PostgreSQL) =="; \
	  $(BIN)/pytest -n $(PYTEST_WORKERS) -m "not postgres" $(PYTEST_ARGS); \
	else \
	  echo "== tests on $${DATABASE_URL%%@*}@... =="; \
	  $(BIN)/pytest -n $(PYTEST_WORKERS) $(PYTEST_ARGS); \
	fi

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy kabinet config

format: install-dev
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# The dashboard load run uses wrk (Debian package); without it, a slower Python load generator.
bench: install-dev
	@command -v wrk >/dev/null 2>&1 || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null 2>&1 || \
	  echo "wrk is not installed: the dashboard bench falls back to its Python load generator"
	$(BIN)/python -m bench

# Regenerate translation catalogs (needs GNU gettext); compiled .mo files are committed.
messages: install-dev
	cd kabinet && ../$(BIN)/kabinet makemessages -l en -l tt --no-obsolete --ignore '*/tests/*'
	cd kabinet && ../$(BIN)/kabinet compilemessages

clean-db:
	rm -f var/kabinet.sqlite3 var/kabinet.sqlite3-wal var/kabinet.sqlite3-shm
