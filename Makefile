# flowsql — run `make help` for the targets.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.DEFAULT_GOAL := help
.PHONY: help install demo test test-fast lint bench clean

help: ## Show the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-z][a-z-]*:.*## / {printf "  make %-9s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

install: $(STAMP) ## Create the virtualenv and install flowsql with its test tools

$(STAMP): pyproject.toml hatch_build.py flowsql/engines/local/_records.c flowsql/report/_jsonrows.c
	$(PYTHON) -c 'import sys; sys.exit("flowsql needs Python >= 3.11") if sys.version_info < (3, 11) else None'
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	@# lint results of the pack's renderings, so the first query after install does not wait for sqlfluff
	$(PY) -m flowsql.pack.lint.ship
	touch $(STAMP)

demo: install ## Generate a demo account's flow logs, run the canned queries, report on the last whole month
	$(VENV)/bin/flowsql demo --dir demo-output
	@# the last whole month the demo's logs cover (from its record, not the clock: midnight may pass);
	@# exit 1 means posture alarms, which the demo has on purpose
	@month=$$($(PY) -c 'from flowsql.demo.run import written_month; print(written_month("demo-output"))') && \
	$(VENV)/bin/flowsql report --month $$month --engine local --source demo-output \
	    --inventory demo-output/inventory --out demo-reports/$$month >/dev/null; rc=$$?; \
	if [ $$rc -gt 1 ]; then exit $$rc; fi; \
	echo; echo "The demo month's report: demo-reports/$$month/report.html (also report.md, report.json)"

test: install ## Run the whole test suite (what CI runs)
	$(PY) -m pytest -q -n 2

test-fast: install ## The suite without the tests marked slow (Chromium, the real crontab, big data): for development
	$(PY) -m pytest -q -n 2 -m "not slow"

lint: install ## Check the import contract (pyproject.toml), lint the query pack (rendered, every engine) and the raw templates
	$(VENV)/bin/lint-imports --no-cache
	$(VENV)/bin/flowsql lint
	$(VENV)/bin/sqlfluff lint sql/

bench: install ## Measure speed against the baselines (see bench/README.md)
	$(PY) bench/run.py

clean: ## Remove the virtualenv, caches and demo output
	rm -rf $(VENV) demo-output demo-reports .pytest_cache .hypothesis .import_linter_cache build dist flowsql/engines/local/_records*.so flowsql/report/_jsonrows*.so
