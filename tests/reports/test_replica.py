"""The reports router against a real streaming replica (issue 18): a private primary and a standby made from it by
``pg_basebackup -R`` (tests/reports/streaming.py), the application's connections pointed at them the way
``DATABASE_URL`` and ``REPORTS_DATABASE_URL`` would: ``default`` on the primary as the application's role,
``reports`` on the standby as the read-only reports role. The suite's own database is not used by these tests.

Skipped, saying why, only where the PostgreSQL server binaries (or, as root, a postgres OS user) are missing.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from django.apps import apps
from django.conf import settings
from django.db import OperationalError, connections, router, transaction
from django.db.backends.postgresql.base import DatabaseWrapper as PostgresWrapper
from django.test import override_settings

from apps.audit.models import AuditEvent
from apps.reports import runs
from apps.reports.context import RunContext
from apps.reports.models import OperatorDay, ReportRun, RunState
from apps.reports.router import (
    ReportsDatabaseUnavailable,
    ReportsReplicaBehind,
    reading_reports,
    reports_alias,
)
from tests.faults.stack import ROOT, free_port
from tests.reports import streaming
from tests.reports.streaming import REPORTS_ROLE, StreamingPair, missing_binaries, streaming_pair

pytestmark = [
    pytest.mark.xdist_group("replica"),  # one pair of clusters per test process
    # the connections are re-read from the overridden DATABASES below (connections.settings), as Django warns
    pytest.mark.filterwarnings("ignore:Overriding setting DATABASES can lead to unexpected behavior"),
]

ALIASES = ("default", "reports")
DAY = {"jurisdiction": "MT", "brand_id": 1, "currency": "EUR", "type": "bet", "game_category": "slots"}


@pytest.fixture(scope="module")
def pair(django_db_setup: None, django_db_blocker: Any) -> Iterator[StreamingPair]:
    """A primary with the suite's migrated schema (copied from the test database) and its streaming standby."""
    reason = missing_binaries()
    if reason:
        pytest.skip(reason)
    with streaming_pair(schema_of=settings.DATABASES["default"], app_role=settings.DATABASE_APP_ROLE) as started:
        yield started


def _forget_connection_settings() -> None:
    """The next ``connections[alias]`` reads settings.DATABASES again: the handler keeps the dict it first read
    (``_settings``) and its configured form (``settings``, a cached property)."""
    handler: Any = connections  # its private state, which django-stubs do not declare
    handler.__dict__.pop("settings", None)
    handler._settings = None


def _local() -> Any:
    """The handler's per-thread connections (``connections[alias]`` creates one; this only looks)."""
    handler: Any = connections
    return handler._connections


@contextmanager
def application_on(pair: StreamingPair, django_db_blocker: Any, *, reports: dict[str, Any] | None) -> Iterator[None]:
    """The application's connections on the private pair: ``default`` on the primary as the application's role,
    and ``reports`` (when given) as REPORTS_DATABASE_URL would configure it. The suite's connections of this thread
    are put aside for the block and given back after it."""
    databases = {"default": pair.settings(pair.primary, settings.DATABASE_APP_ROLE)}
    if reports is not None:
        databases["reports"] = reports
    suite = {alias: getattr(_local(), alias, None) for alias in ALIASES}
    for alias in ALIASES:
        if suite[alias] is not None:
            delattr(_local(), alias)
    try:
        with override_settings(DATABASES=databases), django_db_blocker.unblock():
            _forget_connection_settings()
            try:
                yield
            finally:
                for alias in databases:
                    connections[alias].close()
                    delattr(_local(), alias)
    finally:
        _forget_connection_settings()
        for alias, saved in suite.items():
            if saved is not None:
                setattr(_local(), alias, saved)


@pytest.fixture
def on_replica(pair: StreamingPair, django_db_blocker: Any) -> Iterator[StreamingPair]:
    with application_on(pair, django_db_blocker, reports=pair.settings(pair.standby, REPORTS_ROLE)):
        yield pair


@pytest.fixture
def on_primary_only(pair: StreamingPair, django_db_blocker: Any) -> Iterator[StreamingPair]:
    with application_on(pair, django_db_blocker, reports=None):
        yield pair


def _insert_on_primary(pair: StreamingPair, provider: str, amount: str) -> int:
    rows = pair.primary.sql(
        "INSERT INTO reports_operator_day (day, jurisdiction, brand_id, currency, type, game_category, provider,"
        " amount, cash_amount, bonus_amount, count) VALUES ('2026-03-31', 'MT', 1, 'EUR', 'bet', 'slots', %s, %s,"
        " %s, 0, 1) RETURNING id",
        [provider, amount, amount],
    )
    return int(rows[0][0])


