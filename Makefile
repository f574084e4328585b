# Two commands do all set-up on a fresh machine: `make run` and `make test`.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: run test lint bench chromium postgres-check clean lock

# the bot's pins (requirements.lock, all the Docker image installs) and the test extra's (requirements-test.lock)
$(STAMP): pyproject.toml requirements.lock requirements-test.lock
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-test.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $(STAMP)

## make lock: pin the dependencies anew: a fresh venv with the project (pip freeze: requirements.lock), then
## its test extra held to those pins (what it adds: requirements-test.lock)
lock:
	rm -rf .lock-venv && $(PY) -m venv .lock-venv
	.lock-venv/bin/python -m pip install --quiet --upgrade pip
	.lock-venv/bin/python -m pip install --quiet -e .
	{ head -3 requirements.lock; .lock-venv/bin/python -m pip freeze --exclude-editable; } > requirements.lock.new
	.lock-venv/bin/python -m pip install --quiet -c requirements.lock.new -e '.[test]'
	{ head -4 requirements-test.lock; .lock-venv/bin/python -m pip freeze --exclude-editable \
	  | grep -vxFf requirements.lock.new; } > requirements-test.lock.new
	mv requirements.lock.new requirements.lock && mv requirements-test.lock.new requirements-test.lock
	rm -rf .lock-venv

## make run: the main job. With no token: web chat + dashboard on SQLite with demo data.
run: $(STAMP)
	$(BIN)/python -m bot db upgrade
	$(BIN)/python -m bot demo --if-empty
	$(BIN)/python -m bot run

## make test: installs what the tests need (venv, Chromium), checks PostgreSQL, runs ruff, lint-imports, mypy and pytest.
test: $(STAMP) chromium postgres-check
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	$(BIN)/mypy
	$(BIN)/python -m pytest -q

chromium:
	@if ! command -v chromium >/dev/null 2>&1; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "installing Debian's chromium for the browser tests"; \
	    (apt-get install -y -q chromium >/dev/null 2>&1 || (apt-get update -q >/dev/null && apt-get install -y -q chromium >/dev/null)); \
	  else echo "chromium is missing and cannot be installed here: browser tests will skip outside CI"; fi; \
	fi

postgres-check:
	@$(BIN)/python -c "import asyncio, asyncpg, os; \
	u = os.environ.get('TEST_POSTGRES_DSN', 'postgresql://postgres@127.0.0.1:5432/test'); \
	asyncio.run(asyncio.wait_for(asyncpg.connect(u), 5)); print('PostgreSQL answers at', u.rsplit('@', 1)[-1])" \
	|| echo "PostgreSQL does not answer on 127.0.0.1:5432: its tests will skip outside CI and fail under CI"

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	$(BIN)/mypy

bench: $(STAMP)
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) data/bot.sqlite3*
