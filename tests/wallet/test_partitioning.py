"""The entries table is partitioned by month in place: postings, triggers and verification carry on unchanged.

Each test runs in a transaction that is rolled back, DDL included, so the switch never outlives its test. They act
as the owner role (``owner_role``), as the switch and the daily task do on MIGRATION_DATABASE_URL's connection."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from decimal import Decimal
from io import StringIO

import pytest
import time_machine
from dateutil.relativedelta import relativedelta
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from apps.audit.models import AuditEvent
from apps.wallet import partitioning, posting
from apps.wallet.models import Account, Entry, LedgerTransaction
from apps.wallet.tasks import ledger_partitions_extend

pytestmark = pytest.mark.django_db
D = Decimal


def rows_per_partition() -> dict[str, int]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT tableoid::regclass::text, count(*) FROM wallet_entry GROUP BY 1")
        return dict(cursor.fetchall())


def cash(player) -> Decimal:
    return Account.objects.get(player=player, kind="cash").balance


def test_the_entries_table_is_partitioned_by_month_in_place(player, owner_role, caplog):
    posting.wallet_deposit(player=player, amount=D("100.00"), currency="GBP")
    for i in range(6):  # often enough that the posting's statements are prepared on this connection
        posting.wallet_bet(player=player, amount=D("0.50"), currency="GBP", round_id=f"r1-{i}", game_category="table")
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE '%INTO wallet_entry%'")
        assert cursor.fetchone()[0] >= 1  # so the switch below also shows prepared statements follow the new table
    before = list(Entry.objects.order_by("id").values_list("id", "amount"))
    assert ledger_partitions_extend() == []  # nothing to extend before the switch
    with connection.cursor() as cursor:  # what COMMIT does: the switch runs in its own transaction, in real life
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")

    found = partitioning.switch(concurrently=False)
    boundary = partitioning.first_boundary()
    names = {p.name for p in found}
    assert {partitioning.HISTORY, partitioning.DEFAULT, partitioning.month_name(boundary)} <= names
    assert partitioning.is_partitioned()
    assert list(Entry.objects.order_by("id").values_list("id", "amount")) == before  # not a row copied or lost

    posting.wallet_bet(player=player, amount=D("5.00"), currency="GBP", round_id="r2", game_category="table")
    later = timezone.make_aware(datetime.combine(boundary, time(12)), timezone.get_current_timezone())
    with time_machine.travel(later + timedelta(days=3), tick=False):
        posting.wallet_deposit(player=player, amount=D("10.00"), currency="GBP")
        posting.wallet_win(player=player, amount=D("7.50"), currency="GBP", round_id="r2", game_category="table")
    assert rows_per_partition() == {partitioning.HISTORY: 16, partitioning.month_name(boundary): 4}
    assert cash(player) == D("109.50")
    assert min(Entry.objects.filter(created_at__gte=later).values_list("id", flat=True)) > before[-1][0]

    # the append-only and balance guarantees hold in every partition
    for entry in (Entry.objects.order_by("id").first(), Entry.objects.order_by("-id").first()):
        with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("UPDATE wallet_entry SET amount = 1 WHERE id = %s", [entry.pk])
    accounts = posting.lock_player_accounts(player.pk, "GBP")
    with pytest.raises(DatabaseError, match="does not balance"), transaction.atomic():
        txn = LedgerTransaction.objects.create(type="deposit", player=player, currency="GBP", amount=D("1"))
        Entry.objects.create(transaction=txn, account_id=accounts.cash_id, amount=D("1"), currency="GBP")
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    out = StringIO()
    call_command("ledger_verify", stdout=out)
    assert "Ledger verified" in out.getvalue()

    switched = AuditEvent.objects.get(action="ledger.entries_partitioned")
    assert (
        switched.data["boundary"] == boundary.isoformat()
        and partitioning.month_name(boundary) in switched.data["partitions"]
    )
    call_command("ledger_partition", "--extend", "--months-ahead", "5", stdout=out)
    assert AuditEvent.objects.filter(action="ledger.partitions_created").count() == 1
    names = {p.name for p in partitioning.partitions()}
    this_month = timezone.now().date().replace(day=1)
    assert partitioning.month_name(this_month + relativedelta(months=5)) in names
    assert partitioning.month_name(this_month + relativedelta(months=6)) not in names
    assert partitioning.extend(months_ahead=5) == []  # idempotent
    with time_machine.travel(later + timedelta(days=800), tick=False):  # past every month partition
        posting.wallet_deposit(player=player, amount=D("1.00"), currency="GBP")
    assert rows_per_partition()[partitioning.DEFAULT] == 2  # caught, not refused
    with caplog.at_level("ERROR", logger="apps.wallet.partitioning"):
        partitioning.extend()
    assert "holds rows" in caplog.text
    with pytest.raises(RuntimeError, match="already partitioned"):
        partitioning.convert(boundary)


def test_a_failed_switch_leaves_the_plain_table_and_no_range_check(player, owner_role):
    posting.wallet_deposit(player=player, amount=D("1.00"), currency="GBP")
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    boundary = partitioning.first_boundary()
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE wallet_entry_history (id int)")  # the name the switch needs is taken
    with pytest.raises(DatabaseError):
        partitioning.switch(concurrently=False)
    assert not partitioning.is_partitioned()
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_constraint WHERE conname = %s", [partitioning.RANGE_CHECK])
        assert cursor.fetchone()[0] == 0
    assert boundary > timezone.now().date()


@pytest.mark.django_db(transaction=True)
def test_a_switch_blocked_by_a_long_reader_gives_up_and_leaves_no_check_behind(
    geo_rules, owner_role, monkeypatch, caplog
):
    """The real sequence, committed: the index is built CONCURRENTLY; a reader holding the table makes the
    switch give up after the lock timeout instead of queueing postings; the daily task removes the CHECK."""
    import psycopg

    monkeypatch.setattr(partitioning, "LOCK_TIMEOUT_MS", 200)
    db = connection.settings_dict
    boundary = partitioning.first_boundary()
    try:
        partitioning.prepare(boundary)  # committed, CONCURRENTLY
        assert partitioning._range_check_exists()
        with psycopg.connect(
            host=db["HOST"] or "127.0.0.1",
            port=db["PORT"] or 5432,
            user=db["USER"],
            password=db["PASSWORD"] or None,
            dbname=db["NAME"],
        ) as reader:
            reader.execute("LOCK TABLE wallet_entry IN ACCESS SHARE MODE")  # a long report, say
            with pytest.raises(DatabaseError, match="lock timeout"):
                partitioning.convert(boundary)
            with caplog.at_level("ERROR", logger="apps.wallet.partitioning"):
                assert partitioning.abandon() is False  # cannot drop it while the reader holds the table
            assert "retries" in caplog.text
        assert ledger_partitions_extend() == [] and not partitioning._range_check_exists()
        assert not partitioning.is_partitioned()
    finally:
        partitioning.abandon()
        with connection.cursor() as cursor:
            cursor.execute(f"DROP INDEX IF EXISTS {partitioning.KEY_INDEX}")
