"""A report worker killed mid-run (SIGKILL, a real Celery worker on a private Redis): the run is left ``running``
with a heartbeat that stops, never finished by anyone; the sweep finds it; the next delivery runs it again from
the start and it succeeds once, with its file and SHA-256, on attempt 2 (issue 18: "survive a worker killed
mid-run (retried, never left running for ever)")."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import time_machine
from django.db import connection

from apps.audit.models import AuditEvent
from apps.reports import runs
from apps.reports.models import ReportRun, RunState
from apps.wallet import posting
from backoffice.celery import app
from tests.factories import PlayerFactory
from tests.private_redis import PrivateRedis

pytestmark = [pytest.mark.celery_worker, pytest.mark.usefixtures("geo_rules", "role_groups")]
ROOT = Path(__file__).resolve().parents[2]


def _worker(broker: str, marker: Path, files: str, log: Path) -> subprocess.Popen[bytes]:
    db = connection.settings_dict
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "backoffice.settings.test",
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}",
        "CELERY_BROKER_URL": broker,
        "SLOW_REPORT_MARKER": str(marker),
        "REPORTS_FILES_ROOT": files,
        "REPORTS_STALL_SECONDS": "3",  # as the test's own setting: a heartbeat 3 s old is a dead worker's
    }
    return subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "backoffice", "worker", "-I", "tests.reports.slow_report", "-Q",
         "reports", "--pool", "solo", "--without-mingle", "--without-gossip"],
        cwd=ROOT, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT,
    )  # fmt: skip


def _send(broker: str, run_id: int) -> None:
    with app.connection_for_write(broker) as conn:
        app.send_task("apps.reports.tasks.report_execute", args=[run_id], queue="reports", connection=conn)


def _wait(predicate: Any, seconds: float, what: str) -> None:
    started = time.monotonic()
    deadline = started + seconds
    while time.monotonic() < deadline:
        if predicate():
            print(f"waited {time.monotonic() - started:.1f} s for {what}")
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_run_leaves_it_to_the_sweep_and_the_retry_finishes_it(
    tmp_path: Path, settings: Any, finance_officer: Any
) -> None:
    import tests.reports.slow_report  # noqa: F401 - the type, registered here too

    files = str(tmp_path / "files")
    settings.REPORTS_FILES_ROOT = files
    settings.REPORTS_STALL_SECONDS = 3
    player = PlayerFactory(country="GB", currency="GBP")
    with time_machine.travel(datetime(2026, 3, 3, 12, tzinfo=UTC), tick=False):
        posting.wallet_deposit(player=player, amount=Decimal("12.34"), currency="GBP")
    run = runs.run_request(actor=finance_officer, report="test_slow_deposits", params={"month": "2026-03"}, send=False)
    redis = PrivateRedis().start()
    marker = tmp_path / "started"
    worker = _worker(redis.url, marker, files, tmp_path / "worker-1.log")
    try:
        _send(redis.url, run.pk)
        _wait(lambda: ReportRun.objects.get(pk=run.pk).progress_done >= 2, 60, "the run's progress")
        worker.kill()  # SIGKILL mid-run: no clean-up, no acknowledgement
        worker.wait(timeout=10)
        run.refresh_from_db()
        assert run.state == RunState.RUNNING and run.attempts == 1 and not run.file_name
        assert runs.runs_resume_stalled() == []  # its heartbeat is still fresh: it may be alive
        time.sleep(settings.REPORTS_STALL_SECONDS + 1)
        assert runs.runs_resume_stalled() == [run.pk]  # the sweep sees the heartbeat stopped
        worker = _worker(redis.url, marker, files, tmp_path / "worker-2.log")
        _send(redis.url, run.pk)  # what the sweep's send does, on the worker's broker
        _wait(lambda: ReportRun.objects.get(pk=run.pk).state != RunState.RUNNING, 60, "the retried run")
    finally:
        worker.kill()
        worker.wait(timeout=10)
        redis.close()
    run.refresh_from_db()
    assert run.state == RunState.SUCCEEDED, (run.error, (tmp_path / "worker-2.log").read_text()[-2000:])
    assert run.attempts == 2 and run.row_count == 1
    with open(os.path.join(files, run.file_name), "rb") as handle:
        content = handle.read()
    assert content.decode().splitlines()[-1] == "GBP,1,12.34"
    assert AuditEvent.objects.filter(action="report.succeeded", target_id=str(run.pk)).count() == 1
    started = AuditEvent.objects.filter(action="report.started", target_id=str(run.pk)).order_by("id")
    assert [event.data["attempt"] for event in started] == [1, 2]  # each claim, the lost one included
