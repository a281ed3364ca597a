"""Pitboss settings shared by every environment. Values come from environment variables (or ``.env``)."""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal

import structlog
from django.core.exceptions import ImproperlyConfigured

from backoffice.settings.env import BASE_DIR, provided, read, read_database, read_networks, read_url

# CORE ----------------------------------------------------------------------------------------------------
SECRET_KEY = read("SECRET_KEY")
DEBUG = read("DEBUG", "bool", default=False)
ALLOWED_HOSTS = read("ALLOWED_HOSTS", "list", default=["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = read("CSRF_TRUSTED_ORIGINS", "list", default=[])
ROOT_URLCONF = "backoffice.urls"
WSGI_APPLICATION = "backoffice.wsgi.application"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
LANGUAGE_CODE = "en-gb"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# APPS ----------------------------------------------------------------------------------------------------
INSTALLED_APPS = [
    # unfold must come before django.contrib.admin to provide its templates
    "unfold.apps.BasicAppConfig",  # not the default config: it would replace our 2FA admin site
    "unfold.contrib.filters",
    "apps.staff.apps.StaffAdminConfig",  # django.contrib.admin with our 2FA site as the default site
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "axes",
    "guardian",
    "pgtrigger",
    "rest_framework",
    "rest_framework_api_key",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_filters",
    "django_celery_beat",
    "django_celery_results",
    "django_prometheus",
    "csp",
    # ours
    "apps.core",
    "apps.staff",
    "apps.audit",
    "apps.api",
    "apps.geo",
    "apps.players",
    "apps.wallet",
    "apps.kyc",  # before responsible: its eligibility check runs before the national register is asked
    "apps.responsible",
    "apps.approvals",
    "apps.compliance",
    "apps.screening",
    "apps.sars",
    "apps.crm",
    "apps.bonuses",
    "apps.reports",
    "simple_history",
    "django.contrib.postgres",
]

# Browser-only middleware is wrapped by apps.core.lanes: it steps aside on the platform API (/api/v1/), which
# has no sessions, cookies, CSRF, staff login or page policies. Same order as the middleware it wraps.
MIDDLEWARE = [
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    "apps.core.middleware.RequestIdMiddleware",
    "apps.core.middleware.HostileUrlMiddleware",  # NUL bytes and unparsable admin ids: 4xx, not a 500
    "django.middleware.security.SecurityMiddleware",
    "apps.core.lanes.StaticFiles",  # whitenoise
    "apps.core.lanes.SecurityPolicies",  # django-csp
    "apps.core.lanes.PermissionsPolicy",
    "apps.core.lanes.Sessions",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",  # by name for the deploy checks; API views are exempt
    "apps.core.lanes.Authentication",
    "apps.core.lanes.Otp",
    "apps.core.lanes.StaffNetworks",
    "apps.core.lanes.StaffEnrolment",
    "apps.core.lanes.Messages",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",  # by name for the deploy checks
    "django_structlog.middlewares.RequestMiddleware",
    "axes.middleware.AxesMiddleware",  # only acts on login attempts; its check wants it by name
    "apps.core.lanes.HistoryUser",  # simple-history
    "django_prometheus.middleware.PrometheusAfterMiddleware",
]

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "csp.context_processors.nonce",
            ],
        },
    },
]

