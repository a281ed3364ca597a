"""Reports in the admin, per role: run a report from its form, watch its page, download, re-run, cancel, mark filed;
the due dates and the schedules (make, pause, delete); who sees which runs (a KYC Officer never learns a GGR report
was run, a Support Agent has no reports at all)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.urls import reverse
from django_celery_beat.models import PeriodicTask

from apps.audit.models import AuditEvent
from apps.reports import runs, schedules
from apps.reports.models import ReportRun, RunState

pytestmark = pytest.mark.usefixtures("geo_rules", "role_groups", "deposits_report")


def _ask(client: Any, **data: str) -> Any:
    return client.post(reverse("admin:reports_reportrun_new"), {"report": "test_deposits", "format": "csv", **data})


def test_finance_runs_a_report_from_its_form_and_downloads_it(
    finance_officer: Any, staff_client: Any, ledger: Any
) -> None:
    client = staff_client(finance_officer)
    page = client.get(reverse("admin:reports_reportrun_new") + "?report=test_deposits")
    assert page.status_code == 200 and b'name="month"' in page.content and b"Deposits by day (test)" in page.content
    answer = _ask(client, month="2026-03", include_secret="no")
    run = ReportRun.objects.get()
    assert answer.status_code == 302 and answer["Location"] == reverse("admin:reports_reportrun_page", args=[run.pk])
    assert run.requested_by == finance_officer and run.params == {"month": "2026-03", "include_secret": "no"}
    waiting = client.get(answer["Location"])
    assert b'http-equiv="refresh"' in waiting.content and b"Queued" in waiting.content  # reloads while queued
    runs.run_execute(run.pk)  # what the reports worker does
    done = client.get(answer["Location"])
    assert b"Download CSV" in done.content and run.pk and b'http-equiv="refresh"' not in done.content
    run.refresh_from_db()
    assert run.sha256.encode() in done.content
    file = client.get(reverse("admin:reports_reportrun_download", args=[run.pk]))
    assert file.status_code == 200 and file["X-Checksum-SHA256"] == run.sha256
    assert b"".join(file.streaming_content).startswith(b"# Deposits by day (test)")
    assert "attachment" in file["Content-Disposition"] and file["X-Content-Type-Options"] == "nosniff"
    listing = client.get(reverse("admin:reports_reportrun_changelist"))
    assert listing.status_code == 200 and f"#{run.pk}".encode() in listing.content


def test_the_form_shows_the_services_refusals_on_its_fields(finance_officer: Any, staff_client: Any) -> None:
    client = staff_client(finance_officer)
    answer = _ask(client, month="March")
    assert answer.status_code == 200 and b"Give a month as YYYY-MM" in answer.content
    assert not ReportRun.objects.exists()


def test_rerun_cancel_and_mark_filed_from_the_run_page(finance_officer: Any, staff_client: Any, ledger: Any) -> None:
    client = staff_client(finance_officer)
    _ask(client, month="2026-03")
    run = ReportRun.objects.get()
    cancelled = client.post(reverse("admin:reports_reportrun_cancel", args=[run.pk]))
    assert cancelled.status_code == 302
    run.refresh_from_db()
    assert run.state == RunState.CANCELLED
    client.post(reverse("admin:reports_reportrun_rerun", args=[run.pk]))
    again = ReportRun.objects.exclude(pk=run.pk).get()
    assert again.rerun_of == run and again.params == run.params
    runs.run_execute(again.pk)
    filed = client.post(reverse("admin:reports_reportrun_filed", args=[again.pk]), {"reference": "MGA-42"})
    assert filed.status_code == 302
    again.refresh_from_db()
    assert again.filing_reference == "MGA-42" and again.filed_by == finance_officer
    assert client.get(reverse("admin:reports_reportrun_rerun", args=[run.pk])).status_code == 405  # POST only


def test_the_due_date_calendar_shows_what_is_late_ready_and_filed(
    finance_officer: Any, staff_client: Any, ledger: Any
) -> None:
    client = staff_client(finance_officer)
    page = client.get(reverse("admin:reports_reportrun_calendar"))
    assert page.status_code == 200 and b"Deposits by day (test)" in page.content
    items = schedules.calendar(user=finance_officer)
    march = next(item for item in items if item.report.code == "test_deposits" and item.period_text == "2026-03")
    assert march.status == "late" and str(march.due) == "2026-04-20"  # today is past 20 April 2026, nothing filed
    run = runs.run_request(actor=finance_officer, report="test_deposits", params={"month": "2026-03"})
    runs.run_execute(run.pk)
    runs.run_mark_filed(actor=finance_officer, run=ReportRun.objects.get(pk=run.pk), reference="R1")
    march = next(
        item
        for item in schedules.calendar(user=finance_officer)
        if item.report.code == "test_deposits" and item.period_text == "2026-03"
    )
    assert march.status == "filed" and march.run is not None and march.run.pk == run.pk


def test_the_due_date_calendar_lists_the_month_end_closes_taken_and_waiting(
    finance_officer: Any, staff_client: Any, ledger: Any
) -> None:
    from datetime import date

    import lxml.html

    from apps.reports import closes

    closes.close_take(date(2026, 3, 31))
    page = staff_client(finance_officer).get(reverse("admin:reports_reportrun_calendar"))
    rows = lxml.html.fromstring(page.content.decode()).xpath("//table[@id='closes']/tbody/tr")
    states = {row.get("data-close"): row.get("data-state") for row in rows}
    assert states["2026-03-31"] == "taken" and states["2026-04-30"] == "waiting"  # the ledger starts in March
    taken = next(row for row in rows if row.get("data-close") == "2026-03-31")
    assert "the quarter's accounts from 2026-01-01" in taken.text_content()


def test_finance_schedules_a_report_pauses_and_deletes_it(finance_officer: Any, staff_client: Any) -> None:
    client = staff_client(finance_officer)
    form = client.get(reverse("admin:reports_reportrun_schedules") + "?report=test_deposits")
    assert form.status_code == 200 and b'id="schedule-form"' in form.content
    made = client.post(
        reverse("admin:reports_reportrun_schedules"),
        {
            "report": "test_deposits",
            "format": "xlsx",
            "month": "",
            "include_secret": "no",
            "minute": "0",
            "hour": "6",
            "day_of_month": "1",
            "month_of_year": "*",
            "day_of_week": "*",
            "name": "monthly deposits",
        },
    )
    assert made.status_code == 302, made.context and made.context["form"].errors
    task = PeriodicTask.objects.get(task=schedules.TASK)
    kwargs = json.loads(task.kwargs)
    assert kwargs == {
        "report": "test_deposits",
        "format": "xlsx",
        "params": {"include_secret": "no"},
        "schedule": task.name,
    }
    assert (task.crontab.minute, task.crontab.hour, task.crontab.day_of_month) == ("0", "6", "1")
    assert task.queue == "reports" and task.enabled
    client.post(reverse("admin:reports_reportrun_schedule_toggle", args=[task.pk]))
    task.refresh_from_db()
    assert not task.enabled
    client.post(reverse("admin:reports_reportrun_schedule_delete", args=[task.pk]))
    assert not PeriodicTask.objects.filter(pk=task.pk).exists()
    actions = set(AuditEvent.objects.filter(action__startswith="report.schedule").values_list("action", flat=True))
    assert actions == {"report.scheduled", "report.schedule_paused", "report.schedule_deleted"}


def test_a_bad_crontab_is_refused_on_the_form(finance_officer: Any, staff_client: Any) -> None:
    client = staff_client(finance_officer)
    answer = client.post(
        reverse("admin:reports_reportrun_schedules"),
        {
            "report": "test_deposits",
            "format": "csv",
            "include_secret": "no",
            "minute": "0; DROP",
            "hour": "6",
            "day_of_month": "1",
            "month_of_year": "*",
            "day_of_week": "*",
        },
    )
    assert answer.status_code == 200 and b"Use crontab syntax" in answer.content
    assert not PeriodicTask.objects.filter(task=schedules.TASK).exists()


def test_a_scheduled_run_fires_and_a_missed_one_is_caught_up(finance_officer: Any, ledger: Any) -> None:
    from apps.reports.tasks import report_scheduled

    task = schedules.schedule_create(
        actor=finance_officer, report="test_deposits", format="csv", params={}, crontab={"minute": "0", "hour": "6"}
    )
    run_id = report_scheduled(report="test_deposits", format="csv", params={}, schedule=task.name)
    fired = ReportRun.objects.get(pk=run_id)
    assert fired.source == "schedule" and fired.requested_by is None and "month" in fired.params
    fired.delete()
    caught = schedules.catch_up()  # nothing ran for the last closed month: asked now
    assert len(caught) == 1 and ReportRun.objects.get(pk=caught[0]).schedule.endswith("(caught up)")
    assert schedules.catch_up() == []  # once


def test_a_kyc_officer_sees_no_financial_run_and_support_sees_no_reports(
    finance_officer: Any, kyc_officer: Any, support_agent: Any, staff_client: Any, ledger: Any
) -> None:
    run = runs.run_request(actor=finance_officer, report="test_deposits", params={"month": "2026-03"})
    runs.run_execute(run.pk)
    kyc = staff_client(kyc_officer)
    listing = kyc.get(reverse("admin:reports_reportrun_changelist"))
    assert listing.status_code == 200 and b"Deposits by day (test)" not in listing.content
    assert kyc.get(reverse("admin:reports_reportrun_page", args=[run.pk])).status_code == 404
    assert kyc.get(reverse("admin:reports_reportrun_download", args=[run.pk])).status_code == 404
    new = kyc.get(reverse("admin:reports_reportrun_new"))
    assert new.status_code == 200 and b"test_deposits" not in new.content
    assert _ask(kyc, month="2026-03").status_code == 200 and ReportRun.objects.count() == 1  # not among its choices
    schedules_page = kyc.get(reverse("admin:reports_reportrun_schedules"))
    assert schedules_page.status_code == 200 and b"Schedule a report" not in schedules_page.content
    support = staff_client(support_agent)
    for name in ("changelist", "new", "calendar", "schedules"):
        assert support.get(reverse(f"admin:reports_reportrun_{name}")).status_code == 403, name
    assert support.get(reverse("admin:reports_reportrun_page", args=[run.pk])).status_code == 403


def test_the_sar_counts_switch_is_offered_only_to_who_may_use_it(
    aml_analyst: Any, mlro: Any, staff_client: Any
) -> None:
    url = reverse("admin:reports_reportrun_new") + "?report=aml_activity"
    analyst = staff_client(aml_analyst).get(url)
    assert analyst.status_code == 200 and b'name="start"' in analyst.content
    assert b"include_sars" not in analyst.content and b"FIU" not in analyst.content
    officer = staff_client(mlro).get(url)
    assert officer.status_code == 200 and b'name="include_sars"' in officer.content


def test_the_start_page_tells_finance_of_returns_late_and_ready(
    finance_officer: Any, kyc_officer: Any, staff_client: Any, ledger: Any
) -> None:
    from apps.core.workqueues import work_for

    late = {item.queue.key: item.count.value for item in work_for(finance_officer)}
    assert late.get("reports.returns_late", 0) >= 1  # the MGA return of March 2026 and later: nothing filed
    page = staff_client(finance_officer).get("/admin/")
    assert b"Regulatory returns late" in page.content
    assert "reports.returns_late" not in {item.queue.key for item in work_for(kyc_officer)}
