# The chat: `make run` serves it, `make test` checks it.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed

BENCH_INSTALLED := $(VENV)/.bench-installed

.PHONY: run test lint format openapi tui bench bench-quick bench-search bench-search-quick superuser clean clean-data

$(INSTALLED): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c constraints.txt -e ".[dev]"
	touch $(INSTALLED)

## Serve the chat on http://127.0.0.1:$PORT (default 8080).
run: $(INSTALLED)
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py serve $(if $(PORT),--port $(PORT))

## Lint, then run every test (browser and service tests included).
test: $(INSTALLED) lint
	$(BIN)/pytest

lint: $(INSTALLED)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: $(INSTALLED)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

## Write API v1's OpenAPI description to docs/openapi.json (after an API change).
openapi: $(INSTALLED)
	$(BIN)/python manage.py export_openapi_schema --api api.v1.api --indent 2 \
		--sorted --output docs/openapi.json

## The terminal client, on the chat `make run` serves (CHAT_TOKEN to log in).
tui: $(INSTALLED)
	$(BIN)/chat-tui --server http://127.0.0.1:$(or $(PORT),8080)

$(BENCH_INSTALLED): $(INSTALLED) bench/package-lock.json
	$(BIN)/pip install --quiet -c constraints.txt -e ".[dev,bench]"
	npm ci --prefix bench --no-audit --no-fund --silent
	touch $(BENCH_INSTALLED)

## Measure the chat against baseline servers; writes docs/performance.md.
bench: $(BENCH_INSTALLED)
	$(BIN)/python bench/run.py

## A smaller run of the same, as a smoke test of the benchmark.
bench-quick: $(BENCH_INSTALLED)
	$(BIN)/python bench/run.py --quick

## Search on 1,000,000 messages, SQLite and PostgreSQL (about 30 minutes;
## bench-search-quick: 100,000).
bench-search: $(BENCH_INSTALLED)
	$(BIN)/python bench/search.py

bench-search-quick: $(BENCH_INSTALLED)
	$(BIN)/python bench/search.py --quick

## Create the first admin account interactively.
superuser: $(INSTALLED)
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py createsuperuser

## Remove what installing, testing and benchmarking made; keep the data.
clean:
	rm -rf $(VENV) test-artifacts bench/node_modules *.egg-info \
		.pytest_cache .ruff_cache .mypy_cache var/static var/test-*.sqlite3*
	find . -name __pycache__ -type d -not -path "./.venv/*" -prune -exec rm -rf {} +

## Remove the chat's own data too: database, uploads, secret key and logs.
clean-data: clean
	rm -rf var logs
