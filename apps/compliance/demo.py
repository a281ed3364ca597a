"""Demo AML work for ``make run``: suspicious behaviour played out through the wallet, so the seed rules raise
real alerts and open real cases an AML Analyst can work.

Six verified GBP players (KYC level 2, active) each do one thing the seed rules look for: three deposits just
under the CDD threshold in a day (structuring, and the 24-hour amount and count rules with it), a deposit
withdrawn after a token bet (little play), deposits from three cards in a day (many instruments), a deposit ten
times the usual (spike); two more share a card with a third (shared identifier) and one logs in from abroad
(country mismatch). The rules' consumer is drained and the sweep run here, as the compliance worker would, and then
the demo analyst works two of the cases: one in progress with a note and a hold on its withdrawals, one waiting
for the player. A third is closed as confirmed by the analyst and waits for the demo MLRO's second approval.

Idempotent: once any alert exists, nothing more is seeded.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone

from apps.audit.services import AuditActor
from apps.core.errors import ApplicationError

DEMO_ANALYST, DEMO_MLRO = "demo-aml-analyst", "demo-mlro"
D = Decimal
_counter = iter(range(1, 10_000_000))


def _ref(kind: str, player: Any) -> str:
    return f"demo-aml-{kind}-{player.pk}-{next(_counter)}"


def _deposit(player: Any, amount: str, instrument: str = "") -> None:
    from apps.wallet import posting

    posting.wallet_deposit(
        player=player,
        amount=D(amount),
        currency=player.currency,
        payment_method="card",
        instrument_fingerprint=instrument or f"demo-card-{player.pk}",
        api_client="demo",
        reference=_ref("dep", player),
    )


def _bet(player: Any, amount: str) -> None:
    from apps.wallet import posting

    posting.wallet_bet(
        player=player,
        amount=D(amount),
        currency=player.currency,
        round_id=_ref("round", player),
        game_category="slots",
        game_id="demo-slot",
        provider="demo",
        api_client="demo",
        reference=_ref("bet", player),
    )


def _withdraw(player: Any, amount: str) -> None:
    from apps.wallet.services import withdrawal_request

    withdrawal_request(player=player, amount=D(amount), currency=player.currency)


def _structuring(p: Any) -> None:
    for amount in ("1600.00", "1650.00", "1590.00"):
        _deposit(p, amount)


def _little_play(p: Any) -> None:
    _deposit(p, "600.00")
    _bet(p, "5.00")
    _withdraw(p, "550.00")


def _many_cards(p: Any) -> None:
    for card in ("a", "b", "c"):
        _deposit(p, "60.00", instrument=f"demo-card-{p.pk}-{card}")


def _spike(p: Any) -> None:
    for _ in range(3):
        _deposit(p, "25.00")
    _deposit(p, "900.00")


SCENARIOS: tuple[tuple[str, Callable[[Any], None]], ...] = (
    ("structuring", _structuring),
    ("little play", _little_play),
    ("many cards", _many_cards),
    ("spike", _spike),
)


def _candidates() -> list[Any]:
    from apps.players.models import Player

    return list(
        Player.objects.filter(currency="GBP", country="GB", status="active", kyc__level=2)
        .exclude(blocked_deposit=True)
        .order_by("id")[:60]
    )


def _play(players: list[Any], scenario: Callable[[Any], None]) -> Any | None:
    """The first player the scenario goes through for (a demo player may have a limit or a block): each
    attempt in a savepoint, so a refusal half-way leaves nothing."""
    while players:
        player = players.pop(0)
        try:
            with transaction.atomic():
                scenario(player)
            return player
        except ApplicationError:
            continue
    return None


def _shared_card(players: list[Any]) -> list[Any]:
    sharing: list[Any] = []
    while players and len(sharing) < 3:
        player = players.pop(0)
        try:
            with transaction.atomic():
                _deposit(player, "40.00", instrument="demo-shared-card")
            sharing.append(player)
        except ApplicationError:
            continue
    return sharing


def _abroad(players: list[Any]) -> Any | None:
    from apps.players.models import PlayerLogin

    if not players:
        return None
    player = players.pop(0)
    PlayerLogin.objects.create(
        player=player, ip="2.3.4.5", ip_country="FR", device_id=f"demo-device-{player.pk}", allowed=True
    )
    return player


def _work(lines: list[str]) -> None:
    from apps.compliance import actions, cases
    from apps.compliance.choices import CaseState, Outcome, WaitingOn
    from apps.compliance.models import Case
    from apps.staff.models import StaffUser

    analyst = StaffUser.objects.filter(username=DEMO_ANALYST, is_active=True).first()
    if analyst is None:
        lines.append("compliance: no demo AML analyst, the cases are left as the rules opened them")
        return
    open_cases = list(Case.objects.filter(state__in=[CaseState.NEW, CaseState.ASSIGNED]).order_by("id")[:3])
    moved = 0
    for i, case in enumerate(open_cases):
        case = cases.case_start(actor=analyst, case=case)
        if i == 0:
            cases.case_note(
                actor=analyst,
                case=case,
                text="Three deposits just under EUR 2,000 in a day: asking for source of funds.",
            )
            actions.case_action(actor=analyst, case=case, action="hold_withdrawals", reason="Source of funds pending")
        elif i == 1:
            cases.case_wait(
                actor=analyst, case=case, waiting_on=WaitingOn.PLAYER, text="Asked the player for bank statements."
            )
        else:
            cases.case_note(actor=analyst, case=case, text="Cards registered to three different names.")
            cases.case_close(
                actor=analyst,
                case=case,
                outcome=Outcome.CONFIRMED,
                reason="Cards of three different people: third-party funding confirmed.",
            )
        moved += 1
    lines.append(f"compliance: {moved} cases worked by {DEMO_ANALYST} (one waits for {DEMO_MLRO}'s second approval)")


def seed(*, actor: AuditActor | None, count: int | None) -> list[str]:
    from apps.compliance import evaluation
    from apps.compliance.models import Alert, Case
    from apps.wallet import events

    if Alert.objects.exists():
        return ["compliance: demo alerts already there"]
    players = _candidates()
    lines: list[str] = []
    played = []
    for name, scenario in SCENARIOS:
        player = _play(players, scenario)
        if player is not None:
            played.append(f"{name}: {player.external_id}")
    sharing = _shared_card(players)
    abroad = _abroad(players)
    events.drain(evaluation.CONSUMER)
    evaluation.sweep(now=timezone.now(), since=timezone.now() - timedelta(days=1))
    lines.append(
        f"compliance: played out {', '.join(played)}; a card shared by {len(sharing)} players; "
        f"a login from abroad by {abroad.external_id if abroad else 'nobody'}"
    )
    lines.append(f"compliance: {Alert.objects.count()} alerts, {Case.objects.count()} cases")
    with transaction.atomic():
        _work(lines)
    return lines
