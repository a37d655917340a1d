# The two commands of the README: `make run` starts the bot, `make test` runs every test.
# Both create the virtual environment and install what they need.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test test-fast lint typecheck catalogs audit reliability clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

catalogs: $(STAMP)
	$(BIN)/python -m bot i18n compile

run: $(STAMP) catalogs
	$(BIN)/python -m bot run

# Style, formatting, the import contracts (who may import whom: pyproject.toml) and the types.
lint: $(STAMP)
	$(BIN)/ruff check bot db tests bench
	$(BIN)/ruff format --check bot db tests bench
	$(BIN)/lint-imports --no-cache
	$(MAKE) typecheck

# mypy on everything; strict on the kernel (bot/core).
typecheck: $(STAMP)
	$(BIN)/mypy bot db

test: $(STAMP) catalogs lint
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# The unit layer: rules, outputs and boundaries without a database, a network or a subprocess (under a minute).
test-fast: $(STAMP) catalogs
	$(BIN)/python -m pytest -m "not db and not slow" $(PYTEST_ARGS)

# The crash, abuse and privacy suite alone (it also runs in `make test`).
reliability: $(STAMP)
	$(BIN)/python -m pytest -m reliability $(PYTEST_ARGS)

# Known vulnerabilities in the installed dependencies fail; an unreachable database only prints a notice.
audit: $(STAMP)
	$(BIN)/python .ci/audit.py

clean:
	rm -rf $(VENV) data .pytest_cache
