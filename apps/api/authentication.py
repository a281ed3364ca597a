"""API-key authentication for platform clients, built for the hot path.

A key is ``<prefix>.<secret>``; the database holds the prefix and the SHA-512 of the whole key. The client's
row is cached in two layers: in the process for ``API_KEY_LOCAL_CACHE_SECONDS`` (2 s: a Redis round trip costs
~0.17 ms on this machine, a tenth of a whole request) and in Redis for ``API_KEY_CACHE_SECONDS``; the database
is asked only when both miss. Verifying is then one SHA-512 and a dict lookup.

Revoking through ``api_client_revoke`` deletes the Redis entry (and this process's copy) at once and again on
commit: every other worker refuses the key within ``API_KEY_LOCAL_CACHE_SECONDS``. The Redis TTL bounds how
long a change made behind the service's back (a bulk UPDATE) can go unseen. ``last_used_at`` is written at
most once a minute per client per process.

While Redis is down the default cache answers misses (apps/core/cache.py): keys are verified from the database,
and each process keeps its copy for the same ``API_KEY_LOCAL_CACHE_SECONDS``, so a revocation still reaches every
worker within that bound. The one gap: an entry Redis held from before the outage, if Redis comes back with its
data within ``API_KEY_CACHE_SECONDS``, can be served until the revoking process replays its delete (at its first
successful Redis call) or the entry's TTL ends, whichever is first (docs/RELIABILITY.md).
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass
from typing import Any

import structlog
from django.conf import settings
from django.core.cache import cache
from django.db import DatabaseError, transaction
from django.utils import timezone
from django.utils.crypto import constant_time_compare
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication
from rest_framework.request import Request

from apps.api import auth_failures
from apps.api.models import ApiClient
from apps.audit.choices import ActorType
from apps.core.net import client_ip, ip_in_networks

log = structlog.get_logger(__name__)

KEYWORD = "Api-Key"
_last_touch: dict[str, float] = {}
_local: dict[str, tuple[float, dict[str, Any]]] = {}
_LOCAL_MAX_ENTRIES = 4096


@dataclass(frozen=True)
class ClientIdentity:
    """The authenticated client as views and services see it (``request.user`` and ``request.auth``)."""

    client_pk: str  # the ApiClient row's key ("prefix.hash", as djangorestframework-api-key stores it)
    prefix: str
    name: str
    scopes: frozenset[str]
    allowed_networks: tuple[str, ...]
    throttle_rate: str
    brand_ids: frozenset[int] = frozenset()  # the brands whose players it sees (empty: none)

    is_authenticated = True
    is_anonymous = False

    @property
    def pk(self) -> str:
        """What request logs record as the user id: the public prefix, never the stored hash."""
        return self.prefix

    def audit_identity(self) -> tuple[str, str, str]:
        return (ActorType.API_CLIENT, self.prefix, self.name)

    def has_scopes(self, required: set[str] | frozenset[str]) -> bool:
        return required.issubset(self.scopes)

    def allows_ip(self, ip: str | None) -> bool:
        return not self.allowed_networks or ip_in_networks(ip, self.allowed_networks)


def client_of(request: Any) -> ClientIdentity:
    """The authenticated API client of a request that passed ``HasScopes``."""
    client = request.auth
    assert isinstance(client, ClientIdentity)
    return client


def cache_key(prefix: str) -> str:
    return f"apikey:v2:{prefix}"  # v2: entries carry brand_ids


def _sha512_hex(key: str) -> str:
    return hashlib.sha512(key.encode()).hexdigest()


def forget_locally(prefix: str) -> None:
    _local.pop(prefix, None)


def _remember_locally(prefix: str, entry: dict[str, Any]) -> None:
    if len(_local) >= _LOCAL_MAX_ENTRIES:
        _local.clear()  # crude but bounded: a flood of distinct prefixes cannot grow memory
    _local[prefix] = (time.monotonic() + settings.API_KEY_LOCAL_CACHE_SECONDS, entry)


def _load(prefix: str) -> dict[str, Any] | None:
    local = _local.get(prefix)
    if local is not None and local[0] > time.monotonic():
        return local[1]
    cached = cache.get(cache_key(prefix))
    if cached is not None:
        _remember_locally(prefix, cached)
        return dict(cached)
    client = ApiClient.objects.filter(prefix=prefix).first()
    if client is None:
        return None
    entry = {
        "pk": client.pk,
        "prefix": client.prefix,
        "name": client.name,
        "hashed_key": client.hashed_key,
        "scopes": list(client.scopes),
        "allowed_networks": list(client.allowed_networks),
        "throttle_rate": client.throttle_rate,
        "brand_ids": sorted(client.brands.values_list("pk", flat=True)),
        "revoked": client.revoked,
        "expires": client.expiry_date.timestamp() if client.expiry_date else None,
    }
    cache.set(cache_key(prefix), entry, settings.API_KEY_CACHE_SECONDS)
    _remember_locally(prefix, entry)
    return entry


def _hash_matches(key: str, hashed_key: str) -> bool:
    algorithm, _, digest = hashed_key.partition("$$")
    if algorithm == "sha512":
        return constant_time_compare(digest, _sha512_hex(key))
    # Keys hashed by an older hasher of the library: its own (slow) check.
    return bool(ApiClient.objects.key_generator.verify(key, hashed_key))


def _touch(identity: ClientIdentity) -> None:
    now = time.monotonic()
    if now - _last_touch.get(identity.prefix, -1e9) < settings.API_KEY_LAST_USED_RESOLUTION_SECONDS:
        return
    _last_touch[identity.prefix] = now
    try:
        with transaction.atomic():  # a savepoint inside a transaction: a failure here cannot poison the request's
            ApiClient.objects.filter(pk=identity.client_pk).update(last_used_at=timezone.now())
    except DatabaseError as exc:
        # bookkeeping, not the request: a read-only database (or one going away) must not refuse a balance read
        log.warning("api_key_touch_failed", client=identity.prefix, error=f"{type(exc).__name__}: {exc}"[:300])


def verify_key(key: str) -> ClientIdentity | None:
    prefix, dot, _secret = key.partition(".")
    if not dot or not prefix or len(key) > 200 or not (prefix.isascii() and prefix.isalnum()):
        return None  # prefixes are letters and digits: anything else (a NUL...) never reaches the database
    entry = _load(prefix)
    if entry is None or entry["revoked"] or not _hash_matches(key, entry["hashed_key"]):
        return None
    if entry["expires"] is not None and entry["expires"] < time.time():
        return None
    return ClientIdentity(
        client_pk=entry["pk"],
        prefix=entry["prefix"],
        name=entry["name"],
        scopes=frozenset(entry["scopes"]),
        allowed_networks=tuple(entry["allowed_networks"]),
        throttle_rate=entry["throttle_rate"],
        brand_ids=frozenset(entry.get("brand_ids", ())),
    )


class ApiKeyAuthentication(BaseAuthentication):
    def authenticate(self, request: Request) -> tuple[ClientIdentity, ClientIdentity] | None:
        header = request.META.get("HTTP_AUTHORIZATION", "")
        if not header:
            return None
        ip = client_ip(request._request)
        wait = auth_failures.auth_blocked_for(ip)
        if wait is not None:
            raise _too_many_failures(wait)
        keyword, _, key = header.partition(" ")
        if keyword != KEYWORD or not key.strip():
            self._failed(ip)
            raise exceptions.AuthenticationFailed(
                f"Use the header 'Authorization: {KEYWORD} <key>'.", code="authentication_failed"
            )
        identity = verify_key(key.strip())
        if identity is None:
            self._failed(ip)
            raise exceptions.AuthenticationFailed("The API key is invalid, expired or revoked.", code="invalid_api_key")
        if not identity.allows_ip(ip):
            raise exceptions.PermissionDenied("This API client may not call from this address.", code="ip_not_allowed")
        _touch(identity)
        return identity, identity

    def authenticate_header(self, request: Request) -> str:
        return KEYWORD

    @staticmethod
    def _failed(ip: str | None) -> None:
        wait = auth_failures.auth_failed(ip)
        if wait is not None:
            raise _too_many_failures(wait)


def _too_many_failures(wait: float) -> exceptions.Throttled:
    return exceptions.Throttled(
        wait, detail="Too many requests with an invalid API key from this address; try again later."
    )
