from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import transaction

from apps.api.authentication import cache_key, forget_locally
from apps.api.errors import AlreadyRevoked
from apps.api.models import ApiClient
from apps.api.scopes import ALL_SCOPES, RETIRED_SCOPES
from apps.audit.services import AuditActor, audit_log
from apps.core.errors import ValidationFailed
from apps.players.models import Brand

# What DRF's throttles parse: a count, "/", and a period whose first letter is s, m, h or d.
RATE = re.compile(r"^[1-9][0-9]{0,8}/(s|sec|second|m|min|minute|h|hour|d|day)$")


def api_client_clean(
    *, name: str, scopes: Iterable[str], allowed_networks: Iterable[str], throttle_rate: str
) -> dict[str, Any]:
    errors: dict[str, list[str]] = {}
    name = name.strip()
    if not name or len(name) > 50:
        errors["name"] = ["A name of 1 to 50 characters is required."]
    scope_list = sorted(set(scopes))
    unknown = [s for s in scope_list if s not in ALL_SCOPES]
    if unknown:
        errors["scopes"] = [f"Unknown scope(s): {', '.join(unknown)}. Known: {', '.join(ALL_SCOPES)}."]
        errors["scopes"] += [
            f"{old} was split into {' and '.join(new)}: grant only what the client needs."
            for old, new in RETIRED_SCOPES.items()
            if old in unknown
        ]
    networks: list[str] = []
    for raw in allowed_networks:
        try:
            networks.append(str(ipaddress.ip_network(raw.strip(), strict=False)))
        except ValueError:
            errors.setdefault("allowed_networks", []).append(f"{raw!r} is not a CIDR network.")
    if throttle_rate and not RATE.match(throttle_rate):
        errors["throttle_rate"] = ["Use <number>/<sec|min|hour|day>, e.g. 6000/min."]
    if errors:
        raise ValidationFailed("The API client is not valid.", fields=errors)
    return {"name": name, "scopes": scope_list, "allowed_networks": networks, "throttle_rate": throttle_rate}


def _brands(brands: Iterable[Brand] | None) -> list[Brand]:
    """The brands a client is bound to: at least one (none given: the default brand)."""
    found = list(brands) if brands is not None else [Brand.objects.default()]
    if not found:
        raise ValidationFailed("An API client serves at least one brand.", fields={"brands": ["Choose at least one."]})
    return sorted(found, key=lambda b: b.code)


def _forget(client: ApiClient) -> None:
    """Drop the cached key now and again after commit (a request racing the commit may re-cache the old row)."""
    key, prefix = cache_key(client.prefix), client.prefix
    cache.delete(key)
    forget_locally(prefix)

    def after_commit() -> None:
        cache.delete(key)
        forget_locally(prefix)

    transaction.on_commit(after_commit)


@transaction.atomic
def api_client_create(
    *,
    actor: AuditActor | None,
    name: str,
    scopes: Iterable[str],
    allowed_networks: Iterable[str] = (),
    throttle_rate: str = "",
    expiry_date: datetime | None = None,
    brands: Iterable[Brand] | None = None,
) -> tuple[ApiClient, str]:
    """Create a client and return it with its key. The key is not stored and cannot be shown again.

    ``brands``: whose players it sees and registers (every other player is a 404); None means the default brand.
    """
    fields = api_client_clean(name=name, scopes=scopes, allowed_networks=allowed_networks, throttle_rate=throttle_rate)
    bound = _brands(brands)
    client = ApiClient(expiry_date=expiry_date, **fields)
    key = ApiClient.objects.assign_key(client)
    client.save()
    client.brands.set(bound)
    data = {**fields, "expiry_date": expiry_date, "brands": [b.code for b in bound]}
    audit_log(actor=actor, action="api_client.created", target=client, data=data)
    return client, key


