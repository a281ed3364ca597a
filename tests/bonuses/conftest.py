"""The bonus tests' world: a CRM Manager, templates written through the service, players of GB, SE and MT, and
the wallet postings a platform would send."""

from __future__ import annotations

import itertools
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from apps.bonuses import templates
from apps.bonuses.models import BonusTemplate
from apps.players.models import Player
from apps.staff import roles
from apps.wallet import posting
from apps.wallet.reversal import rollback
from tests.factories import PlayerFactory, StaffUserFactory

D = Decimal
_refs = itertools.count(1)


@pytest.fixture
def crm():
    return StaffUserFactory(roles=[roles.CRM_MANAGER], first_name="Cara", last_name="Mgr")


@pytest.fixture
def crm2():
    return StaffUserFactory(roles=[roles.CRM_MANAGER], first_name="Second", last_name="Mgr")


def gb_match(**over: Any) -> dict[str, Any]:
    """A UK-compliant deposit match: 100% up to GBP 100, 10x the bonus, casino only, max bet GBP 2."""
    return {
        "code": over.pop("code", f"gb-match-{next(_refs)}"),
        "name": "Welcome 100% up to GBP 100",
        "type": "deposit_match",
        "products": ["casino"],
        "currency": "GBP",
        "percent": "100",
        "amount": "100.00",
        "min_deposit": "10.00",
        "wagering_multiplier": "10",
        "max_bet": "2.00",
        "days_to_wager": 30,
        "budget": "5000.00",
        "jurisdictions": ["GB"],
        **over,
    }


def se_welcome(**over: Any) -> dict[str, Any]:
    return {
        "code": over.pop("code", f"se-welcome-{next(_refs)}"),
        "name": "Välkomstbonus",
        "type": "deposit_match",
        "products": ["casino"],
        "currency": "SEK",
        "percent": "100",
        "amount": "1000.00",
        "wagering_multiplier": "20",
        "days_to_wager": 60,
        "budget": "50000.00",
        "jurisdictions": ["SE"],
        **over,
    }


def published(actor: Any, data: dict[str, Any]) -> BonusTemplate:
    template = templates.template_create(actor=actor, data=data)
    return templates.template_publish(actor=actor, template=template, reason="Launch")


def gb_player(**over: Any) -> Player:
    over.setdefault("country", "GB")
    over.setdefault("currency", "GBP")
    over.setdefault("date_of_birth", date(1990, 1, 1))
    return PlayerFactory(**over)


def se_player(**over: Any) -> Player:
    """A Swede with the own deposit limit Sweden requires before any play (a bonus included)."""
    from apps.audit.services import SystemActor
    from apps.responsible.services import limit_set

    player = PlayerFactory(country="SE", currency="SEK", **over)
    limit_set(actor=SystemActor("tests"), player=player, kind="deposit", period="month", value="5000.00")
    return player


def deposit(player: Player, amount: str) -> int:
    posted = posting.wallet_deposit(
        player=player,
        amount=D(amount),
        currency=player.currency,
        payment_method="card",
        instrument_fingerprint="fp-1",
        api_client="pfx",
        reference=f"bdep-{next(_refs)}",
    )
    return int(posted.transaction.pk)


def bet(player: Player, amount: str, *, category: str = "slots", game: str = "starburst") -> str:
    n = next(_refs)
    reference = f"bbet-{n}"
    posting.wallet_bet(
        player=player,
        amount=D(amount),
        currency=player.currency,
        round_id=f"br{n}",
        game_category=category,
        game_id=game,
        provider="netent",
        reference=reference,
        api_client="pfx",
    )
    return reference


def undo(player: Player, reference: str) -> None:
    from django.db import transaction

    with transaction.atomic():
        rollback(player=player, bet_reference=reference, api_client="pfx", reference=f"rb-{reference}")


def balances(player: Player) -> dict[str, Decimal]:
    from apps.wallet.posting import lock_accounts

    accounts = lock_accounts(player.pk, player.currency)
    return {"cash": accounts.cash, "bonus": accounts.bonus}
