# Practice Atlas. Two commands do all the set-up on a fresh machine:
#   make run    serve the catalogue at http://127.0.0.1:$(PORT)/
#   make test   run the whole test suite
PORT ?= 8000
VENV := .venv
PY := $(VENV)/bin/python
MANAGE := $(PY) manage.py

.PHONY: run test setup superuser check lint format lock clean loadtest

# Find Python >= 3.12: the usual names first, then pyenv's builds (its shims exit
# 127 when a version is not selected, so each candidate is actually run).
$(PY):
	@py=""; \
	for c in python3.13 python3.12 python3 $$(ls -d "$${PYENV_ROOT:-$$HOME/.pyenv}"/versions/3.*/bin/python3 2>/dev/null | sort -rV); do \
	  if "$$c" -c 'import sys; sys.exit(sys.version_info < (3, 12))' >/dev/null 2>&1; then py="$$c"; break; fi; \
	done; \
	if [ -z "$$py" ]; then \
	  echo "Practice Atlas needs Python 3.12 or newer, and none was found."; \
	  echo "Install python3.12 or python3.13 (e.g. 'apt-get install python3.13 python3.13-venv', or https://www.python.org/downloads/) and run make again."; \
	  exit 1; \
	fi; \
	echo "Creating $(VENV) with $$py ($$("$$py" --version))"; \
	"$$py" -m venv $(VENV) || { echo "Could not create a virtualenv: install your Python's venv module (e.g. python3-venv) and retry."; rm -rf $(VENV); exit 1; }; \
	$(PY) -m pip install --quiet --upgrade pip

$(VENV)/.runtime: $(PY) requirements.txt
	$(PY) -m pip install --quiet -r requirements.txt
	@touch $@

$(VENV)/.dev: $(VENV)/.runtime requirements-dev.txt
	$(PY) -m pip install --quiet -r requirements-dev.txt
	@touch $@

# A local .env with a generated secret (git-ignored); existing values are kept.
.env:
	@touch .env

var/.env-checked: .env | $(PY)
	@mkdir -p var
	@grep -q '^SECRET_KEY=.' .env || echo "SECRET_KEY=$$($(PY) -c 'import secrets; print(secrets.token_urlsafe(50))')" >> .env
	@grep -q '^ALLOWED_HOSTS=.' .env || echo "ALLOWED_HOSTS=127.0.0.1,localhost" >> .env
	@touch $@

setup: $(VENV)/.runtime var/.env-checked
	$(MANAGE) migrate --noinput
	$(MANAGE) load_catalogue
	$(MANAGE) load_indicators
	$(MANAGE) collectstatic --noinput --verbosity 0

run: setup
	@echo ""
	@echo "Practice Atlas is running at http://127.0.0.1:$(PORT)/  (Ctrl+C to stop)"
	@echo "Curators: create an admin account with 'make superuser', then sign in at http://127.0.0.1:$(PORT)/$${ADMIN_PATH:-admin/}"
	@echo ""
	PORT=$(PORT) $(VENV)/bin/gunicorn -c config/gunicorn.py config.wsgi

# Operations: load test against gunicorn on loopback (ops/loadtest.py). Needs wrk:
# installed with apt-get when missing and run as root, otherwise it says what to do.
# `make loadtest DURATION=10s CONNECTIONS=16` for a quick run.
DURATION ?= 30s
CONNECTIONS ?= 64
loadtest: setup
	@command -v wrk >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "Installing wrk (apt-get install -y wrk)"; \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null || \
	      { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; }; \
	  else \
	    echo "make loadtest needs wrk: install it (apt-get install wrk, brew install wrk) and run it again."; exit 1; \
	  fi; }
	DURATION=$(DURATION) CONNECTIONS=$(CONNECTIONS) $(PY) -m ops.loadtest

superuser: setup
	$(MANAGE) createsuperuser

# The whole suite on as many workers as CPUs (pytest-xdist), each with its own
# test database. xdist's default distribution hands tests out in the suite's
# order, which each worker then keeps (tests/conftest.py says why it matters).
# `make test TESTS=tests/practices` runs one app's tests; WORKERS=0, in one process.
WORKERS ?= auto
TESTS ?=
test: $(VENV)/.dev
	$(VENV)/bin/pytest -n $(WORKERS) --durations=10 $(TESTS)

check: $(VENV)/.dev var/.env-checked
	$(MANAGE) check
	$(MANAGE) makemigrations --check --dry-run

lint: $(VENV)/.dev
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/ruff check .

format: $(VENV)/.dev
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

# Regenerate the full locks after editing the pins in pyproject.toml.
lock: $(VENV)/.dev
	UV_PYTHON_DOWNLOADS=never $(VENV)/bin/uv pip compile pyproject.toml --python $(PY) --python-version 3.12 -q -o requirements.txt
	UV_PYTHON_DOWNLOADS=never $(VENV)/bin/uv pip compile pyproject.toml --group dev --python $(PY) --python-version 3.12 -q -o requirements-dev.txt

clean:
	rm -rf $(VENV) staticfiles var/.env-checked
