# Pitboss: `make run` serves the backoffice with demo data; `make test` runs the whole suite.
# Both need PostgreSQL and Redis (defaults: 127.0.0.1:5432 and 127.0.0.1:6379; see README for overrides).

PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
STAMP := $(VENV)/.installed
CHROMIUM ?= /usr/bin/chromium

.PHONY: run test lint bench faults venv services db chromium pdflibs clean

$(STAMP): requirements.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV) || python3 -m venv $(VENV)
	$(PIP) install --quiet --disable-pip-version-check -r requirements.txt 2> $(VENV)/pip.log || { cat $(VENV)/pip.log; exit 1; }
	@touch $(STAMP)

venv: $(STAMP)

.env:
	@echo "# Local settings for make run (not committed). See README for every variable." > .env
	@echo "SECRET_KEY=$$($(PY) -c 'import secrets; print(secrets.token_urlsafe(50))')" >> .env
	@echo "IDENTITY_HASH_KEY=$$($(PY) -c 'import secrets; print(secrets.token_urlsafe(32))')" >> .env
	@echo "AUDIT_HMAC_KEY=$$($(PY) -c 'import secrets; print(secrets.token_urlsafe(32))')" >> .env
	@echo "created .env with a new SECRET_KEY"

# WeasyPrint (the reports' PDF summaries) needs Pango and a font: Debian's, installed when missing.
pdflibs:
	@{ ldconfig -p | grep -q 'libpangoft2-1.0.so.0' && test -f /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf; } || \
	  { echo "installing Pango and the DejaVu fonts for the reports' PDF files"; \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libpango-1.0-0 libpangoft2-1.0-0 \
	  fonts-dejavu-core > /dev/null) || { echo "could not install Pango (apt-get): PDF reports need it"; exit 1; }; }

services: $(STAMP) .env pdflibs
	@$(PY) manage.py check_services

# ensure_database: the owner and application roles and the database (as the postgres superuser, idempotent);
# migrate runs as the owner (MIGRATION_DATABASE_URL) and grants the application's role (DATABASE_URL) its rights.
db: services
	@$(PY) manage.py ensure_database
	@$(PY) manage.py migrate --no-input
	@$(PY) manage.py install_schedule
	@$(PY) manage.py collectstatic --no-input --verbosity 0

run: db
	@$(PY) manage.py seed_demo --players 3000
	@$(PY) manage.py demo_access
	@$(PY) manage.py serve --register-sandbox

# Debian's chromium for the browser test (never a downloaded browser build).
chromium:
	@test -x $(CHROMIUM) || { echo "installing Debian's chromium for the browser test"; \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium > /dev/null) \
	  || { echo "could not install chromium (apt-get): the browser test needs $(CHROMIUM)"; exit 1; }; }

# The suite builds its database as the owner role and runs as the application's role: both are made first.
test: $(STAMP) chromium pdflibs
	@DJANGO_SETTINGS_MODULE=backoffice.settings.test PITBOSS_IGNORE_DOTENV=1 $(PY) manage.py check_services
	@DJANGO_SETTINGS_MODULE=backoffice.settings.test PITBOSS_IGNORE_DOTENV=1 $(PY) manage.py ensure_database --roles-only
	$(VENV)/bin/pytest -n 2 --dist loadgroup $(PYTEST_ARGS)

# The fault tests' long versions (Redis down 20 s, read-only 20 s, receiver down 60 s, production leases): one
# private PostgreSQL cluster, redis-server and served app (tests/faults); figures appended to var/faults.jsonl.
faults: $(STAMP)
	@mkdir -p var
	FAULTS_LONG=1 FAULTS_FIGURES=var/faults.jsonl $(VENV)/bin/pytest -p no:xdist -s -q tests/faults

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

bench: $(STAMP)
	@command -v wrk > /dev/null || { echo "installing Debian's wrk for the HTTP benchmark"; \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk > /dev/null) || echo "could not install wrk: the HTTP benchmark will be skipped"; }
	DJANGO_SETTINGS_MODULE=backoffice.settings.test PITBOSS_IGNORE_DOTENV=1 $(PY) -m bench

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
