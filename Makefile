# Two commands for users: `make demo` and `make test`. Both bootstrap .venv from requirements.lock.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
NODE_STAMP := node_modules/.installed
export SPARK_LOCAL_IP ?= 127.0.0.1
export PYSPARK_PYTHON := $(abspath $(PY))

.PHONY: setup demo test test-unit test-integration e2e acceptance lint typecheck pr sandbox clean bench deploy destroy status security

$(STAMP): requirements.lock pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "error: $(PYTHON) not found; install Python 3.11 (or run make PYTHON=/path/to/python3.11)"; exit 1; }
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@echo "setup: installing the pinned dependencies into $(VENV) (first run only)"
	@$(PY) -m pip install -q --disable-pip-version-check -r requirements.lock 2>&1 | grep -v "^WARNING: Location" || true
	@$(PY) -m pip install -q --disable-pip-version-check --no-deps --no-build-isolation -e . 2>&1 | grep -v "^WARNING: Location" || true
	@$(PY) -c "import pyspark, moto, duckdb, great_expectations, local" || { echo "error: dependency install failed"; exit 1; }
	@touch $@

# The Data Docs pages' stylesheets and scripts, from their npm packages (local/data_docs.py); without npm the pages
# open unstyled, and still fetch nothing.
$(NODE_STAMP): package-lock.json
	@if ! command -v npm >/dev/null; then echo "setup: npm not found: the Data Docs pages will open unstyled (nothing is fetched from a CDN)"; \
	elif npm ci --ignore-scripts --no-audit --no-fund --legacy-peer-deps --loglevel=error; then touch $@; \
	else echo "setup: npm ci failed: the Data Docs pages will open unstyled (nothing is fetched from a CDN)"; fi

setup: $(STAMP) $(NODE_STAMP)
	@$(PY) -m local.prerequisites java
	@$(PY) -m local.prerequisites jars

demo: setup
	@$(VENV)/bin/spapi-lake demo

test: setup
	@$(PY) -m pytest tests/unit tests/integration tests/e2e -q --durations=30

test-unit: setup
	@$(PY) -m pytest tests/unit -q

test-integration: setup
	@$(PY) -m pytest tests/integration -q

e2e: setup
	@$(PY) -m pytest tests/e2e -q

acceptance: setup  # the multi-day acceptance run: 7 simulated days clean and 7 with faults, at once (about 30 min)
	@SIMULATION_DAYS=$(or $(DAYS),7) $(PY) -m pytest tests/e2e/test_simulation.py -q

lint: setup
	@$(VENV)/bin/ruff check .
	@$(VENV)/bin/ruff format --check .
	@$(VENV)/bin/cfn-lint cloudformation/*.yaml
	@git ls-files -z -- . ':!contracts' | xargs -0 $(VENV)/bin/detect-secrets-hook --baseline .secrets.baseline  # contracts/: Amazon's models

typecheck: setup
	@$(VENV)/bin/mypy ingestion_lambdas lake_formation glue_jobs sandbox local

pr: lint typecheck test

sandbox: setup
	@$(VENV)/bin/spapi-lake sandbox serve --port $${PORT:-8900}

bench: setup
	@for b in $(wildcard bench/*.py); do $(PY) $$b || exit 1; done

deploy: setup  # make deploy ARTIFACTS_BUCKET=my-bucket [PREFIX=spapi-lake] [ACCOUNTS=accounts.json] [WAREHOUSE=1] [BI=arn:aws:quicksight:...]
	@$(VENV)/bin/spapi-lake deploy --artifacts-bucket $(ARTIFACTS_BUCKET) --prefix $(or $(PREFIX),spapi-lake) \
		$(if $(ACCOUNTS),--accounts $(ACCOUNTS)) $(if $(WAREHOUSE),--warehouse) $(if $(BI),--bi $(BI))

destroy: setup  # make destroy [PREFIX=spapi-lake] [ARTIFACTS_BUCKET=my-bucket]: asks before deleting
	@$(VENV)/bin/spapi-lake destroy --prefix $(or $(PREFIX),spapi-lake) $(if $(ARTIFACTS_BUCKET),--artifacts-bucket $(ARTIFACTS_BUCKET))

status: setup  # make status [PREFIX=spapi-lake]
	@$(VENV)/bin/spapi-lake status --prefix $(or $(PREFIX),spapi-lake)

# checkov over every template, in a virtual environment of its own (its pins clash with requirements.lock's). A check
# that does not apply is skipped in the template itself (Metadata: checkov: skip:, with the reason); any other failure
# fails the target.
SECURITY_VENV := .venv-security
SECURITY_STAMP := $(SECURITY_VENV)/.installed

$(SECURITY_STAMP): requirements-security.lock
	@command -v $(PYTHON) >/dev/null || { echo "error: $(PYTHON) not found; install Python 3.11 (or run make PYTHON=/path/to/python3.11)"; exit 1; }
	@test -x $(SECURITY_VENV)/bin/python || $(PYTHON) -m venv $(SECURITY_VENV)
	@echo "security: installing checkov into $(SECURITY_VENV) (first run only)"
	@$(SECURITY_VENV)/bin/python -m pip install -q --disable-pip-version-check -r requirements-security.lock 2>&1 | grep -v "^WARNING: Location" || true
	@$(SECURITY_VENV)/bin/checkov --version >/dev/null || { echo "error: checkov install failed"; exit 1; }
	@touch $@

security: $(SECURITY_STAMP)
	@$(SECURITY_VENV)/bin/checkov --directory cloudformation --framework cloudformation --compact --quiet --skip-download

clean:
	rm -rf out spark-warehouse metastore_db derby.log .pytest_cache .mypy_cache .ruff_cache $(SECURITY_VENV)
