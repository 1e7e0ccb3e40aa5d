# Phản ánh — the README's two commands are `make run` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp

.PHONY: install run up down status test test-unit lint bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

## The whole platform on the embedded default (embedded PostgreSQL, in-process intake), demo data.
run: install
	$(VENV)/bin/feedback run

## The full stack: PostgreSQL and Apache Kafka from infra/, web, consumer, projections as processes.
up: install
	$(VENV)/bin/feedback up

down: install
	$(PY) -m infra down

status: install
	$(PY) -m infra status

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy .

test-unit: install
	$(PY) -m pytest -q tests/unit tests/web

## Everything: lint, unit, integration (real PostgreSQL + Kafka), browser (Debian Chromium).
test: install lint
	$(PY) -m infra browser
	FEEDBACK_PG_FAST=1 $(PY) -m infra up
	$(PY) -m pytest -q -p no:cacheprovider

bench: install
	FEEDBACK_PG_FAST=0 $(PY) -m infra up
	$(PY) -m bench.spine
	$(PY) -m bench.queue

clean:
	-$(PY) -m infra down
	rm -rf $(VENV) .local
