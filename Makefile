# Two commands on a fresh machine with python3 and make:
#   make demo   trains and evaluates both jobs on data shipped inside the package
#   make test   runs the test suite
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.rnnkit-installed

.PHONY: demo check-reports test test-slow test-all lint bench install clean

$(STAMP): pyproject.toml requirements.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.lock
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/rnnkit demo

# The demo's reports opened in headless Chromium (Debian's chromium package): fails on a
# broken image or a console error, and writes a screenshot of each.
check-reports: $(STAMP)
	$(BIN)/rnnkit demo --out runs/demo
	$(BIN)/python scripts/check_reports.py runs/demo --screenshots runs/demo/screenshots

# `make test` skips the tests marked slow (real multi-process trainings, kills and
# resumes, the demo: about five minutes together) or serial (a latency measured on a real
# server, which a busy neighbour would stall) and spreads the rest over every core
# (pytest-xdist); `make test-slow` runs only those, one at a time, and CI (.ci/run) runs
# both. `make test-all` is both in one pytest run.
test: $(STAMP)
	$(BIN)/python -m pytest -q -m "not slow and not serial" -n auto

test-slow: $(STAMP)
	$(BIN)/python -m pytest -q -m "slow or serial"

test-all: $(STAMP)
	$(BIN)/python -m pytest -q

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks scripts
	$(BIN)/ruff format --check src tests benchmarks scripts
	$(BIN)/lint-imports

clean:
	rm -rf $(VENV) build src/*.egg-info
