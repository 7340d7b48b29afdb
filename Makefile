# Two commands do all set-up on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
DEMO := examples/ennigerloh-everswinkel.scenario.json

.PHONY: run test install lint bench clean

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --disable-pip-version-check --upgrade pip
	$(BIN)/pip install -q --disable-pip-version-check -c constraints.txt -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

# The demo: a fresh database of the demo week, planned as a planning run (the same
# service code as POST /plans) and published, demo users with tokens, and the HTTP API
# on http://127.0.0.1:8000 (Ctrl-C stops it).
run: export FIELDWORK_DATABASE_URL = sqlite:///var/demo.db
run: $(STAMP)
	@mkdir -p var
	rm -f var/demo.db var/demo.db-wal var/demo.db-shm
	$(BIN)/fieldwork db upgrade
	$(BIN)/fieldwork import $(DEMO) --week next
	$(BIN)/fieldwork plans run --week next --time-limit 10 --publish
	$(BIN)/fieldwork users add demo-coordinator --role coordinator
	$(BIN)/fieldwork users add demo-caseworker --role caseworker --caseworker cw01
	$(BIN)/fieldwork users add demo-fleet --role fleet_manager
	@for user in demo-coordinator demo-caseworker demo-fleet; do \
		echo "$$user-passwort" | $(BIN)/fieldwork users passwd $$user --stdin >/dev/null; \
	done
	@coordinator=$$($(BIN)/fieldwork tokens create demo-coordinator 2>/dev/null) && \
	caseworker=$$($(BIN)/fieldwork tokens create demo-caseworker 2>/dev/null) && \
	fleet=$$($(BIN)/fieldwork tokens create demo-fleet 2>/dev/null) && \
	echo && echo "API:  http://127.0.0.1:8000   docs: http://127.0.0.1:8000/docs" && \
	echo "Web:  http://127.0.0.1:8000/web/  (sign in as demo-coordinator / demo-coordinator-passwort, demo-caseworker, demo-fleet alike, or with a token)" && \
	echo "Demo tokens (send as 'Authorization: Bearer TOKEN'):" && \
	echo "  coordinator          $$coordinator" && \
	echo "  caseworker (cw01)    $$caseworker" && \
	echo "  fleet manager        $$fleet" && \
	echo "  curl -H 'Authorization: Bearer $$coordinator' http://127.0.0.1:8000/households" && \
	echo "  curl -H 'Authorization: Bearer $$coordinator' http://127.0.0.1:8000/plans/1" && \
	echo "  curl -H 'Authorization: Bearer $$caseworker' http://127.0.0.1:8000/appointments" && \
	echo && exec $(BIN)/fieldwork serve --host 127.0.0.1 --port 8000

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

test: lint
	$(BIN)/pytest -n 2

bench: $(STAMP)
	$(BIN)/pip install -q --disable-pip-version-check -c constraints.txt -e ".[bench]"
	$(BIN)/python -m benchmarks.run

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
