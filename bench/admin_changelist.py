"""The player changelist at a million players, as a ratio to the same page with no count and no filters.

In-process (Django's test client, an OTP-verified Administrator session) so that only the page's own work is
timed. Baseline: the first page with the paginator's count replaced by a constant (no count at all).
"""

from __future__ import annotations

from functools import partial
from typing import Any

from django.contrib.auth.models import Group
from django.test import Client
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice

from apps.core.admin_tools import EstimatedCountPaginator
from apps.players.admin import PlayerAdmin
from apps.players.models import Player
from apps.staff.models import StaffUser
from bench.players import ensure_players
from bench.timing import fmt, per_call

LIST = "/admin/players/player/"


class NoCountPaginator(EstimatedCountPaginator):
    @property
    def count(self) -> int:  # type: ignore[override]
        return 1_000_000


def _client() -> Client:
    user, _ = StaffUser.objects.get_or_create(
        username="bench-admin", defaults={"email": "bench-admin@staff.invalid", "is_staff": True}
    )
    user.groups.set([Group.objects.get(name="Administrator")])
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first() or TOTPDevice.objects.create(
        user=user, name="bench", confirmed=True
    )
    client = Client()
    client.force_login(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return client


def _get(client: Client, params: dict[str, Any]) -> None:
    response = client.get(LIST, params)
    assert response.status_code == 200, response.status_code


def run() -> None:
    players = ensure_players()
    client = _client()
    sample = Player.objects.filter(external_id="demo-0123456").first() or Player.objects.order_by("id").first()
    assert sample is not None
    cases = {
        "first page (estimated count)": {},
        "filter: status=active, country=GB": {"status": "active", "country": "GB"},
        "search: an e-mail fragment": {"q": sample.email.split("@")[0]},
        "search: a surname (trigram)": {"q": sample.last_name},
        "search: an external id": {"q": sample.external_id},
    }
    for params in cases.values():
        _get(client, params)  # warm caches and plans
    original = PlayerAdmin.paginator
    PlayerAdmin.paginator = NoCountPaginator
    try:
        baseline = per_call(lambda: _get(client, {}), n=10)
    finally:
        PlayerAdmin.paginator = original
    print(f"\n== admin_changelist: {players:,} players (baseline: same first page, no count, no filters) ==")
    print(f"  {'baseline':<40} {fmt(baseline)}   1.00x")
    for label, params in cases.items():
        seconds = per_call(partial(_get, client, params), n=10)
        print(f"  {label:<40} {fmt(seconds)}   {seconds / baseline:5.2f}x  (goal <= 2x)")
