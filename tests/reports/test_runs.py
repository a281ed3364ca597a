"""Report runs end to end on the real database: asking (every refusal), running in the snapshot transaction,
the file with its SHA-256 (the same bytes again for the same data, in every format), progress, cancel, re-run,
download (permissions, audit, a corrupt file refused), a lost worker recovered, retention, the command."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import psycopg
import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.db import connections
from django.utils import timezone

from apps.audit.models import AuditEvent
from apps.reports import runs, types
from apps.reports.context import RunContext
from apps.reports.errors import (
    ReportFileCorrupt,
    ReportNotPermitted,
    ReportParamsInvalid,
    ReportRunNotFound,
    ReportRunState,
    ReportUnknown,
)
from apps.reports.models import ReportRun, RunState
from apps.reports.types import Due, Table
from apps.wallet import posting
from tests.reports.conftest import DepositsByDay as RUNS_TYPE

pytestmark = pytest.mark.usefixtures("geo_rules", "role_groups", "deposits_report")

D = Decimal


def _run(actor: Any, fmt: str = "csv", **params: str) -> ReportRun:
    run = runs.run_request(actor=actor, report="test_deposits", params={"month": "2026-03", **params}, format=fmt)
    runs.run_execute(run.pk)
    run.refresh_from_db()
    return run


def _bytes(run: ReportRun) -> bytes:
    with runs.storage().open(run.file_name, "rb") as handle:
        return handle.read()


# --- asking


def test_unknown_report_is_refused(finance_officer: Any) -> None:
    with pytest.raises(ReportUnknown) as caught:
        runs.run_request(actor=finance_officer, report="nope", params={})
    assert caught.value.code == "report_unknown"
    assert not ReportRun.objects.exists()


def test_bad_parameters_and_format_are_refused_all_at_once(finance_officer: Any) -> None:
    with pytest.raises(ReportParamsInvalid) as caught:
        runs.run_request(
            actor=finance_officer,
            report="test_deposits",
            params={"month": "2026-13", "currency": "euro", "colour": "red"},
            format="docx",
        )
    assert caught.value.code == "report_params_invalid"
    assert set(caught.value.fields) == {"month", "currency", "colour", "format"}
    assert not ReportRun.objects.exists()


def test_a_role_without_the_report_permission_is_refused(kyc_officer: Any) -> None:
    with pytest.raises(ReportNotPermitted) as caught:
        runs.run_request(actor=kyc_officer, report="test_deposits", params={"month": "2026-03"})
    assert caught.value.code == "report_not_permitted"
    assert not ReportRun.objects.exists()


# --- running


def test_a_run_writes_exact_figures_with_its_sha256_and_audits(finance_officer: Any, ledger: Any) -> None:
    run = _run(finance_officer)
    assert run.state == RunState.SUCCEEDED, run.error
    assert run.attempts == 1 and run.row_count == 5 and run.progress_percent == 100
    text = _bytes(run).decode()
    assert text.splitlines() == [
        "# Deposits by day (test)",
        "# month: 2026-03",
        "# include_secret: no",
        "# Deposits by day",
        "Day,Currency,Deposits,Amount",
        "2026-03-30,GBP,1,100.00",
        "2026-03-31,EUR,1,40.00",
        "2026-03-31,GBP,1,25.50",
        "",
        "# Totals",
        "Currency,Deposits,Amount",
        "EUR,1,40.00",
        "GBP,2,125.50",
    ]
    import hashlib

    assert run.sha256 == hashlib.sha256(text.encode()).hexdigest() and run.file_size == len(text.encode())
    actions = list(AuditEvent.objects.filter(target_id=str(run.pk)).values_list("action", flat=True).order_by("id"))
    assert actions == ["report.requested", "report.started", "report.succeeded"]


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "pdf"])
def test_the_same_data_gives_the_same_bytes_in_every_format(finance_officer: Any, ledger: Any, fmt: str) -> None:
    first = _run(finance_officer, fmt)
    assert first.state == RunState.SUCCEEDED, first.error
    with time_machine.travel(timezone.now() + timedelta(days=3)):  # another day, another run id
        again = runs.run_rerun(actor=finance_officer, run=first)
        runs.run_execute(again.pk)
    again.refresh_from_db()
    assert again.rerun_of_id == first.pk and again.pk != first.pk
    assert again.sha256 == first.sha256 and _bytes(again) == _bytes(first)
    magic = {"csv": b"# Deposits", "xlsx": b"PK", "pdf": b"%PDF"}[fmt]
    assert _bytes(first).startswith(magic)


def test_new_data_in_the_period_changes_the_checksum(finance_officer: Any, ledger: Any) -> None:
    first = _run(finance_officer)
    with time_machine.travel(datetime(2026, 3, 15, tzinfo=UTC), tick=False):
        posting.wallet_deposit(player=ledger[0], amount=D("1.00"), currency="GBP")
    assert _run(finance_officer).sha256 != first.sha256


def test_cancel_a_queued_run_and_refuse_cancelling_a_finished_one(finance_officer: Any, ledger: Any) -> None:
    queued = runs.run_request(actor=finance_officer, report="test_deposits", params={"month": "2026-03"})
    runs.run_cancel(actor=finance_officer, run=queued)
    queued.refresh_from_db()
    assert queued.state == RunState.CANCELLED
    assert runs.run_execute(queued.pk) is None  # a late delivery does nothing
    done = _run(finance_officer)
    with pytest.raises(ReportRunState) as caught:
        runs.run_cancel(actor=finance_officer, run=done)
    assert caught.value.code == "report_run_state"


def test_cancel_while_running_stops_at_the_next_progress_step(finance_officer: Any, ledger: Any) -> None:
    run = runs.run_request(actor=finance_officer, report="test_deposits", params={"month": "2026-03"})
    original = RUNS_TYPE.tables

    def cancelling(self: Any, ctx: RunContext, params: dict[str, Any]) -> Iterator[Table]:
        # Staff press Cancel meanwhile, in another session (this one is the run's read-only snapshot).
        conn = connections["default"].get_connection_params()
        keep = ("dbname", "user", "password", "host", "port")
        with psycopg.connect(**{k: conn[k] for k in keep if conn.get(k)}, autocommit=True) as other:
            other.execute("UPDATE reports_reportrun SET cancel_requested = true WHERE id = %s", [run.pk])
        yield from original(self, ctx, params)

    RUNS_TYPE.tables = cancelling  # type: ignore[method-assign]
    runs.PROGRESS_EVERY_SECONDS, saved = 0.0, runs.PROGRESS_EVERY_SECONDS
    try:
        runs.run_execute(run.pk)
    finally:
        RUNS_TYPE.tables = original  # type: ignore[method-assign]
        runs.PROGRESS_EVERY_SECONDS = saved
    run.refresh_from_db()
    assert run.state == RunState.CANCELLED and not run.file_name


def test_a_failing_report_is_failed_with_its_error(finance_officer: Any, ledger: Any) -> None:
    run = runs.run_request(actor=finance_officer, report="test_deposits", params={"month": "2026-03"})

    def broken(self: Any, ctx: RunContext, params: dict[str, Any]) -> Iterator[Table]:
        ctx.all("SELECT no_such_column FROM wallet_transaction")
        yield from ()

    original, RUNS_TYPE.tables = RUNS_TYPE.tables, broken  # type: ignore[method-assign]
    try:
        runs.run_execute(run.pk)
    finally:
        RUNS_TYPE.tables = original  # type: ignore[method-assign]
    run.refresh_from_db()
    assert run.state == RunState.FAILED and "no_such_column" in run.error and not run.file_name


def test_the_run_reads_one_read_only_snapshot(finance_officer: Any, ledger: Any) -> None:
    run = runs.run_request(actor=finance_officer, report="test_deposits", params={"month": "2026-03"})
    seen: dict[str, Any] = {}

    def probing(self: Any, ctx: RunContext, params: dict[str, Any]) -> Iterator[Table]:
        seen["row"] = ctx.one(
            "SELECT current_setting('transaction_read_only'), current_setting('transaction_isolation'),"
            " current_setting('work_mem')"
        )
        yield from ()

    original, RUNS_TYPE.tables = RUNS_TYPE.tables, probing  # type: ignore[method-assign]
    try:
        runs.run_execute(run.pk)
    finally:
        RUNS_TYPE.tables = original  # type: ignore[method-assign]
    assert seen["row"] == ("on", "repeatable read", "128MB")


# --- a worker lost mid-run


def test_a_run_whose_worker_died_is_sent_again_and_finishes(finance_officer: Any, ledger: Any, settings: Any) -> None:
    run = runs.run_request(actor=finance_officer, report="test_deposits", params={"month": "2026-03"})
    # The worker claimed it and died: running, one attempt, a heartbeat that stopped.
    stale = timezone.now() - timedelta(seconds=settings.REPORTS_STALL_SECONDS + 5)
    ReportRun.objects.filter(pk=run.pk).update(state=RunState.RUNNING, attempts=1, heartbeat_at=stale, started_at=stale)
    fresh = runs.run_request(actor=finance_officer, report="test_deposits", params={"month": "2026-03"})
    ReportRun.objects.filter(pk=fresh.pk).update(state=RunState.RUNNING, attempts=1, heartbeat_at=timezone.now())
    assert runs.run_execute(fresh.pk) is None  # alive elsewhere: a duplicate delivery leaves it alone
    assert runs.runs_resume_stalled() == [run.pk]
    runs.run_execute(run.pk)
    run.refresh_from_db()
    assert run.state == RunState.SUCCEEDED and run.attempts == 2


def test_a_run_that_lost_its_worker_every_time_fails_saying_so(
    finance_officer: Any, ledger: Any, settings: Any
) -> None:
    run = runs.run_request(actor=finance_officer, report="test_deposits", params={"month": "2026-03"})
    stale = timezone.now() - timedelta(seconds=settings.REPORTS_STALL_SECONDS + 5)
    ReportRun.objects.filter(pk=run.pk).update(
        state=RunState.RUNNING, attempts=settings.REPORTS_MAX_ATTEMPTS, heartbeat_at=stale
    )
    assert runs.run_execute(run.pk) is None
    run.refresh_from_db()
    assert run.state == RunState.FAILED and "worker was lost" in run.error


# --- downloading


def test_download_checks_permissions_hash_and_audits(finance_officer: Any, kyc_officer: Any, ledger: Any) -> None:
    run = _run(finance_officer)
    download = runs.run_download(actor=finance_officer, run=run)
    assert download.handle.read() == _bytes(run) and download.content_type.startswith("text/csv")
    download.handle.close()
    assert AuditEvent.objects.filter(action="report.downloaded", target_id=str(run.pk)).count() == 1
    with pytest.raises(ReportNotPermitted):
        runs.run_download(actor=kyc_officer, run=run)
    with pytest.raises(ReportRunNotFound) as caught:
        runs.run_get(kyc_officer, run.pk)  # the KYC Officer does not learn the run exists
    assert caught.value.code == "report_run_not_found"
    assert runs.run_get(finance_officer, run.pk) == run


def test_more_sensitive_parameters_need_more_to_download(finance_officer: Any, mlro: Any, ledger: Any) -> None:
    run = _run(finance_officer, include_secret="yes")
    with pytest.raises(ReportNotPermitted):
        runs.run_download(actor=finance_officer, run=run)  # no sars.view_sar
    from django.contrib.auth.models import Group

    mlro.groups.add(Group.objects.get(name="Finance Officer"))  # an MLRO who is also in Finance holds both
    both = type(mlro).objects.get(pk=mlro.pk)
    assert runs.run_download(actor=both, run=run).handle.read() == _bytes(run)


def test_a_file_that_no_longer_matches_its_sha256_is_not_served(finance_officer: Any, ledger: Any) -> None:
    run = _run(finance_officer)
    path = runs.storage().path(run.file_name)
    with open(path, "ab") as handle:
        handle.write(b"tampered")
    with pytest.raises(ReportFileCorrupt) as caught:
        runs.run_download(actor=finance_officer, run=run)
    assert caught.value.code == "report_file_corrupt"
    assert AuditEvent.objects.filter(action="report.file_corrupt", target_id=str(run.pk)).exists()


def test_a_run_without_a_file_cannot_be_downloaded(finance_officer: Any, ledger: Any) -> None:
    queued = runs.run_request(actor=finance_officer, report="test_deposits", params={"month": "2026-03"})
    with pytest.raises(ReportRunState):
        runs.run_download(actor=finance_officer, run=queued)


def test_retention_deletes_old_files_and_keeps_the_run(finance_officer: Any, ledger: Any, settings: Any) -> None:
    run = _run(finance_officer)
    path = runs.storage().path(run.file_name)
    assert runs.runs_purge_expired() == 0 and os.path.exists(path)
    ReportRun.objects.filter(pk=run.pk).update(
        finished_at=timezone.now() - timedelta(days=settings.REPORTS_RETENTION_DAYS + 1)
    )
    assert runs.runs_purge_expired() == 1
    run.refresh_from_db()
    assert not os.path.exists(path) and run.file_deleted_at is not None and run.sha256
    with pytest.raises(ReportRunState):
        runs.run_download(actor=finance_officer, run=run)


def test_mark_filed_needs_a_reference_and_a_succeeded_run(finance_officer: Any, ledger: Any) -> None:
    run = _run(finance_officer)
    with pytest.raises(ReportParamsInvalid):
        runs.run_mark_filed(actor=finance_officer, run=run, reference=" ")
    runs.run_mark_filed(actor=finance_officer, run=run, reference="MGA-2026-03-0001")
    run.refresh_from_db()
    assert run.filed_by == finance_officer and run.filing_reference == "MGA-2026-03-0001"
    with pytest.raises(ReportRunState):
        runs.run_mark_filed(actor=finance_officer, run=run, reference="again")


# --- the command


def test_report_run_command_prints_id_path_and_sha256(ledger: Any, capsys: Any) -> None:
    call_command("report_run", "test_deposits", "--param", "month=2026-03", "--format", "csv")
    out = capsys.readouterr().out
    run = ReportRun.objects.get()
    assert run.source == "command" and run.state == RunState.SUCCEEDED
    assert f"run {run.pk}: succeeded" in out and f"sha256 {run.sha256}" in out
    assert f"file {runs.storage().path(run.file_name)}" in out


def test_report_run_command_exits_non_zero_on_a_refusal(ledger: Any) -> None:
    with pytest.raises(CommandError) as caught:
        call_command("report_run", "test_deposits", "--param", "month=March")
    assert caught.value.returncode == 1 and "report_params_invalid" in str(caught.value)
    with pytest.raises(CommandError) as usage:
        call_command("report_run", "test_deposits", "--param", "month")
    assert usage.value.returncode == 2


def test_due_dates() -> None:
    due = Due("monthly", "month", day=20)
    assert due.due_date(types.month_period("2026-03")) == date(2026, 4, 20)
    uk = Due("uk_quarterly", "quarter", days=28)
    q1 = types.uk_quarter_period("2026-Q1")
    assert (q1.start, q1.end) == (date(2026, 4, 1), date(2026, 6, 30)) and uk.due_date(q1) == date(2026, 7, 28)
    q4 = types.uk_quarter_period("2026-Q4")
    assert (q4.start, q4.end) == (date(2027, 1, 1), date(2027, 3, 31))
    assert (
        types.uk_quarter_of(date(2027, 2, 1)) == "2026-Q4" and types.previous_uk_quarter(date(2026, 7, 2)) == "2026-Q1"
    )
    assert types.previous_month(date(2026, 1, 15)) == "2025-12"
