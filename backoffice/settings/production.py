"""Production settings: HTTPS only, secrets required, nothing defaulted that could be wrong in production."""

from __future__ import annotations

from django.core.exceptions import ImproperlyConfigured

from backoffice.settings.base import *  # noqa: F403
from backoffice.settings.env import provided, read

DEBUG = False
ALLOWED_HOSTS = read("ALLOWED_HOSTS", "list")  # required: no default in production
SECURE_SSL_REDIRECT = read("SECURE_SSL_REDIRECT", "bool", default=True)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_HSTS_SECONDS = read("SECURE_HSTS_SECONDS", "int", default=31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^metrics$"]
DEMO_TOOLS = False
IDENTITY_HASH_KEY = read("IDENTITY_HASH_KEY")  # required: see base.py
KYC_HASH_KEY = read("KYC_HASH_KEY")  # required: see base.py
KYC_FIELD_KEYS = read("KYC_FIELD_KEYS", "list")  # required: see base.py
if not KYC_FIELD_KEYS:
    raise ImproperlyConfigured("KYC_FIELD_KEYS: at least one Fernet key (docs/KYC.md)")

# METRICS -------------------------------------------------------------------------------------------------
# /metrics tells anyone who can reach it the request rates, error rates and latencies of every view: in
# production it must be closed by a bearer token or an allow-list of the scrapers' networks (or both).
if not METRICS_TOKEN and not METRICS_ALLOWED_NETWORKS:  # noqa: F405 (from base)
    raise ImproperlyConfigured(
        "METRICS_TOKEN: /metrics would be open to anyone; set METRICS_TOKEN (scrape with "
        "'Authorization: Bearer <token>') or METRICS_ALLOWED_NETWORKS (the scrapers' CIDRs), or both"
    )

# AUDIT ---------------------------------------------------------------------------------------------------
AUDIT_HMAC_KEY = read("AUDIT_HMAC_KEY")  # required: see base.py
if len(AUDIT_HMAC_KEY) < 32:
    raise ImproperlyConfigured("AUDIT_HMAC_KEY: use at least 32 random characters (it keys the audit trail)")

# DATABASE ------------------------------------------------------------------------------------------------
# The application must never log in as the role that owns the tables (it could alter them and disable their
# triggers). MIGRATION_DATABASE_URL is given only to the processes that run migrations or DDL (the release
# step, the worker that takes the daily partition task); without it this process has no owner connection.
if not provided("MIGRATION_DATABASE_URL"):
    del DATABASES["migration"]  # noqa: F405
elif DATABASES["migration"]["USER"] == DATABASES["default"]["USER"]:  # noqa: F405
    raise ImproperlyConfigured(
        "DATABASE_URL: the application connects as the owner role of MIGRATION_DATABASE_URL "
        f"({DATABASES['default']['USER']!r}); give it its own role without DDL rights (docs/DEPLOYMENT.md)"  # noqa: F405
    )
