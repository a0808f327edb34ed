# Impact Programs Portal — two commands: `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)
export FLASK_APP := portal

.PHONY: lint run test test-sqlite test-postgresql system-deps bench migrate-check clean help

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
	$(BIN)/python -m pytest --db=sqlite
	$(BIN)/python -m pytest --db=postgresql -m "not e2e"

test-sqlite: $(STAMP)
	$(BIN)/python -m pytest --db=sqlite

test-postgresql: $(STAMP)
	$(BIN)/python -m pytest --db=postgresql -m "not e2e"

bench: $(STAMP) system-deps
	$(BIN)/python -m bench $(BENCH)

clean:
	rm -rf $(VENV) instance .pytest_cache screenshots bench/results.json
