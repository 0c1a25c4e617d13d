# make run: set up and index this repository; make test: set up and run the suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint bench clean compile native conformance conformance-update

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	# compat: a plain .pth path entry; the default editable mode installs an import hook
	# that costs every codelens process ~20 ms at start-up (measured on the no-op index).
	# It also compiles the native walker in place (indexer/_native*.so).
	$(BIN)/pip install --quiet -e '.[dev]' --config-settings editable_mode=compat
	touch $(STAMP)

# The C walker (indexer/_native.c with the tree-sitter core in indexer/vendor/), rebuilt in
# place after an edit: the package's own optional extension (pyproject.toml), built as
# `pip install` builds it; a no-op when it is up to date. -W: ext-modules in pyproject.toml
# is flagged experimental by setuptools on every build.
native: $(STAMP)
	$(BIN)/python -W ignore::UserWarning -c 'from setuptools import setup; setup()' \
		--quiet build_ext --inplace

# Byte-compile codelens: start-up is most of a no-op run, and with PYTHONDONTWRITEBYTECODE
# set (as on these machines) Python would compile every module on every run.
compile: native
	$(BIN)/python -m compileall -q indexer

run: compile
	$(BIN)/codelens index .
	$(BIN)/codelens status .
	$(BIN)/codelens query "SELECT kind, count(*) AS n FROM symbols GROUP BY kind ORDER BY n DESC" --root .

test: native
	$(BIN)/pytest -q

lint: $(STAMP)
	$(BIN)/ruff check indexer tests tools
	$(BIN)/mypy indexer
	$(BIN)/lint-imports

# semgrep's engine tests (../shared/conformance): a table per suite; details in .conformance/
conformance: compile
	../shared/conformance/run

# record what passes now as the ratchet `make test` holds (tests/conformance_passing.tsv)
conformance-update: conformance
	$(BIN)/python tools/conformance.py update

bench: compile
	$(BIN)/python tools/bench.py

clean:
	rm -rf $(VENV) .codelens tools/.bench tools/.native build indexer/_native.*.so*
