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

.PHONY: demo test test-fast clean venv chromium hub-deps axe

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

# Headless Chromium for tests/notebooks/test_editions_render.py (Japanese rendering in both editions):
# installed where possible (Debian as root, as on CI); elsewhere those tests are skipped with the reason.
# No CJK system font is installed on purpose: the book ships its own (see book/_static/coordkit-fonts.css).
chromium:
	@command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || \
	 command -v google-chrome >/dev/null 2>&1 || \
	 { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 && apt-get update -qq && \
	   DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; } || \
	 echo "Chromium could not be installed: the browser tests will be skipped"

# axe-core (accessibility rules) for tests/notebooks/test_web_book.py and test_a11y_reports.py, from the
# npm registry into .venv/node/ (git-ignored with .venv); skipped with a note where npm is missing.
AXE_VERSION := 4.10.2
AXE := $(VENV)/node/node_modules/axe-core/axe.min.js

axe: $(AXE)

$(AXE): | $(STAMP)
	@command -v npm >/dev/null 2>&1 && npm install --prefix $(VENV)/node --no-audit --no-fund --no-save \
	   axe-core@$(AXE_VERSION) >/dev/null || echo "npm is missing: the accessibility tests will fail until axe-core is installed"

test: $(STAMP) chromium hub-deps axe
	python -m pytest

# No kernels, nbgrader converters, book build, browser or PostgreSQL: tests/conftest.py makes a test that
# starts a kernel fail (COORDKIT_TEST_FAST=1 does the same for any pytest run).
test-fast: $(STAMP)
	COORDKIT_TEST_FAST=1 python -m pytest -m "not slow"

clean:
	rm -rf _build reports datasets/cohorts assignments/release assignments/submitted \
	       assignments/autograded assignments/feedback assignments/gradebook.db \
	       assignments/.coordkit

# The deployment's test (tests/hub): Debian's PostgreSQL server and Python (the accounts the test
# creates cannot run the checkout's interpreter when it lives under /root), and JupyterHub's proxy
# from the npm registry into deploy/proxy/node_modules (never committed). As root, as on CI;
# elsewhere the Hub test is skipped with the reason.
hub-deps:
	@{ ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 && [ -x /usr/bin/python3 ]; } || \
	 { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 && apt-get update -qq && \
	   DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql python3 python3-venv >/dev/null; } || \
	 echo "PostgreSQL could not be installed: the Hub test will be skipped"
	@[ -x deploy/proxy/node_modules/.bin/configurable-http-proxy ] || \
	 { command -v npm >/dev/null 2>&1 && (cd deploy/proxy && npm install --no-audit --no-fund --silent); } || \
	 echo "configurable-http-proxy could not be installed: the Hub test will be skipped"
