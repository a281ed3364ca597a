"""Every refusal of apps.wallet.posting (with its reversal and bonus_money parts), through the plain posting
functions the API calls inside its own transaction: the exact code, and nothing written. That is the module's
promise ("every refusal is raised before the write, so a caller ... needs no savepoint"): here the caller is the
test's own transaction, which must still be usable and unchanged after each refusal."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import pytest

from apps.audit.services import SystemActor
from apps.players.models import Brand, Player
from apps.players.services import player_set_block
from apps.responsible.services import self_exclude
from apps.wallet import bonus_money, posting, reversal
from apps.wallet.services import withdrawal_request
from tests.factories import PlayerFactory
from tests.refusals import app_tables, assert_refused, codes_raised_by

pytestmark = pytest.mark.django_db
D = Decimal
GAME = "game-server"  # the API client's prefix the game postings carry
TABLES = app_tables("wallet", "players")
# PostingRefused always carries eligibility's first reason as its code; tests/core/test_errors.py pins its default
CLASS_DEFAULTS = {"not_allowed"}


@dataclass
class World:
    player: Player  # GBP 100.00 of cash, a bet of 10.00 in round "r1" (reference "b1") and its win of 4.00


@pytest.fixture
def world() -> World:
    player = PlayerFactory()
    posting.wallet_deposit(player=player, amount=D("100.00"), currency="GBP", api_client="pay", reference="d1")
    bet(player, "10.00", round_id="r1", reference="b1")
    posting.wallet_win(player=player, amount=D("4.00"), currency="GBP", round_id="r1", api_client=GAME, reference="w1")
    return World(player=player)


def bet(player: Player | str, amount: str, round_id: str = "r2", reference: str = "", **kwargs: object):
    kwargs = {"game_category": "table", **kwargs}  # no stake cap on table games in GB
    return posting.bet(
        player=player,
        amount=D(amount),
        currency="GBP",
        round_id=round_id,
        api_client=GAME,
        reference=reference,
        **kwargs,  # type: ignore[arg-type]
    )


def a_bet_without_a_category(w: World):
    return lambda: bet(w.player, "1.00", game_category="")


def a_bet_in_an_unknown_category(w: World):
    return lambda: bet(w.player, "1.00", game_category="lottery")


def a_rollback_of_a_deposit(w: World):
    return lambda: posting.rollback(player=w.player, bet_reference="d1", api_client="pay", of_type="deposit")


def a_deposit_for_nobody(w: World):
    return lambda: posting.deposit(player="NO-SUCH-PLAYER", amount=D("1.00"), currency="GBP")


def a_deposit_for_another_brands_player(w: World):
    other = Brand.objects.create(code="other-brand", name="Other brand")
    return lambda: posting.deposit(player=w.player.external_id, amount=D("1.00"), currency="GBP", brand_ids=[other.pk])


def a_rollback_for_another_brands_player(w: World):
    other = Brand.objects.create(code="other-brand", name="Other brand")
    return lambda: posting.rollback(
        player=w.player.external_id, bet_reference="b1", api_client=GAME, brand_ids=[other.pk]
    )


def a_deposit_in_another_currency(w: World):
    return lambda: posting.deposit(player=w.player, amount=D("1.00"), currency="EUR")


def a_deposit_while_blocked(w: World):
    player_set_block(actor=SystemActor("tests"), player=w.player, capability="deposit", blocked=True, reason="t")
    return lambda: posting.deposit(player=w.player, amount=D("1.00"), currency="GBP")


def a_deposit_with_an_excluded_persons_card(w: World):
    excluded = PlayerFactory()
    posting.wallet_deposit(player=excluded, amount=D("5.00"), currency="GBP", instrument_fingerprint="card-1")
    self_exclude(actor=SystemActor("tests"), player=excluded, term="1y")
    return lambda: posting.deposit(player=w.player, amount=D("1.00"), currency="GBP", instrument_fingerprint="card-1")


def a_stake_over_the_uk_cap_for_ages_18_to_24(w: World):
    young = PlayerFactory(date_of_birth=date(date.today().year - 20, 1, 1))  # 19 or 20: the GBP 2 cap
    posting.wallet_deposit(player=young, amount=D("50.00"), currency="GBP")
    return lambda: bet(young, "2.01", game_category="slots")


def a_stake_beyond_cash_and_bonus(w: World):
    return lambda: bet(w.player, "94.01")  # 94.00 of cash left


def a_rollback_of_a_win_already_spent(w: World):
    withdrawal_request(player=w.player, amount=D("94.00"), currency="GBP")
    return lambda: posting.rollback(player=w.player, bet_reference="w1", api_client=GAME, of_type="win")


def a_conversion_beyond_the_bonus(w: World):
    return lambda: posting.bonus_convert(player=w.player, amount=D("0.01"), currency="GBP")


def a_balance_past_the_ledgers_columns(w: World):
    return lambda: posting.deposit(player=w.player, amount=D("9999999999999999"), currency="GBP")


def a_deposit_reference_used_twice(w: World):
    return lambda: posting.deposit(player=w.player, amount=D("1.00"), currency="GBP", api_client="pay", reference="d1")


def a_bet_reference_used_twice(w: World):
    return lambda: bet(w.player, "1.00", round_id="r9", reference="b1")


def a_win_in_a_round_without_a_bet(w: World):
    return lambda: posting.win(player=w.player, amount=D("1.00"), currency="GBP", round_id="r404", api_client=GAME)


def a_win_in_another_clients_round(w: World):
    return lambda: posting.win(player=w.player, amount=D("1.00"), currency="GBP", round_id="r1", api_client="intruder")


def a_rollback_of_an_unknown_bet(w: World):
    return lambda: posting.rollback(player=w.player, bet_reference="b404", api_client=GAME)


def a_rollback_of_another_clients_bet(w: World):
    return lambda: posting.rollback(player=w.player, bet_reference="b1", api_client="intruder")


def a_rollback_of_an_unknown_win(w: World):
    return lambda: posting.rollback(player=w.player, bet_reference="w404", api_client=GAME, of_type="win")


def a_rollback_twice(w: World):
    bet(w.player, "1.00", round_id="r5", reference="b5")
    posting.wallet_rollback(player=w.player, bet_reference="b5", api_client=GAME)
    return lambda: posting.rollback(player=w.player, bet_reference="b5", api_client=GAME)


def a_rollback_of_a_bet_whose_round_has_a_win(w: World):
    return lambda: posting.rollback(player=w.player, bet_reference="b1", api_client=GAME)


CASES: list[tuple[str, Callable[[World], Callable[[], object]]]] = [
    ("invalid", a_bet_without_a_category),
    ("invalid", a_bet_in_an_unknown_category),
    ("invalid", a_rollback_of_a_deposit),
    ("player_not_found", a_deposit_for_nobody),
    ("player_not_found", a_deposit_for_another_brands_player),
    ("player_not_found", a_rollback_for_another_brands_player),
    ("currency_mismatch", a_deposit_in_another_currency),
    ("blocked_for_deposit", a_deposit_while_blocked),
    ("self_excluded", a_deposit_with_an_excluded_persons_card),
    ("stake_limit_exceeded", a_stake_over_the_uk_cap_for_ages_18_to_24),
    ("insufficient_funds", a_stake_beyond_cash_and_bonus),
    ("insufficient_funds", a_rollback_of_a_win_already_spent),
    ("insufficient_funds", a_conversion_beyond_the_bonus),
    ("balance_limit", a_balance_past_the_ledgers_columns),
    ("duplicate_reference", a_deposit_reference_used_twice),
    ("duplicate_reference", a_bet_reference_used_twice),
    ("unknown_round", a_win_in_a_round_without_a_bet),
    ("unknown_round", a_win_in_another_clients_round),
    ("unknown_bet", a_rollback_of_an_unknown_bet),
    ("unknown_bet", a_rollback_of_another_clients_bet),
    ("unknown_win", a_rollback_of_an_unknown_win),
    ("already_rolled_back", a_rollback_twice),
    ("round_settled", a_rollback_of_a_bet_whose_round_has_a_win),
]


@pytest.mark.parametrize(("code", "case"), CASES, ids=[f"{code}-{case.__name__}" for code, case in CASES])
def test_it_refuses_with_the_code_and_writes_nothing(world, code, case):
    assert_refused(case(world), code, tables=TABLES)


def test_it_has_a_case_for_every_code_the_modules_raise():
    raised = codes_raised_by(posting) | codes_raised_by(reversal) | codes_raised_by(bonus_money)
    assert raised - CLASS_DEFAULTS <= {code for code, _ in CASES}
