# Sharpline: `make demo` sets everything up and serves; `make test` runs the suite.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
MANAGE := $(PY) manage.py
DEMO_DATA := data/demo
HOST ?= 127.0.0.1
PORT ?= 8000
PYTEST_WORKERS ?= 2
# The demo's paper decisions: as at a time after the recorded quotes and before the games; both
# strategies, MIN_EDGE 0 for these runs (the scanner's MIN_SCAN_EV, 1% EV, stays the value bar).
NBA_DECIDE := 2023-12-11T17:00:00+00:00
DEMO_BETS := --strategy both --min-edge 0

.PHONY: help venv demo demo-data serve test lint format clean bench bench-quick security load faults figures

help:
	@echo "make demo   - venv, migrate, import bundled seasons, admin user, serve on $(HOST):$(PORT)"
	@echo "make test   - the whole test suite (embedded defaults unless DATABASE_URL/REDIS_URL are set)"
	@echo "make lint   - ruff (lint + format check) and mypy"
	@echo "make bench  - benchmarks against same-run baselines, written to bench/results.md and bench/history.csv"
	@echo "make bench-quick - the same benchmark steps on smaller inputs (under 2 minutes)"
	@echo "make load   - 200 clients for 30 s on gunicorn + production settings (DATABASE_URL, REDIS_URL)"
	@echo "make faults - the fault-injection tests (real stack with DATABASE_URL and REDIS_URL)"
	@echo "make security - bandit on core/ and betting/, and the dependency vulnerability audit"

$(BIN)/activate: requirements/base.txt requirements/dev.txt requirements/prod.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements/dev.txt
	touch $(BIN)/activate

venv: $(BIN)/activate

demo-data: venv
	$(MANAGE) migrate --noinput
	$(MANAGE) sync_reference
	$(MANAGE) import_history --league NBA --format sbr $(DEMO_DATA)/nba/sbr/*
	$(MANAGE) import_history --league NBA --format kaggle $(DEMO_DATA)/nba/kaggle/*.csv
	$(MANAGE) import_history --league MLB --format sbr $(DEMO_DATA)/mlb/sbr/*.csv
	$(MANAGE) fetch_odds --league NBA --from-file $(DEMO_DATA)/odds_api/nba_odds_2023-12-11_us_h2h_spreads_decimal.json
	$(MANAGE) fetch_odds --league MLB --odds-format american \
		--from-file $(DEMO_DATA)/odds_api/mlb_odds_2024-05-24_us_eu_h2h_american.json
	$(MANAGE) evaluate --league NBA --market h2h --from 2017-10-01 --to 2018-06-30 --walk-forward
	# The recorded NBA odds (captured 2023-12-11 16:55-16:58 UTC: that day's slate and the 2023-12-25
	# games) replayed as at $(NBA_DECIDE): h2h forecasts by a model trained on games to 2023-12-10 only.
	$(MANAGE) train --league NBA --market h2h --until 2023-12-10
	for day in 2023-12-11 2023-12-25; do \
		$(MANAGE) predict --league NBA --date $$day --as-of $(NBA_DECIDE) || exit 1; done
	for market in h2h spreads totals; do $(MANAGE) train --league NBA --market $$market || exit 1; done
	$(MANAGE) train --league MLB --market h2h
	$(MANAGE) predict --league NBA --since 2023-01-01
	$(MANAGE) predict --league MLB --since 2024-01-01
	# Paper bets (README "Paper strategies"): the models' (forecast-only: refused) and the scanner's, then
	# the results of each NBA day. The MLB games have no bundled result: their bets stay open.
	for day in 2023-12-11 2023-12-25; do $(MANAGE) recommend --league NBA --date $$day --as-of $(NBA_DECIDE) \
		--run demo-$$day $(DEMO_BETS) || exit 1; done
	$(MANAGE) settle_bets --as-of 2023-12-12T10:00:00+00:00
	$(MANAGE) settle_bets --as-of 2023-12-26T10:00:00+00:00
	$(MANAGE) recommend --league MLB --date 2024-05-24 --as-of 2024-05-24T17:00:00+00:00 --run demo-2024-05-24 \
		$(DEMO_BETS)
	$(MANAGE) backtest --league NBA --market h2h --from 2017-10-01 --to 2018-06-30 --name "NBA 2017-18, quarter Kelly"
	$(MANAGE) backtest --league MLB --market h2h --from 2018-04-15 --to 2018-10-01 --at open \
		--name "MLB 2018 at the opening line"
	$(MANAGE) ensure_admin

serve: venv
	$(MANAGE) runserver $(HOST):$(PORT)

demo: demo-data serve

test: venv
	$(BIN)/pytest -n $(PYTEST_WORKERS) --durations=15 $(PYTEST_ARGS)

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy .

security: venv
	$(BIN)/bandit -q -c pyproject.toml -r core betting
	$(PY) .ci/dependency_audit.py

format: venv
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf $(VENV) var staticfiles .pytest_cache .mypy_cache .ruff_cache

# The figures the README quotes (walk-forward evaluations, the demo backtests), regenerated from the
# demo database (make demo-data first) and written into README.md between its figures markers.
figures: venv
	$(PY) -m bench.figures

# Figures against baselines measured in the same run, written to bench/results.md (README, "Benchmarks"),
# one row per figure appended to bench/history.csv. PostgreSQL and Redis: DATABASE_URL/REDIS_URL, else
# postgres@127.0.0.1:5432 and redis://127.0.0.1:6379/14; the run creates a scratch database
# sharpline_bench, loads the demo data into it itself and drops it at the end. Nothing to prepare.
bench: venv
	$(PY) -m bench

# The same steps on smaller inputs (four NBA seasons, short page runs), under 2 minutes: before a
# commit. Appends to bench/history.csv marked quick; leaves the results pages alone. Not a CI gate.
bench-quick: venv
	$(PY) -m bench --quick

# gunicorn with the production settings, 200 clients for 30 s on the today and a game page. Needs
# DATABASE_URL (PostgreSQL with the demo data) and REDIS_URL. Not part of CI (too long).
load: venv
	$(PY) -m bench.load $(LOAD_ARGS)

# The fault-injection tests alone (pytest marker `faults`); the real-stack ones need DATABASE_URL and REDIS_URL.
faults: venv
	$(BIN)/pytest -n $(PYTEST_WORKERS) -m faults $(PYTEST_ARGS)