def test_it_routes_report_reads_to_the_standby(on_replica: StreamingPair) -> None:
    assert reports_alias() == "reports"
    with reading_reports() as alias:
        assert alias == "reports"
        assert router.db_for_read(OperatorDay) == "reports"
        assert OperatorDay.objects.all().db == "reports"
        recovery, user, port = RunContext().one("SELECT pg_is_in_recovery(), current_user, inet_server_port()")
    assert (recovery, user, port) == (True, REPORTS_ROLE, on_replica.standby.port)
    assert router.db_for_read(OperatorDay) == "default"  # outside a run: the primary


def test_a_row_written_on_the_primary_is_read_back_through_the_alias(on_replica: StreamingPair) -> None:
    row_id = _insert_on_primary(on_replica, "replayed", "12.3400")
    with reading_reports() as alias:  # waits for the standby to replay the insert
        row = OperatorDay.objects.get(id=row_id)
        assert (row.provider, row.amount, row.day, row._state.db) == (
            "replayed",
            Decimal("12.3400"),
            date(2026, 3, 31),
            "reports",
        )
        # the runner's way: one read-only REPEATABLE READ transaction on the alias, rows streamed by a named cursor
        with transaction.atomic(using=alias):
            connections[alias].cursor().execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
            streamed = list(
                RunContext().stream("SELECT provider, amount FROM reports_operator_day WHERE id = %s", [row_id])
            )
    assert streamed == [("replayed", Decimal("12.3400"))]


def test_a_replica_that_lags_is_waited_for_and_refused_past_the_wait(on_replica: StreamingPair) -> None:
    with on_replica.replay_paused():
        row_id = _insert_on_primary(on_replica, "lagging", "5.0000")
        query = "SELECT count(*) FROM reports_operator_day WHERE id = %s"
        assert RunContext(using="reports").one(query, [row_id]) == (0,)  # the lag is real: not applied there yet
        started = time.monotonic()
        behind = r"short of \S+ \(the primary's position when the run started\)"
        with pytest.raises(ReportsReplicaBehind, match=behind), reading_reports(wait=0.3):
            pytest.fail("a run must not read a replica that misses the primary's writes")
        assert 0.3 <= time.monotonic() - started < 2
        assert isinstance(ReportsReplicaBehind("x"), OperationalError)  # the retry policy's kind of failure
        # replay resumes while a run waits: it then reads the row
        threading.Timer(0.4, on_replica.standby.sql, ["SELECT pg_wal_replay_resume()"]).start()
        started = time.monotonic()
        with reading_reports(wait=10):
            waited = time.monotonic() - started
            assert RunContext().one(query, [row_id]) == (1,)
    assert 0.3 <= waited < 10


def test_writes_while_reading_go_to_the_primary(on_replica: StreamingPair) -> None:
    with reading_reports():
        assert router.db_for_write(OperatorDay) == "default"
        written = OperatorDay.objects.create(day=date(2026, 4, 1), provider="written", amount=Decimal("7.50"), **DAY)
        assert written._state.db == "default"
    assert on_replica.primary.sql("SELECT amount FROM reports_operator_day WHERE id = %s", [written.id]) == [
        (Decimal("7.5000"),)
    ]
    with reading_reports():  # the write replays to the standby, and a row read there is saved on the primary
        copy = OperatorDay.objects.get(id=written.id)
    assert copy._state.db == "reports"
    assert router.db_for_write(OperatorDay, instance=copy) == "default"
    copy.count = 3
    copy.save(update_fields=["count"])
    assert on_replica.primary.sql("SELECT count FROM reports_operator_day WHERE id = %s", [written.id]) == [(3,)]


def test_a_run_reads_the_standby_once_it_has_caught_up_and_records_itself_on_the_primary(
    on_replica: StreamingPair, tmp_path: Any
) -> None:
    """The runner itself (apps.reports.runs.run_execute) on the pair, as a worker with both URLs runs it: a rollup
    row written on the primary while the standby's replay is paused is in the run's file, because the run waited
    for the standby; the run's row, file record and audit event are on the primary."""
    pair = on_replica
    with override_settings(REPORTS_FILES_ROOT=str(tmp_path)):
        run = runs.run_request(
            actor=None,
            report="ggr_daily",
            params={"start": "2026-02-27", "end": "2026-02-27", "source": "rollups"},
            send=False,
        )
        with pair.replay_paused():
            pair.primary.sql(
                "INSERT INTO reports_operator_day (day, jurisdiction, brand_id, currency, type, game_category,"
                " provider, amount, cash_amount, bonus_amount, count)"
                " VALUES ('2026-02-27', 'MT', 1, 'EUR', 'bet', 'slots', 'streamed', 12.34, 12.34, 0, 3)"
            )
            threading.Timer(0.3, pair.standby.sql, ["SELECT pg_wal_replay_resume()"]).start()
            runs.run_execute(run.pk)
        run.refresh_from_db()
        assert (run.state, run.database, run.attempts, run.error) == (RunState.SUCCEEDED, "reports", 1, "")
        with runs.storage().open(run.file_name, "rb") as handle:
            lines = handle.read().decode().splitlines()
    assert [line for line in lines if "streamed" in line] == [
        "2026-02-27,MT,EUR,slots,streamed,3,12.34,0,0.00,0.00,0.00,12.34,0.00,12.34"
    ]
    on_primary = pair.primary.sql("SELECT state, database, sha256 FROM reports_reportrun WHERE id = %s", [run.pk])
    assert on_primary == [("succeeded", "reports", run.sha256)]
    audited = pair.primary.sql(
        "SELECT data->>'database' FROM audit_event WHERE action = 'report.succeeded' AND target_id = %s", [str(run.pk)]
    )
    assert audited == [("reports",)]


