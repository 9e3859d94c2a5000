# One entry point for chores (STYLE 18). `make demo` and `make test` set everything up first.
.PHONY: setup demo test test-fast test-clock lint format bench clean

setup:
	@bash scripts/setup.sh

demo: setup
	.venv/bin/audit demo --dir demo-survey

# The suite, then the clock-sensitive tests again at pinned instants (scripts/clock_guard.py).
test: setup
	.venv/bin/python -m pytest -q
	.venv/bin/python scripts/clock_guard.py

test-clock: setup
	.venv/bin/python scripts/clock_guard.py

test-fast: setup
	.venv/bin/python -m pytest -q -m "not slow"

lint: setup
	.venv/bin/ruff check audit probes inbox reports tests bench
	.venv/bin/ruff format --check audit probes inbox reports tests bench
	.venv/bin/mypy

format: setup
	.venv/bin/ruff format audit probes inbox reports tests bench
	.venv/bin/ruff check --fix audit probes inbox reports tests bench

bench: setup
	.venv/bin/python bench/run_all.py --full-for sync

clean:
	rm -rf demo-survey .pytest_cache bench/out
