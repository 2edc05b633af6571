# Plimsoll: `make run` serves the embedded mode on 127.0.0.1:8000; `make test` runs the suite.
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
HOST ?= 127.0.0.1
PORT ?= 8000
STAMP := $(VENV)/.installed

.PHONY: install run test lint bench migrate clean

$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "make: $(PYTHON) not found; install Python 3.11 or run make PYTHON=/path/to/python3.11"; exit 1; }
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

migrate: install
	$(PY) manage.py migrate --noinput

# The embedded mode: SQLite under var/, tasks in-process, plain HTTP on loopback.
run: export PLIMSOLL_HTTPS ?= 0
run: install migrate
	$(PY) manage.py load_frameworks
	$(PY) manage.py seed_demo
	@echo ""
	@echo "Plimsoll is starting on http://$(HOST):$(PORT)/"
	@echo "Log in at http://$(HOST):$(PORT)/login/ with a demo login printed above."
	@echo ""
	$(PY) manage.py runserver --noreload $(HOST):$(PORT)

# The suite runs on every core (pytest-xdist; PYTEST_WORKERS=0 runs it in one process).
PYTEST_WORKERS ?= auto
test: install
	$(PY) -m pytest -n $(PYTEST_WORKERS) --dist loadfile $(PYTEST_ARGS)

lint: install
	$(VENV)/bin/ruff check .

bench: install
	$(PY) bench/ingest.py
	$(PY) bench/evaluate.py

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache
