"""Test settings: the same real PostgreSQL and Redis, isolated by database name, Redis db and key prefix."""

from __future__ import annotations

import os
import tempfile

os.environ.setdefault("SECRET_KEY", "test-only-secret-key-not-for-production-use-0123456789")
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/15")
os.environ.setdefault("CELERY_BROKER_URL", "redis://127.0.0.1:6379/14")
os.environ.setdefault("LOG_FORMAT", "console")
os.environ.setdefault("LOG_LEVEL", "WARNING")

from backoffice.settings.base import *  # noqa: F403
from backoffice.settings.base import CACHES, DATABASES
from backoffice.settings.env import BASE_DIR

# Each pytest-xdist worker gets its own key space, so throttles and lockouts of one never leak into another.
# (Set here, not through os.environ: the controller process would pass its value on to the workers.)
CACHES["default"]["KEY_PREFIX"] = (
    f"pitboss-test-{os.environ.get('TEST_DATABASE_NAME', '')}{os.environ.get('PYTEST_XDIST_WORKER', 'main')}"
)
CACHES["lockout"]["KEY_PREFIX"] = CACHES["default"]["KEY_PREFIX"]  # the staff lockout's strict alias, same keys

# Argon2 is deliberately slow; tests that do not test hashing should not pay for it on every user.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# Two checkouts (or two sessions) testing at once on one server set TEST_DATABASE_NAME, REDIS_URL and
# CELERY_BROKER_URL apart; the defaults are what `make test` uses.
DATABASES["default"]["TEST"] = {"NAME": os.environ.get("TEST_DATABASE_NAME", "test_pitboss")}
# DATABASE: the suite logs in as the owner role (it creates, migrates and flushes its own test database) and, once
# the database is built, acts as the application's role in every test (tests/dbroles.py): the whole suite runs
# with the privileges the application has in production. One connection for both, so a test's DDL (the ledger's
# partition switch) stays inside its transaction and is rolled back with it.
_owner = DATABASES.pop("migration")
# The reports replica is not the suite's: a REPORTS_DATABASE_URL in the environment is ignored here (tests declare
# only "default"); tests/reports/test_replica.py starts a primary and a streaming replica of its own.
DATABASES.pop("reports", None)
DATABASES["default"].update({key: _owner[key] for key in ("USER", "PASSWORD", "HOST", "PORT")})
DATABASE_DDL_ALIAS = "default"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WHITENOISE_AUTOREFRESH = True

# AUDIT: tests/conftest.py gives every test its own empty checkpoint directory; this one is for anything else.
AUDIT_CHECKPOINT_DIR = str(BASE_DIR / "var" / "test-audit-checkpoints")

# No worker consumes the test broker: postings do not nudge drains (tests drain themselves; one test turns it on).
POSTING_EVENTS_NUDGE = False

# KYC documents stored by tests outside tests/kyc (whose fixture gives each test a folder of its own): one
# throw-away folder per test process, never the checkout's var/kyc-files.
KYC_FILES_ROOT = os.path.join(tempfile.gettempdir(), f"pitboss-kyc-test-files-{os.getpid()}")
REPORTS_FILES_ROOT = os.environ.get("REPORTS_FILES_ROOT") or os.path.join(
    tempfile.gettempdir(), f"pitboss-report-test-files-{os.getpid()}"
)

# Screening fails closed (a registration with no watchlist imported is refused), which every test that registers a
# player would have to prepare for: off here; tests/screening/test_wiring.py turns it on and checks the refusal.
SCREENING_REQUIRED = False
