# kubeviz: `make run` serves the dashboard, `make test` runs every test. Both set up .venv first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
# The address `make run` listens on: loopback (this computer only) unless set, e.g. HOST=0.0.0.0 for a classroom
# server (which then needs a strong SECRET_KEY).
HOST ?= 127.0.0.1
export PORT HOST
# The database storage's tests run on PostgreSQL too (a multi-process deployment's store); its test database is
# created and dropped by the run.
TEST_POSTGRES_URL ?= postgres://postgres@127.0.0.1:5432/kubeviz
export TEST_POSTGRES_URL

.PHONY: run serve-class test lint browser nginx bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.runtime: requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.test: requirements.txt requirements-test.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements-test.txt
	touch $@ $(VENV)/.runtime

run: $(VENV)/.runtime
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py bootstrap
	$(BIN)/python manage.py lessons load
	$(BIN)/daphne -b $(HOST) -p $(PORT) kubeviz.asgi:application

# A class served by N processes behind nginx, on PostgreSQL and Redis (README "Serving a class from several
# processes or machines"): DATABASE_URL=postgres://... REDIS_URL=redis://... make serve-class N=2 [E=1: with an
# engine process beside them, which runs every cluster's engine]
N ?= 2
E ?= 0
serve-class: $(VENV)/.runtime nginx
	$(BIN)/python deploy/serve_class.py --processes $(N) --engines $(E) --host $(HOST) --port $(PORT)

# Browser tests drive Debian's Chromium; Playwright cannot download its own browsers here.
browser:
	@command -v chromium >/dev/null 2>&1 || { \
		echo "installing Debian's chromium for the browser tests"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

# The multi-process tests and `make serve-class` put Debian's nginx in front of the server processes.
nginx:
	@command -v nginx >/dev/null 2>&1 || test -x /usr/sbin/nginx || { \
		echo "installing Debian's nginx for the multi-process tests"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx >/dev/null; }

lint: $(VENV)/.test
	$(BIN)/lint-imports

test: $(VENV)/.test browser nginx lint
	$(BIN)/python manage.py makemigrations --check --dry-run
	$(BIN)/python manage.py lessons check
	$(BIN)/pytest
	DATABASE_URL=$(TEST_POSTGRES_URL) $(BIN)/pytest -q tests/store tests/runtime tests/recordings

# Benchmarks are run by hand; each prints its figures (medians) and targets.
bench: $(VENV)/.test
	$(BIN)/python bench/api.py
	$(BIN)/python bench/engine.py --case memory-job --completions 10000 --parallelism 500 --nodes 200

clean:
	rm -rf $(VENV) db.sqlite3 db.sqlite3-wal db.sqlite3-shm
