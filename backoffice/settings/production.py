"""Production settings: HTTPS only, secrets required, nothing defaulted that could be wrong in production."""

from __future__ import annotations

from django.core.exceptions import ImproperlyConfigured

from backoffice.settings.base import *  # noqa: F403
from backoffice.settings.env import read

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

# METRICS -------------------------------------------------------------------------------------------------
# /metrics tells anyone who can reach it the request rates, error rates and latencies of every view: in
# production it must be closed by a bearer token or an allow-list of the scrapers' networks (or both).
if not METRICS_TOKEN and not METRICS_ALLOWED_NETWORKS:  # noqa: F405 (from base)
    raise ImproperlyConfigured(
        "METRICS_TOKEN: /metrics would be open to anyone; set METRICS_TOKEN (scrape with "
        "'Authorization: Bearer <token>') or METRICS_ALLOWED_NETWORKS (the scrapers' CIDRs), or both"
    )
