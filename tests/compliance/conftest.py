"""Helpers for the rule tests: postings through the real wallet, rules published without the ceremony (the
rulebook tests go through it), and the seed rules out of the way unless a test wants them."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from datetime import datetime
from decimal import Decimal
from typing import Any

import pytest
import time_machine
from django.utils import timezone

from apps.compliance import evaluation, kinds
from apps.compliance.choices import VersionMode, VersionState
from apps.compliance.models import Alert, Rule, RuleHit, RuleVersion
from apps.players.models import Player, PlayerLogin
from apps.wallet import events, posting
from apps.wallet.services import withdrawal_request

D = Decimal
_refs = itertools.count(1)


def deposit(player: Player, amount: str, *, instrument: str = "", method: str = "card") -> int:
    posted = posting.wallet_deposit(
        player=player,
        amount=D(amount),
        currency=player.currency,
        payment_method=method,
        instrument_fingerprint=instrument,
        api_client="pfx",
        reference=f"dep-{next(_refs)}",
    )
    return int(posted.transaction.pk)


def bet(player: Player, amount: str) -> int:
    n = next(_refs)
    posted = posting.wallet_bet(
        player=player,
        amount=D(amount),
        currency=player.currency,
        round_id=f"r{n}",
        game_category="table",
        game_id="starburst",
        provider="netent",
        reference=f"bet-{n}",
        api_client="pfx",
    )
    return int(posted.transaction.pk)


def withdraw(player: Player, amount: str) -> Any:
    return withdrawal_request(player=player, amount=D(amount), currency=player.currency)


def login(
    player: Player, *, ip: str = "81.2.69.160", country: str = "GB", device: str = "", at: datetime | None = None
):
    return PlayerLogin.objects.create(
        player=player, ip=ip, ip_country=country, device_id=device, allowed=True, at=at or timezone.now()
    )


def drain() -> events.DrainResult:
    return events.drain(evaluation.CONSUMER)


def publish(
    kind: str,
    params: dict[str, Any],
    *,
    mode: str = VersionMode.LIVE,
    rule: Rule | None = None,
    code: str | None = None,
    score: int = 50,
    case_type: str = "aml",
    priority: str = "medium",
) -> RuleVersion:
    """A published version of a (new) rule, written directly: the kind's validation still applies."""
    if rule is None:
        code = code or f"test-{kind.replace('_', '-')}-{next(_refs)}"
        rule = Rule.objects.create(code=code, name=f"Test {kind}", kind=kind)
    number = rule.versions.count() + 1
    return RuleVersion.objects.create(
        rule=rule,
        number=number,
        kind=kind,
        params=kinds.validate(kind, params),
        score=score,
        case_type=case_type,
        priority=priority,
        mode=mode,
        state=VersionState.PUBLISHED,
        published_at=timezone.now(),
    )


def hits(version: RuleVersion, player: Player | None = None) -> list[RuleHit]:
    found = RuleHit.objects.filter(version=version).order_by("id")
    return list(found.filter(player=player) if player is not None else found)


def alerts(version: RuleVersion, player: Player | None = None) -> list[Alert]:
    found = Alert.objects.filter(rule_id=version.rule_id).order_by("id")
    return list(found.filter(player=player) if player is not None else found)


def eur(amount: str) -> dict[str, str]:
    return {"amount": amount, "currency": "EUR"}


def gbp(amount: str) -> dict[str, str]:
    return {"amount": amount, "currency": "GBP"}


@pytest.fixture
def no_seed_rules(db: Any) -> None:
    """The seed rules retired for this test (rolled back after it), so the test sees only its own rules
    (``pytestmark = pytest.mark.usefixtures("no_seed_rules")``)."""
    RuleVersion.objects.filter(state=VersionState.PUBLISHED).update(
        state=VersionState.RETIRED, retired_at=timezone.now()
    )


@pytest.fixture
def at() -> Iterator[Callable[[datetime], None]]:
    """``at(moment)``: the clock stands at ``moment`` until the next call (time-machine, no tick)."""
    traveller: list[Any] = []

    def move(moment: datetime) -> None:
        if traveller:
            traveller.pop().stop()
        travel = time_machine.travel(moment, tick=False)
        travel.start()
        traveller.append(travel)

    yield move
    if traveller:
        traveller.pop().stop()
