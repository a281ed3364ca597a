"""Operator day rollups: counted from the posting events in batches, rebuilt and checked against the ledger."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.db import connection, transaction
from django.db.models import Sum

from apps.core.errors import ApplicationError
from apps.reports import rollups
from apps.reports.models import OperatorDay
from apps.wallet import events, posting, services
from apps.wallet.choices import TransactionType
from apps.wallet.models import LedgerTransaction, PlayerDay, PostingQueueItem
from tests.factories import BrandFactory, PlayerFactory, StaffUserFactory

D = Decimal
SUMMER_DAY = datetime(2027, 7, 10, 12, 0, tzinfo=UTC)


def bet(player, amount, ref, round_id="r", category="table", provider="netent"):
    return posting.wallet_bet(
        player=player,
        amount=D(amount),
        currency=player.currency,
        round_id=round_id,
        game_category=category,
        provider=provider,
        reference=ref,
        api_client="pfx",
    )


def win(player, amount, ref, round_id="r", category="table", provider="netent"):
    return posting.wallet_win(
        player=player,
        amount=D(amount),
        currency=player.currency,
        round_id=round_id,
        game_category=category,
        provider=provider,
        reference=ref,
        api_client="pfx",
    )


def deposit(player, amount):
    return posting.wallet_deposit(player=player, amount=D(amount), currency=player.currency)


def rows(**filters):
    """(type, game category, provider) -> (amount, cash_amount, bonus_amount, count) of the rows ``filters`` pick."""
    found = OperatorDay.objects.filter(**filters).order_by("type", "game_category", "provider")
    return {(r.type, r.game_category, r.provider): (r.amount, r.cash_amount, r.bonus_amount, r.count) for r in found}


def table():
    """Every rollup row with every column, for comparing two ways of building them."""
    return sorted(
        OperatorDay.objects.values_list(*rollups.KEY, *rollups.VALUES),
        key=lambda r: tuple(str(v) for v in r),
    )


def queued() -> int:
    return PostingQueueItem.objects.filter(consumer=rollups.CONSUMER).count()


# --- what lands where ----------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_every_transaction_type_lands_in_its_row_with_its_sign_and_its_cash_and_bonus_parts():
    player = PlayerFactory()
    officer = StaffUserFactory(roles=["Finance Officer"])
    with time_machine.travel(SUMMER_DAY, tick=False):
        deposit(player, "100.00")
        posting.wallet_bonus_award(player=player, amount=D("10.00"), currency="GBP")
        bet(player, "105.00", "b1")  # 100 cash + 5 bonus
        win(player, "21.00", "w1")  # 1 of it to bonus: the round was 5/105 bonus
        bet(player, "2.00", "b2", round_id="r2")
        posting.wallet_rollback(player=player, bet_reference="b2", api_client="pfx")
        bet(player, "1.00", "b3", round_id="r3", category="live", provider="evolution")
        win(player, "3.00", "w3", round_id="r3", category="live", provider="evolution")
        posting.wallet_rollback(player=player, bet_reference="w3", api_client="pfx", of_type="win")
        posting.wallet_bonus_convert(player=player, amount=D("1.00"), currency="GBP")
        posting.wallet_bonus_forfeit(player=player, currency="GBP")
        paid = services.withdrawal_request(player=player, amount=D("7.00"), currency="GBP")
        cancelled = services.withdrawal_request(player=player, amount=D("3.00"), currency="GBP")
        services.withdrawal_cancel(withdrawal=cancelled, api_client="")
        services.withdrawal_approve(actor=officer, withdrawal=paid)
        services.withdrawal_settle(actor=officer, withdrawal=paid, paid=True)
        services.adjustment_request(actor=officer, player=player, amount="25.00", reason="goodwill")
        services.adjustment_request(actor=officer, player=player, amount="-5.00", reason="correction")
    assert OperatorDay.objects.count() == 0  # nothing in the postings' own statements: the consumer counts
    assert queued() == LedgerTransaction.objects.count() == 17
    assert rollups.drain().processed == 17 and queued() == 0
    assert rows(day=date(2027, 7, 10), jurisdiction="GB", brand_id=player.brand_id, currency="GBP") == {
        ("adjustment", "", ""): (D("30.00"), D("20.00"), D("0"), 2),  # +25 and -5: the signed cash says which
        ("bet", "live", "evolution"): (D("1.00"), D("-1.00"), D("0"), 1),
        ("bet", "table", "netent"): (D("107.00"), D("-102.00"), D("-5.00"), 2),
        ("bonus_award", "", ""): (D("10.00"), D("0"), D("10.00"), 1),
        ("bonus_convert", "", ""): (D("1.00"), D("1.00"), D("-1.00"), 1),
        ("bonus_forfeit", "", ""): (D("5.00"), D("0"), D("-5.00"), 1),
        ("deposit", "", ""): (D("100.00"), D("100.00"), D("0"), 1),
        ("rollback", "table", "netent"): (D("2.00"), D("2.00"), D("0"), 1),
        ("win", "live", "evolution"): (D("3.00"), D("3.00"), D("0"), 1),
        ("win", "table", "netent"): (D("21.00"), D("20.00"), D("1.00"), 1),
        ("win_rollback", "live", "evolution"): (D("3.00"), D("-3.00"), D("0"), 1),
        ("withdrawal", "", ""): (D("10.00"), D("-10.00"), D("0"), 2),
        ("withdrawal_cancel", "", ""): (D("3.00"), D("3.00"), D("0"), 1),
        ("withdrawal_paid", "", ""): (D("7.00"), D("0"), D("0"), 1),
    }
    # the signed parts add up to the player's balances, as a funds reconciliation reads them
    totals = OperatorDay.objects.aggregate(cash=Sum("cash_amount"), bonus=Sum("bonus_amount"))
    balances = posting.balances(player.pk, "GBP")
    assert (totals["cash"], totals["bonus"]) == (D(balances["cash"]), D(balances["bonus"])) == (D("33"), D("0"))
    assert rollups.check() == []


def test_every_wallet_transaction_type_has_its_balance_signs_declared():
    """A new posting type must say how it moves cash and bonus (or that it moves neither) before it is counted."""
    declared = set(rollups.CASH_SIGN) | set(rollups.BONUS_SIGN) | {"adjustment", "withdrawal_paid"}
    assert declared == set(TransactionType.values)


@pytest.mark.django_db
def test_two_jurisdictions_with_different_clocks_count_each_posting_on_its_own_local_day():
    german = PlayerFactory(country="DE", currency="EUR")
    ontarian = PlayerFactory(country="CA", region="CA-ON", currency="CAD")
    moments = {
        datetime(2027, 7, 10, 21, 30, tzinfo=UTC): (german, "1.00"),  # 23:30 in Berlin: the 10th
        datetime(2027, 7, 10, 22, 30, tzinfo=UTC): (german, "2.00"),  # 00:30 in Berlin: the 11th
        datetime(2027, 7, 11, 3, 30, tzinfo=UTC): (ontarian, "4.00"),  # 23:30 in Toronto: still the 10th
        datetime(2027, 7, 11, 4, 30, tzinfo=UTC): (ontarian, "8.00"),  # 00:30 in Toronto: the 11th
    }
    for moment, (player, amount) in moments.items():
        with time_machine.travel(moment, tick=False):
            deposit(player, amount)
    rollups.drain()
    found = {(r.jurisdiction, r.day, r.currency): r.amount for r in OperatorDay.objects.all()}
    assert found == {
        ("DE", date(2027, 7, 10), "EUR"): D("1.00"),
        ("DE", date(2027, 7, 11), "EUR"): D("2.00"),
        ("CA-ON", date(2027, 7, 10), "CAD"): D("4.00"),
        ("CA-ON", date(2027, 7, 11), "CAD"): D("8.00"),
    }
    # the wallet's per-player rollups put each on the same day
    assert sorted(PlayerDay.objects.values_list("day", "deposits")) == sorted(
        (day, amount) for (_, day, _), amount in found.items()
    )
    assert rollups.check() == [] and rollups.check(date(2027, 7, 11), date(2027, 7, 11)) == []
    OperatorDay.objects.all().delete()
    assert rollups.rebuild(date(2027, 7, 10), date(2027, 7, 10)) == 2  # that day only, both clocks
    assert {(r.jurisdiction, r.day) for r in OperatorDay.objects.all()} == {
        ("DE", date(2027, 7, 10)),
        ("CA-ON", date(2027, 7, 10)),
    }
    assert rollups.check(date(2027, 7, 10), date(2027, 7, 10)) == []
    assert len(rollups.check()) == 8  # the 11th's two rows are missing, four values each


@pytest.mark.django_db
def test_brands_and_currencies_have_rows_of_their_own():
    other = BrandFactory(code="brand-two")
    home, away, maltese = PlayerFactory(), PlayerFactory(brand=other), PlayerFactory(country="MT", currency="EUR")
    with time_machine.travel(SUMMER_DAY, tick=False):
        for player, amount in ((home, "10.00"), (away, "20.00"), (maltese, "40.00"), (home, "1.00")):
            deposit(player, amount)
            bet(player, "1.00", f"b-{player.pk}-{amount}", round_id=f"r{amount}")
    rollups.drain()
    deposits = {
        (r.jurisdiction, r.brand_id, r.currency): (r.amount, r.count)
        for r in OperatorDay.objects.filter(type="deposit")
    }
    assert deposits == {
        ("GB", home.brand_id, "GBP"): (D("11.00"), 2),
        ("GB", other.pk, "GBP"): (D("20.00"), 1),
        ("MT", maltese.brand_id, "EUR"): (D("40.00"), 1),
    }
    stakes = OperatorDay.objects.filter(type="bet").values_list("currency").annotate(total=Sum("amount"))
    assert dict(stakes) == {"GBP": D("3.00"), "EUR": D("1.00")}
    assert rollups.check() == []


@pytest.mark.django_db
def test_a_posting_rolled_back_with_its_transaction_is_never_counted():
    player = PlayerFactory()
    deposit(player, "10.00")
    with pytest.raises(RuntimeError), transaction.atomic():
        bet(player, "4.00", "gone")
        raise RuntimeError("the caller's transaction fails after the posting")
    assert queued() == 1
    rollups.drain()
    assert rows() == {("deposit", "", ""): (D("10.00"), D("10.00"), D("0"), 1)}
    assert rollups.check() == []


@pytest.mark.django_db
def test_a_drain_whose_upsert_fails_rolls_its_batch_back_and_counts_the_attempt(monkeypatch):
    player = PlayerFactory()
    deposit(player, "10.00")
    bet(player, "1.00", "b1")
    monkeypatch.setattr(rollups, "_UPSERT_CLAIMED", "SELECT %s::bigint[], %s::numeric[], %s::numeric[], 1 / 0")
    result = rollups.drain()
    assert (result.processed, result.failed_players) == (0, 1)
    failing = PostingQueueItem.objects.filter(consumer=rollups.CONSUMER)
    assert [(q.attempts, "division by zero" in q.last_error) for q in failing] == [(1, True), (1, True)]
    assert not OperatorDay.objects.exists()
    monkeypatch.undo()
    assert rollups.drain().processed == 2 and rollups.check() == []


# --- against the ledger ----------------------------------------------------------------------------------------


def _random_mix(rng: random.Random, players: list, steps: int) -> None:
    """Postings of every kind the players can make, on several days, with drains at random moments."""
    officer = StaffUserFactory(roles=["Finance Officer"])
    open_bets: dict[int, list[str]] = {p.pk: [] for p in players}
    wins: dict[int, list[str]] = {p.pk: [] for p in players}
    start = datetime(2027, 3, 27, 20, 0, tzinfo=UTC)  # across the night the clocks change in Europe
    for step in range(steps):
        player = rng.choice(players)
        moment = start + timedelta(minutes=rng.randrange(0, 3 * 24 * 60))
        choice = rng.random()
        with time_machine.travel(moment, tick=False):
            try:
                if choice < 0.15:
                    deposit(player, f"{rng.randint(5, 60)}.{rng.randint(0, 99):02d}")
                elif choice < 0.5:
                    ref = f"b{step}"
                    bet(player, f"{rng.randint(1, 4)}.{rng.randint(0, 99):02d}", ref, round_id=ref)
                    open_bets[player.pk].append(ref)
                elif choice < 0.7 and open_bets[player.pk]:
                    ref = open_bets[player.pk].pop(rng.randrange(len(open_bets[player.pk])))
                    win(player, f"{rng.randint(0, 9)}.{rng.randint(0, 99):02d}", f"w{step}", round_id=ref)
                    wins[player.pk].append(f"w{step}")
                elif choice < 0.78 and open_bets[player.pk]:
                    ref = open_bets[player.pk].pop()
                    posting.wallet_rollback(player=player, bet_reference=ref, api_client="pfx")
                elif choice < 0.82 and wins[player.pk]:
                    ref = wins[player.pk].pop()
                    posting.wallet_rollback(player=player, bet_reference=ref, api_client="pfx", of_type="win")
                elif choice < 0.87:
                    posting.wallet_bonus_award(
                        player=player, amount=D(f"{rng.randint(1, 9)}.00"), currency=player.currency
                    )
                elif choice < 0.9:
                    posting.wallet_bonus_forfeit(player=player, currency=player.currency, amount=D("1.00"))
                elif choice < 0.93:
                    posting.wallet_bonus_convert(player=player, amount=D("0.50"), currency=player.currency)
                elif choice < 0.96:
                    withdrawal = services.withdrawal_request(player=player, amount=D("2.00"), currency=player.currency)
                    if rng.random() < 0.5:
                        services.withdrawal_cancel(withdrawal=withdrawal, api_client="")
                else:
                    amount = f"{'-' if rng.random() < 0.4 else ''}{rng.randint(1, 3)}.00"
                    services.adjustment_request(actor=officer, player=player, amount=amount, reason="mix")
            except ApplicationError:
                pass  # refused (funds, limits, a settled round...) before anything is written
        if rng.random() < 0.1:
            rollups.drain(batch=rng.randint(1, 40))


@pytest.mark.django_db
def test_after_a_random_mix_the_rollups_equal_the_ledger_the_wallets_rollups_and_a_rebuild():
    rng = random.Random(18)
    brand = BrandFactory(code="mix-brand")
    players = [
        PlayerFactory(),
        PlayerFactory(brand=brand),
        PlayerFactory(country="MT", currency="EUR"),
        PlayerFactory(country="DE", currency="EUR", brand=brand),
        PlayerFactory(country="CA", region="CA-ON", currency="CAD"),
    ]
    for player in players:
        with time_machine.travel(datetime(2027, 3, 27, 19, 0, tzinfo=UTC), tick=False):
            deposit(player, "50.00")
    _random_mix(rng, players, 300)
    made = LedgerTransaction.objects.values_list("type", "player__country")
    assert {kind for kind, _ in made} == set(TransactionType.values) - {"withdrawal_paid"}
    assert {country for _, country in made} == {"GB", "MT", "DE", "CA"}
    waiting = queued()
    assert rollups.check_with_in_flight().in_flight == waiting  # not yet counted, and not a difference
    assert rollups.check() == []
    rollups.drain()
    assert rollups.check() == [] and queued() == 0
    assert OperatorDay.objects.aggregate(n=Sum("count"))["n"] == LedgerTransaction.objects.count()
    # the wallet's per-player rollups (another code path: the posting's own statement) agree on the money
    for currency in ("GBP", "EUR", "CAD"):
        mine = {
            kind: OperatorDay.objects.filter(currency=currency, type=kind).aggregate(a=Sum("amount"))["a"] or 0
            for kind in ("deposit", "bet", "rollback", "win", "win_rollback", "bonus_award")
        }
        theirs = PlayerDay.objects.filter(currency=currency).aggregate(
            deposits=Sum("deposits"), stakes=Sum("stakes"), wins=Sum("wins"), bonus=Sum("bonus_awarded")
        )
        assert mine["deposit"] == theirs["deposits"]
        assert mine["bet"] - mine["rollback"] == theirs["stakes"]
        assert mine["win"] - mine["win_rollback"] == theirs["wins"]
        assert mine["bonus_award"] == (theirs["bonus"] or 0)
    counted = table()
    assert rollups.rebuild() > 0
    assert table() == counted  # the consumer and the ledger build the same rows, to the cent


@pytest.mark.django_db
def test_rebuild_leaves_what_is_still_queued_to_the_consumer():
    player = PlayerFactory()
    with time_machine.travel(SUMMER_DAY, tick=False):
        deposit(player, "50.00")
        rollups.drain()
        bet(player, "10.00", "b1")  # queued, not yet counted
        assert rollups.rebuild(date(2027, 7, 10), date(2027, 7, 10)) == 1
        assert rows() == {("deposit", "", ""): (D("50.00"), D("50.00"), D("0"), 1)}
        assert rollups.drain().processed == 1  # the consumer counts the bet: once
        assert rollups.rebuild() == 2 and rollups.rebuild() == 2
    assert rows()[("bet", "table", "netent")] == (D("10.00"), D("-10.00"), D("0"), 1)
    assert rollups.check() == []


# --- the commands ------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_check_command_finds_a_tampered_row_a_missing_one_and_an_invented_one(capsys, owner_role):
    player = PlayerFactory()
    with time_machine.travel(SUMMER_DAY, tick=False):
        deposit(player, "50.00")
        bet(player, "10.00", "b1")
        win(player, "5.00", "w1")
    rollups.drain()
    call_command("reports_rollups_check")
    assert "The rollups equal the ledger." in capsys.readouterr().out
    with connection.cursor() as cursor:  # behind the application's back, as the owner
        cursor.execute("UPDATE reports_operator_day SET cash_amount = cash_amount - 0.01 WHERE type = 'bet'")
        cursor.execute("DELETE FROM reports_operator_day WHERE type = 'win'")
        cursor.execute(
            "INSERT INTO reports_operator_day (day, jurisdiction, brand_id, currency, type, game_category, provider, "
            "amount, cash_amount, bonus_amount, count) VALUES ('2027-07-09', 'GB', %s, 'GBP', 'deposit', '', '', 1, 1, "
            "0, 1)",
            [player.brand_id],
        )
    with pytest.raises(CommandError) as failed:
        call_command("reports_rollups_check")
    out = capsys.readouterr().out
    assert str(failed.value) == "9 difference(s) between the rollups and the ledger."  # 1 value, 2 rows of 4
    assert "2027-07-10 GB brand" in out and "bet/table/netent cash_amount: rollup -10.0100, ledger -10.0000" in out
    assert "win/table/netent amount: rollup None, ledger 5.0000" in out
    assert "2027-07-09 GB" in out and "deposit amount: rollup 1.0000, ledger None" in out
    with pytest.raises(CommandError):  # a day range sees only its days
        call_command("reports_rollups_check", "--start", "2027-07-09", "--end", "2027-07-09")
    call_command("reports_rollups_check", "--start", "2027-07-11")
    capsys.readouterr()
    call_command("reports_rollups_check", "--rebuild")
    out = capsys.readouterr().out
    assert "rebuilt 2 day(s) from the ledger: 2027-07-09, 2027-07-10" in out and "equal the ledger" in out
    assert rollups.check() == []


@pytest.mark.django_db
def test_the_check_command_exits_non_zero_from_the_shell_and_refuses_a_bad_date(owner_role):
    player = PlayerFactory()
    deposit(player, "5.00")
    rollups.drain()
    with connection.cursor() as cursor:
        cursor.execute("UPDATE reports_operator_day SET count = count + 1")
    with pytest.raises(CommandError) as failed:
        call_command("reports_rollups_check")
    assert failed.value.returncode == 1
    with pytest.raises(CommandError) as bad:
        call_command("reports_rollups_check", "--start", "yesterday")
    assert bad.value.returncode == 2


@pytest.mark.django_db
def test_the_build_command_backfills_a_ledger_that_predates_the_consumer(capsys):
    player = PlayerFactory()
    for moment, amount in ((datetime(2027, 1, 31, 23, 30, tzinfo=UTC), "1.00"), (SUMMER_DAY, "2.00")):
        with time_machine.travel(moment, tick=False):
            deposit(player, amount)
    PostingQueueItem.objects.filter(consumer=rollups.CONSUMER).delete()  # as if posted before it was registered
    assert len(rollups.check()) == 8  # two rows missing, four values each
    with time_machine.travel(SUMMER_DAY, tick=False):
        call_command("reports_rollups_build")
    out = capsys.readouterr().out
    assert "2027-01-30 to 2027-01-31: 1 row(s)" in out and "2027-07-01 to 2027-07-11: 1 row(s)" in out
    assert rollups.check() == []
    first = table()
    with time_machine.travel(SUMMER_DAY, tick=False):
        call_command("reports_rollups_build", "--start", "2027-01-01")
    assert table() == first


def test_months_split_a_period_at_month_ends():
    assert rollups.months(date(2027, 1, 30), date(2027, 3, 2)) == [
        (date(2027, 1, 30), date(2027, 1, 31)),
        (date(2027, 2, 1), date(2027, 2, 28)),
        (date(2027, 3, 1), date(2027, 3, 2)),
    ]


@pytest.mark.django_db
def test_the_drain_task_counts_what_waits():
    from apps.reports.tasks import operator_day_drain

    deposit(PlayerFactory(), "5.00")
    assert operator_day_drain(budget_seconds=5) == {"processed": 1, "batches": 1, "failed": 0}
    assert operator_day_drain() == {"processed": 0, "batches": 0, "failed": 0}


@pytest.mark.django_db
def test_the_consumer_is_registered_for_every_type_and_shown_with_the_others(capsys):
    assert all(rollups.CONSUMER in events.consumers_for(kind) for kind in TransactionType.values)
    deposit(PlayerFactory(), "5.00")
    call_command("posting_events", "--consumer", rollups.CONSUMER)
    assert f"{rollups.CONSUMER}: 1 waiting for 1 player(s)" in capsys.readouterr().out
    call_command("posting_events", "--drain", "--consumer", rollups.CONSUMER)
    out = capsys.readouterr().out
    assert "processed 1 event(s)" in out and f"{rollups.CONSUMER}: 0 waiting" in out and "; registered" in out
