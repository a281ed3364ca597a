"""The reports' beat entries: each names a task that exists, on the reports queue; the nightly rollups check
finds nothing on a clean ledger and a difference on a tampered rollup."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.db import connection

from apps.reports import rollups
from apps.reports.tasks import reports_rollups_verify
from apps.wallet import posting
from backoffice.celery import app
from backoffice.schedule import SCHEDULE
from tests.factories import PlayerFactory


def test_the_reports_beat_entries_name_real_tasks_on_the_reports_queue() -> None:
    app.loader.import_default_modules()
    ours = [entry for entry in SCHEDULE if entry.task.startswith("apps.reports.")]
    assert {entry.task.rsplit(".", 1)[1] for entry in ours} == {
        "operator_day_drain",
        "reports_rollups_verify",
        "reports_resume_stalled",
        "reports_catch_up",
        "reports_purge_expired",
        "reports_close_months",
    }
    for entry in ours:
        assert entry.task in app.tasks and entry.queue == "reports", entry.name


@pytest.mark.django_db
def test_the_nightly_check_is_quiet_on_a_clean_ledger_and_counts_a_tampered_rollup(geo_rules: Any) -> None:
    player = PlayerFactory(country="GB", currency="GBP")
    posting.wallet_deposit(player=player, amount=Decimal("30.00"), currency="GBP")
    rollups.drain()  # the consumer's part: the deposit is in the rollups
    assert reports_rollups_verify(days=3) == 0
    with connection.cursor() as cursor:
        cursor.execute("UPDATE reports_operator_day SET amount = amount + 1 WHERE type = 'deposit'")
    assert reports_rollups_verify(days=3) >= 1
