# lstm97 — build the book and run the tests in a local virtual environment (.venv).
# Needs only Python >= 3.10 and make; pip installs everything else.

PYTHON ?= python3
SCALE ?= book

VENV := .venv
VPY := $(VENV)/bin/python

.DEFAULT_GOAL := help
.PHONY: help book test clean

help:
	@echo "make book [SCALE=ci|book|paper]  build the HTML book into _build/html (default SCALE=book)"
	@echo "make test                        pytest tests/ and nbval on book/ at LSTM97_SCALE=ci"
	@echo "make clean                       remove _build and .jupyter_cache"

$(VPY):
	$(PYTHON) -m venv $(VENV)
	$(VPY) -m pip install -q --upgrade pip

# Stamp files: the installs are redone whenever pyproject.toml changes.
$(VENV)/.book-installed: $(VPY) pyproject.toml constraints.txt
	$(VPY) -m pip install -q -c constraints.txt -e '.[book]'
	touch $@

$(VENV)/.test-installed: $(VPY) pyproject.toml constraints.txt
	$(VPY) -m pip install -q -c constraints.txt -e '.[test]'
	touch $@

book: $(VENV)/.book-installed
	LSTM97_SCALE=$(SCALE) $(VENV)/bin/jupyter-book build . --all --warningiserror --nitpick --keep-going

test: $(VENV)/.test-installed
	LSTM97_SCALE=ci $(VPY) -m pytest tests
	LSTM97_SCALE=ci $(VPY) -m pytest --nbval-lax --nbval-current-env --nbval-cell-timeout=900 -p no:cacheprovider book/

clean:
	rm -rf _build .jupyter_cache
