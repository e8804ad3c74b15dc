# Commands for a fresh machine; each makes its own virtual environment in .venv:
#   make lab    set everything up and open the student copies of the lectures in JupyterLab
#               (make lab SOLUTIONS=1: the lectures with their solutions)
#   make test   set everything up and run the whole test suite (unit tests + nbval + browser)
#   make unit   the unit tests only: no notebooks, no browser, no re-measured checkpoints
#   make lint   ruff, configured in pyproject.toml
#   make lock   re-lock: the newest releases pyproject.toml allows, into requirements/ci.txt and
#               binder/requirements.txt (then run the tests and commit both)
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
LOCK   := requirements/ci.txt

.PHONY: install lab test unit lint student execute clean site lock

# the package with its tests' and JupyterLab's extras, at the exact versions of the lock file;
# CPU=1 first installs PyTorch's CPU build of the locked versions (Linux: ~200 MB instead of the
# ~5 GB CUDA build pip takes by default; torch==X admits X+cpu, so the lock still holds)
$(STAMP): pyproject.toml $(LOCK)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(if $(filter 1 yes true,$(CPU)),$(BIN)/python -m pip install --quiet \
		$$(grep -E '^(torch|torchvision)==' $(LOCK)) --index-url https://download.pytorch.org/whl/cpu)
	$(BIN)/python -m pip install --quiet -e ".[dev,lab]" -c $(LOCK)
	touch $(STAMP)

install: $(STAMP)

# the student copies in student/, each solution a stub (a missing copy is made; an existing one is
# never replaced: the student's answers are in it); make lab SOLUTIONS=1 opens the lectures instead
lab: install
ifneq ($(filter 1 yes true,$(SOLUTIONS)),)
	$(BIN)/jupyter lab lectures/
else
	$(BIN)/python -m gm_helpers.course student lectures --out student --keep-existing
	$(BIN)/jupyter lab student/
endif

# two workers, a whole file (or notebook) to each, with half the cores' threads each (one on a
# 2-core machine: two workers of two threads each measured 10 % slower); OpenMP threads that
# wait sleep instead of spinning, so that a notebook's kernel and a test worker share the cores
# (the cores this process may use: os.process_cpu_count on Python 3.13+, the affinity mask on
# Linux, else all of them)
THREADS := $(shell $(PYTHON) -c "import os; n = os.process_cpu_count() if hasattr(os, 'process_cpu_count') else len(os.sched_getaffinity(0)) if hasattr(os, 'sched_getaffinity') else os.cpu_count(); print(max(1, (n or 1) // 2))")
test: install
	OMP_WAIT_POLICY=PASSIVE OMP_NUM_THREADS=$(THREADS) $(BIN)/python -m pytest -n 2 --dist loadfile

unit: install
	OMP_WAIT_POLICY=PASSIVE OMP_NUM_THREADS=$(THREADS) $(BIN)/python -m pytest -n 2 --dist loadfile \
		-o addopts="" -m "not browser and not slow" --ignore=tests/browser tests

lint: install
	$(BIN)/python -m ruff check gm_helpers tests lectures

# the course's site in docs/_build/html (index.html), from the committed notebooks (never
# re-executed); warnings are errors, then every internal link and anchor is checked
DOCS_STAMP := $(VENV)/.installed-docs
$(DOCS_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet -e ".[docs]" $(if $(wildcard requirements/ci.txt),-c requirements/ci.txt)
	touch $(DOCS_STAMP)

site: $(DOCS_STAMP)
	$(BIN)/python -m gm_helpers.course site

# student copies: every solution replaced by `raise NotImplementedError`
student: install
	$(BIN)/python -m gm_helpers.course student lectures --out student

# re-execute the lectures from their .py files and print run time and peak memory
execute: install
	$(BIN)/python -m gm_helpers.course execute --sync lectures/*.ipynb

# re-lock: every extra at the newest releases pyproject.toml allows, into .venv; then their exact
# versions into requirements/ci.txt and binder/requirements.txt (python -m gm_helpers.course lock)
lock:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet --upgrade --upgrade-strategy eager \
		-e ".[$$($(PYTHON) -m gm_helpers.course.lock --extras)]"
	$(BIN)/python -m gm_helpers.course lock
	touch $(STAMP)

clean:
	rm -rf $(VENV) student .pytest_cache docs/_build docs/lectures docs/claims docs/tests docs/_notebooks \
		docs/checkpoints.md
