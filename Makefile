# lstm97 — build the book and run the tests.
# Needs only Python >= 3.11 and make; pip installs everything else, under constraints.txt.
#
# By default both targets work in a virtual environment of their own, .venv/, made with $(PYTHON).
# `VENV=` (empty) works in the active environment instead (a conda/mamba environment, say):
# $(PYTHON) there, i.e. `python3` on PATH, gets the same pinned install.
#   make test VENV=          make book VENV=          make test VENV= PYTHON=/path/to/python

PYTHON ?= python3
SCALE ?= book
VENV ?= .venv

ifeq ($(strip $(VENV)),)
# The active environment: its interpreter, its prefix (for the stamp files), its scripts folder.
PY := $(PYTHON)
PY_TARGET :=
PREFIX := $(shell $(PY) -c 'import sys; print(sys.prefix)')
SCRIPTS := $(shell $(PY) -c 'import sysconfig; print(sysconfig.get_path("scripts"))')
ifeq ($(PREFIX),)
$(error VENV= needs a Python: '$(PYTHON)' did not run; activate an environment or set PYTHON=)
endif
else
PY := $(VENV)/bin/python
PY_TARGET := $(PY)
PREFIX := $(VENV)
SCRIPTS := $(VENV)/bin
endif

.DEFAULT_GOAL := help
.PHONY: help book test clean

help:
	@echo "make book [SCALE=ci|book|paper]  build the HTML book into _build/html (default SCALE=book)"
	@echo "make test                        pytest tests/ and nbval on book/ at LSTM97_SCALE=ci"
	@echo "make clean                       remove _build and .jupyter_cache"
	@echo "Both install into .venv/ (made with PYTHON=$(PYTHON)); with VENV= (empty) into the active environment."

ifneq ($(PY_TARGET),)
$(PY_TARGET):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
endif

# Stamp files in the environment: the installs are redone whenever pyproject.toml or
# constraints.txt changes, or in another environment.
$(PREFIX)/.lstm97-book-installed: $(PY_TARGET) pyproject.toml constraints.txt
	$(PY) -m pip install -q -c constraints.txt -e '.[book]'
	touch $@

$(PREFIX)/.lstm97-test-installed: $(PY_TARGET) pyproject.toml constraints.txt
	$(PY) -m pip install -q -c constraints.txt -e '.[test]'
	touch $@

book: $(PREFIX)/.lstm97-book-installed
	LSTM97_SCALE=$(SCALE) $(SCRIPTS)/jupyter-book build . --all --warningiserror --nitpick --keep-going

test: $(PREFIX)/.lstm97-test-installed
	LSTM97_SCALE=ci $(PY) -m pytest tests
	LSTM97_SCALE=ci $(PY) -m pytest --nbval-lax --nbval-current-env --nbval-cell-timeout=900 -p no:cacheprovider book/

clean:
	rm -rf _build .jupyter_cache
