# Set-up and everyday commands. `make run` runs the main job, `make test` the whole test suite.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: venv run simulate test test-quick lint typecheck browser labelstudio bench clean

venv: $(STAMP)

$(STAMP): pyproject.toml requirements-torch.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements-torch.txt
	$(BIN)/pip install --quiet -e '.[dev,ray,labelstudio,bench,pretrained]'
	touch $(STAMP)

# The main job: generate a dataset, start a project on it, run rounds of guided labeling with the
# dataset's true labels standing in for annotators (`labeler oracle`), show the project, then
# serve it with a fresh queue: open the printed login link and label in the browser.
DEMO_DATA := datasets/orientation-demo
DEMO_PROJECT := projects/orientation-demo
PORT ?= 8000
run: $(STAMP)
	$(BIN)/labeler generate orientation --problem hv --n-train 3000 --n-test 1000 --seed 0 \
		--out $(DEMO_DATA) --force
	$(BIN)/labeler preview $(DEMO_DATA)
	rm -rf $(DEMO_PROJECT)
	$(BIN)/labeler init $(DEMO_PROJECT) --images $(DEMO_DATA)
	$(BIN)/labeler round $(DEMO_PROJECT) --initial 40
	for round in 1 2 3 4 5; do \
		$(BIN)/labeler oracle $(DEMO_PROJECT) && \
		$(BIN)/labeler round $(DEMO_PROJECT) --query-size 40 || exit 1; \
	done
	$(BIN)/labeler status $(DEMO_PROJECT)
	$(BIN)/labeler annotators add $(DEMO_PROJECT) demo --admin --url http://127.0.0.1:$(PORT)
	$(BIN)/labeler serve $(DEMO_PROJECT) --port $(PORT)

# How many labels margin sampling saves against random order on the demo data (a few minutes).
simulate: $(STAMP)
	$(BIN)/labeler generate orientation --problem hv --n-train 3000 --n-test 1000 --seed 0 \
		--out $(DEMO_DATA) --force
	$(BIN)/labeler simulate $(DEMO_DATA) --strategies margin,random --seeds 1 --initial 10 \
		--query-size 10 --budget 200 --out $(DEMO_PROJECT)-simulation

# Debian's Chromium for the browser tests (Playwright drives it; its own download is not used).
browser:
	@test -x /usr/bin/chromium || { apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

# Label Studio 1.23.2 in its own venv, cached under ~/.cache/guided-labeler (its pins clash with
# ours), for the bridge's integration tests; scripts/labelstudio.sh also starts and stops it.
labelstudio:
	scripts/labelstudio.sh install

lint: $(STAMP)
	$(BIN)/ruff check labeler generators server tests bench
	$(BIN)/ruff format --check labeler generators server tests bench

typecheck: $(STAMP)
	$(BIN)/mypy

test: lint typecheck browser labelstudio
	$(BIN)/pytest -q

test-quick: lint typecheck
	$(BIN)/pytest -q -m "not slow"

bench: $(STAMP)
	$(BIN)/python bench/generate.py
	$(BIN)/python bench/selection.py
	$(BIN)/python bench/training.py
	$(BIN)/python bench/scoring.py
	$(BIN)/python bench/savings.py
	$(BIN)/python bench/server_load.py --servers waitress,gunicorn
	$(BIN)/python bench/page_speed.py
	$(BIN)/python bench/ray_engine.py
	$(BIN)/python bench/bundle_entropy.py
	$(BIN)/python bench/pruning.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
