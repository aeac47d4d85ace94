# Outreach: `make dev` runs the local stack, `make test` runs every check CI runs.
SHELL := /bin/bash
.DEFAULT_GOAL := help

# Python 3.12, the Lambda runtime: a real interpreter, not a pyenv shim.
PYTHON312 ?= $(shell ls -d /root/.pyenv/versions/3.12.*/bin/python3.12 2>/dev/null | sort -V | tail -n 1 || true)
ifeq ($(strip $(PYTHON312)),)
PYTHON312 := $(shell command -v python3.12 2>/dev/null)
endif

VENV := .venv
PY := $(VENV)/bin/python
SAM_VENV := .tools/sam
SAM := $(SAM_VENV)/bin/sam
SAM_CLI_VERSION := 1.170.0
AWS_REGION ?= us-east-1
LOCAL_PATH := PYTHONPATH=layers/outreach/python:infra/local
export SAM_CLI_TELEMETRY := 0

.PHONY: help venv dev test checks lint typecheck deadcode unit template-check deploy-check bench openapi area-codes clean

help:
	@echo "make dev           run the local stack (PORT=8000 TICK_SECONDS=60 DYNAMODB_ENDPOINT=)"
	@echo "make test          ruff, mypy, cfn-lint, vulture, pytest with coverage"
	@echo "make deploy-check  sam validate --lint, sam build, and a Lambda-like load of each function"
	@echo "make bench         run the benchmarks in bench/"
	@echo "make openapi       write the deployed API's OpenAPI document to infra/openapi.json"
	@echo "parts of make test: make lint | typecheck | template-check | deadcode | unit"
	@echo "  (deadcode is vulture; names only a framework reads go in vulture_allowlist.py)"

# `make dev` and `make test` started together share one .venv: the first builds it
# under a lock while the other waits, then finds it built.
VENV_LOCK := .venv.lock

$(VENV)/.installed: pyproject.toml
	@test -n "$(PYTHON312)" || { echo "Python 3.12 not found (set PYTHON312=/path/to/python3.12)"; exit 1; }
	@flock $(VENV_LOCK) $(SHELL) -ec '\
	  if [ -f $@ ] && [ $@ -nt pyproject.toml ]; then exit 0; fi; \
	  test -x $(PY) || $(PYTHON312) -m venv $(VENV); \
	  echo "installing .venv from pyproject.toml"; \
	  $(PY) -m pip install --quiet --upgrade pip; \
	  $(PY) -m pip install --quiet -e ".[dev]"; \
	  touch $@'

venv: $(VENV)/.installed

dev: venv
	$(LOCAL_PATH) $(PY) -m outreach_local

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: venv
	$(VENV)/bin/mypy layers/outreach/python/outreach infra/local/outreach_local functions tests bench \
	  infra/lambda_load.py infra/lambda_child.py infra/tools

template-check: venv
	$(VENV)/bin/cfn-lint template.yaml

# Unused functions, classes, methods and attributes (paths, confidence and the framework's
# own entry points in pyproject.toml's [tool.vulture]; the rest in vulture_allowlist.py).
deadcode: venv
	$(VENV)/bin/vulture

# worksteal: a worker that runs out of tests takes queued ones from the other, so the
# tests queued behind a slow one (scheduled first, see tests/conftest.py) never wait.
unit: venv
	$(VENV)/bin/pytest -n 2 --dist worksteal --cov --cov-report=term --cov-fail-under=90

checks: lint typecheck template-check deadcode

test: checks unit

$(SAM_VENV)/.installed:
	@test -n "$(PYTHON312)" || { echo "Python 3.12 not found"; exit 1; }
	@test -x $(SAM_VENV)/bin/python || $(PYTHON312) -m venv $(SAM_VENV)
	$(SAM_VENV)/bin/pip install --quiet --upgrade pip
	$(SAM_VENV)/bin/pip install --quiet aws-sam-cli==$(SAM_CLI_VERSION)
	@touch $@

# sam build runs pip with the first python3.12 on PATH: put the real one first (the
# layers' Makefiles use it too, to compile their bytecode). Then each built function is
# imported as Lambda would, with only its layers, and answers its sample events.
deploy-check: venv $(SAM_VENV)/.installed
	PATH="$(dir $(PYTHON312)):$$PATH" $(SAM) validate --lint --region $(AWS_REGION)
	PATH="$(dir $(PYTHON312)):$$PATH" $(SAM) build --region $(AWS_REGION)
	$(PY) infra/lambda_load.py

# bench/cold_start.py loads the built functions and layers: deploy-check builds them first.
bench: deploy-check
	@for script in bench/[!_]*.py; do echo "== $$script"; $(LOCAL_PATH) $(PY) $$script || exit 1; done

# The deployed API's OpenAPI document, generated from the routes (committed: a test
# fails when it is stale; GET /v1/openapi.json serves the same document).
openapi: venv
	$(LOCAL_PATH) $(PY) -m outreach.api.openapi infra/openapi.json

# The area code -> US state table the state rules read, distilled from libphonenumber's
# geocoder (tests/unit/test_state_rules.py fails when it is stale).
area-codes: venv
	$(LOCAL_PATH) $(PY) infra/tools/area_code_states.py > layers/outreach/python/outreach/area_code_states.py.new
	mv layers/outreach/python/outreach/area_code_states.py.new layers/outreach/python/outreach/area_code_states.py
	$(VENV)/bin/ruff format layers/outreach/python/outreach/area_code_states.py

clean:
	rm -rf .venv.lock .aws-sam .pytest_cache .mypy_cache .ruff_cache .coverage .coverage.* htmlcov
