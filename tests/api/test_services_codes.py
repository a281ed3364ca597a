"""Every refusal of apps.api.services, through the service itself: the exact code and the field it names, and
nothing changed (no client row, no key, no audit event)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from apps.api import services
from apps.api.models import ApiClient
from apps.audit.services import SystemActor
from tests.refusals import assert_refused, codes_raised_by

pytestmark = pytest.mark.django_db
ACTOR = SystemActor("tests")
TABLES = (ApiClient,)


def create(**kwargs: object) -> Callable[[], object]:
    kwargs = {"name": "Lobby", "scopes": ["players:read"], **kwargs}
    return lambda: services.api_client_create(actor=ACTOR, **kwargs)  # type: ignore[arg-type]


def a_client() -> ApiClient:
    return services.api_client_create(actor=ACTOR, name="Lobby", scopes=["players:read"])[0]


def update(**kwargs: object) -> Callable[[], object]:
    client = a_client()
    kwargs = {"name": "Lobby", "scopes": ["players:read"], "allowed_networks": [], "throttle_rate": "", **kwargs}
    return lambda: services.api_client_update(actor=ACTOR, client=client, expiry_date=None, **kwargs)  # type: ignore[arg-type]


def revoke_twice() -> Callable[[], object]:
    client = a_client()
    services.api_client_revoke(actor=ACTOR, client=client, reason="leaked")
    return lambda: services.api_client_revoke(actor=ACTOR, client=client, reason="again")


def webhook_to_no_url() -> Callable[[], object]:
    client = a_client()
    return lambda: services.api_client_set_webhook(actor=ACTOR, client=client, url="ftp://platform.invalid/hooks")


# code, the field it names (or None), the case
CASES: list[tuple[str, str | None, Callable[[], Callable[[], object]]]] = [
    ("invalid", "name", lambda: create(name="   ")),
    ("invalid", "name", lambda: create(name="x" * 51)),
    ("invalid", "scopes", lambda: create(scopes=["wallet:steal"])),
    ("invalid", "allowed_networks", lambda: create(allowed_networks=["10.0.0.0/33"])),
    ("invalid", "throttle_rate", lambda: create(throttle_rate="lots")),
    ("invalid", "scopes", lambda: update(scopes=["players:read", "admin"])),
    ("invalid", "throttle_rate", lambda: update(throttle_rate="0/min")),
    ("already_revoked", None, revoke_twice),
    ("invalid", "webhook_url", webhook_to_no_url),
]
IDS = [f"{code}-{field or ''}-{i}" for i, (code, field, _) in enumerate(CASES)]


@pytest.mark.parametrize(("code", "field", "case"), CASES, ids=IDS)
def test_it_refuses_with_the_code_and_changes_nothing(code, field, case):
    refusal = assert_refused(case(), code, tables=TABLES)
    if field is not None:
        assert field in refusal.fields


def test_it_has_a_case_for_every_code_the_module_raises():
    assert codes_raised_by(services) <= {code for code, _, _ in CASES}
