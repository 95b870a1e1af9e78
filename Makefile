# The two commands a newcomer needs: `make run` and `make test`.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
PYTEST_ARGS ?=

.PHONY: compile run test soak lint format bench clean

$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	$(BIN)/broker lambda install-runtimes
	touch $(STAMP)

# Byte-compiled once here: with PYTHONDONTWRITEBYTECODE set (as on CI machines) every broker process would compile
# the package again at start (~0.3 s of CPU each; the tests start hundreds).
compile: $(STAMP)
	@$(BIN)/python -m compileall -q -j 0 broker tests > /dev/null

run: compile
	$(BIN)/broker serve --host 127.0.0.1 --port 4566 --data-dir ./data

# The tests run in three pytest-xdist workers, module by module (a module's brokers stay in its worker); the
# folders whose modules take longest are named first so that no worker starts one last. Each worker has its own
# temporary directory, brokers and PostgreSQL databases. PostgreSQL runs the modules of PG_IN_MAKE_TEST in
# tests/conftest.py (make soak runs all of them there). PYTEST_ARGS (e.g. -x, -k) are passed on.
SLOW_FIRST := tests/reliability/ tests/lambda_/ tests/events/ tests/scheduler/ tests/apigateway/ tests/apigatewayv2/
TEST_PATHS := $(SLOW_FIRST) $(filter-out $(SLOW_FIRST),$(sort $(dir $(wildcard tests/*/__init__.py)))) \
	$(wildcard tests/test_*.py)
test: compile
	$(BIN)/ruff check broker tests migrations tools
	$(BIN)/ruff format --check broker tests migrations tools
	$(BIN)/mypy
	@tmp=$$(mktemp -d); \
	$(BIN)/pytest -q -p no:cacheprovider -n 3 --dist loadfile --durations=25 --basetemp=$$tmp $(PYTEST_ARGS) $(TEST_PATHS); \
	status=$$?; rm -rf $$tmp; exit $$status

# The long reliability run of docs/reliability.md: 50 crash rounds per backend, 10,000 fuzzed requests per
# protocol and backend, and real restarts of the local PostgreSQL cluster under load (`make test` runs 5 rounds,
# 300 requests, and drops PostgreSQL connections instead), then every other test on both databases (make test runs
# the modules of PG_IN_MAKE_TEST on PostgreSQL) with the full no-500 grids (make test sends each member a third of
# the junk values).
# Output in bench-results/soak.log.
soak: compile
	@mkdir -p bench-results
	BROKER_TEST_BACKENDS=all BROKER_CRASH_ROUNDS=50 BROKER_FUZZ_EXAMPLES=10000 BROKER_TEST_PG_RESTART=1 $(BIN)/pytest -q -s -p no:cacheprovider tests/reliability \
		> bench-results/soak.log 2>&1 && BROKER_TEST_BACKENDS=all BROKER_GRID_FULL=1 $(BIN)/pytest -q -p no:cacheprovider \
		-n 3 --dist loadfile --ignore=tests/reliability tests >> bench-results/soak.log 2>&1; status=$$?; grep -E "crash rounds|fuzz |workers|PostgreSQL|passed|failed" \
		bench-results/soak.log; exit $$status

lint: $(STAMP)
	$(BIN)/ruff check broker tests migrations tools
	$(BIN)/mypy

format: $(STAMP)
	$(BIN)/ruff format broker tests migrations tools
	$(BIN)/ruff check --fix broker tests migrations tools

# Benchmarks need wrk (Debian package) as the load generator; installed here if missing.
bench: $(STAMP)
	@command -v wrk >/dev/null || (apt-get update -qq && apt-get install -y -qq wrk)
	$(BIN)/broker bench sqs --out bench-results/sqs.json
	$(BIN)/broker bench sqs-fifo --out bench-results/sqs-fifo.json
	$(BIN)/broker bench sns --out bench-results/sns.json
	$(BIN)/broker bench kinesis --out bench-results/kinesis.json
	$(BIN)/broker bench lambda --out bench-results/lambda.json
	$(BIN)/broker bench lambda-esm --out bench-results/lambda-esm.json
	$(BIN)/broker bench apigateway --out bench-results/apigateway.json
	$(BIN)/broker bench events --out bench-results/events.json

clean:
	rm -rf $(VENV) data bench-results
