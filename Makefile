# Loan-risk pipeline: one entry point for the stack, the data, the model and the tests.
SHELL := /bin/bash
.DEFAULT_GOAL := help
PY := .venv/bin/python
STACK := stack/stack.sh
export PATH := $(CURDIR)/.venv/bin:$(PATH)
export LEIN_ROOT := 1
N ?= 3000
FILE ?=
BENCH_ARGS ?=
SCENARIOS ?=
CHAOS_RATE ?= 25
MODEL ?= models
POLICY ?= config/risk_policy.json
SINCE ?=
UNTIL ?=
WINDOW ?= 5000
CHALLENGER ?=

.PHONY: help venv install up down status clean test unit integration demo load train reconcile lock lint worker-env bench chaos rescore drift retrain promote

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-11s %s\n", $$1, $$2}'

venv: .venv/.installed ## create the project's Python 3.11 virtual environment

.venv/.installed: pyproject.toml constraints.txt
	@command -v python3.11 >/dev/null || command -v python3 >/dev/null || { echo "python3.11 is required"; exit 1; }
	@[ -x $(PY) ] || { echo "==> creating .venv"; python3 -m venv .venv; }
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -c constraints.txt -e '.[test]'
	@touch $@

install: ## install everything the stack needs (apt, Maven Central, PyPI) without starting it
	@$(STACK) install

up: ## start every service and wait until each is healthy (idempotent)
	@$(STACK) up

down: ## stop exactly what `make up` started
	@$(STACK) down

status: ## one line per service: name, port, pid, health, log
	@$(STACK) status

clean: ## stop the stack and wipe its data and logs (keeps downloads)
	@$(STACK) clean

unit: venv ## run the tests that need no service
	$(PY) -m pytest -q -m 'not integration' tests

test: up ## bring the stack up and run unit and integration tests
	$(PY) -m pytest -q tests

lint: venv ## ruff (lint + format check) and mypy --strict over the whole tree; exit 1 on any finding
	@$(PY) -m ruff --version >/dev/null 2>&1 && $(PY) -m mypy --version >/dev/null 2>&1 \
		|| $(PY) -m pip install -q -c constraints.txt -e '.[lint]'
	@status=0; \
	$(PY) -m ruff check . || status=1; \
	$(PY) -m ruff format --check . || status=1; \
	$(PY) -m mypy || status=1; \
	exit $$status

worker-env: venv ## regenerate virtualenvs/loan-risk.txt (the workers' requirements) from constraints.txt
	$(PY) -m jobs.virtualenv_spec

load: up ## load both shared LendingClub samples into MySQL, or FILE=<csv>
	$(PY) -m jobs.load $(if $(FILE),$(FILE),--samples)

train: venv ## train the risk model on the shared samples' resolved loans
	$(PY) -m jobs.train

demo: up ## the main job: whole pipeline on real + N generated applicants, then a summary
	$(PY) -m jobs.demo --generated $(N)

reconcile: up ## prove every applicant is exactly once in HBase or the dead-letter topic
	$(PY) -m jobs.reconcile

bench: up ## drain rate (batched vs naive design), CPU per applicant, latency at 250-2000/s; N= backlog (100000)
	$(PY) benchmarks/bench_throughput.py --backlog $(if $(filter command line,$(origin N)),$(N),100000) $(BENCH_ARGS)

lock: ## refresh constraints.txt from the current virtual environment
	$(PY) -m pip freeze --exclude-editable > constraints.txt

chaos: ## fault drills on the live stack (two supervisors): one table row per scenario; SCENARIOS=a,b for a subset
	SUPERVISORS=2 $(STACK) up
	$(PY) -m jobs.chaos --rate $(CHAOS_RATE) $(if $(SCENARIOS),--scenarios $(SCENARIOS),)

ui-test: up ## the Storm UI's tests: unit, REST on the running loan-risk, headless Chromium pages (kills loan-risk at the end)
	$(PY) -m pytest -q tests/unit/test_storm_cli.py tests/browser tests/integration/test_storm_ui.py

rescore: venv ## re-score stored applicants with a candidate (MODEL=<dir> POLICY=<file> [SINCE=] [UNTIL=]); report in var/rescore
	$(PY) -m jobs.rescore --model $(MODEL) --policy $(POLICY) $(if $(SINCE),--since $(SINCE)) $(if $(UNTIL),--until $(UNTIL))

drift: venv ## PSI of the latest WINDOW stored applicants (or FILE=<jsonl>) vs the training data; report in var/drift
	$(PY) -m jobs.drift --model $(MODEL) --window $(WINDOW) $(if $(SINCE),--since $(SINCE)) $(if $(FILE),--file $(FILE))

retrain: venv ## train a candidate (shared loans + stored history since SINCE), rescore vs the champion, promote if better
	$(PY) -m jobs.retrain $(if $(SINCE),--since $(SINCE))

promote: venv ## promote CHALLENGER=<dir> to champion: replace models/, hand the running Risk API over with no downtime
	@[ -n "$(CHALLENGER)" ] || { echo "usage: make promote CHALLENGER=<model dir>"; exit 2; }
	$(PY) -m jobs.promote $(CHALLENGER)
