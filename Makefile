# Two commands do everything: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test test-fast demo browser-deps bench clean

$(STAMP): requirements.txt requirements-dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $(STAMP)

# Create the environment, migrate the store, seed demo data on first run, serve on :8501.
run: $(STAMP)
	$(PY) -m loaders demo --if-empty --persons 20000
	$(PY) -m store bootstrap
	$(PY) -m ui.serve

# The whole suite (PostgreSQL tests too when TEST_DATABASE_URL is set).
test: $(STAMP) browser-deps
	$(PY) -m pytest

# Everything but the slow and real-browser tests.
test-fast: $(STAMP)
	$(PY) -m pytest -m "not slow and not browser"

# Debian's chromium and CJK fonts for the real-browser tests (no browser download of its own).
browser-deps:
	@if [ ! -x /usr/bin/chromium ] || ! fc-list 2>/dev/null | grep -qi "noto sans cjk"; then \
		if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq chromium fonts-noto-cjk >/dev/null; \
		else sudo apt-get update -qq && sudo apt-get install -y -qq chromium fonts-noto-cjk >/dev/null; fi; \
	fi

bench: $(STAMP)
	$(PY) -m bench

clean:
	rm -rf $(VENV) .pytest_cache
