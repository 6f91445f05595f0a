# Guichet — the two commands that matter: `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STACK_DIR := .local/stack
STAMP := $(VENV)/.installed

.DEFAULT_GOAL := help
.PHONY: help install browser proxy run stop stack-up stack-down stack-status migrate token lint test test-unit test-faults docs bench clean

help: ## List the targets
	@grep -E '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*?## "}; {printf "  %-18s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "Python 3.11 is required ($(PYTHON) not found)"; exit 1; }
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[local,test]'
	touch $(STAMP)

install: $(STAMP) ## Create .venv and install Guichet with its local servers and test tools

CHROMIUM := /usr/bin/chromium
browser: ## Debian's Chromium for the page tests (tests/pages), when it is missing (apt-get; sudo when not root)
	@test -x $(CHROMIUM) || { SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); \
	  $$SUDO apt-get install -y chromium || { $$SUDO apt-get update && $$SUDO apt-get install -y chromium; }; }

NGINX := /usr/sbin/nginx
proxy: ## Debian's nginx, the buffering proxy `make run` serves through (docs/deploy.md), when it is missing
	@test -x $(NGINX) || { SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); \
	  $$SUDO apt-get install -y nginx-light || { $$SUDO apt-get update && $$SUDO apt-get install -y nginx-light; }; }

run: install proxy ## Start Kafka, PostgreSQL, Redis, the four services and the portal locally (Ctrl-C stops what it started; servers `make stack-up` started keep running)
	$(PY) -m deploy.local.run

stop: ## Stop everything `make run` started
	-$(PY) -m deploy.local.run --stop
	$(PY) -m deploy.local.stack down --dir $(STACK_DIR)

stack-up: install ## Start only Kafka, PostgreSQL and Redis
	$(PY) -m deploy.local.stack up --dir $(STACK_DIR)

stack-down: ## Stop Kafka, PostgreSQL and Redis
	$(PY) -m deploy.local.stack down --dir $(STACK_DIR)

stack-status: ## Show the local servers
	$(PY) -m deploy.local.stack status --dir $(STACK_DIR)

migrate: install ## Upgrade every service's schema (uses DATABASE_URL or the local stack)
	set -a; [ -f $(STACK_DIR)/stack.env ] && . $(STACK_DIR)/stack.env; set +a; \
	$(PY) -m deploy.local.migrate

ACCOUNT ?= parent-demo
token: install ## Print an access token from the provider `make run` started: make token ACCOUNT=manager-demo
	@$(PY) -m shared.devtokens --account $(ACCOUNT)

lint: install ## The layer contracts (import-linter, pyproject.toml) and ruff (lint and import order)
	$(VENV)/bin/lint-imports
	$(VENV)/bin/ruff check .

test: install browser proxy lint ## Lint, then run every test against real Kafka, PostgreSQL and Redis (started for the run unless named by env)
	$(PY) -m pytest

test-unit: install ## Only the fast tests that need no server
	$(PY) -m pytest tests/unit

test-faults: install ## Break Kafka, PostgreSQL, Redis and the workers during surges (also part of `make test`)
	$(PY) -m pytest tests/faults

BENCH_ARGS ?=
# vegeta, the open-loop load tool of bench.opening and bench.shedding, built from its module at a pinned version
# (Go from Debian's golang-go when the machine has none).
VEGETA := $(CURDIR)/.local/bin/vegeta
$(VEGETA):
	@command -v go >/dev/null || { SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); \
	  $$SUDO apt-get install -y golang-go || { $$SUDO apt-get update && $$SUDO apt-get install -y golang-go; }; }
	GOBIN=$(CURDIR)/.local/bin go install github.com/tsenart/vegeta/v12@v12.13.0

bench: install $(VEGETA) ## Benchmarks (figures, never pass/fail): intake vs hello-world, public listing, intake open loop at half of its capacity, allocation core, the opening through the waiting room; writes docs/PERFORMANCE.md
	$(PY) -m bench.run $(BENCH_ARGS)
	$(PY) -m bench.shedding --half-of .local/bench/results.json --write --vegeta $(VEGETA)  # issue 19: open loop at half of the capacity bench.run just measured
	$(PY) -m bench.allocation_core --write
	$(PY) -m bench.allocation_draw --write
	$(PY) -m bench.opening --write --vegeta $(VEGETA)  # issue 15: 3x capacity through the waiting room, and the poll's cost
	$(PY) -m bench.producer_settings --write  # issue 19: the producer's settings side by side
	$(PY) -m bench.ledger_two_consumers --write  # issue 19: one campaign ledgered by one registrations worker, then two

docs: install ## Regenerate docs/events.md and docs/schemas/ (JSON Schema of the billing feed) from the event contracts
	$(PY) -m shared.contracts.document > docs/events.md
	$(PY) -m shared.contracts.json_schema

clean: stop ## Stop everything and remove local state (databases, Kafka logs, venv)
	rm -rf .local $(VENV)