# DATABASE ------------------------------------------------------------------------------------------------
# Two roles (docs/DEPLOYMENT.md, "Database roles"). The application connects as DATABASE_URL's role, which may
# only read and write rows (never UPDATE/DELETE the audit trail or the ledger, no TRUNCATE, no DDL, no trigger
# rights): only the owner of a table can alter it or disable its triggers, and the application is not it.
# Migrations and the other DDL (the ledger's month partitions) connect as MIGRATION_DATABASE_URL's role, which
# owns every table (alias "migration": `manage.py migrate` uses it, and apps.core.dbroles.ddl_alias()).
# `manage.py ensure_database` creates both roles (with DATABASE_ADMIN_URL, a superuser, on a dev machine).
# An older set-up that gives only DATABASE_URL keeps one role for both (not allowed in production).
DATABASES = {"default": read_database("DATABASE_URL", "postgres://pitboss_app@127.0.0.1:5432/pitboss")}
_owner_url = read("DATABASE_URL") if provided("DATABASE_URL") else "postgres://pitboss_owner@127.0.0.1:5432/pitboss"
DATABASES["migration"] = read_database("MIGRATION_DATABASE_URL", _owner_url)
DATABASES["migration"]["CONN_MAX_AGE"] = 0
DATABASE_ROLES = {  # what ensure_database creates (the test settings log in differently, not as other roles)
    "app": {"USER": DATABASES["default"]["USER"], "PASSWORD": DATABASES["default"]["PASSWORD"]},
    "owner": {"USER": DATABASES["migration"]["USER"], "PASSWORD": DATABASES["migration"]["PASSWORD"]},
}
DATABASE_APP_ROLE = DATABASE_ROLES["app"]["USER"]
DATABASE_OWNER_ROLE = DATABASE_ROLES["owner"]["USER"]
DATABASE_DDL_ALIAS = "migration"
_server = f"{DATABASES['default'].get('HOST') or '127.0.0.1'}:{DATABASES['default'].get('PORT') or 5432}"
_schemes = ("postgres", "postgresql")
# A superuser, only for `manage.py ensure_database` (creating the roles and the database on a dev machine or CI).
DATABASE_ADMIN_URL = read_url("DATABASE_ADMIN_URL", f"postgres://postgres@{_server}/postgres", _schemes)
# Django's native psycopg 3 pool: a new connection per request costs 8-10x a pooled one on this machine.
DATABASES["default"]["CONN_MAX_AGE"] = 0
# Our backend (apps/core/pgbackend) discards a pooled connection that failed read-only or with the server shutting
# down, instead of giving it back to the pool. POOL_CHECK: it checks each connection it takes from the pool
# (psycopg_pool's ConnectionPool.check_connection, one empty round trip) and replaces a dead one at once, so after a
# PostgreSQL restart a stale connection does not fail the request that drew it. Not CONN_HEALTH_CHECKS: that makes
# it the pool's own check, which backs off 1 s, 2 s, 4 s... between dead connections (docs/RELIABILITY.md).
DATABASES["default"]["ENGINE"] = "apps.core.pgbackend"
DATABASES["default"]["POOL_CHECK"] = read("DATABASE_POOL_CHECK", "bool", default=True)
DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
    "min_size": read("DATABASE_POOL_MIN", "int", default=1),
    "max_size": read("DATABASE_POOL_MAX", "int", default=10),
    "timeout": read("DATABASE_POOL_TIMEOUT", "int", default=10),
}
# Parameters travel separately from the SQL text, so each query's text is constant and psycopg prepares it on
# the server after a few runs: PostgreSQL then skips planning, about half its time on the wallet's hot path
# (docs/PERFORMANCE.md). Needs a direct connection (not a transaction-pooling PgBouncer).
DATABASES["default"]["OPTIONS"]["server_side_binding"] = read("DATABASE_SERVER_SIDE_BINDING", "bool", default=True)
DATABASES["default"]["OPTIONS"]["prepare_threshold"] = read("DATABASE_PREPARE_THRESHOLD", "int", default=5) or None
# Reports read a streaming replica when REPORTS_DATABASE_URL is set (alias "reports", apps/reports/router.py);
# without it they read the primary through "default". Nothing is migrated on the replica.
if provided("REPORTS_DATABASE_URL"):
    DATABASES["reports"] = read_database("REPORTS_DATABASE_URL", "postgres://pitboss_app@127.0.0.1:5432/pitboss")
    DATABASES["reports"]["CONN_MAX_AGE"] = 0
    # A replica that does not answer fails the run within seconds (then the runner's retry), never holds it for
    # the system's TCP timeout; a ?connect_timeout= in the URL wins.
    DATABASES["reports"].setdefault("OPTIONS", {}).setdefault("connect_timeout", 10)
DATABASE_ROUTERS = ["apps.reports.router.ReportsRouter"]
# How long a run waits for the replica to replay what the primary had committed when the run started
# (apps/reports/router.py await_replica); past it the attempt fails (ReportsReplicaBehind) and is retried. Keep it
# under REPORTS_STALL_SECONDS: a waiting run writes no heartbeat.
REPORTS_REPLICA_WAIT_SECONDS = read("REPORTS_REPLICA_WAIT_SECONDS", "int", default=60)

# REDIS: cache, sessions' cache, throttles, login lockout; broker ---------------------------------------------
REDIS_URL = read_url("REDIS_URL", "redis://127.0.0.1:6379/0", ("redis", "rediss", "unix"))
CACHE_KEY_PREFIX = read("CACHE_KEY_PREFIX", default="pitboss")
# The default cache serves a Redis outage as misses (apps/core/cache.py): everything in it can be rebuilt from the
# database. The staff login lockout (django-axes) uses the strict alias: no lockout state, no staff login (503).
_redis_options = {
    "CLIENT_CLASS": "django_redis.client.DefaultClient",
    "SOCKET_CONNECT_TIMEOUT": 2,
    "SOCKET_TIMEOUT": 2,
}
CACHES = {
    "default": {
        "BACKEND": "apps.core.cache.DegradingRedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": CACHE_KEY_PREFIX,
        "TIMEOUT": 300,
        "OPTIONS": _redis_options,
    },
    "lockout": {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": CACHE_KEY_PREFIX,
        "TIMEOUT": 300,
        "OPTIONS": _redis_options,
    },
}
# Once Redis fails, each process leaves it alone for this long before one call tries again (apps/core/degradation.py)
REDIS_RETRY_SECONDS = read("REDIS_RETRY_SECONDS", float, default=1.0)
# An outage is logged when it starts, when it ends, and at most once per this many seconds in between.
DEGRADATION_LOG_SECONDS = read("DEGRADATION_LOG_SECONDS", float, default=30.0)
# The /readyz checks whose failure makes the process unready (503); the others only report "degraded".
READYZ_REQUIRED_CHECKS = read("READYZ_REQUIRED_CHECKS", "list", default=["database"])
if not set(READYZ_REQUIRED_CHECKS) <= {"database", "redis", "broker"}:
    raise ImproperlyConfigured("READYZ_REQUIRED_CHECKS: a comma-separated list of database, redis, broker")
