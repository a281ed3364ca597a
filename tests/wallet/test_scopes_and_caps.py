"""Least privilege for wallet keys, and stake caps that fail closed (GB: slots GBP 2 at 18-24, GBP 5 after)."""

from __future__ import annotations

import importlib
import uuid
from datetime import UTC, date, datetime
from decimal import Decimal as D

import pytest
import time_machine
from django.apps import apps as django_apps

from apps.api.models import ApiClient
from apps.api.services import api_client_create
from apps.core.errors import ValidationFailed
from apps.geo.models import RulePack
from apps.geo.services import geo_config_save
from apps.players.eligibility import can
from apps.wallet import posting
from apps.wallet.models import LedgerTransaction
from tests.conftest import make_platform_client
from tests.factories import PlayerFactory

pytestmark = pytest.mark.django_db
URL = "/api/v1/wallet/transactions/"
on_a_fixed_day = time_machine.travel(datetime(2026, 11, 22, 12, 0, tzinfo=UTC), tick=False)


def post(api, body):
    return api.post(URL, body, format="json", HTTP_IDEMPOTENCY_KEY=uuid.uuid4().hex)


def deposit(p, amount="50.00"):
    return {"type": "deposit", "player": p.external_id, "amount": amount, "currency": "GBP"}


def bet(p, amount="1.00", **extra):
    return {"type": "bet", "player": p.external_id, "amount": amount, "currency": "GBP", "round_id": "R", **extra}


# --- scopes ---------------------------------------------------------------------------------------------------


def test_a_game_key_cannot_mint_deposits_and_a_payments_key_cannot_bet(player):
    game = make_platform_client(name="Aggregator", scopes=["wallet:game"])
    payments = make_platform_client(name="Cashier", scopes=["wallet:payments"])
    refused = post(game.api(), deposit(player))
    assert refused.status_code == 403 and refused.json()["code"] == "missing_scope"
    assert "wallet:payments" in refused.json()["message"]
    withdrawals = f"/api/v1/players/{player.external_id}/withdrawals/"
    r = game.api().post(withdrawals, {"amount": "1.00", "currency": "GBP"}, format="json", HTTP_IDEMPOTENCY_KEY="k")
    assert r.status_code == 403 and r.json()["code"] == "missing_scope"
    assert post(payments.api(), deposit(player)).status_code == 201
    refused = post(payments.api(), bet(player, game_category="table"))
    assert refused.status_code == 403 and refused.json()["code"] == "missing_scope"
    assert "wallet:game" in refused.json()["message"]
    assert post(game.api(), bet(player, game_category="table")).status_code == 201
    assert list(LedgerTransaction.objects.values_list("type", flat=True).order_by("id")) == ["deposit", "bet"]


def test_a_key_without_a_posting_scope_is_refused_whatever_the_body(player):
    reader = make_platform_client(name="Reader", scopes=["wallet:read"])
    for body in ({"type": "steal"}, {"type": ["bet"]}, []):
        r = reader.api().post(URL, body, format="json", HTTP_IDEMPOTENCY_KEY="k")
        assert r.status_code == 403 and r.json()["code"] == "missing_scope"


def test_the_retired_wallet_write_scope_is_refused_with_its_successors_named(db):
    with pytest.raises(ValidationFailed) as raised:
        api_client_create(actor=None, name="Old habits", scopes=["wallet:write"])
    message = " ".join(raised.value.fields["scopes"])
    assert "wallet:payments" in message and "wallet:game" in message
    assert not ApiClient.objects.filter(name="Old habits").exists()


def test_the_migration_gives_existing_wallet_write_keys_both_new_scopes(db):
    migration = importlib.import_module("apps.api.migrations.0004_split_wallet_write")
    old = make_platform_client(name="Legacy", scopes=["players:read"]).model
    ApiClient.objects.filter(pk=old.pk).update(scopes=["players:read", "wallet:write"])  # as stored before
    untouched = make_platform_client(name="Reader", scopes=["wallet:read"]).model
    migration.split(django_apps, None)
    assert sorted(ApiClient.objects.get(pk=old.pk).scopes) == ["players:read", "wallet:game", "wallet:payments"]
    assert ApiClient.objects.get(pk=untouched.pk).scopes == ["wallet:read"]


