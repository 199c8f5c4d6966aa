# The README's commands. Everything a fresh clone needs is installed from here.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)

.PHONY: run test lint format bench browsers clean

$(STAMP): pyproject.toml
	@sh ./.ci/bootstrap-venv $(PYTHON) $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	@rm -f $(VENV)/.installed-* && touch $@

## make run: the whole product on http://localhost:8000 (web, worker, beat, sandbox)
run: $(STAMP)
	$(PY) -m sous.dev run

## make test: the whole suite (uses DATABASE_URL / REDIS_URL when set)
test: $(STAMP) browsers
	REDIS_URL="$$($(PY) -m sous.dev redis-url)" && export REDIS_URL && \
	$(VENV)/bin/pytest $(PYTEST_ARGS)

## Debian's Chromium for the browser tests (Playwright's own download does not work here)
browsers:
	@sh ./.ci/ensure-chromium

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: $(STAMP)
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

bench: $(STAMP)
	REDIS_URL="$$($(PY) -m sous.dev redis-url)" && export REDIS_URL && $(PY) -m bench $(BENCH_ARGS)

clean:
	rm -rf $(VENV) var/db.sqlite3 var/staticfiles test-artifacts
