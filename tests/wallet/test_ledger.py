from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
import time_machine
from django.db import IntegrityError, connection, transaction
from django.db.utils import DatabaseError, ProgrammingError

from apps.audit.services import SystemActor
from apps.players.services import player_set_block
from apps.wallet import posting
from apps.wallet.models import Account, Entry, LedgerTransaction
from tests.factories import PlayerFactory

pytestmark = pytest.mark.django_db
D = Decimal


def cash(player) -> Decimal:
    return Account.objects.get(player=player, kind="cash").balance


def test_a_lifecycle_of_postings_keeps_exact_balances(player):
    posting.wallet_deposit(player=player, amount=D("100.00"), currency="GBP", reference="dep-1")
    posting.wallet_bet(
        player=player, amount=D("2.50"), currency="GBP", game_category="table", round_id="r1", reference="b1"
    )
    posting.wallet_win(player=player, amount=D("7.25"), currency="GBP", round_id="r1", reference="w1")
    posting.wallet_bet(
        player=player, amount=D("1.00"), currency="GBP", game_category="table", round_id="r2", reference="b2"
    )
    posting.wallet_rollback(player=player, bet_reference="b2", api_client="")
    assert cash(player) == D("104.75")
    assert posting.balances(player.pk, "GBP")["playable"] == "104.75"
    for txn in LedgerTransaction.objects.all():
        assert sum(e.amount for e in txn.entries.all()) == 0


def test_a_win_is_credited_in_the_proportion_that_funded_the_bet(player):
    # give the player 3.00 cash and 1.00 bonus through balanced postings
    posting.wallet_deposit(player=player, amount=D("3.00"), currency="GBP")
    awarded = posting.wallet_bonus_award(player=player, amount=D("1.00"), currency="GBP")
    assert awarded.balances == {"cash": D("3.00"), "bonus": D("1.00"), "pending_withdrawal": D("0")}
    posting.wallet_bet(player=player, amount=D("4.00"), currency="GBP", game_category="table", round_id="r9")
    posting.wallet_win(player=player, amount=D("10.00"), currency="GBP", round_id="r9")
    balances = posting.balances(player.pk, "GBP")
    assert (balances["cash"], balances["bonus"]) == ("7.50", "2.50")


def test_refusals(player):
    with pytest.raises(posting.InsufficientFunds):
        posting.wallet_bet(player=player, amount=D("1.00"), currency="GBP", game_category="table", round_id="r1")
    with pytest.raises(Exception) as exc:
        posting.wallet_deposit(player=player, amount=D("1.00"), currency="EUR")
    assert exc.value.code == "currency_mismatch"
    with pytest.raises(Exception) as exc:
        posting.wallet_win(player=player, amount=D("1.00"), currency="GBP", round_id="nope")
    assert exc.value.code == "unknown_round"
    player_set_block(actor=SystemActor("t"), player=player, capability="deposit", blocked=True, reason="t")
    with pytest.raises(posting.PostingRefused) as refused:
        posting.wallet_deposit(player=player, amount=D("1.00"), currency="GBP")
    assert refused.value.code == "blocked_for_deposit" and refused.value.fields == {"reasons": ["blocked_for_deposit"]}
    assert not LedgerTransaction.objects.exists()


@time_machine.travel(datetime(2026, 11, 22, 12, 0, tzinfo=UTC), tick=False)  # the age is a literal, not the calendar's
def test_the_uk_stake_cap_is_enforced_at_posting():
    young = PlayerFactory(date_of_birth=date(2006, 11, 1))  # 20: the GBP 2 cap of ages 18-24
    posting.wallet_deposit(player=young, amount=D("50.00"), currency="GBP")
    with pytest.raises(posting.PostingRefused) as refused:
        posting.wallet_bet(player=young, amount=D("2.01"), currency="GBP", round_id="r", game_category="slots")
    assert refused.value.code == "stake_limit_exceeded"
    posting.wallet_bet(player=young, amount=D("2.00"), currency="GBP", round_id="r", game_category="slots")


