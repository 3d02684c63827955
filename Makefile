# gonghui — the two commands: `make run` and `make test`.
# Everything else (virtualenv, Kafka's jars, the FerretDB build) is set up on
# first use and cached: the virtualenv in .venv/, downloads and builds in
# $(GONGHUI_CACHE_DIR) (default ~/.cache/gonghui), never in the repository.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)
PYTEST := $(BIN)/python -m pytest

.PHONY: run test lint test-unit test-contract test-integration test-e2e test-docker infra venv compose-config bench clean

venv: $(STAMP)

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11+ is needed"'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@rm -f $(VENV)/.installed-*
	@touch $@

# Kafka's jars (Maven) and FerretDB (Go): fetched and built once into the cache.
infra: $(STAMP)
	$(BIN)/gonghui infra

run: infra
	$(BIN)/gonghui run

test: lint infra
	$(PYTEST) tests/unit tests/contract tests/integration tests/e2e tests/lifecycle tests/docker

# ruff with a small rule set (pyproject.toml): mistakes, not taste
lint: $(STAMP)
	$(BIN)/ruff check services shared tests bench

test-unit: $(STAMP)
	$(PYTEST) tests/unit

test-contract: $(STAMP)
	$(PYTEST) tests/contract

test-integration: infra
	$(PYTEST) tests/integration

test-e2e: infra
	$(PYTEST) tests/e2e tests/lifecycle

test-docker: $(STAMP)
	$(PYTEST) tests/docker

# The benchmark suite (about 20–25 minutes on 2 cores): every performance goal beside its
# baseline from the same run, printed as one table (also bench/last-run.md).
bench: infra
	$(BIN)/python -m bench

compose-config:
	@if docker compose version >/dev/null 2>&1; then docker compose config --quiet; \
	 else docker-compose config --quiet; fi && echo "docker-compose.yml is valid"

clean:
	rm -rf $(VENV) .data .pytest_cache
