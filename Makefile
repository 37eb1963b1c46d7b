# The two commands a newcomer needs: `make demo` and `make test`.
# Both create .venv from requirements.txt on first use and put .venv/bin on PATH
# (nbgrader shells out to alembic, jupyter-book to jupyter).
SHELL := /bin/bash
VENV := .venv
PYTHON ?= python3
STAMP := $(VENV)/.installed
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)
export MPLBACKEND := Agg
export PYDEVD_DISABLE_FILE_VALIDATION := 1

.PHONY: demo test test-fast clean venv

venv: $(STAMP)

$(STAMP): requirements.txt pyproject.toml
	@echo "Setting up $(VENV) (first run takes a few minutes)..."
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install -q --upgrade pip
	$(VENV)/bin/python -m pip install -q -r requirements.txt
	$(VENV)/bin/python -m pip install -q --no-deps -e .
	@touch $@

demo: $(STAMP)
	coordkit demo

test: $(STAMP)
	python -m pytest

test-fast: $(STAMP)
	python -m pytest -m "not slow"

clean:
	rm -rf _build reports datasets/cohorts assignments/release assignments/submitted \
	       assignments/autograded assignments/feedback assignments/gradebook.db