def test_a_bet_cannot_be_rolled_back_twice(player):
    posting.wallet_deposit(player=player, amount=D("5.00"), currency="GBP")
    posting.wallet_bet(
        player=player, amount=D("5.00"), currency="GBP", game_category="table", round_id="r", reference="b"
    )
    posting.wallet_rollback(player=player, bet_reference="b", api_client="")
    with pytest.raises(Exception) as exc:
        posting.wallet_rollback(player=player, bet_reference="b", api_client="")
    assert exc.value.code == "already_rolled_back"
    assert cash(player) == D("5.00")


def test_the_database_rejects_changing_or_deleting_entries(player):
    posting.wallet_deposit(player=player, amount=D("5.00"), currency="GBP")
    entry = Entry.objects.first()
    for statement in (
        "UPDATE wallet_entry SET amount = 1 WHERE id = %s",
        "DELETE FROM wallet_entry WHERE id = %s",
        "UPDATE wallet_transaction SET amount = 1 WHERE id = %s",
    ):
        with pytest.raises(ProgrammingError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(statement, [entry.pk if "entry" in statement else entry.transaction_id])


def test_the_database_rejects_an_unbalanced_transaction(player):
    accounts = posting.lock_player_accounts(player.pk, "GBP")
    with pytest.raises(DatabaseError, match="does not balance"), transaction.atomic():
        txn = LedgerTransaction.objects.create(type="deposit", player=player, currency="GBP", amount=D("1"))
        Entry.objects.create(transaction=txn, account_id=accounts.cash_id, amount=D("1"), currency="GBP")
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # what COMMIT would do
    assert not LedgerTransaction.objects.exists()


def test_the_database_refuses_a_negative_player_balance(player):
    accounts = posting.lock_player_accounts(player.pk, "GBP")
    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE wallet_account SET balance = balance - 1 WHERE id = %s", [accounts.cash_id])


def test_bonus_money_is_awarded_converted_and_forfeited_through_the_bonus_cost_account(player):
    posting.wallet_bonus_award(player=player, amount=D("20.00"), currency="GBP", reference="welcome")
    converted = posting.wallet_bonus_convert(player=player.external_id, amount=D("5.00"), currency="GBP")
    assert converted.balances == {"cash": D("5.00"), "bonus": D("15.00"), "pending_withdrawal": D("0")}
    with pytest.raises(posting.InsufficientFunds):
        posting.wallet_bonus_convert(player=player, amount=D("15.01"), currency="GBP")
    forfeited = posting.wallet_bonus_forfeit(player=player, currency="GBP")
    assert forfeited.transaction.amount == D("15.00") and forfeited.balances["bonus"] == D("0")
    cost = Account.objects.get(player=None, kind="bonus_cost", currency="GBP")
    assert sum(e.amount for e in Entry.objects.filter(account=cost)) == D("-5.00")  # the bonus that became cash
    assert list(LedgerTransaction.objects.order_by("id").values_list("type", flat=True)) == [
        "bonus_award",
        "bonus_convert",
        "bonus_forfeit",
    ]
    player_set_block(actor=SystemActor("t"), player=player, capability="bonus", blocked=True, reason="abuse")
    with pytest.raises(posting.PostingRefused) as refused:
        posting.wallet_bonus_award(player=player, amount=D("1.00"), currency="GBP")
    assert refused.value.code == "blocked_for_bonus"


def test_a_posting_by_external_id_finds_and_locks_the_player_in_one_statement(player, django_assert_max_num_queries):
    posting.wallet_deposit(player=player, amount=D("10.00"), currency="GBP")
    with django_assert_max_num_queries(3) as captured, transaction.atomic(savepoint=False):
        posted = posting.bet(
            player=player.external_id, amount=D("2.50"), currency="GBP", game_category="table", round_id="r1"
        )
    # lock (finding the player), eligibility facts, one write for the transaction, entries and balances
    assert "FOR UPDATE" in captured.captured_queries[0]["sql"]
    assert posted.balances["cash"] == D("7.50") == cash(player)
    with pytest.raises(Exception) as exc:
        posting.wallet_bet(player="nobody", amount=D("1.00"), currency="GBP", game_category="table", round_id="r1")
    assert exc.value.code == "player_not_found"