@transaction.atomic
def api_client_update(
    *,
    actor: AuditActor | None,
    client: ApiClient,
    name: str,
    scopes: Iterable[str],
    allowed_networks: Iterable[str],
    throttle_rate: str,
    expiry_date: datetime | None,
    brands: Iterable[Brand] | None = None,
) -> ApiClient:
    """``brands`` None leaves the client's brands as they are."""
    client = ApiClient.objects.select_for_update().get(pk=client.pk)
    fields = api_client_clean(name=name, scopes=scopes, allowed_networks=allowed_networks, throttle_rate=throttle_rate)
    fields["expiry_date"] = expiry_date
    old = {k: getattr(client, k) for k in fields}
    changed = {k: {"old": old[k], "new": v} for k, v in fields.items() if old[k] != v}
    old_brands = sorted(client.brands.values_list("code", flat=True))
    bound = _brands(brands) if brands is not None else None
    if bound is not None and [b.code for b in bound] != old_brands:
        changed["brands"] = {"old": old_brands, "new": [b.code for b in bound]}
    if not changed:
        return client
    for k, v in fields.items():
        setattr(client, k, v)
    client.save(update_fields=list(fields))
    if bound is not None:
        client.brands.set(bound)
    audit_log(actor=actor, action="api_client.updated", target=client, data=changed)
    _forget(client)
    return client


@transaction.atomic
def api_client_revoke(*, actor: AuditActor | None, client: ApiClient, reason: str = "") -> ApiClient:
    """Revoke a key for good. Every worker refuses it from its next request (the cache entry is deleted)."""
    client = ApiClient.objects.select_for_update().get(pk=client.pk)
    if client.revoked:
        raise AlreadyRevoked("This API client is already revoked.")
    client.revoked = True
    client.save(update_fields=["revoked"])
    audit_log(actor=actor, action="api_client.revoked", target=client, data={"reason": reason})
    _forget(client)
    return client


@transaction.atomic
def api_client_set_webhook(*, actor: AuditActor | None, client: ApiClient, url: str) -> ApiClient:
    """Set (or clear, with "") where the client receives player events; a new secret when none is set yet."""
    import secrets

    from django.core.validators import URLValidator

    url = url.strip()
    if url:
        try:
            URLValidator(schemes=["https", "http"])(url)
        except ValidationError as exc:
            raise ValidationFailed("Not a valid URL.", fields={"webhook_url": list(exc.messages)}) from exc
    client = ApiClient.objects.select_for_update().get(pk=client.pk)
    client.webhook_url = url
    if url and not client.webhook_secret:
        client.webhook_secret = secrets.token_hex(32)
    client.save(update_fields=["webhook_url", "webhook_secret"])
    audit_log(actor=actor, action="api_client.webhook_set", target=client, data={"webhook_url": url})
    return client


def webhook_subscribers(player_external_id: str | None = None) -> dict[str, tuple[str, str]]:
    """Live clients with a webhook URL: prefix -> (url, secret). The outbox asks this (apps.core.outbox); for a
    player's event, only the clients bound to the player's brand: another brand's client never hears of them."""
    found = ApiClient.objects.filter(revoked=False).exclude(webhook_url="")
    if player_external_id is not None:
        found = found.filter(brands__players__external_id=player_external_id)
    rows = found.values_list("prefix", "webhook_url", "webhook_secret").distinct()
    return {prefix: (url, secret) for prefix, url, secret in rows}


def webhook_subscribers_many(player_external_ids: list[str]) -> dict[str, set[str]]:
    """``webhook_subscribers`` for many players in one query: external id -> the prefixes that may see them."""
    rows = (
        ApiClient.objects.filter(revoked=False, brands__players__external_id__in=player_external_ids)
        .exclude(webhook_url="")
        .values_list("brands__players__external_id", "prefix")
        .distinct()
    )
    found: dict[str, set[str]] = {key: set() for key in player_external_ids}
    for key, prefix in rows:
        found[key].add(prefix)
    return found
