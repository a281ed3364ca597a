"""The re-screen job: each new snapshot's additions and changes screened against every player, slice by slice from
its cursor, each snapshot once; an import starts it on commit; nothing to do, nothing started."""

from __future__ import annotations

from datetime import date

import pytest

from apps.audit.services import SystemActor
from apps.core.jobs import job_run_slice
from apps.core.models import JobStatus
from apps.screening import rescreen_job
from apps.screening.imports import import_list
from apps.screening.models import ListSnapshot, ScreeningHit
from tests.factories import PlayerFactory

pytestmark = pytest.mark.django_db
HEADER = "id,name,aliases,date_of_birth,country,list,type\n"
FIRST = (HEADER + "s1,Viktor Petrovich Orlov,,1961-03-04,RU,Test sanctions,individual\n").encode()
SECOND = (
    HEADER
    + "s1,Viktor Petrovich Orlov,,1961-03-04,RU,Test sanctions,individual\n"
    + "s2,Ilse Marta Brandauer,,1970-05-06,AT,Test sanctions,individual\n"
).encode()


def run(job):
    for _ in range(200):
        job = job_run_slice(job.pk)
        if job.status != JobStatus.RUNNING:
            return job
    raise AssertionError("the re-screen did not finish")


def test_each_new_snapshot_is_rescreened_once_slice_by_slice(monkeypatch, django_capture_on_commit_callbacks):
    orlov = PlayerFactory(first_name="Viktor", last_name="Orlov", date_of_birth=date(1961, 3, 4))
    brandauer = PlayerFactory(first_name="Ilse", last_name="Brandauer", date_of_birth=date(1970, 5, 6))
    for _ in range(5):
        PlayerFactory()
    with django_capture_on_commit_callbacks() as callbacks:
        import_list(fmt="csv", data=FIRST, file_name="l.csv", actor=SystemActor("tests"))
    assert callbacks, "the import asks for a re-screen once it commits"
    monkeypatch.setattr(rescreen_job, "CHUNK", 2)
    from apps.core import jobs

    monkeypatch.setattr(jobs.JobSlice, "out_of_time", lambda self: True)  # one chunk per slice
    job = rescreen_job.rescreen_start()
    first = job_run_slice(job.pk)
    assert first.status == JobStatus.RUNNING and 0 < first.result["progress"] < 100
    job = run(first)
    assert job.status == JobStatus.DONE and job.slices >= 4
    assert set(ScreeningHit.objects.values_list("player_id", flat=True)) == {orlov.pk}
    assert ListSnapshot.objects.filter(rescreened_at=None).count() == 0
    assert rescreen_job.rescreen_start() is None  # nothing waits: nothing starts
    import_list(fmt="csv", data=SECOND, file_name="l2.csv", actor=SystemActor("tests"))
    job = run(rescreen_job.rescreen_start())
    (snapshot,) = list(job.result["snapshots"])
    assert job.result["snapshots"][snapshot]["with_hits"] == 1  # only the added entry was screened
    assert set(ScreeningHit.objects.values_list("player_id", flat=True)) == {orlov.pk, brandauer.pk}
    assert ScreeningHit.objects.filter(player=orlov).count() == 1  # not raised again
    assert rescreen_job.progress(job)["percent"] == 100.0
