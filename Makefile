# The two commands of the README's quick start are `make run` and `make test`.
# Everything else here is what they stand on: a pinned, hash-checked virtual environment.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV ?= .venv
PYTHON ?= python3
BIN := $(VENV)/bin
# pgAdmin 4 (`thelook pgadmin`) pins its own dependencies exactly: it gets a virtual environment of its own.
PGADMIN_VENV := .venv-pgadmin
UV := $(BIN)/uv
USERS ?= 100000
SEED ?= 42
# The bundled LLM that `thelook ask`, `eval`, `app` and `llm serve` start when no other is configured:
# 1.5b (default) or 0.5b, e.g. `make test LLM=0.5b`.
LLM ?=

export KEDRO_DISABLE_TELEMETRY := true
export DO_NOT_TRACK := 1
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export TOKENIZERS_PARALLELISM := false
ifneq ($(LLM),)
export THELOOK_LLM_BUNDLED := $(LLM)
endif

.PHONY: help setup run app test browser pgadmin lint format lock clean

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-8s %s\n", $$1, $$2}'

$(BIN)/python:
	$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11+ is needed"'
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: $(BIN)/python requirements.lock pyproject.toml
	$(BIN)/python -m pip install --quiet --disable-pip-version-check uv==0.13.8
	# The lock holds every package but torch, with hashes and without index URLs.
	$(UV) pip install --python $(BIN)/python --no-deps --require-hashes -r requirements.lock
	# torch goes through pip so that a CPU wheel already on this machine is preferred.
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps torch==2.13.0
	$(UV) pip install --python $(BIN)/python --no-deps -e .
	touch $@

setup: $(VENV)/.installed  ## create .venv with the pinned packages

$(PGADMIN_VENV)/.installed: requirements-pgadmin.lock | $(VENV)/.installed
	$(PYTHON) -m venv --without-pip $(PGADMIN_VENV)
	$(UV) pip sync --python $(PGADMIN_VENV)/bin/python --require-hashes requirements-pgadmin.lock
	touch $@

pgadmin: $(PGADMIN_VENV)/.installed  ## pgAdmin 4 in its own .venv-pgadmin, for `thelook pgadmin`

run: setup  ## start the embedded database, generate data if there is none, run the Kedro job
	$(BIN)/thelook db start
	@if [ ! -f data/01_raw/orders.parquet ]; then $(BIN)/thelook generate --users $(USERS) --seed $(SEED); fi
	$(BIN)/thelook run

app: setup  ## serve the chat and the dashboard on http://127.0.0.1:8501 (after `make run`)
	$(BIN)/thelook db start
	$(BIN)/thelook app

test: setup browser pgadmin spark  ## lint, format check and the whole test suite
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python -m pytest

browser:  ## Debian's headless Chromium for the end-to-end app tests (installed when root and missing)
	@if command -v chromium >/dev/null; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	else echo "chromium is not installed: the browser tests will say so and skip"; fi

spark:  ## Java and the PostgreSQL JDBC driver for `thelook run --engine spark` (installed when root and missing)
	@if command -v java >/dev/null && [ -f /usr/share/java/postgresql.jar ]; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
			$$(command -v java >/dev/null || echo default-jre-headless) libpostgresql-jdbc-java >/dev/null; \
	else echo "Java or the PostgreSQL JDBC driver is missing: the Spark tests will say so and skip"; fi

lint:  ## ruff check
	$(BIN)/ruff check .

format:  ## ruff format
	$(BIN)/ruff format .

lock:  ## re-pin requirements.lock from pyproject.toml (needs the registry)
	$(UV) pip compile pyproject.toml --extra dev --extra llm --extra spark --python-version 3.11 \
		$(if $(PIP_FIND_LINKS),--find-links $(PIP_FIND_LINKS)) \
		--override <(echo "torch==2.13.0$(if $(PIP_FIND_LINKS),+cpu)") --generate-hashes --no-emit-package torch \
		--no-header -o requirements.lock
	# The Docker image needs neither the test tools (nor torch, which only they use) nor the embedded LLM (it
	# talks to the ollama service); it needs setuptools, the build backend, to install the project.
	$(UV) pip compile pyproject.toml <(echo "setuptools==84.2.1") --python-version 3.11 --generate-hashes \
		--no-header -o requirements-runtime.lock
	sed -i 's|    # via -r /dev/fd/.*|    # via the build backend (Dockerfile.app installs the project with --no-build-isolation)|' \
		requirements-runtime.lock
	# pgAdmin 4, apart: its exact pins clash with the project's.
	$(UV) pip compile requirements-pgadmin.in --python-version 3.11 \
		$(if $(PIP_FIND_LINKS),--find-links $(PIP_FIND_LINKS)) --generate-hashes \
		--no-header -o requirements-pgadmin.lock
	@! grep -n '://' requirements.lock requirements-runtime.lock requirements-pgadmin.lock \
		|| (echo "a lock file names a URL" >&2; exit 1)

clean:  ## remove the virtual environments
	rm -rf $(VENV) $(PGADMIN_VENV)
