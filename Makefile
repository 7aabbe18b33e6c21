# gimark developer tasks. `make help` lists them.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
MYPY_ROOT := .mypy-stubs
PACKAGES := core keys labels trace verify_web
TRANSLATIONS := verify_web/translations

.PHONY: help dev demo test lint typecheck pytest bench translations clean

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(STAMP): setup.cfg pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

dev: $(STAMP)  ## create .venv with gimark (editable) and the dev tools

demo: $(STAMP)  ## set up a demo instance on SQLite and serve it on http://127.0.0.1:8000/
	GIMARK_HOME=$${GIMARK_HOME:-instance/demo} $(BIN)/gimark demo

lint: $(STAMP)  ## ruff lint and format check
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)  ## mypy --strict on the packages (mapped into the gimark namespace)
	@rm -rf $(MYPY_ROOT) && mkdir -p $(MYPY_ROOT)/gimark
	@for p in $(PACKAGES); do ln -s ../../$$p $(MYPY_ROOT)/gimark/$$p; done
	cd $(MYPY_ROOT) && ../$(BIN)/mypy --config-file ../setup.cfg $(addprefix -p gimark.,$(PACKAGES))

pytest: $(STAMP)  ## the test suite (SQLite and PostgreSQL)
	$(BIN)/pytest

test: lint typecheck pytest  ## everything CI runs: lint, types, tests

bench: $(STAMP)  ## run every benchmark under bench/
	@for b in $(filter-out bench/seeding.py,$(wildcard bench/*.py)); do \
		echo "== $$b"; $(BIN)/python $$b || exit 1; done

translations: $(STAMP)  ## extract the web pages' strings, update the catalogs, compile them
	$(BIN)/pybabel --quiet extract -F babel.cfg -k lazy_gettext --sort-by-file --omit-header \
		-o $(TRANSLATIONS)/messages.pot .
	$(BIN)/pybabel --quiet update -i $(TRANSLATIONS)/messages.pot -d $(TRANSLATIONS) --no-fuzzy-matching
	$(BIN)/pybabel compile --statistics -d $(TRANSLATIONS)

clean:  ## remove the venv and caches
	rm -rf $(VENV) $(MYPY_ROOT) .mypy_cache .ruff_cache .pytest_cache build dist *.egg-info
