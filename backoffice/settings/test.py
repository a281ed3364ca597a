"""Test settings: the same real PostgreSQL and Redis, isolated by database name, Redis db and key prefix."""

from __future__ import annotations

import os

os.environ.setdefault("SECRET_KEY", "test-only-secret-key-not-for-production-use-0123456789")
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/15")
os.environ.setdefault("CELERY_BROKER_URL", "redis://127.0.0.1:6379/14")
os.environ.setdefault("LOG_FORMAT", "console")
os.environ.setdefault("LOG_LEVEL", "WARNING")

from backoffice.settings.base import *  # noqa: F403
from backoffice.settings.base import CACHES, DATABASES

# Each pytest-xdist worker gets its own key space, so throttles and lockouts of one never leak into another.
# (Set here, not through os.environ: the controller process would pass its value on to the workers.)
CACHES["default"]["KEY_PREFIX"] = (
    f"pitboss-test-{os.environ.get('TEST_DATABASE_NAME', '')}{os.environ.get('PYTEST_XDIST_WORKER', 'main')}"
)

# Argon2 is deliberately slow; tests that do not test hashing should not pay for it on every user.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# Two checkouts (or two sessions) testing at once on one server set TEST_DATABASE_NAME, REDIS_URL and
# CELERY_BROKER_URL apart; the defaults are what `make test` uses.
DATABASES["default"]["TEST"] = {"NAME": os.environ.get("TEST_DATABASE_NAME", "test_pitboss")}
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WHITENOISE_AUTOREFRESH = True