# Retry-After of the 503 service_unavailable answered while a dependency is down.
SERVICE_UNAVAILABLE_RETRY_AFTER = {
    "database": read("DATABASE_RETRY_AFTER_SECONDS", int, default=2),
    "redis": read("REDIS_RETRY_AFTER_SECONDS", int, default=2),
    "broker": read("BROKER_RETRY_AFTER_SECONDS", int, default=5),
}

# AUTH AND STAFF SECURITY -----------------------------------------------------------------------------------
AUTH_USER_MODEL = "staff.StaffUser"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",  # first: refuses locked-out users before the password is checked
    "django.contrib.auth.backends.ModelBackend",
    "guardian.backends.ObjectPermissionBackend",
]
# No guardian "AnonymousUser" row among the staff: anonymous visitors are never granted anything.
ANONYMOUS_USER_NAME = None
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "admin:login"

# Idle staff sessions expire after 30 minutes: every request pushes the expiry forward.
# Database sessions: expiry is checked against the row on every load (a cache hit would skip that check).
SESSION_ENGINE = "django.contrib.sessions.backends.db"
SESSION_COOKIE_AGE = read("STAFF_SESSION_IDLE_SECONDS", "int", default=30 * 60)
SESSION_SAVE_EVERY_REQUEST = True
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True

