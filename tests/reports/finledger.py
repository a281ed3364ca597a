"""A hand-built ledger for the financial reports' tests (ggr_daily, mga_monthly, large_transactions,
player_statement), posted through the wallet's services at chosen instants (time-machine).

February 2026 is the month under test: January holds the opening funds, March what comes after the month end.
Clocks in February: London = UTC, Malta = UTC+1, Toronto = UTC-5. Each line: UTC instant, what, local day.

``gb`` (GB, GBP, default brand):
  G1 01-20 10:00 deposit 100.00                                         2026-01-20
  G2 02-10 12:00 bet 5.00 slots/netent round gr1                        2026-02-10
  G3 02-10 12:01 win 25.00 slots/netent round gr1                       2026-02-10
  G4 02-10 12:05 bet 5.00 table/evo round gr2, G5 12:06 its rollback    2026-02-10
  G6 02-11 09:00 bet 4.00 live/evo round gr3, G7 09:01 win 6.00,
     G8 09:02 the win rolled back                                       2026-02-11
  G9 02-20 15:00 withdrawal request 50.00 (still pending at the end)    2026-02-20
  G10 03-03 10:00 bet 2.00 slots/netent round gr4                       2026-03-03
``mt`` (MT, EUR, default brand):
  M1 01-25 10:00 deposit 20.00                                          2026-01-25
  M2 02-01 09:00 bonus award 50.00                                      2026-02-01
  M3 02-14 22:30 bet 30.00 slots/pragmatic round mr1 (cash 20, bonus 10) 2026-02-14 (23:30 local)
  M4 02-14 23:30 win 12.00 round mr1 (bonus 4.00, cash 8.00)            2026-02-15 (00:30 local)
  M5 02-15 10:00 bet 8.00 sports/betradar round mr2 (never won: lost)   2026-02-15
  M6 02-16 10:00 bonus forfeit (the 44.00 left)                         2026-02-16
  M7 02-17 10:00 adjustment +15.00, M8 02-18 10:00 adjustment -5.00     2026-02-17, 2026-02-18
  M9 02-28 22:00 bet 3.00 poker/pstars round mr3 (open at the end)      2026-02-28 (23:00 local)
  M10 03-01 00:30 win 4.00 round mr3                                    2026-03-01
``mt2`` (MT, EUR, brand "other"):
  X1 02-05 10:00 deposit 40.00, X2 10:05 bet 10.00 table/evo round xr1,
     X3 10:06 win 15.00                                                 2026-02-05
  X4 02-06 10:00 withdrawal 20.00, approved and paid 02-07 10:00        2026-02-06, 2026-02-07
  X5 02-08 10:00 withdrawal 5.00, cancelled 02-08 11:00                 2026-02-08
``on`` (CA-ON, CAD, default brand):
  O1 02-10 15:00 deposit 50.00                                          2026-02-10
  O2 03-01 04:30 bet 7.00 slots/netent round or1 (open at the end)      2026-02-28 (23:30 local)
  O3 03-01 05:30 bet 1.00 slots/netent round or2                        2026-03-01 (00:30 local)
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import time_machine

from apps.players.models import Player
from apps.reports import rollups
from apps.staff import roles
from apps.wallet import posting
from apps.wallet.services import (
    adjustment_request,
    withdrawal_approve,
    withdrawal_cancel,
    withdrawal_request,
    withdrawal_settle,
)
from tests.factories import BrandFactory, PlayerFactory, StaffUserFactory

D = Decimal
CLIENT = "pfx"


def at(month: int, day: int, hour: int, minute: int = 0) -> Any:
    return time_machine.travel(datetime(2026, month, day, hour, minute, tzinfo=UTC), tick=False)


@dataclass
class Ledger:
    gb: Player
    mt: Player
    mt2: Player
    on: Player
    transactions: dict[str, int]  # the lines' names above -> transaction id


def _bet(player: Player, amount: str, round_id: str, category: str, provider: str, ref: str) -> int:
    return posting.wallet_bet(
        player=player,
        amount=D(amount),
        currency=player.currency,
        round_id=round_id,
        game_category=category,
        provider=provider,
        reference=ref,
        api_client=CLIENT,
    ).transaction.pk


def _win(player: Player, amount: str, round_id: str, category: str, provider: str, ref: str) -> int:
    return posting.wallet_win(
        player=player,
        amount=D(amount),
        currency=player.currency,
        round_id=round_id,
        game_category=category,
        provider=provider,
        reference=ref,
        api_client=CLIENT,
    ).transaction.pk


def _last(player: Player) -> int:
    return player.ledger_transactions.order_by("-id").values_list("id", flat=True)[0]


def build() -> Ledger:
    """Post the ledger above; the operator day rollups are left to the consumer (``fill_rollups``)."""
    finance = StaffUserFactory(roles=[roles.FINANCE_OFFICER])
    other = BrandFactory(code="other")
    gb = PlayerFactory(country="GB", currency="GBP", external_id="FL0101")
    mt = PlayerFactory(country="MT", currency="EUR", external_id="FL0102")
    mt2 = PlayerFactory(country="MT", currency="EUR", external_id="FL0103", brand=other)
    on = PlayerFactory(country="CA", region="CA-ON", currency="CAD", external_id="FL0104")
    ids: dict[str, int] = {}
    with at(1, 20, 10):
        ids["G1"] = posting.wallet_deposit(player=gb, amount=D("100.00"), currency="GBP").transaction.pk
    with at(1, 25, 10):
        ids["M1"] = posting.wallet_deposit(player=mt, amount=D("20.00"), currency="EUR").transaction.pk
    with at(2, 1, 9):
        ids["M2"] = posting.wallet_bonus_award(player=mt, amount=D("50.00"), currency="EUR").transaction.pk
    with at(2, 5, 10):
        ids["X1"] = posting.wallet_deposit(player=mt2, amount=D("40.00"), currency="EUR").transaction.pk
    with at(2, 5, 10, 5):
        ids["X2"] = _bet(mt2, "10.00", "xr1", "table", "evo", "x-b1")
    with at(2, 5, 10, 6):
        ids["X3"] = _win(mt2, "15.00", "xr1", "table", "evo", "x-w1")
    with at(2, 6, 10):
        paid = withdrawal_request(player=mt2, amount=D("20.00"), currency="EUR", api_client=CLIENT)
        ids["X4"] = _last(mt2)
    with at(2, 7, 10):
        withdrawal_approve(actor=finance, withdrawal=paid)
        withdrawal_settle(actor=finance, withdrawal=paid, paid=True)
        ids["X4p"] = _last(mt2)
    with at(2, 8, 10):
        cancelled = withdrawal_request(player=mt2, amount=D("5.00"), currency="EUR", api_client=CLIENT)
        ids["X5"] = _last(mt2)
    with at(2, 8, 11):
        withdrawal_cancel(withdrawal=cancelled, api_client=CLIENT)
        ids["X5c"] = _last(mt2)
    with at(2, 10, 12):
        ids["G2"] = _bet(gb, "5.00", "gr1", "slots", "netent", "gb-b1")
    with at(2, 10, 12, 1):
        ids["G3"] = _win(gb, "25.00", "gr1", "slots", "netent", "gb-w1")
    with at(2, 10, 12, 5):
        ids["G4"] = _bet(gb, "5.00", "gr2", "table", "evo", "gb-b2")
    with at(2, 10, 12, 6):
        ids["G5"] = posting.wallet_rollback(player=gb, bet_reference="gb-b2", api_client=CLIENT).transaction.pk
    with at(2, 10, 15):
        ids["O1"] = posting.wallet_deposit(player=on, amount=D("50.00"), currency="CAD").transaction.pk
    with at(2, 11, 9):
        ids["G6"] = _bet(gb, "4.00", "gr3", "live", "evo", "gb-b3")
    with at(2, 11, 9, 1):
        ids["G7"] = _win(gb, "6.00", "gr3", "live", "evo", "gb-w3")
    with at(2, 11, 9, 2):
        ids["G8"] = posting.wallet_rollback(
            player=gb, bet_reference="gb-w3", api_client=CLIENT, of_type="win"
        ).transaction.pk
    with at(2, 14, 22, 30):
        ids["M3"] = _bet(mt, "30.00", "mr1", "slots", "pragmatic", "mt-b1")
    with at(2, 14, 23, 30):
        ids["M4"] = _win(mt, "12.00", "mr1", "slots", "pragmatic", "mt-w1")
    with at(2, 15, 10):
        ids["M5"] = _bet(mt, "8.00", "mr2", "sports", "betradar", "mt-b2")
    with at(2, 16, 10):
        ids["M6"] = posting.wallet_bonus_forfeit(player=mt, currency="EUR").transaction.pk
    with at(2, 17, 10):
        adjustment_request(actor=finance, player=mt, amount="15.00", reason="goodwill")
        ids["M7"] = _last(mt)
    with at(2, 18, 10):
        adjustment_request(actor=finance, player=mt, amount="-5.00", reason="correction")
        ids["M8"] = _last(mt)
    with at(2, 20, 15):
        withdrawal_request(player=gb, amount=D("50.00"), currency="GBP", api_client=CLIENT)
        ids["G9"] = _last(gb)
    with at(2, 28, 22):
        ids["M9"] = _bet(mt, "3.00", "mr3", "poker", "pstars", "mt-b3")
    with at(3, 1, 0, 30):
        ids["M10"] = _win(mt, "4.00", "mr3", "poker", "pstars", "mt-w3")
    with at(3, 1, 4, 30):
        ids["O2"] = _bet(on, "7.00", "or1", "slots", "netent", "on-b1")
    with at(3, 1, 5, 30):
        ids["O3"] = _bet(on, "1.00", "or2", "slots", "netent", "on-b2")
    with at(3, 3, 10):
        ids["G10"] = _bet(gb, "2.00", "gr4", "slots", "netent", "gb-b4")
    return Ledger(gb=gb, mt=mt, mt2=mt2, on=on, transactions=ids)


def fill_rollups() -> None:
    """What the posting events' consumer does in production: every queued posting counted in
    ``reports_operator_day``; then the rollups equal the ledger (the rollups' own check)."""
    rollups.drain()
    assert rollups.in_flight() == 0
    assert rollups.check() == []
