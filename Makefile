# Two commands for a new machine: `make run` and `make test`. Both create .venv when missing.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run compile test lint bench snapshot-update clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Reinstall when the project's metadata changes; the package itself is editable.
$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test,bench]'
	touch $(STAMP)

# Bytecode for our own modules: an editable install compiles none, and where PYTHONDONTWRITEBYTECODE is set Python
# never writes it, so every start compiled them again (~35 ms of a 0.5 s start-up). Quick when nothing changed.
compile: $(STAMP)
	$(BIN)/python -m compileall -q shiftboard tui adapters

run: compile
	$(BIN)/shiftboard $(ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

test: lint
	$(BIN)/python -m pytest $(PYTEST_ARGS)

bench: compile
	$(BIN)/python -m tests.bench.run $(BENCH_ARGS)

snapshot-update: $(STAMP)
	$(BIN)/python -m pytest tests/tui --snapshot-update

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache build *.egg-info
