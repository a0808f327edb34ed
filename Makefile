# Impact Programs Portal — two commands: `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)
export FLASK_APP := portal
# The suite runs in parallel (pytest-xdist): one worker per core, at most 4 (each worker
# starts its own PostgreSQL server or Chromium). PYTEST_XDIST=N picks N workers, 0 runs
# in one process (make test PYTEST_XDIST=0, or PYTEST_XDIST=0 make test); PYTEST_ARGS adds
# pytest arguments (make test-sqlite PYTEST_ARGS="-k campaigns -x").
PYTEST_XDIST ?= $(shell n=$$(nproc 2>/dev/null || echo 1); [ $$n -gt 4 ] && n=4; [ $$n -lt 2 ] && n=0; echo $$n)
PYTEST := $(BIN)/python -m pytest -n $(PYTEST_XDIST) $(PYTEST_ARGS)

# Translations: `make translations` re-extracts the marked strings into messages.pot and
# updates the committed .po catalogues, keeping what is translated (the app compiles a
# catalogue into the .mo file it reads when the .po is newer: portal/i18n.py).
BABEL_KEYWORDS := -k _l -k _n:1,2 -k _lp:1c,2 -k lazy_gettext -k lazy_ngettext:1,2

.PHONY: lint run test translations test-sqlite test-postgresql system-deps bench migrate-check clean help

help:
	@echo "make run    set up and serve the portal on SQLite with demo data (http://127.0.0.1:5000)"
	@echo "make test   install what the tests need and run the whole suite (SQLite + PostgreSQL)"
	@echo "make bench  run the benchmarks and write bench/results.json"

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	rm -f $(VENV)/.installed-* && touch $(STAMP)

venv: $(STAMP)

translations: $(STAMP)
	$(BIN)/pybabel extract -F babel.cfg $(BABEL_KEYWORDS) --no-location --sort-output --omit-header -o portal/translations/messages.pot .
	$(BIN)/pybabel update -i portal/translations/messages.pot -d portal/translations --no-fuzzy-matching --ignore-obsolete

run: $(STAMP)
	PORTAL_ENV=development $(BIN)/flask db upgrade
	PORTAL_ENV=development $(BIN)/flask seed
	@echo "Serving on http://127.0.0.1:5000  (Ctrl-C stops)"
	PORTAL_ENV=development $(BIN)/flask run --host 127.0.0.1 --port 5000

system-deps:
	bash .ci/system-deps

lint: $(STAMP)
	$(BIN)/ruff check portal tests bench migrations

test: $(STAMP) system-deps lint
	$(PYTEST) --db=sqlite
	$(PYTEST) --db=postgresql -m "not e2e"

test-sqlite: $(STAMP)
	$(PYTEST) --db=sqlite

test-postgresql: $(STAMP)
	$(PYTEST) --db=postgresql -m "not e2e"

bench: $(STAMP) system-deps
	$(BIN)/python -m bench $(BENCH)

clean:
	rm -rf $(VENV) instance .pytest_cache screenshots bench/results.json
