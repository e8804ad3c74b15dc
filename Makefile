# Commands for a fresh machine; each makes its own virtual environment in .venv:
#   make lab    set everything up and open the lectures in JupyterLab
#   make test   set everything up and run the whole test suite (unit tests + nbval + browser)
#   make unit   the unit tests only: no notebooks, no browser, no re-measured checkpoints
#   make lint   ruff, configured in pyproject.toml
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: install lab test unit lint student execute clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

lab: install
	$(BIN)/jupyter lab lectures/

# two workers, a whole file (or notebook) to each, with half the cores' threads each (one on a
# 2-core machine: two workers of two threads each measured 10 % slower); OpenMP threads that
# wait sleep instead of spinning, so that a notebook's kernel and a test worker share the cores
THREADS := $(shell $(PYTHON) -c "import os; print(max(1, len(os.sched_getaffinity(0)) // 2))")
test: install
	OMP_WAIT_POLICY=PASSIVE OMP_NUM_THREADS=$(THREADS) $(BIN)/python -m pytest -n 2 --dist loadfile

unit: install
	OMP_WAIT_POLICY=PASSIVE OMP_NUM_THREADS=$(THREADS) $(BIN)/python -m pytest -n 2 --dist loadfile \
		-o addopts="" -m "not browser and not slow" --ignore=tests/browser tests

lint: install
	$(BIN)/python -m ruff check gm_helpers tests lectures

# student copies: every solution replaced by `raise NotImplementedError`
student: install
	$(BIN)/python -m gm_helpers.course student lectures --out student

# re-execute the lectures from their .py files and print run time and peak memory
execute: install
	$(BIN)/python -m gm_helpers.course execute --sync lectures/*.ipynb

clean:
	rm -rf $(VENV) student .pytest_cache
