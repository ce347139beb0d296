# Set-up and everyday commands. `make run` runs the main job, `make test` the whole test suite.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: venv run test test-quick lint typecheck bench clean

venv: $(STAMP)

$(STAMP): pyproject.toml requirements-torch.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements-torch.txt
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/labeler generate svrt --problem 4 --n-train 2000 --n-test 400 --seed 0 \
		--out datasets/svrt-04-demo --force
	$(BIN)/labeler preview datasets/svrt-04-demo
	$(BIN)/labeler audit datasets/svrt-04-demo

lint: $(STAMP)
	$(BIN)/ruff check labeler generators server tests bench
	$(BIN)/ruff format --check labeler generators server tests bench

typecheck: $(STAMP)
	$(BIN)/mypy

test: lint typecheck
	$(BIN)/pytest -q

test-quick: lint typecheck
	$(BIN)/pytest -q -m "not slow"

bench: $(STAMP)
	$(BIN)/python bench/generate.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
