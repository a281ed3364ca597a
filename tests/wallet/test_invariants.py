"""Property-based and concurrency tests of the ledger's invariants, on real PostgreSQL."""

from __future__ import annotations

import threading
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from apps.core.errors import ApplicationError
from apps.wallet import posting
from apps.wallet.models import Account
from apps.wallet.selectors import ledger_mismatches, unbalanced_transactions
from tests.factories import PlayerFactory

D = Decimal
amounts = st.decimals(min_value=D("0.01"), max_value=D("60.00"), places=2)
operations = st.lists(
    st.tuples(st.sampled_from(["deposit", "bet", "win", "rollback"]), amounts, st.integers(min_value=0, max_value=5)),
    min_size=1,
    max_size=25,
)


@pytest.mark.django_db
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=operations)
def test_random_postings_keep_every_invariant(ops):
    with transaction.atomic():
        player = PlayerFactory(date_of_birth=__import__("datetime").date(1980, 1, 1))
        for n, (kind, amount, round_no) in enumerate(ops):
            try:
                if kind == "deposit":
                    posting.wallet_deposit(player=player, amount=amount, currency="GBP")
                elif kind == "bet":
                    posting.wallet_bet(
                        player=player,
                        amount=amount,
                        currency="GBP",
                        game_category="table",
                        round_id=f"r{round_no}",
                        reference=f"b{n}",
                    )
                elif kind == "win":
                    posting.wallet_win(player=player, amount=amount, currency="GBP", round_id=f"r{round_no}")
                else:
                    posting.wallet_rollback(player=player, bet_reference=f"b{round_no}", api_client="")
            except ApplicationError:
                pass  # refusals (insufficient funds, unknown round, already rolled back) change nothing
        assert not ledger_mismatches()
        assert not unbalanced_transactions()
        assert all(a.balance >= 0 for a in Account.objects.filter(player=player))
        transaction.set_rollback(True)


@pytest.mark.usefixtures("geo_rules")
@pytest.mark.django_db(transaction=True)
def test_200_concurrent_bets_and_wins_on_one_player_end_exact():
    player = PlayerFactory(date_of_birth=__import__("datetime").date(1980, 1, 1))
    posting.wallet_deposit(player=player, amount=D("1000.00"), currency="GBP")
    posting.wallet_bet(
        player=player, amount=D("1.00"), currency="GBP", game_category="table", round_id="seed"
    )  # rounds for the wins
    errors: list[BaseException] = []
    barrier = threading.Barrier(8)

    def worker(n: int) -> None:
        try:
            barrier.wait()
            for i in range(25):  # 8 threads x 25 = 200 postings: 100 bets of 3.00, 100 wins of 1.50
                if (n + i) % 2:
                    posting.wallet_bet(
                        player=player, amount=D("3.00"), currency="GBP", game_category="table", round_id=f"t{n}-{i}"
                    )
                else:
                    posting.wallet_win(player=player, amount=D("1.50"), currency="GBP", round_id="seed")
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors[:3]
    expected = D("1000.00") - D("1.00") - 100 * D("3.00") + 100 * D("1.50")
    assert Account.objects.get(player=player, kind="cash").balance == expected
    assert not ledger_mismatches() and not unbalanced_transactions()


@pytest.mark.usefixtures("geo_rules")
@pytest.mark.django_db(transaction=True)
def test_concurrent_bets_never_overdraw():
    player = PlayerFactory(date_of_birth=__import__("datetime").date(1980, 1, 1))
    posting.wallet_deposit(player=player, amount=D("10.00"), currency="GBP")
    results: list[str] = []

    def bet(n: int) -> None:
        try:
            posting.wallet_bet(player=player, amount=D("1.00"), currency="GBP", game_category="table", round_id=f"r{n}")
            results.append("ok")
        except posting.InsufficientFunds:
            results.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=bet, args=(n,)) for n in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results.count("ok") == 10 and results.count("refused") == 6
    assert Account.objects.get(player=player, kind="cash").balance == 0


@pytest.mark.django_db
def test_ledger_verify_catches_a_balance_changed_behind_the_triggers_back(player):
    posting.wallet_deposit(player=player, amount=D("20.00"), currency="GBP")
    call_command("ledger_verify")
    cash = Account.objects.get(player=player, kind="cash")
    with connection.cursor() as cursor:  # a direct UPDATE of the balance column (no entry written)
        cursor.execute("UPDATE wallet_account SET balance = 25 WHERE id = %s", [cash.pk])
    with pytest.raises(CommandError, match="1 account"):
        call_command("ledger_verify")
