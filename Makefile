# The few commands people run. `make run` sets up and starts everything; `make test` runs the
# fast unit tests in parallel; `make test-all` runs every test (what CI runs). Each creates the
# virtual environment in .venv on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# make is for one's own machine: without DJANGO_SECRET_KEY, the studio makes a key once and
# keeps it in var/secret_key (a server started any other way refuses to start without one).
export STUDIO_LOCAL_SECRET_KEY ?= true

.PHONY: run test test-all install chromium lint typecheck lock format clean

# `make run PORT=8002 STANDIN_PORT=8003` when 8000 or 8001 is taken (STUDIO_PORT and
# STUDIO_STANDIN_PORT from the environment work too).
PORT ?= $(or $(STUDIO_PORT),8000)
STANDIN_PORT ?= $(or $(STUDIO_STANDIN_PORT),8001)

run: install  ## install, migrate, start web + worker (+ stand-in API without a key), supervised
	$(BIN)/python manage.py migrate --noinput
	STUDIO_PORT=$(PORT) STUDIO_STANDIN_PORT=$(STANDIN_PORT) $(BIN)/python manage.py run_studio

test: install  ## the unit tests, in parallel (a minute or two): the loop while you work
	$(BIN)/python -m pytest -n auto tests/unit

test-all: install chromium  ## every test: unit, integration (real worker + stand-in), browser
	$(BIN)/python -m pytest -n auto tests/unit
	$(BIN)/python -m pytest tests/integration tests/browser

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $@

chromium:  ## the browser tests drive Debian's Chromium (Playwright cannot download one here)
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; \
	  else echo "Browser tests need Chromium: sudo apt-get install chromium" >&2; exit 1; fi; }

lint: install  ## ruff, formatting, the Dockerfile, and models without a migration
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/hadolint Dockerfile
	$(BIN)/python manage.py makemigrations --check --dry-run

typecheck: install  ## mypy with django-stubs
	$(BIN)/mypy

lock: install  ## pin the image's dependencies (with hashes) after changing them in pyproject.toml
	$(BIN)/pip install --quiet pip-tools
	$(BIN)/pip-compile --quiet --generate-hashes --strip-extras --allow-unsafe \
	  --no-emit-index-url --no-emit-find-links -o requirements.lock pyproject.toml

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:
	rm -rf $(VENV) var .pytest_cache