# --- stake caps -----------------------------------------------------------------------------------------------


@on_a_fixed_day
def test_a_bet_must_name_a_known_game_category(platform_client):
    young = PlayerFactory(date_of_birth=date(2006, 11, 1))  # 20, in GB
    posting.wallet_deposit(player=young, amount=D("1000.00"), currency="GBP")
    api = platform_client.api()
    # the review's bet: GBP 100,000,000 with no category for a 20-year-old was accepted
    r = post(api, bet(young, amount="100000000.00"))
    assert r.status_code == 400 and r.json()["code"] == "invalid" and "game_category" in r.json()["fields"]
    r = post(api, bet(young, game_category="crash"))
    assert r.status_code == 400 and "game_category" in r.json()["fields"]
    with pytest.raises(ValidationFailed) as raised:
        posting.wallet_bet(player=young, amount=D("1.00"), currency="GBP", round_id="R", game_category="")
    assert "game_category" in raised.value.fields
    assert not LedgerTransaction.objects.filter(type="bet").exists()


@on_a_fixed_day
def test_gb_slots_caps_by_age_through_the_api(platform_client):
    young = PlayerFactory(date_of_birth=date(2006, 11, 1))  # 20
    older = PlayerFactory(date_of_birth=date(1980, 1, 1))
    for p in (young, older):
        posting.wallet_deposit(player=p, amount=D("100.00"), currency="GBP")
    api = platform_client.api()
    r = post(api, bet(young, amount="2.01", game_category="slots"))
    assert r.status_code == 403 and r.json()["code"] == "stake_limit_exceeded"
    assert post(api, bet(young, amount="2.00", game_category="slots")).status_code == 201
    assert post(api, bet(young, amount="20.00", game_category="table")).status_code == 201  # not capped
    r = post(api, bet(older, amount="5.01", game_category="slots"))
    assert r.status_code == 403 and r.json()["code"] == "stake_limit_exceeded"
    assert post(api, bet(older, amount="5.00", game_category="slots")).status_code == 201


@on_a_fixed_day
def test_eligibility_of_a_bet_without_a_category_is_refused_where_caps_exist():
    older = PlayerFactory(date_of_birth=date(1980, 1, 1))
    assert can(older, "bet", amount=D("1.00")).reasons == ["game_category_required"]
    assert can(older, "bet").allowed  # no amount: the platform asks for the restrictions, not a stake
    mt = PlayerFactory(country="MT", currency="EUR", date_of_birth=date(1980, 1, 1))
    assert can(mt, "bet", amount=D("1.00")).allowed  # Malta has no stake caps to apply


@on_a_fixed_day
def test_a_cap_in_another_currency_refuses_rather_than_skips(platform_client):
    current = RulePack.objects.filter(jurisdiction__code="GB").order_by("-effective_from").first()
    current.pk = None
    current.effective_from = datetime(2026, 11, 22, 11, 0, tzinfo=UTC)
    current.stake_caps = [{"game_category": "slots", "max_stake": "5.00", "currency": "EUR"}]
    geo_config_save(actor=None, obj=current, created=True, changed=["stake_caps"])
    older = PlayerFactory(date_of_birth=date(1980, 1, 1))
    posting.wallet_deposit(player=older, amount=D("100.00"), currency="GBP")
    r = post(platform_client.api(), bet(older, amount="1.00", game_category="slots"))
    assert r.status_code == 403 and r.json()["code"] == "stake_cap_currency_unsupported"
    assert can(older, "bet", amount=D("1.00"), game_category="table").allowed  # no cap on table games
    assert not LedgerTransaction.objects.filter(type="bet").exists()