# Lockout: 5 failed logins (password or one-time code) within 15 minutes lock the username and the address.
AXES_ENABLED = True
AXES_HANDLER = "axes.handlers.cache.AxesCacheHandler"
AXES_CACHE = "lockout"  # strict: a Redis outage refuses staff logins (503) rather than skip the lockout
AXES_FAILURE_LIMIT = read("STAFF_LOGIN_FAILURE_LIMIT", "int", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=read("STAFF_LOGIN_LOCKOUT_MINUTES", "int", default=15))
AXES_LOCKOUT_PARAMETERS = ["ip_address", "username"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "staff/locked_out.html"

# Client addresses: X-Forwarded-For is trusted only for this many proxies in front of us (0 = none).
TRUSTED_PROXY_COUNT = read("TRUSTED_PROXY_COUNT", "int", default=0)
AXES_IPWARE_PROXY_COUNT = TRUSTED_PROXY_COUNT or None
AXES_IPWARE_META_PRECEDENCE_ORDER = ["HTTP_X_FORWARDED_FOR", "REMOTE_ADDR"] if TRUSTED_PROXY_COUNT else ["REMOTE_ADDR"]

# Optional allow-list of networks staff may reach the admin from (comma-separated CIDRs; empty = anywhere).
STAFF_ALLOWED_NETWORKS = read_networks("STAFF_ALLOWED_NETWORKS")
STAFF_ADMIN_PATH_PREFIX = "/admin/"
OTP_TOTP_ISSUER = read("OTP_TOTP_ISSUER", default="Pitboss")
STAFF_BACKUP_CODE_COUNT = 10

# Security headers
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
CONTENT_SECURITY_POLICY = {
    # JSON answers of the platform API render nothing; building the header there cost ~0.2 ms per bet
    "EXCLUDE_URL_PREFIXES": ["/api/v1/"],
    "DIRECTIVES": {
        "default-src": ["'self'"],
        # the admin theme (Alpine.js, Tailwind) needs inline styles and Alpine's expression evaluator
        "script-src": ["'self'", "'unsafe-inline'", "'unsafe-eval'"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
        "base-uri": ["'self'"],
        "object-src": ["'none'"],
    },
}
PERMISSIONS_POLICY: dict[str, list[str]] = {"camera": [], "microphone": [], "geolocation": [], "payment": [], "usb": []}

# ADMIN THEME ---------------------------------------------------------------------------------------------
UNFOLD = {
    "SITE_TITLE": "Pitboss backoffice",
    "SITE_HEADER": "Pitboss",
    "SITE_SYMBOL": "casino",
    "SHOW_HISTORY": True,
    "SHOW_VIEW_ON_SITE": False,
    # collected static files are hashed by the manifest storage: the URL is resolved per request
    "SITE_FAVICONS": [{"rel": "icon", "type": "image/svg+xml", "href": "apps.core.branding.favicon_url"}],
    # the menu's search box opens the command palette (Ctrl+K): screens by name, and players through the
    # player list's own search (apps.players.search.command_search), as that list would show them to the member
    "SIDEBAR": {"show_search": True, "command_search": True},
    "COMMAND": {"search_callback": "apps.players.search.command_search", "search_models": False},
}

# API -----------------------------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["apps.api.authentication.ApiKeyAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["apps.api.permissions.HasScopes"],
    "DEFAULT_THROTTLE_CLASSES": ["apps.api.throttling.ApiClientRateThrottle"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["apps.api.parsers.JsonParser"],  # refuses deep nesting and NUL characters
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "apps.api.exceptions.exception_handler",
    "UNAUTHENTICATED_USER": None,
    "DEFAULT_VERSIONING_CLASS": None,
}
API_DEFAULT_THROTTLE_RATE = read("API_DEFAULT_THROTTLE_RATE", default="6000/min")
# Invalid API keys allowed per client address; past it every request from that address is 429 until the window
# ends (apps/api/auth_failures.py).
API_AUTH_FAILURE_RATE = read("API_AUTH_FAILURE_RATE", default="30/min")
# How long a verified key is trusted from the cache before the database is asked again. Revoking a key
# also deletes its cache entry at once; this bound covers changes made behind the service's back.
API_KEY_CACHE_SECONDS = read("API_KEY_CACHE_SECONDS", "int", default=10)
# ...and in each process for this long: the bound on how long another worker accepts a just-revoked key.
API_KEY_LOCAL_CACHE_SECONDS = read("API_KEY_LOCAL_CACHE_SECONDS", "int", default=2)
API_KEY_LAST_USED_RESOLUTION_SECONDS = 60
SPECTACULAR_SETTINGS = {
    "TITLE": "Pitboss platform API",
    "DESCRIPTION": (
        "The API the game platform calls. Authenticate with `Authorization: Api-Key <key>`. "
        "Every error has the shape `{code, message, fields, request_id}`."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SERVE_AUTHENTICATION": [],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "LimitKindEnum": "apps.responsible.choices.LimitKind",
        "LimitPeriodEnum": "apps.responsible.choices.LimitPeriod",
        "LimitSourceEnum": "apps.responsible.choices.LimitSource",
        "LimitChangeStatusEnum": "apps.responsible.choices.ChangeStatus",
        "ExclusionKindEnum": "apps.responsible.choices.ExclusionKind",
        "GameCategoryEnum": "apps.geo.choices.GameCategory",
        "PlayerStatusEnum": "apps.players.choices.PlayerStatus",
        "TransactionTypeEnum": "apps.wallet.choices.TransactionType",
        "WithdrawalStatusEnum": "apps.wallet.choices.WithdrawalStatus",
        "EligibilityActionEnum": "apps.players.choices.Action",
        "KycDocumentTypeEnum": "apps.kyc.choices.DocumentType",
        "KycDocumentStateEnum": "apps.kyc.choices.DocumentState",
        "KycLevelEnum": "apps.kyc.choices.Level",
        "KycRejectionReasonEnum": "apps.kyc.choices.RejectionReason",
        "KycTriggerEnum": "apps.kyc.choices.PlatformTrigger",
    },
    # Every operation also documents the errors the plumbing can answer (apps/api/schema.py).
    "POSTPROCESSING_HOOKS": ["drf_spectacular.hooks.postprocess_schema_enums", "apps.api.schema.add_plumbing_errors"],
}

# PLAYERS -------------------------------------------------------------------------------------------------
# Key of the identity hashes (same person across accounts). Set once per installation: changing it orphans
# every stored hash. Defaults to SECRET_KEY for development only; production.py requires it.
IDENTITY_HASH_KEY = read("IDENTITY_HASH_KEY", default=SECRET_KEY)

# KYC -----------------------------------------------------------------------------------------------------
# Keys of the encrypted identity data read off documents (document numbers): Fernet keys (url-safe base64 of 32
# bytes), comma-separated, newest first; the first encrypts, every one decrypts (rotation: docs/KYC.md). Development
# derives one from SECRET_KEY; production.py requires them.
KYC_FIELD_KEYS = read("KYC_FIELD_KEYS", "list", default=[])
# Key of the document-number hashes beside the encrypted numbers (the same passport on two accounts). Set once
# per installation, like IDENTITY_HASH_KEY.
KYC_HASH_KEY = read("KYC_HASH_KEY", default=SECRET_KEY)
# Deposits (in EUR, placed in each currency by CURRENCY_RATES_PER_EUR) from which enhanced due diligence (level 3)
# is required when a jurisdiction's rule pack names no figure of its own.
KYC_EDD_THRESHOLD_EUR = read("KYC_EDD_THRESHOLD_EUR", Decimal, default=Decimal("10000"))
# A document waits at most this long for a KYC Officer (the review queue's SLA), sooner if a requirement is due.
KYC_REVIEW_SLA_HOURS = read("KYC_REVIEW_SLA_HOURS", "int", default=24)
# The queue's "at risk" badge: less than this fraction of the time from opening to due is left (0 to 1).
KYC_REVIEW_AT_RISK_FRACTION = read("KYC_REVIEW_AT_RISK_FRACTION", Decimal, default=Decimal("0.25"))
if not Decimal("0") <= KYC_REVIEW_AT_RISK_FRACTION <= Decimal("1"):
    raise ImproperlyConfigured(f"KYC_REVIEW_AT_RISK_FRACTION: between 0 and 1, got {KYC_REVIEW_AT_RISK_FRACTION}")

# SCREENING -------------------------------------------------------------------------------------------------
# A name score at or above this is a hit for review (apps/screening). With SCREENING_REQUIRED, a registration or a
# name/birth-date change that cannot be screened (no watchlist imported) is refused: fail closed.
SCREENING_THRESHOLD = read("SCREENING_THRESHOLD", float, default=0.70)
if not 0 < SCREENING_THRESHOLD <= 1:
    raise ImproperlyConfigured(f"SCREENING_THRESHOLD: between 0 and 1, got {SCREENING_THRESHOLD}")
SCREENING_REQUIRED = read("SCREENING_REQUIRED", "bool", default=True)

# SARS (goAML) ------------------------------------------------------------------------------------------------
# The operator's identity at its financial intelligence unit and the FIU's goAML schema (apps/sars/conf.py and
# docs/SARS.md say what each holds). Without a schema no export is marked ready. The dicts are JSON.
GOAML_SCHEMA_PATH = read("GOAML_SCHEMA_PATH", default="")
GOAML_RENTITY_ID = read("GOAML_RENTITY_ID", "int", default=None)
GOAML_RENTITY_BRANCH = read("GOAML_RENTITY_BRANCH", default="")
GOAML_SUBMISSION_CODE = read("GOAML_SUBMISSION_CODE", default="E")
GOAML_CURRENCY_LOCAL = read("GOAML_CURRENCY_LOCAL", default="")
GOAML_REPORTING_PERSON = read("GOAML_REPORTING_PERSON", json.loads, default={})
GOAML_LOCATION = read("GOAML_LOCATION", json.loads, default={})
GOAML_INSTITUTION_NAME = read("GOAML_INSTITUTION_NAME", default="")
GOAML_INSTITUTION_CODE = read("GOAML_INSTITUTION_CODE", default="")
GOAML_LOOKUPS = read("GOAML_LOOKUPS", json.loads, default={})

# AUDIT ---------------------------------------------------------------------------------------------------
# Key of the audit chain's row MACs and checkpoint signatures (apps/audit/hashing.py). Never stored in the
# database: whoever can write the table without it cannot re-hash an altered row. Set once per installation
# (a new key cannot verify rows or checkpoints signed with the old one). Defaults to SECRET_KEY for development
# only; production.py requires it.
AUDIT_HMAC_KEY = read("AUDIT_HMAC_KEY", default=SECRET_KEY)
# Where the signed checkpoints of the chain's head are written (nightly, and by manage.py audit_checkpoint):
# outside the database, ideally a volume or object-store mount its users cannot write (apps/audit/checkpoints.py).
# The default folder is per database: a new database starts a new trail (and make bench's is not make run's).
AUDIT_CHECKPOINT_DIR = read(
    "AUDIT_CHECKPOINT_DIR", default=str(BASE_DIR / "var" / "audit-checkpoints" / DATABASES["default"]["NAME"])
)

# APPROVALS (maker-checker, apps/approvals) -----------------------------------------------------------------
# Thresholds in EUR: from these amounts (converted by the currency's rate below) a second staff member must
# approve. Several requests count together: an adjustment adds what the same maker posted for the same player
# without a second person in the window; a withdrawal adds the player's own in the window, whoever approved them.
WITHDRAWAL_SECOND_APPROVAL_THRESHOLD = read("WITHDRAWAL_SECOND_APPROVAL_THRESHOLD", Decimal, default=Decimal("2000"))
ADJUSTMENT_SECOND_APPROVAL_THRESHOLD = read("ADJUSTMENT_SECOND_APPROVAL_THRESHOLD", Decimal, default=Decimal("100"))
# A bonus template is published by a second person when its budget (the publications of the same maker in the
# window added up) reaches this; a template without a budget always needs one.
BONUS_PUBLISH_SECOND_APPROVAL_THRESHOLD = read(
    "BONUS_PUBLISH_SECOND_APPROVAL_THRESHOLD", Decimal, default=Decimal("10000")
)
APPROVAL_ROLLING_WINDOW_HOURS = read("APPROVAL_ROLLING_WINDOW_HOURS", int, default=24)
# A request nobody decided within this many hours expires (hourly task; 0: never): an adjustment is rejected, a
# withdrawal's first approval withdrawn (it goes back to the queue), a lift request or a correction refused.
APPROVAL_PENDING_EXPIRY_HOURS = read("APPROVAL_PENDING_EXPIRY_HOURS", int, default=168)


def _rates(text: str) -> dict[str, Decimal]:
    """``GBP=0.85,KWD=0.33``: units of each currency one EUR buys; a malformed entry fails at start-up."""
    rates: dict[str, Decimal] = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        code, _, value = item.partition("=")
        code, rate = code.strip().upper(), Decimal(value.strip())
        if len(code) != 3 or not code.isalpha() or not rate.is_finite() or rate <= 0:
            raise ValueError(f"{item!r} is not CODE=positive rate")
        rates[code] = rate
    return rates


# Units of each currency per 1 EUR, maintained by the operator (Finance reviews them at least monthly and sets
# CURRENCY_RATES_PER_EUR, e.g. "GBP=0.85,KWD=0.33", which overrides or adds to these). They only place the
# thresholds, never convert money. A currency missing here always needs a second person (fail closed).
CURRENCY_RATES_PER_EUR: dict[str, Decimal] = {
    "EUR": Decimal("1"),
    **_rates("GBP=0.85,USD=1.10,CAD=1.50,SEK=11.50,DKK=7.46,NOK=11.70,CHF=0.95,PLN=4.30,JPY=160,KWD=0.34,BHD=0.41"),
    **read("CURRENCY_RATES_PER_EUR", _rates, default={}),
}
if CURRENCY_RATES_PER_EUR["EUR"] != 1:
    raise ImproperlyConfigured("CURRENCY_RATES_PER_EUR: the rate of EUR is 1")

# RESPONSIBLE GAMBLING: national self-exclusion registers (docs/RESPONSIBLE.md) and webhooks to the platform ---
REGISTER_TIMEOUT_SECONDS = read("REGISTER_TIMEOUT_SECONDS", float, default=2.0)
REGISTER_RETRIES = read("REGISTER_RETRIES", int, default=2)
REGISTER_BACKOFF_SECONDS = read("REGISTER_BACKOFF_SECONDS", float, default=0.2)
REGISTER_CACHE_SECONDS = read("REGISTER_CACHE_SECONDS", int, default=60)
SELF_EXCLUSION_REGISTERS = {
    code: {
        "url": read(f"REGISTER_{code.upper()}_URL", default=""),
        "key": read(f"REGISTER_{code.upper()}_KEY", default=""),
    }
    for code in ("gamstop", "spelpaus", "rofus", "oasis", "cruks", "igo")
}
OUTBOX_MAX_ATTEMPTS = read("OUTBOX_MAX_ATTEMPTS", int, default=8)
OUTBOX_BACKOFF_SECONDS = read("OUTBOX_BACKOFF_SECONDS", float, default=5.0)
OUTBOX_TIMEOUT_SECONDS = read("OUTBOX_TIMEOUT_SECONDS", float, default=5.0)
# A sender leases a delivery for this long before it POSTs; a sender killed mid-delivery leaves the lease to run
# out, and the delivery is sent again (at least once). Longer than a POST can take, so per-player order holds.
OUTBOX_LEASE_SECONDS = read("OUTBOX_LEASE_SECONDS", float, default=60.0)
if OUTBOX_LEASE_SECONDS < 2 * OUTBOX_TIMEOUT_SECONDS:
    raise ImproperlyConfigured(
        "OUTBOX_LEASE_SECONDS: at least twice OUTBOX_TIMEOUT_SECONDS (a POST may take that long)"
    )

# DEMO ----------------------------------------------------------------------------------------------------
# seed_demo / demo_access / totp_code: conveniences for make run; production.py turns them off.
DEMO_TOOLS = read("DEMO_TOOLS", "bool", default=True)

# Only for `make bench`: routes /api/v1/bench/floor, the SELECT-1 baseline view.
BENCH_FLOOR_ENDPOINT = read("BENCH_FLOOR_ENDPOINT", "bool", default=False)

# METRICS -------------------------------------------------------------------------------------------------
# /metrics answers a bearer token (METRICS_TOKEN) or addresses in METRICS_ALLOWED_NETWORKS (comma-separated CIDRs);
# with both set, either is enough. Production refuses to start with neither (backoffice/settings/production.py).
METRICS_TOKEN = read("METRICS_TOKEN", default="")
METRICS_ALLOWED_NETWORKS = read_networks("METRICS_ALLOWED_NETWORKS")

# CELERY --------------------------------------------------------------------------------------------------
CELERY_BROKER_URL = read_url("CELERY_BROKER_URL", "redis://127.0.0.1:6379/1", ("redis", "rediss", "amqp"))
CELERY_RESULT_BACKEND = "django-db"
CELERY_RESULT_EXTENDED = True
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Every task is bounded: by these defaults, or by its own soft/hard limits (``@shared_task(soft_time_limit=...,
# time_limit=...)``). Long work is cut into short slices that resume where the last one stopped (apps/core/jobs.py),
# so no task needs more than a few minutes.
CELERY_TASK_SOFT_TIME_LIMIT = read("CELERY_TASK_SOFT_TIME_LIMIT", "int", default=60)
CELERY_TASK_TIME_LIMIT = read("CELERY_TASK_TIME_LIMIT", "int", default=90)
# acks_late: Redis hands a message that was not acknowledged within the visibility timeout to another worker (the
# first one was SIGKILLed mid-task, or its machine died), so a lost task runs again within minutes, not an hour. It
# must exceed the longest task's hard time limit, or a task still running is started a second time: the worker
# refuses to start otherwise (backoffice/celery.py), and tests/core/test_celery.py checks every task.
CELERY_VISIBILITY_TIMEOUT = read("CELERY_VISIBILITY_TIMEOUT", "int", default=300)
if CELERY_VISIBILITY_TIMEOUT <= CELERY_TASK_TIME_LIMIT:
    raise ImproperlyConfigured(
        f"CELERY_VISIBILITY_TIMEOUT: {CELERY_VISIBILITY_TIMEOUT} s must exceed CELERY_TASK_TIME_LIMIT "
        f"({CELERY_TASK_TIME_LIMIT} s), or a running task is redelivered to a second worker"
    )
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": CELERY_VISIBILITY_TIMEOUT,
    # each worker looks for such abandoned messages every 10 s (kombu's default: about every 100 s)
    "unacked_restore_interval": 10,
    "unacked_restore_throttle": 1,
    # a command to a Redis that hangs (or vanished without closing the connection) fails instead of waiting forever
    "socket_timeout": read("CELERY_BROKER_SOCKET_TIMEOUT", float, default=10.0),
    "socket_connect_timeout": 5,
}
# A Redis blip: the worker reconnects (2 s, 4 s, 6 s ... at most 30 s apart), forever rather than exiting after 100
# tries; and apps/core/broker.py keeps the lost connection's clean-up from crashing it (what used to happen).
if CELERY_BROKER_URL.startswith("redis://"):  # "redis": kombu's own transport, without that fix
    CELERY_BROKER_TRANSPORT = read("CELERY_BROKER_TRANSPORT", default="apps.core.broker:Transport")
CELERY_BROKER_CONNECTION_RETRY = True
CELERY_BROKER_CONNECTION_MAX_RETRIES = None
# Resumable jobs (apps/core/jobs.py): a running job with no committed slice for this long lost its worker, and the
# beat sweep sends its next slice again (longer than a slice's hard time limit, CELERY_TASK_TIME_LIMIT); after
# JOB_MAX_REDISPATCHES such re-sends in a row the job fails.
JOB_STALL_SECONDS = read("JOB_STALL_SECONDS", "int", default=180)
JOB_MAX_REDISPATCHES = read("JOB_MAX_REDISPATCHES", "int", default=5)
if JOB_STALL_SECONDS <= CELERY_TASK_TIME_LIMIT:
    raise ImproperlyConfigured(f"JOB_STALL_SECONDS: must exceed CELERY_TASK_TIME_LIMIT ({CELERY_TASK_TIME_LIMIT} s)")
CELERY_TASK_DEFAULT_QUEUE = "default"
# A posting with durable consumers asks for a drain after commit, at most once a second per process (the beat
# sweeps every 5 seconds anyway). Off: only the sweep drains (the benchmark's baseline).
POSTING_EVENTS_NUDGE = read("POSTING_EVENTS_NUDGE", "bool", default=True)
CELERY_TASK_QUEUES_NAMES = ("default", "compliance", "reports")
CELERY_TASK_ROUTES = {
    "apps.compliance.*": {"queue": "compliance"},
    "apps.screening.*": {"queue": "compliance"},
    "apps.sars.*": {"queue": "compliance"},
    "apps.audit.tasks.*": {"queue": "compliance"},
    "apps.reports.*": {"queue": "reports"},
}
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_TIMEZONE = TIME_ZONE
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True

# STATIC --------------------------------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "var" / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# REPORTS (apps/reports; docs/REPORTS.md) --------------------------------------------------------------------
# Where run files live (outside MEDIA and STATIC, never served by URL: only the permission-checked download).
REPORTS_FILES_ROOT = read("REPORTS_FILES_ROOT", default=str(BASE_DIR / "var" / "reports"))
# Files of runs finished longer ago than this are deleted by the daily sweep (the run and its SHA-256 stay).
REPORTS_RETENTION_DAYS = read("REPORTS_RETENTION_DAYS", "int", default=5 * 366)
# A running run whose heartbeat is older than this is taken to have lost its worker (the sweep sends it again).
REPORTS_STALL_SECONDS = read("REPORTS_STALL_SECONDS", "int", default=120)
REPORTS_MAX_ATTEMPTS = read("REPORTS_MAX_ATTEMPTS", "int", default=3)
REPORTS_RETRY_SECONDS = read("REPORTS_RETRY_SECONDS", "int", default=30)
REPORTS_WORK_MEM = read("REPORTS_WORK_MEM", default="128MB")
# Below the run task's soft limit (180 s): a statement that would outlive the task is cancelled by the server first.
REPORTS_STATEMENT_TIMEOUT_MS = read("REPORTS_STATEMENT_TIMEOUT_MS", "int", default=170_000)

# KYC DOCUMENTS (apps/kyc/intake.py, storage.py; docs/KYC.md, "Document intake") ----------------------------
# Uploads larger than this are refused while being read (file_too_large); images above this many pixels are
# refused as decompression bombs; PDFs with more pages than this are refused.
KYC_MAX_UPLOAD_BYTES = read("KYC_MAX_UPLOAD_BYTES", "int", default=10 * 1024 * 1024)
KYC_MAX_IMAGE_PIXELS = read("KYC_MAX_IMAGE_PIXELS", "int", default=40_000_000)
KYC_MAX_PDF_PAGES = read("KYC_MAX_PDF_PAGES", "int", default=50)
# Where the documents' files live: "filesystem" (KYC_FILES_ROOT, outside MEDIA and STATIC, never served by URL)
# or "s3" (any S3-compatible store; private objects, read only through the permission-checked view).
KYC_STORAGE = read("KYC_STORAGE", default="filesystem")
if KYC_STORAGE not in ("filesystem", "s3"):
    raise ImproperlyConfigured(f"KYC_STORAGE: expected 'filesystem' or 's3', got {KYC_STORAGE!r}")
KYC_FILES_ROOT = read("KYC_FILES_ROOT", default=str(BASE_DIR / "var" / "kyc-files"))
KYC_S3_BUCKET = read("KYC_S3_BUCKET", default="")
if KYC_STORAGE == "s3" and not KYC_S3_BUCKET:
    raise ImproperlyConfigured("KYC_S3_BUCKET: required when KYC_STORAGE=s3")
KYC_S3_ENDPOINT_URL = read("KYC_S3_ENDPOINT_URL", default="")  # empty: AWS itself
KYC_S3_REGION = read("KYC_S3_REGION", default="")
# Empty: boto3's own chain (instance role, AWS_* variables). Either may come from KYC_S3_..._FILE.
KYC_S3_ACCESS_KEY_ID = read("KYC_S3_ACCESS_KEY_ID", default="")
KYC_S3_SECRET_ACCESS_KEY = read("KYC_S3_SECRET_ACCESS_KEY", default="")
# The canned ACL each object is written with. A bucket with ACLs disabled (AWS's default for new buckets) refuses
# every ACL but bucket-owner-full-control: set it empty there (no ACL sent; the object is private all the same).
KYC_S3_ACL = read("KYC_S3_ACL", default="private")

# LOGGING: JSON lines with request_id / task_id (django-structlog) ----------------------------------------
LOG_LEVEL = read("LOG_LEVEL", default="INFO")
LOG_FORMAT = read("LOG_FORMAT", default="json")  # json | console
# Records of the standard library's loggers (Celery, kombu, Django's request logger) carry their exception as
# exc_info: rendered into the event's "exception" here, or the JSON renderer prints "<traceback object at 0x...>"
# (the console renderer formats exc_info itself).
FOREIGN_EXCEPTION_CHAIN = [structlog.processors.StackInfoRenderer(), structlog.processors.format_exc_info]
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "json": {
            "()": structlog.stdlib.ProcessorFormatter,
            "processor": structlog.processors.JSONRenderer(),
            "foreign_pre_chain": [
                structlog.contextvars.merge_contextvars,
                structlog.processors.TimeStamper(fmt="iso"),
                structlog.stdlib.add_logger_name,
                structlog.stdlib.add_log_level,
                *FOREIGN_EXCEPTION_CHAIN,
            ],
        },
        "console": {
            "()": structlog.stdlib.ProcessorFormatter,
            # plain tracebacks: the default (rich, with every frame's locals) takes seconds per logged exception
            "processor": structlog.dev.ConsoleRenderer(colors=False, exception_formatter=structlog.dev.plain_traceback),
            "foreign_pre_chain": [
                structlog.contextvars.merge_contextvars,
                structlog.processors.TimeStamper(fmt="iso"),
                structlog.stdlib.add_logger_name,
                structlog.stdlib.add_log_level,
            ],
        },
    },
    "handlers": {"default": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT}},
    "root": {"handlers": ["default"], "level": LOG_LEVEL},
    "loggers": {
        "django.server": {"level": "WARNING"},
        "django_structlog": {"level": LOG_LEVEL},
        "axes": {"level": "WARNING"},
    },
}
structlog.configure(
    processors=[
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.filter_by_level,
        structlog.processors.TimeStamper(fmt="iso"),
        structlog.stdlib.add_logger_name,
        structlog.stdlib.add_log_level,
        structlog.stdlib.PositionalArgumentsFormatter(),
        structlog.processors.StackInfoRenderer(),
        structlog.processors.format_exc_info,
        structlog.processors.UnicodeDecoder(),
        structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
    ],
    logger_factory=structlog.stdlib.LoggerFactory(),
    cache_logger_on_first_use=True,
)
DJANGO_STRUCTLOG_CELERY_ENABLED = True
# Our RequestIdMiddleware has already validated (or replaced) X-Request-ID: logs use the same id.
DJANGO_STRUCTLOG_TRUST_UPSTREAM_REQUEST_ID = True
DJANGO_STRUCTLOG_IP_LOGGING_ENABLED = False  # apps.core.logging binds the address resolved per TRUSTED_PROXY_COUNT
