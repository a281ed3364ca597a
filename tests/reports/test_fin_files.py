"""The financial reports through the runner's file writers (apps.reports.runs.produce): every format each offers,
the same SHA-256 twice over the same data (a re-run of a closed period writes the same bytes), and the player's
clock that every report shares (common.PLACES_CTE) equal to the posting's (apps.wallet.rollups.zone_for)."""

from __future__ import annotations

import csv
import io
import os
from datetime import UTC, date, datetime

import pytest
from django.db import connection

from apps.reports.context import RunContext
from apps.reports.definitions.common import PLACES_CTE
from apps.reports.runs import produce
from apps.reports.types import report_type
from apps.wallet import rollups as wallet_rollups
from tests.factories import PlayerFactory
from tests.reports import finledger

PARAMS = {
    "ggr_daily": {"start": "2026-02-01", "end": "2026-02-28"},
    "mga_monthly": {"month": "2026-02"},
    "large_transactions": {"start": "2026-02-01", "end": "2026-02-28", "currency": "EUR", "threshold": "5.00"},
    "player_statement": {"player": "FL0102", "start": "2026-02-01", "end": "2026-02-28"},
}


def file_of(code: str, fmt: str) -> tuple[bytes, str, int]:
    kind = report_type(code)
    assert kind is not None and fmt in kind.formats
    values, texts, errors = kind.clean(PARAMS[code], today=date(2026, 3, 5))
    assert errors == {}
    output = produce(kind, values, texts, fmt, RunContext())
    try:
        with open(output.path, "rb") as handle:
            return handle.read(), output.sha256, output.rows
    finally:
        os.unlink(output.path)


@pytest.mark.django_db
def test_every_format_of_every_financial_report_is_the_same_file_twice():
    finledger.build()
    finledger.fill_rollups()
    for code in PARAMS:
        kind = report_type(code)
        assert kind is not None
        for fmt in kind.formats:
            body, sha, rows = file_of(code, fmt)
            assert body and rows > 0, (code, fmt)
            assert file_of(code, fmt)[1] == sha, (code, fmt)


@pytest.mark.django_db
def test_the_csv_carries_the_exact_amounts_at_the_currencys_scale():
    finledger.build()
    finledger.fill_rollups()
    body, _sha, rows = file_of("mga_monthly", "csv")
    lines = list(csv.reader(io.StringIO(body.decode()), lineterminator="\r\n"))
    assert ["EUR", "1", "Casino games (slots, table, live)", "40.00", "10.00", "27.00", "4.00", "13.00", "40.00",
            "27.00", "13.00"] in lines  # fmt: skip
    assert ["GBP", "100.00", "0.00", "0.00", "9.00", "25.00", "0.00", "0.00", "0.00", "116.00", "0.00"] in lines
    assert rows == 5 + 3 + 3 + 3  # the four tables' rows
    xml, _sha, _rows = file_of("mga_monthly", "xml")
    assert b'<UnexplainedDifference currency="EUR">0.00</UnexplainedDifference>' in xml


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("country", "region"),
    [("GB", ""), ("MT", ""), ("DE", ""), ("CA", "CA-ON"), ("CA", "CA-QC"), ("US", "US-NJ"), ("FR", ""), ("ZZ", "")],
)
def test_the_reports_clock_is_the_postings(country, region):
    player = PlayerFactory(country=country, region=region)
    at = datetime(2026, 2, 10, 12, 0, tzinfo=UTC)
    with connection.cursor() as cursor:
        cursor.execute(
            f"WITH {PLACES_CTE} SELECT jurisdiction, CASE WHEN %s >= since THEN zone ELSE 'UTC' END "
            "FROM places WHERE player_id = %s",
            [at, player.pk],
        )
        jurisdiction, zone = cursor.fetchone()
    assert zone == wallet_rollups.zone_for(country, region, None, at)
    assert jurisdiction == (region if region in ("CA-ON", "US-NJ") else country)
