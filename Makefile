# moyai — the two commands of the README.
#   make demo    install and start the demo (SQLite, three synthetic municipalities);
#                another address: make demo DEMO_ADDR=127.0.0.1:8765
#   make check   install the dev dependencies, then lint, types and the whole test suite
PYTHON ?= python3
VENV ?= .venv
DEMO_ADDR ?= 127.0.0.1:8000

.PHONY: demo check install install-dev test lint

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip

install: $(VENV)/bin/python
	$(VENV)/bin/pip install --quiet -e .

install-dev: $(VENV)/bin/python
	$(VENV)/bin/pip install --quiet -e '.[dev]'

demo: install
	@scripts/ensure-fonts || echo "(certificates need the IPAmj明朝 font: sudo scripts/ensure-fonts)"
	$(VENV)/bin/moyai demo --addr $(DEMO_ADDR)

check: install-dev
	VENV=$(VENV) scripts/check

lint: install-dev
	VENV=$(VENV) scripts/check --lint-only