def test_a_runs_own_row_is_read_on_the_primary_while_reading(on_replica: StreamingPair) -> None:
    with reading_reports():
        assert router.db_for_read(ReportRun) == "default"
        assert ReportRun.objects.all().db == "default"
        assert router.db_for_read(OperatorDay) == "reports"


def test_nothing_migrates_on_the_alias(on_replica: StreamingPair) -> None:
    models = apps.get_models(include_auto_created=True)
    assert [m._meta.label for m in models if router.allow_migrate_model("reports", m)] == []
    assert router.allow_migrate("reports", "reports", model_name="operatorday") is False
    assert all(router.allow_migrate_model("default", m) for m in models if m._meta.managed and not m._meta.proxy)


def test_without_the_setting_reports_read_the_primary(on_primary_only: StreamingPair) -> None:
    assert reports_alias() == "default"
    with reading_reports() as alias:
        assert alias == "default"
        assert router.db_for_read(OperatorDay) == "default"
        assert OperatorDay.objects.all().db == "default"
        context = RunContext()
        assert context.using == "default"
        assert context.one("SELECT pg_is_in_recovery(), inet_server_port()") == (False, on_primary_only.primary.port)


def test_a_report_query_cancelled_by_the_replicas_replay_fails_as_an_operational_error(
    on_replica: StreamingPair,
) -> None:
    """A standby that may not delay its replay for a reader (max_standby_streaming_delay = 0) cancels a run that
    holds what the primary's DDL needs (here the ACCESS EXCLUSIVE lock a migration or a partition switch takes):
    the run's query fails with an OperationalError, which the runner retries. docs/DEPLOYMENT.md says how to make
    this rare."""
    pair = on_replica
    pair.standby.sql("ALTER SYSTEM SET max_standby_streaming_delay = 0", db="postgres")
    pair.standby.sql("SELECT pg_reload_conf()", db="postgres")
    try:
        query = "SELECT count(*) >= 0 FROM reports_operator_day"
        seen = []
        # the error ends the run's transaction (the server closes the connection): the raise is outside it
        with (
            pytest.raises(OperationalError, match="conflict with recovery"),
            reading_reports() as alias,
            transaction.atomic(using=alias),
        ):
            connections[alias].cursor().execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
            seen.append(RunContext().one(query))
            pair.primary.sql("BEGIN; LOCK TABLE reports_operator_day IN ACCESS EXCLUSIVE MODE; COMMIT")
            pair.replay()
            seen.append(RunContext().one(query))
        assert seen == [(True,)]  # the first read, before the replay had to end the run's transaction
    finally:
        pair.standby.sql("ALTER SYSTEM RESET max_standby_streaming_delay", db="postgres")
        pair.standby.sql("SELECT pg_reload_conf()", db="postgres")


def test_a_replica_that_is_down_fails_the_run_with_a_clear_error(pair: StreamingPair, django_db_blocker: Any) -> None:
    reports = pair.settings(pair.standby, REPORTS_ROLE)
    with pair.standby_stopped(), application_on(pair, django_db_blocker, reports=reports):
        where = f"alias 'reports', 127.0.0.1:{pair.standby.port}/pitboss"
        unavailable = f"The reports database \\({where}\\) is unavailable"
        with pytest.raises(ReportsDatabaseUnavailable, match=unavailable), reading_reports():
            pytest.fail("a run must not start on a replica that is down")
    assert issubclass(ReportsDatabaseUnavailable, OperationalError)  # the retry policy's kind of failure


def test_a_replica_that_never_answers_fails_within_its_connect_timeout(
    pair: StreamingPair, django_db_blocker: Any
) -> None:
    with socket.socket() as silent:  # accepts TCP connections (the kernel's backlog) and never says a word
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        reports = {**pair.settings(pair.standby, REPORTS_ROLE), "PORT": str(silent.getsockname()[1])}
        reports["OPTIONS"] = {"connect_timeout": 2}  # libpq takes 2 s for anything shorter
        with application_on(pair, django_db_blocker, reports=reports):
            started = time.monotonic()
            with pytest.raises(ReportsDatabaseUnavailable, match="timeout"), reading_reports():
                pass
            assert time.monotonic() - started < 5


