"""Issue 18's Finance walk in a real browser (Debian's chromium) against the live server: a Finance Officer goes
from the start page to the report runs, schedules the MGA monthly return (the form pre-filled from the report's
own schedule: the 1st at 06:00, the previous month), asks for February 2026's return as XLSX, watches its
progress bar while the worker runs it (queued, then part-way, then succeeded), reads its SHA-256 and downloads the
file, whose bytes hash to it; then finds February on the due-date calendar and records it filed.

The worker's part: the run's task goes to the real broker on a queue of this test's own that no worker reads; the
test takes the message off it and runs ``run_execute`` in a thread of its own, holding it at its second progress
step until the page has shown the bar part-way (so the page is seen mid-run without waiting on any clock).
Screenshots: var/screenshots/reports-*.png."""

from __future__ import annotations

import hashlib
import threading
import uuid
import zipfile
from collections.abc import Iterator
from typing import Any

import pytest
from django.db import connections
from playwright.sync_api import expect

from apps.reports import runs, tasks
from apps.reports.models import ReportRun, RunState
from apps.staff import roles
from backoffice.celery import app as celery_app
from tests.factories import StaffUserFactory
from tests.reports import finledger

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("role_groups", "geo_rules"),
]


@pytest.fixture
def report_queue(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    name = f"test-reports-walk-{uuid.uuid4().hex[:12]}"
    task = tasks.report_execute
    monkeypatch.setattr(task, "queue", name, raising=False)
    monkeypatch.setattr(task, "_exec_options", None)
    yield name
    with celery_app.connection_for_write() as conn:
        client = conn.default_channel.client
        for key in list(client.scan_iter(match=f"*{name}*")):
            client.delete(key)
    celery_app.amqp.queues.pop(name, None)


def take_run(queue: str) -> int:
    with celery_app.connection_for_read() as conn, conn.SimpleQueue(queue) as simple:
        message = simple.get(timeout=10)
        message.ack()
    args, _kwargs, _embed = message.decode()
    assert message.headers["task"] == "apps.reports.tasks.report_execute"
    return int(args[0])


class GatedWorker:
    """``run_execute`` in a thread, held at its second progress update until ``release``."""

    def __init__(self, run_id: int) -> None:
        self.run_id = run_id
        self.held = threading.Event()
        self.go = threading.Event()
        self.thread = threading.Thread(target=self._work, daemon=True)
        self.error: BaseException | None = None

    def _work(self) -> None:
        original = runs._Progress.update
        calls = {"n": 0}
        gate = self

        def update(progress: Any, done: int, total: int, rows: int, *, force: bool = False) -> None:
            original(progress, done, total, rows, force=True)  # every step written: the page sees each
            calls["n"] += 1
            if calls["n"] == 2 and not gate.go.is_set():
                gate.held.set()
                gate.go.wait(60)

        runs._Progress.update = update  # type: ignore[method-assign]
        try:
            runs.run_execute(self.run_id)
        except BaseException as exc:
            self.error = exc
        finally:
            runs._Progress.update = original  # type: ignore[method-assign]
            connections.close_all()

    def start(self) -> GatedWorker:
        self.thread.start()
        return self

    def release(self) -> None:
        self.go.set()
        self.thread.join(60)
        assert self.error is None, self.error


def test_finance_schedules_runs_watches_and_downloads_the_mga_monthly_return(staff_browser, live_server, report_queue):
    finledger.build()  # February 2026, with its rollups
    finance = staff_browser.login(StaffUserFactory(roles=[roles.FINANCE_OFFICER], first_name="Fiona", last_name="Fin"))

    # 1. from the start page to the report runs, then the schedules: the MGA return's own schedule is pre-filled
    finance.goto("/admin/")
    finance.click("a[href$='/admin/reports/reportrun/']")
    finance.page.wait_for_url("**/admin/reports/reportrun/")
    finance.click("#report-schedules")
    finance.select_option("#schedule-report-choice", "mga_monthly")
    finance.page.wait_for_url("**/schedules/?report=mga_monthly")
    assert finance.input_value("[name=day_of_month]") == "1" and finance.input_value("[name=hour]") == "6"
    finance.select_option("[name=format]", "xlsx")
    finance.fill("[name=name]", "MGA monthly for the board pack")
    finance.click("#schedule-submit")
    row = finance.locator("#schedule-list tr", has_text="MGA monthly for the board pack")
    expect(row).to_contain_text("XLSX")
    expect(row).to_contain_text("0 6 1 * *")
    finance.shot("reports-1-scheduled")

    # 2. run February's return now
    finance.goto("/admin/reports/reportrun/")
    finance.click("#report-new")
    finance.select_option("#report-choice", "mga_monthly")
    finance.page.wait_for_url("**/new/?report=mga_monthly")
    finance.fill("[name=month]", "2026-02")
    finance.select_option("[name=format]", "xlsx")
    finance.click("#report-submit")
    finance.page.wait_for_url("**/run/")
    run = ReportRun.objects.get(source="admin")
    progress = finance.locator("#run-progress")
    expect(finance.locator("#report-run")).to_have_attribute("data-state", "queued")
    finance.shot("reports-2-queued")

    # 3. the worker runs it; the page (reloading itself every 2 s) shows the bar part-way, then done
    assert take_run(report_queue) == run.pk
    worker = GatedWorker(run.pk).start()
    assert worker.held.wait(30), "the run never reached its second step"
    expect(finance.locator("#report-run")).to_have_attribute("data-state", "running", timeout=10_000)
    percent = int(progress.get_attribute("data-percent") or "0")
    assert 0 < percent < 100, percent
    finance.shot("reports-3-running")
    worker.release()
    expect(finance.locator("#report-run")).to_have_attribute("data-state", "succeeded", timeout=10_000)
    run.refresh_from_db()
    assert run.state == RunState.SUCCEEDED and run.format == "xlsx"
    expect(finance.locator("#run-sha256")).to_have_text(run.sha256)
    finance.shot("reports-4-succeeded")

    # 4. download: the bytes hash to the recorded SHA-256 and open as a workbook
    with finance.page.expect_download() as caught:
        finance.click("#run-download")
    path = caught.value.path()
    data = path.read_bytes()
    assert hashlib.sha256(data).hexdigest() == run.sha256 and len(data) == run.file_size
    assert caught.value.suggested_filename.endswith(".xlsx")
    with zipfile.ZipFile(path) as workbook:
        assert "xl/workbook.xml" in workbook.namelist()

    # 5. the due dates: February is ready (succeeded, not filed); record it filed, it reads filed
    finance.goto("/admin/reports/reportrun/calendar/")
    february = finance.locator("#due-dates tr[data-report=mga_monthly][data-period='2026-02']")
    expect(february).to_have_attribute("data-status", "late")  # due 20 March 2026, before today, not filed yet
    finance.goto(f"/admin/reports/reportrun/{run.pk}/run/")
    finance.fill("#run-file [name=reference]", "MGA-RET-2026-02")
    finance.click("#run-file button")
    finance.goto("/admin/reports/reportrun/calendar/")
    expect(february).to_have_attribute("data-status", "filed")
    finance.shot("reports-5-filed")

    # 6. the month-end closes the returns read: February's taken, listed under the due dates
    from datetime import date

    from apps.reports import closes

    closes.close_take(date(2026, 2, 28))
    finance.goto("/admin/reports/reportrun/calendar/")
    expect(finance.locator("#closes tr[data-close='2026-02-28']")).to_have_attribute("data-state", "taken")
    finance.shot("reports-6-closes")
