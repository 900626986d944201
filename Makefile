# The two commands of the README contract:
#   make run   - from nothing: venv, database, demo data, then engine + simulator + admin
#   make test  - the whole test suite (SQLite; PostgreSQL too when HOTLINE_TEST_PG_URL is set)
# Both install exactly what requirements.lock pins; `make lock` refreshes it from pyproject.toml.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin

.PHONY: run test venv lock system-deps db demo clean bench

$(BIN)/hotline: pyproject.toml requirements.lock
	bash scripts/bootstrap.sh "$(PYTHON)" "$(VENV)"
	@touch $@

venv: $(BIN)/hotline

lock:
	bash scripts/lock.sh "$(VENV)" "$(PYTHON)"

# The demo: the published demo passwords (and a switch on its default password) are accepted only in demo mode.
DEMO := HOTLINE_ADMIN_DEMO_MODE=true

run: venv
	$(BIN)/hotline db upgrade
	$(DEMO) $(BIN)/hotline demo-data
	$(DEMO) $(BIN)/hotline run

# Most of the suite waits on real time (calls play their audio at its length), so it runs in parallel
# processes; the real-switch stage stays in one of them (one FreeSWITCH, tests in order).
PYTEST_WORKERS ?= 3

test: venv
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) --dist loadgroup $(PYTEST_ARGS)

bench: venv
	$(BIN)/python bench/esl_parse.py
	$(BIN)/python bench/crm_orders.py

clean:
	rm -rf var .pytest_cache .hypothesis
