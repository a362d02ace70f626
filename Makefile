# The verbs people type; `make` alone lists them. A target's `## ` comment on its own line is
# its line in that list. Every verb that runs Python builds .venv first and installs only the
# requirement set it needs, so a fresh clone needs nothing but python3.12.
SHELL := /bin/bash
# A pipe fails when pip does, not only when the filter after it does.
.SHELLFLAGS := -o pipefail -c
.DEFAULT_GOAL := help
VENV := .venv
PY := $(VENV)/bin/python

# python3.12 is the Lambda runtime. A pyenv shim answers "command not found" when 3.12 is
# installed but not selected, so fall back to the interpreter inside pyenv's versions folder.
PYTHON312 ?= $(shell for p in python3.12 $${PYENV_ROOT:-$$HOME/.pyenv}/versions/3.12*/bin/python3.12 /usr/bin/python3.12 /usr/local/bin/python3.12; do \
	  "$$p" -c 'import sys; assert sys.version_info[:2] == (3, 12)' >/dev/null 2>&1 && { echo "$$p"; break; }; done)

API_PORT ?= 8000
WS_PORT ?= 8001
PYTEST_ARGS ?=

# One requirement set per verb, each file including the one before it: run (the local stack
# and deploy) < test < bench, and test < lint. A set's stamp is named by a checksum of every
# file it reads, so a re-run is instant and editing one of them reinstalls that set.
RUN_REQUIREMENTS := requirements.txt layers/media/requirements.txt requirements-run.txt
TEST_REQUIREMENTS := $(RUN_REQUIREMENTS) requirements-test.txt
BENCH_REQUIREMENTS := $(TEST_REQUIREMENTS) requirements-bench.txt
LINT_REQUIREMENTS := $(TEST_REQUIREMENTS) requirements-lint.txt
stamp = $(VENV)/.installed-$(1)-$(shell cat $(2) | cksum | cut -d' ' -f1)
RUN_STAMP := $(call stamp,run,$(RUN_REQUIREMENTS))
TEST_STAMP := $(call stamp,test,$(TEST_REQUIREMENTS))
BENCH_STAMP := $(call stamp,bench,$(BENCH_REQUIREMENTS))
LINT_STAMP := $(call stamp,lint,$(LINT_REQUIREMENTS))

# pip without --quiet, but one line per package it fetches instead of its every line: progress
# on a terminal and in CI's log alike. pip's whole output is kept in .venv/pip-<set>.log; its
# errors and warnings show, but not the warning that a configured index lacks a package.
# $(call install,<set>,<what it is for>,<how long the first time>)
define install
	@echo "installing $(2) from requirements-$(1).txt ($(3) the first time)"
	@set -f; $(PY) -u -m pip install --disable-pip-version-check --progress-bar off \
	    -r requirements-$(1).txt 2>&1 | tee $(VENV)/pip-$(1).log \
	  | while IFS= read -r line; do set -- $$line; case $$line in \
	      "Collecting "*) echo "  $$2" ;; \
	      "Processing "*) wheel=$${2##*/}; rest=$${wheel#*-}; echo "  $${wheel%%-*}==$${rest%%-*}" ;; \
	      "WARNING: Location "*" is ignored"*) ;; \
	      ERROR* | WARNING*) echo "$$line" ;; \
	      "Installing collected packages"*) echo "  installing $$(($$# - 3)) packages" ;; \
	    esac; done \
	  || { echo "pip failed: its whole output is in $(VENV)/pip-$(1).log" >&2; exit 1; }
	@rm -f $(VENV)/.installed-$(1)-* && touch $@
endef

.PHONY: help run test unit integration e2e openapi fuzz lint format bench layer deploy destroy reconcile venv clean

help: ## list the verbs (the default target)
	@awk -F ':.*## ' '/^[A-Za-z][A-Za-z0-9_-]*:.*## / { printf "  %-12s %s\n", $$1, $$2 }' \
	  $(firstword $(MAKEFILE_LIST))

$(PY):
	@test -n "$(PYTHON312)" || { echo "python3.12 not found: install it (the Lambda runtime) and retry" >&2; exit 1; }
	@echo "creating $(VENV) from $(PYTHON312)"
	@$(PYTHON312) -m venv $(VENV)