def test_the_settings_make_the_alias_from_reports_database_url(pair: StreamingPair) -> None:
    """The settings themselves, in a fresh process: DATABASE_URL on the primary, REPORTS_DATABASE_URL on the
    standby; a run's reads land on the standby."""
    script = (
        "import json, django; django.setup()\n"
        "from apps.reports.context import RunContext\n"
        "from apps.reports.router import reading_reports\n"
        "with reading_reports() as alias:\n"
        "    row = RunContext().one('SELECT pg_is_in_recovery(), current_user, inet_server_port()')\n"
        "print(json.dumps([alias, *row]))\n"
    )
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "backoffice.settings.base",  # the settings every deployment builds on
        "SECRET_KEY": "replica-test-only-secret-key-0123456789-0123456789-0123456789",
        "PITBOSS_IGNORE_DOTENV": "1",
        "DATABASE_URL": pair.url(pair.primary, settings.DATABASE_APP_ROLE),
        "REPORTS_DATABASE_URL": pair.url(pair.standby, REPORTS_ROLE),
    }
    env.pop("MIGRATION_DATABASE_URL", None)
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.strip().splitlines()[-1]) == ["reports", True, REPORTS_ROLE, pair.standby.port]


@contextmanager
def reports_alias_beside_the_suites(config: dict[str, Any]) -> Iterator[None]:
    """The suite's own ``default`` (the test's database and transaction) and a ``reports`` alias on ``config``: in
    settings.DATABASES (the router and ``reports_alias()`` read it) and as a connection made here, beside the
    handler's configured aliases (a test may connect to those only if it declared them when it began)."""
    configured = connections.configure_settings({"default": settings.DATABASES["default"], "reports": dict(config)})
    wrapper = PostgresWrapper(configured["reports"], alias="reports")
    with override_settings(DATABASES={**settings.DATABASES, "reports": configured["reports"]}):
        _local().reports = wrapper
        try:
            yield
        finally:
            wrapper.close()
            delattr(_local(), "reports")


def test_a_run_whose_replica_is_down_is_retried_then_fails_saying_so(db: Any, monkeypatch: Any) -> None:
    """The runner itself (apps.reports.runs.run_execute) with REPORTS_DATABASE_URL on a server that is not there:
    each attempt goes back to the queue with the error and is sent again later, and the last one fails the run."""
    sent: list[tuple[int, float | None]] = []
    monkeypatch.setattr(runs, "_send_after_commit", lambda run_id, countdown=None: sent.append((run_id, countdown)))
    port = free_port()  # nothing listens there: connections are refused
    reports = {"ENGINE": "django.db.backends.postgresql", "NAME": "pitboss", "USER": REPORTS_ROLE, "HOST": "127.0.0.1"}
    unavailable = f"The reports database (alias 'reports', 127.0.0.1:{port}/pitboss) is unavailable: "
    with reports_alias_beside_the_suites({**reports, "PORT": str(port), "OPTIONS": {"connect_timeout": 5}}):
        run = runs.run_request(actor=None, report="ggr_daily", params={"start": "2026-03-01", "end": "2026-03-31"})
        for attempt in range(1, settings.REPORTS_MAX_ATTEMPTS):
            runs.run_execute(run.pk)
            run.refresh_from_db()
            assert (run.state, run.attempts, run.file_name) == (RunState.QUEUED, attempt, "")
            assert run.error.startswith(f"Attempt {attempt}: the database failed ({unavailable}")
        runs.run_execute(run.pk)
    run.refresh_from_db()
    assert (run.state, run.attempts, run.file_name) == (RunState.FAILED, settings.REPORTS_MAX_ATTEMPTS, "")
    assert run.error.startswith(
        f"The database failed on each of {settings.REPORTS_MAX_ATTEMPTS} attempts: {unavailable}"
    )
    assert sent[1:] == [(run.pk, settings.REPORTS_RETRY_SECONDS)] * (settings.REPORTS_MAX_ATTEMPTS - 1)
    failed = AuditEvent.objects.get(action="report.failed", target_id=str(run.pk))
    assert failed.data["error"].startswith("The database failed on each of")


def test_the_skip_names_the_binaries_that_are_missing(monkeypatch: Any) -> None:
    """Where the server binaries are missing the pair's tests are skipped, saying which (and only then)."""
    monkeypatch.setattr(streaming, "pg_binary", lambda name: None if name.startswith("pg_") else f"/bin/{name}")
    assert missing_binaries() == (
        "the replica tests need the PostgreSQL server binaries pg_ctl, pg_basebackup, pg_dump, pg_restore on this"
        " machine"
    )
