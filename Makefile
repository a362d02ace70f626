# The verbs people type. Every target builds .venv first, so a fresh clone needs only python3.12.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cat requirements.txt requirements-dev.txt | sha1sum | cut -c1-12)

# python3.12 is the Lambda runtime. A pyenv shim answers "command not found" when 3.12 is
# installed but not selected, so fall back to the interpreter inside pyenv's versions folder.
PYTHON312 ?= $(shell for p in python3.12 $${PYENV_ROOT:-$$HOME/.pyenv}/versions/3.12*/bin/python3.12 /usr/bin/python3.12 /usr/local/bin/python3.12; do \
	  "$$p" -c 'import sys; assert sys.version_info[:2] == (3, 12)' >/dev/null 2>&1 && { echo "$$p"; break; }; done)

API_PORT ?= 8000
WS_PORT ?= 8001
PYTEST_ARGS ?=

.PHONY: run test unit integration e2e lint format bench layer deploy destroy clean

$(STAMP): requirements.txt requirements-dev.txt
	@test -n "$(PYTHON312)" || { echo "python3.12 not found: install it (the Lambda runtime) and retry" >&2; exit 1; }
	@test -x $(PY) || $(PYTHON312) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	@rm -f $(VENV)/.installed-* && touch $@

venv: $(STAMP)

run: $(STAMP)
	API_PORT=$(API_PORT) WS_PORT=$(WS_PORT) exec $(PY) -m infrastructure.local_stack

test: $(STAMP)
	$(PY) -m pytest $(PYTEST_ARGS)

unit: $(STAMP)
	$(PY) -m pytest tests/unit $(PYTEST_ARGS)

integration: $(STAMP)
	$(PY) -m pytest tests/integration $(PYTEST_ARGS)

e2e: $(STAMP)
	$(PY) -m pytest tests/e2e $(PYTEST_ARGS)

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: $(STAMP)
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

# Benchmarks with their goals; exits non-zero when one is missed. BENCH=media runs only that one
# (media, feed, dms, imports: each function's import time at init and the size it carries).
bench: $(STAMP)
	$(PY) -m tests.benchmarks $(BENCH)

# A Lambda layer from layers/$(NAME)/requirements.txt: make layer NAME=media
layer: $(STAMP)
	@test -n "$(NAME)" || { echo "usage: make layer NAME=<layer>, one of: $$(ls layers/*/requirements.txt | cut -d/ -f2)" >&2; exit 2; }
	$(PY) -m layers.build $(NAME)

# Deploy a stage to the AWS account your credentials name (README, "Deploying to AWS"):
# make deploy STAGE=prod [OPENSEARCH=1] [AWS_PROFILE=...] [AWS_REGION=...]
deploy: $(STAMP)
	@test -n "$(STAGE)" || { echo "usage: make deploy STAGE=<name> [OPENSEARCH=1]" >&2; exit 2; }
	$(PY) -m infrastructure.deploy deploy --stage $(STAGE) $(if $(OPENSEARCH),--opensearch)

# Delete a stage with all its data; asks for the stage name first unless YES=1.
destroy: $(STAMP)
	@test -n "$(STAGE)" || { echo "usage: make destroy STAGE=<name> [YES=1]" >&2; exit 2; }
	$(PY) -m infrastructure.deploy destroy --stage $(STAGE) $(if $(YES),--yes)

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache
