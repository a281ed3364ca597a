"""Per-player day rollups: written by the posting statement, on the jurisdiction's clock, equal to the ledger."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.db import connection, connections
from django.test.utils import CaptureQueriesContext

from apps.audit.services import SystemActor
from apps.players.eligibility import can
from apps.responsible import services as rg
from apps.wallet import posting, rollups
from apps.wallet.models import PlayerDay
from apps.wallet.services import withdrawal_cancel, withdrawal_request
from tests.factories import PlayerFactory

D = Decimal
ACTOR = SystemActor("tests")


def bet(player, amount, ref, round_id="r", category="table"):
    return posting.wallet_bet(
        player=player,
        amount=D(amount),
        currency=player.currency,
        round_id=round_id,
        game_category=category,
        reference=ref,
        api_client="pfx",
    )


def day_row(player, day=None):
    rows = PlayerDay.objects.filter(player=player)
    return rows.get(day=day) if day else rows.get()


@pytest.mark.django_db
def test_each_posting_adds_to_its_days_row_net_of_rollbacks_and_cancels():
    player = PlayerFactory()
    posting.wallet_deposit(player=player, amount=D("100.00"), currency="GBP")
    posting.wallet_bonus_award(player=player, amount=D("10.00"), currency="GBP")
    bet(player, "105.00", "b1")
    posting.wallet_win(player=player, amount=D("21.00"), currency="GBP", round_id="r", reference="w", api_client="pfx")
    bet(player, "2.00", "b2", round_id="r2")
    posting.wallet_rollback(player=player, bet_reference="b2", api_client="pfx")
    posting.wallet_bonus_convert(player=player, amount=D("1.00"), currency="GBP")
    posting.wallet_bonus_forfeit(player=player, currency="GBP")
    kept = withdrawal_request(player=player, amount=D("7.00"), currency="GBP")
    cancelled = withdrawal_request(player=player, amount=D("3.00"), currency="GBP")
    withdrawal_cancel(withdrawal=cancelled, api_client="")
    row = day_row(player)
    assert (row.deposits, row.deposit_count) == (D("100.00"), 1)
    assert (row.stakes, row.bonus_stakes, row.bet_count) == (D("105.00"), D("5.00"), 1)  # b2 rolled back
    assert (row.wins, row.bonus_wins, row.win_count) == (D("21.00"), D("1.00"), 1)
    assert (row.bonus_awarded, row.bonus_converted, row.bonus_forfeited) == (D("10.00"), D("1.00"), D("5.00"))
    assert (row.withdrawals, row.withdrawal_count) == (kept.amount, 1)
    assert row.day == datetime.now(UTC).date() and row.currency == "GBP"
    assert rollups.mismatches() == []
    call_command("ledger_verify")


@pytest.mark.django_db
def test_the_day_is_the_jurisdictions_local_day():
    german = PlayerFactory(country="DE", currency="EUR")
    with time_machine.travel(datetime(2027, 7, 10, 22, 30, tzinfo=UTC), tick=False):  # 00:30 on the 11th in Berlin
        posting.wallet_deposit(player=german, amount=D("5.00"), currency="EUR")
    assert day_row(german).day == date(2027, 7, 11)
    assert rollups.mismatches() == []


@pytest.mark.django_db
def test_limit_usage_reads_the_rollups_not_the_ledger():
    player = PlayerFactory()
    rg.limit_set(actor=ACTOR, player=player, kind="wager", period="month", value="1000.00")
    posting.wallet_deposit(player=player, amount=D("100.00"), currency="GBP")
    for i in range(5):
        bet(player, "1.00", f"b{i}")
    with CaptureQueriesContext(connection) as queries:
        result = can(player, "bet", amount=D("1.00"), game_category="table")
    assert result.allowed
    sql = " ".join(q["sql"] for q in queries.captured_queries)
    assert "wallet_player_day" in sql and "wallet_transaction" not in sql
    assert rollups.period_sums(player.pk, "GBP", {"month": date.today().replace(day=1)})["month"]["stakes"] == D("5")


@pytest.mark.django_db
def test_ledger_verify_finds_a_rollup_that_differs_and_the_build_repairs_it(capsys):
    player = PlayerFactory()
    posting.wallet_deposit(player=player, amount=D("10.00"), currency="GBP")
    PlayerDay.objects.filter(player=player).update(deposits=D("999.00"))
    with pytest.raises(CommandError, match="1 rollup value"):
        call_command("ledger_verify")
    assert "deposits: stored 999.0000, ledger 10.0000" in capsys.readouterr().err
    call_command("wallet_rollups_build", "--batch", "1")
    assert day_row(player).deposits == D("10.00")
    call_command("ledger_verify")


@pytest.mark.django_db
def test_the_build_recreates_every_row_in_batches_and_resumes_after_a_player():
    players = [PlayerFactory() for _ in range(3)]
    for i, player in enumerate(players):
        posting.wallet_deposit(player=player, amount=D(f"{i + 1}.00"), currency="GBP")
        with time_machine.travel(datetime.now(UTC) + timedelta(days=1), tick=False):
            bet(player, "1.00", f"b{i}")
    before = list(PlayerDay.objects.order_by("player_id", "day").values())
    PlayerDay.objects.all().delete()
    progress = list(rollups.build(after_id=players[0].pk, batch=1))  # resume after the first player
    assert [last for last, _ in progress] == [players[1].pk, players[2].pk]
    assert PlayerDay.objects.filter(player=players[0]).count() == 0
    list(rollups.build(batch=2))
    after = list(PlayerDay.objects.order_by("player_id", "day").values())
    strip = [{k: v for k, v in row.items() if k != "id"} for row in before]
    assert [{k: v for k, v in row.items() if k != "id"} for row in after] == strip


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("country", "region"),
    [("GB", ""), ("DE", ""), ("MT", ""), ("CA", "CA-ON"), ("US", "US-NJ"), ("ZZ", ""), ("CA", "CA-QC")],
)
def test_the_batch_paths_find_the_same_zone_as_the_posting(country, region):
    player = PlayerFactory.build(country=country, region=region)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {rollups.ZONE_SQL} FROM (SELECT %s AS country, %s AS region) p", [country, region])
        in_sql = cursor.fetchone()[0]
    assert in_sql == rollups.zone_for(player.country, player.region, None, datetime.now(UTC))


@pytest.mark.django_db(transaction=True)
def test_a_build_while_postings_go_on_counts_each_posting_once(geo_rules):
    players = [PlayerFactory() for _ in range(4)]
    for player in players:
        posting.wallet_deposit(player=player, amount=D("100.00"), currency="GBP")
    stop, errors = threading.Event(), []

    def bets() -> None:
        i = 0
        try:
            while not stop.is_set():
                bet(players[i % 4], "0.10", f"c{i}")
                i += 1
        except BaseException as exc:  # pragma: no cover
            errors.append(exc)
        finally:
            connections.close_all()

    thread = threading.Thread(target=bets)
    thread.start()
    for _ in range(3):
        list(rollups.build(batch=1))
    stop.set()
    thread.join(10)
    assert not errors
    assert rollups.mismatches() == []


@pytest.mark.django_db
def test_the_migration_builds_the_same_rows_for_a_ledger_that_has_postings():
    import importlib

    migration = importlib.import_module("apps.wallet.migrations.0008_rollups_and_posting_queue")
    german, briton = PlayerFactory(country="DE", currency="EUR"), PlayerFactory()
    with time_machine.travel(datetime(2027, 7, 10, 22, 30, tzinfo=UTC), tick=False):
        posting.wallet_deposit(player=german, amount=D("5.00"), currency="EUR")
    posting.wallet_deposit(player=briton, amount=D("50.00"), currency="GBP")
    posting.wallet_bonus_award(player=briton, amount=D("10.00"), currency="GBP")
    bet(briton, "55.00", "b1")
    before = sorted(PlayerDay.objects.values_list("player_id", "day", "deposits", "stakes", "bonus_stakes"))
    PlayerDay.objects.all().delete()
    with connection.cursor() as cursor:
        cursor.execute(migration.BUILD_SQL)
    assert sorted(PlayerDay.objects.values_list("player_id", "day", "deposits", "stakes", "bonus_stakes")) == before
    assert rollups.mismatches() == []
