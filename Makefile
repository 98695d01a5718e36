# One command sets up and runs the main job (`make demo`), one the quick tests (`make test`: all
# but the tests marked slow and the docs build), one the whole test suite as CI runs it
# (`make test-all`), one every speed benchmark (`make bench`; the research studies are run by
# hand, see benchmarks/README.md).
# TORCH_SPEC pins the tested CPU build so pip never pulls a multi-GB CUDA torch; override it
# (e.g. `make test TORCH_SPEC="torch --index-url https://download.pytorch.org/whl/cu124"`) on a GPU box.
PYTHON ?= python3
VENV ?= .venv
TORCH_SPEC ?= torch==2.13.0
PY := $(VENV)/bin/python
STAMP := $(VENV)/.molselect-installed

.PHONY: setup demo test test-all docs bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet "$(TORCH_SPEC)"
	$(PY) -m pip install --quiet -e ".[test,docs,bench]"
	touch $(STAMP)

setup: $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/molselect demo

test: $(STAMP)
	$(PY) -m pytest -n 2 -m "not slow and not docs" --durations=15 $(PYTEST_ARGS)

test-all: $(STAMP)
	$(PY) -m pytest -n 2 --durations=15 $(PYTEST_ARGS)

docs: $(STAMP)
	$(PY) -m sphinx -W --keep-going -b html docs docs/_build/html

bench: $(STAMP)
	$(PY) -m benchmarks.bench_featurize
	$(PY) -m benchmarks.bench_molgroup
	$(PY) -m benchmarks.bench_models
	$(PY) -m benchmarks.bench_selectors

clean:
	rm -rf $(VENV) build dist *.egg-info docs/_build
