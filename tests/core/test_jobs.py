"""Resumable jobs (apps/core/jobs.py): short slices, a committed cursor, and the sweep that picks up a lost one."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
import time_machine
from django.db import connection
from django.utils import timezone

from apps.core import jobs
from apps.core.models import Job
from tests.factories import PlayerFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def sent(monkeypatch: Any, django_capture_on_commit_callbacks: Any) -> Any:
    """The slices sent to the broker (job ids), recorded instead: no worker runs here, the test runs the slices.
    Every ``jobs`` call commits through ``run`` (the test's transaction never commits: its callbacks run here)."""
    recorded: list[int] = []
    monkeypatch.setattr(jobs, "_send_slice", recorded.append)
    return recorded


def run(django_capture_on_commit_callbacks: Any, fn: Any, *args: Any, **kwargs: Any) -> Any:
    with django_capture_on_commit_callbacks(execute=True):
        return fn(*args, **kwargs)


@pytest.fixture
def counting(sent: list[int], django_capture_on_commit_callbacks: Any) -> Any:
    """A job kind over items 1..10, one item per slice; ``seen`` is every item any slice processed."""
    seen: list[int] = []

    def step(job: jobs.JobSlice) -> None:
        while job.cursor.get("after", 0) < job.params["up_to"]:
            item = job.cursor.get("after", 0) + 1
            seen.append(item)
            job.result["sum"] = job.result.get("sum", 0) + item
            job.cursor["after"] = item
            if job.out_of_time():
                return
        job.finish()

    jobs.register_job("tests.counting", step, slice_seconds=1e-6)  # out of time after every item

    def call(fn: Any, *args: Any, **kwargs: Any) -> Any:
        return run(django_capture_on_commit_callbacks, fn, *args, **kwargs)

    yield seen, sent, call
    jobs._kinds.pop("tests.counting", None)


def test_it_runs_in_slices_each_resuming_from_the_committed_cursor(counting):
    seen, sent, call = counting
    job = call(jobs.job_start, kind="tests.counting", params={"up_to": 10})
    assert sent == [job.pk]  # the first slice is sent after commit
    while job.status == "running":
        job = call(jobs.job_run_slice, job.pk)
    assert (job.status, job.slices, job.result, job.cursor) == ("done", 11, {"sum": 55}, {"after": 10})
    assert seen == list(range(1, 11)) and job.finished_at is not None
    assert sent == [job.pk] * 11  # the start sent the first slice, each slice the next; the last one none


def test_a_second_start_while_one_runs_returns_the_running_one(counting):
    first = jobs.job_start(kind="tests.counting", params={"up_to": 3})
    assert jobs.job_start(kind="tests.counting", params={"up_to": 3}).pk == first.pk
    with pytest.raises(LookupError, match=r"no job kind 'tests\.unknown'"):
        jobs.job_start(kind="tests.unknown")


def test_a_job_whose_worker_was_lost_is_resent_by_the_sweep_and_resumes_where_it_stopped(counting, settings):
    seen, sent, call = counting
    job = call(jobs.job_start, kind="tests.counting", params={"up_to": 5})
    call(jobs.job_run_slice, job.pk)
    call(jobs.job_run_slice, job.pk)  # two slices committed; the worker then dies with the third message
    assert call(jobs.jobs_resume_stalled) == []  # it has a fresh heartbeat: not stalled
    with time_machine.travel(timezone.now() + timedelta(seconds=settings.JOB_STALL_SECONDS + 1)):
        before = len(sent)
        assert call(jobs.jobs_resume_stalled) == [job.pk]
        assert sent[before:] == [job.pk]  # its next slice, sent again
        assert call(jobs.jobs_resume_stalled) == []  # the re-send counts as a heartbeat
    job.refresh_from_db()
    assert (job.redispatches, job.cursor) == (1, {"after": 2})
    while job.status == "running":
        job = call(jobs.job_run_slice, job.pk)
    assert seen == [1, 2, 3, 4, 5] and job.result == {"sum": 15}  # nothing done twice, nothing skipped
    assert job.redispatches == 0


def test_a_job_that_keeps_losing_its_worker_fails_with_a_message(counting, settings):
    settings.JOB_MAX_REDISPATCHES = 2
    job = jobs.job_start(kind="tests.counting", params={"up_to": 5})
    now = timezone.now()
    for n in range(1, 4):
        with time_machine.travel(now + timedelta(seconds=n * (settings.JOB_STALL_SECONDS + 1))):
            jobs.jobs_resume_stalled()
    job.refresh_from_db()
    assert job.status == "failed" and "no slice finished after 2 re-sends" in job.error


def test_a_slice_run_twice_at_once_commits_once(counting):
    seen, _, _ = counting
    job = jobs.job_start(kind="tests.counting", params={"up_to": 3})
    outer = jobs._kinds["tests.counting"].step

    def redelivered_meanwhile(work: jobs.JobSlice) -> None:
        jobs._kinds["tests.counting"] = jobs.JobKind("tests.counting", outer, 1e-6)
        jobs.job_run_slice(work.job_id)  # the same slice, run by a second worker, finishes first
        outer(work)

    jobs._kinds["tests.counting"] = jobs.JobKind("tests.counting", redelivered_meanwhile, 1e-6)
    job = jobs.job_run_slice(job.pk)
    assert (job.slices, job.cursor, job.result) == (1, {"after": 1}, {"sum": 1})  # the second run's commit alone
    assert seen == [1, 1]


def test_a_failing_slice_fails_the_job_with_its_error(sent, django_capture_on_commit_callbacks):
    def step(job: jobs.JobSlice) -> None:
        raise ValueError("the report's template is missing")

    jobs.register_job("tests.failing", step)
    try:
        with django_capture_on_commit_callbacks(execute=False):
            job = jobs.job_run_slice(jobs.job_start(kind="tests.failing").pk)
    finally:
        jobs._kinds.pop("tests.failing")
    assert (job.status, job.error) == ("failed", "ValueError: the report's template is missing")


def test_a_slice_cannot_be_longer_than_the_task_allows():
    with pytest.raises(ValueError, match="slice_seconds"):
        jobs.register_job("tests.too_long", lambda job: None, slice_seconds=120)


def test_the_nightly_reconciliation_runs_as_slices_and_names_a_wrong_balance(
    monkeypatch, sent, django_capture_on_commit_callbacks
):
    """The first real job: balances by ranges of accounts, transactions by ranges of ids, then the rollups."""
    from structlog.testing import capture_logs

    from apps.wallet import posting, reconcile
    from apps.wallet.models import Account
    from apps.wallet.tasks import ledger_reconcile
    from tests.dbroles import as_owner

    players: list[Any] = [PlayerFactory() for _ in range(3)]
    for player in players:
        posting.wallet_deposit(player=player, amount=Decimal("10.00"), currency="GBP")
    tampered = Account.objects.filter(player=players[1], currency="GBP").order_by("id").first()
    assert tampered is not None
    with as_owner(), connection.cursor() as cursor:
        cursor.execute("UPDATE wallet_account SET balance = balance + 1 WHERE id = %s", [tampered.pk])
    monkeypatch.setattr(reconcile, "ACCOUNTS_PER_QUERY", 1)
    monkeypatch.setattr(reconcile, "TRANSACTIONS_PER_QUERY", 1)
    monkeypatch.setitem(jobs._kinds, reconcile.KIND, jobs.JobKind(reconcile.KIND, reconcile.step, 1e-6))
    with django_capture_on_commit_callbacks(execute=False), capture_logs() as logs:
        job = Job.objects.get(pk=ledger_reconcile())
        while job.status == "running":
            job = jobs.job_run_slice(job.pk)
    assert job.result == {"mismatched_accounts": 1, "unbalanced_transactions": 0, "mismatched_rollups": 0}
    assert job.slices > 3  # one account or transaction per slice here
    mismatches = [e for e in logs if e["event"] == "ledger_balance_mismatch"]
    assert [(e["account_id"], e["log_level"]) for e in mismatches] == [(tampered.pk, "error")]
