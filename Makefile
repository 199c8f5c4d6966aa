# The README's commands. Everything a fresh clone needs is installed from here.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
# What is installed comes from the lock files, never from a fresh resolution: requirements.txt
# (what production runs) and requirements-dev.txt (that, plus the test and dev tools).
LOCK := requirements-dev.txt
STAMP := $(VENV)/.installed-$(shell cat $(LOCK) pyproject.toml | cksum | cut -d' ' -f1)
# uv resolves the lock files; pip installs them, so a fresh machine needs nothing but Python.
COMPILE = $(VENV)/bin/uv pip compile pyproject.toml --quiet --universal --python-version 3.11 \
	--generate-hashes --no-header
LATEST := .venv-latest

.PHONY: run test lint format bench browsers clean lock upgrade test-latest

$(STAMP): $(LOCK) pyproject.toml
	@sh ./.ci/bootstrap-venv $(PYTHON) $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet --require-hashes -r $(LOCK)
	$(PY) -m pip install --quiet --no-deps -e .
	@rm -f $(VENV)/.installed-* && touch $@

## make run: the whole product on http://localhost:8000 (web, worker, beat, sandbox)
run: $(STAMP)
	$(PY) -m sous.dev run

## make test: the whole suite (uses DATABASE_URL / REDIS_URL when set)
test: $(STAMP) browsers
	REDIS_URL="$$($(PY) -m sous.dev redis-url)" && export REDIS_URL && \
	$(VENV)/bin/pytest $(PYTEST_ARGS)

## Debian's Chromium for the browser tests (Playwright's own download does not work here)
browsers: node_modules/axe-core/axe.min.js
	@sh ./.ci/ensure-chromium

# axe-core for the browser tests' accessibility check, from package-lock.json
node_modules/axe-core/axe.min.js: package-lock.json
	@sh ./.ci/ensure-axe
	@touch $@

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: $(STAMP)
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

bench: $(STAMP)
	REDIS_URL="$$($(PY) -m sous.dev redis-url)" && export REDIS_URL && $(PY) -m bench $(BENCH_ARGS)

## make lock: re-resolve the lock files after editing pyproject.toml (keeps other pins)
lock: $(STAMP)
	$(COMPILE) -o requirements.txt
	$(COMPILE) --extra sandbox --extra test --extra dev -o requirements-dev.txt

## make upgrade: move every pin to the newest release pyproject.toml allows
upgrade: $(STAMP)
	$(COMPILE) --upgrade -o requirements.txt
	$(COMPILE) --upgrade --extra sandbox --extra test --extra dev -o requirements-dev.txt

## make test-latest: the whole suite on the newest releases, in $(LATEST), lock files untouched
test-latest: $(STAMP) browsers
	rm -rf $(LATEST) && sh ./.ci/bootstrap-venv $(PYTHON) $(LATEST)
	$(COMPILE) --upgrade --extra sandbox --extra test --extra dev -o $(LATEST)/requirements.txt
	$(LATEST)/bin/python -m pip install --quiet --upgrade pip
	$(LATEST)/bin/python -m pip install --quiet --require-hashes -r $(LATEST)/requirements.txt
	$(LATEST)/bin/python -m pip install --quiet --no-deps -e .
	mkdir -p test-artifacts && $(LATEST)/bin/python -m pip freeze > test-artifacts/latest-versions.txt
	REDIS_URL="$$($(PY) -m sous.dev redis-url)" && export REDIS_URL && \
	$(LATEST)/bin/pytest $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) $(LATEST) var/db.sqlite3 var/staticfiles test-artifacts
