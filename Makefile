# Phản ánh — the README's two commands are `make run` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp

.PHONY: install run up down status test test-unit lint bench soak faults clean

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

## Every benchmark, each figure beside its raw engine; all of one run go to bench/results.json
## (one BENCH_RUN_ID), then the run is printed against the previous one (docs/performance.md).
bench: export BENCH_RUN_ID := bench-$(shell date -u +%Y%m%dT%H%M%SZ)
bench: install
	FEEDBACK_PG_FAST=0 $(PY) -m infra up
	-$(PY) -m bench.spine
	-$(PY) -m bench.queue
	-$(PY) -m bench.dashboard
	-$(PY) -m bench.intake_http
	-$(PY) -m bench.lag
	$(PY) -m bench.results

## 30 minutes at 200 submissions/s through the HTTP intake, RSS sampled every 10 s (not in CI).
soak: install
	FEEDBACK_PG_FAST=0 $(PY) -m infra up
	$(PY) -m bench.soak --minutes 30

## Faults: 100,000 submissions over HTTP while the consumer is SIGKILLed 20 times and Kafka,
## PostgreSQL and the web restart, on servers of its own; writes docs/faults.md.
faults: install
	$(PY) -m bench.faults --submissions 100000 --kills 20 --doc docs/faults.md

clean:
	-$(PY) -m infra down
	rm -rf $(VENV) .local