$(RUN_STAMP): | $(PY)
	$(call install,run,what \`make run\` needs,2 to 3 minutes)

$(TEST_STAMP): $(RUN_STAMP)
	$(call install,test,the test tools,under a minute)

$(BENCH_STAMP): $(TEST_STAMP)
	$(call install,bench,the benchmark tools,about 10 seconds)

$(LINT_STAMP): $(TEST_STAMP)
	$(call install,lint,ruff and mypy,under a minute)

run: $(RUN_STAMP) ## the local stack: API :8000, WebSocket :8001, AWS :4566 (API_PORT= ...)
	API_PORT=$(API_PORT) WS_PORT=$(WS_PORT) exec $(PY) -m local

# One worker per core (pytest-xdist); each worker has its own embedded AWS and stacks on free
# ports, and a file's tests stay on one worker, so its module fixtures are built once.
# TEST_WORKERS=0 runs in this process (a debugger, -x).
TEST_WORKERS ?= auto
test: $(TEST_STAMP) ## every test ring: unit, integration, e2e, deploy (PYTEST_ARGS=..., TEST_WORKERS=)
	$(PY) -m pytest -n $(TEST_WORKERS) --dist loadfile $(PYTEST_ARGS)

unit: $(TEST_STAMP) ## the unit ring: pure logic and fakes, no sockets
	$(PY) -m pytest tests/unit $(PYTEST_ARGS)

integration: $(TEST_STAMP) ## the integration ring: the app on moto, through chalice's test client
	$(PY) -m pytest tests/integration $(PYTEST_ARGS)

e2e: $(TEST_STAMP) ## the end-to-end ring: the local stack over HTTP and WebSocket
	$(PY) -m pytest tests/e2e $(PYTEST_ARGS)

# The committed API documents, regenerated from the code (a test fails while they are stale).
openapi: $(RUN_STAMP) ## write docs/openapi.json and docs/asyncapi.json from the code
	$(PY) -m infrastructure.api_documents

# schemathesis against a local stack of its own, longer than make test's seeded pass: a new
# seed each run, the stateful phase too (FUZZ_MAX_EXAMPLES=, FUZZ_SEED= to replay one).
fuzz: $(TEST_STAMP) ## fuzz every operation with schemathesis, longer than make test does
	FUZZ_MAX_EXAMPLES=$${FUZZ_MAX_EXAMPLES:-100} FUZZ_SEED=$${FUZZ_SEED:-random} \
	  FUZZ_PHASES=$${FUZZ_PHASES:-examples,coverage,fuzzing,stateful} \
	  $(PY) -m pytest tests/e2e/test_fuzz_e2e.py -rP $(PYTEST_ARGS)

lint: $(LINT_STAMP) ## ruff check, ruff format --check and mypy
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

format: $(LINT_STAMP) ## ruff format, then ruff check --fix
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

# Exits non-zero when a goal is missed. The benchmarks: media, feed, dms, and imports (each
# function's import time at init and the size it carries).
bench: $(BENCH_STAMP) ## the benchmarks against their goals (BENCH=media|feed|dms|imports for one)
	$(PY) -m tests.benchmarks $(BENCH)

# Needs only pip: the layer's packages come as manylinux wheels for the Lambda runtime.
layer: | $(PY) ## a Lambda layer's zip from layers/NAME/ (NAME=media|crypto|search)
	@test -n "$(NAME)" || { echo "usage: make layer NAME=<layer>, one of: $$(ls layers/*/requirements.txt | cut -d/ -f2)" >&2; exit 2; }
	$(PY) -m layers.build $(NAME)

# docs/deploy.md. Uses the account your credentials name (AWS_PROFILE, AWS_REGION).
deploy: $(RUN_STAMP) ## deploy a stage to AWS (STAGE=name [OPENSEARCH=1])
	@test -n "$(STAGE)" || { echo "usage: make deploy STAGE=<name> [OPENSEARCH=1]" >&2; exit 2; }
	$(PY) -m infrastructure.deploy deploy --stage $(STAGE) $(if $(OPENSEARCH),--opensearch)

destroy: $(RUN_STAMP) ## delete a stage and all its data (STAGE=name; asks first unless YES=1)
	@test -n "$(STAGE)" || { echo "usage: make destroy STAGE=<name> [YES=1]" >&2; exit 2; }
	$(PY) -m infrastructure.deploy destroy --stage $(STAGE) $(if $(YES),--yes)

# docs/deploy.md (and how to point it at the local stack). Reads the stage with your
# credentials; deletes only with DELETE=1.
reconcile: $(RUN_STAMP) ## media objects no media owns (STAGE=name; DELETE=1 deletes them)
	@test -n "$(STAGE)" || { echo "usage: make reconcile STAGE=<name> [DELETE=1]" >&2; exit 2; }
	$(PY) -m infrastructure.reconcile --stage $(STAGE) $(if $(DELETE),--delete)

venv: $(BENCH_STAMP) $(LINT_STAMP) ## .venv with every set (run, test, bench, lint), for an editor

clean: ## remove .venv and the tools' caches
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache
