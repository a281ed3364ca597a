"""Admin actions that change something ask a permission of their own, on the server: the second-factor reset
(``staff.reset_second_factor``), revoking API keys (``api.change_apiclient``) and the beat schedule's actions
(``django_celery_beat.change_periodictask``). A staff member who may read the list but lacks it is not offered the
action, and posting it anyway changes nothing and writes no audit row."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import Permission
from django_celery_beat.models import IntervalSchedule, PeriodicTask
from django_otp.plugins.otp_totp.models import TOTPDevice

from apps.api.models import ApiClient
from apps.audit.models import AuditEvent
from apps.staff.models import StaffUser
from tests.conftest import make_platform_client, verified_client
from tests.factories import StaffUserFactory

pytestmark = pytest.mark.django_db
STAFF, CLIENTS, TASKS = "/admin/staff/staffuser/", "/admin/api/apiclient/", "/admin/django_celery_beat/periodictask/"


def reader_of(*permissions: str) -> StaffUser:
    """A staff member holding only these permissions (no role holds a list's view without its actions)."""
    user = StaffUserFactory(roles=[])
    for dotted in permissions:
        app, codename = dotted.split(".")
        user.user_permissions.add(Permission.objects.get(content_type__app_label=app, codename=codename))
    return StaffUser.objects.get(pk=user.pk)


def offered(client: Any, url: str) -> set[str]:
    response = client.get(url)
    assert response.status_code == 200
    form = response.context["action_form"]  # None: no action at all
    return {name for name, _ in form.fields["action"].choices if name} if form else set()


def post_action(client: Any, url: str, name: str, *pks: int) -> Any:
    return client.post(url, {"action": name, "_selected_action": list(pks)}, follow=True)


@pytest.fixture
def task() -> PeriodicTask:
    every, _ = IntervalSchedule.objects.get_or_create(every=10, period=IntervalSchedule.MINUTES)
    return PeriodicTask.objects.create(
        name="actions test", task="apps.approvals.tasks.approvals_expire_pending", interval=every, enabled=True
    )


# the second-factor reset ------------------------------------------------------------------------------------
def test_an_administrator_resets_a_second_factor_and_it_is_audited(admin_user, mlro):
    client = verified_client(admin_user)
    assert "reset_second_factor" in offered(client, STAFF)
    post_action(client, STAFF, "reset_second_factor", mlro.pk)
    assert not TOTPDevice.objects.filter(user=mlro).exists()
    event = AuditEvent.objects.get(action="staff.second_factor_reset")
    assert event.target_id == str(mlro.pk) and event.actor_name == admin_user.username


def test_a_reader_of_the_staff_list_may_not_reset_a_second_factor(mlro):
    reader = reader_of("staff.view_staffuser")
    client = verified_client(reader)
    assert "reset_second_factor" not in offered(client, STAFF)
    before = AuditEvent.objects.count()
    post_action(client, STAFF, "reset_second_factor", mlro.pk)
    assert TOTPDevice.objects.filter(user=mlro, confirmed=True).exists()
    assert AuditEvent.objects.count() == before


# revoking API keys ------------------------------------------------------------------------------------------
def test_an_administrator_revokes_an_api_key(admin_user):
    platform = make_platform_client(name="Revoked platform").model
    client = verified_client(admin_user)
    assert "revoke" in offered(client, CLIENTS)
    post_action(client, CLIENTS, "revoke", platform.pk)
    assert ApiClient.objects.get(pk=platform.pk).revoked
    event = AuditEvent.objects.get(action="api_client.revoked")
    assert event.actor_name == admin_user.username and event.target_label == str(platform)


def test_a_reader_of_the_api_clients_may_not_revoke_a_key():
    platform = make_platform_client(name="Kept platform").model
    client = verified_client(reader_of("api.view_apiclient"))
    assert "revoke" not in offered(client, CLIENTS)
    before = AuditEvent.objects.count()
    post_action(client, CLIENTS, "revoke", platform.pk)
    assert not ApiClient.objects.get(pk=platform.pk).revoked
    assert AuditEvent.objects.count() == before


# the beat schedule ------------------------------------------------------------------------------------------
BEAT_ACTIONS = {"enable_tasks", "disable_tasks", "toggle_tasks", "run_tasks"}


def test_an_administrator_pauses_and_resumes_a_task_audited(admin_user, task):
    client = verified_client(admin_user)
    assert offered(client, TASKS) >= BEAT_ACTIONS
    post_action(client, TASKS, "disable_tasks", task.pk)
    assert PeriodicTask.objects.get(pk=task.pk).enabled is False
    post_action(client, TASKS, "toggle_tasks", task.pk)
    assert PeriodicTask.objects.get(pk=task.pk).enabled is True
    post_action(client, TASKS, "disable_tasks", task.pk)
    post_action(client, TASKS, "enable_tasks", task.pk)
    assert PeriodicTask.objects.get(pk=task.pk).enabled is True
    events = AuditEvent.objects.filter(action="django_celery_beat.periodictask.changed", target_id=str(task.pk))
    assert [e.data for e in events.order_by("id")] == [
        {"enabled": False},
        {"enabled": True},
        {"enabled": False},
        {"enabled": True},
    ]


def test_an_administrator_runs_a_task_now_audited_and_sent_after_commit(
    admin_user, task, django_capture_on_commit_callbacks
):
    client = verified_client(admin_user)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = post_action(client, TASKS, "run_tasks", task.pk)
    assert "1 task(s) sent." in response.content.decode()
    assert len(callbacks) == 1  # the send waits for the audit row's commit
    event = AuditEvent.objects.get(action="django_celery_beat.periodictask.run")
    assert event.target_id == str(task.pk) and event.data == {"task": task.task}


def test_running_an_unknown_task_is_refused_and_sends_nothing(admin_user, task, django_capture_on_commit_callbacks):
    PeriodicTask.objects.filter(pk=task.pk).update(task="apps.nowhere.tasks.missing")
    client = verified_client(admin_user)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = post_action(client, TASKS, "run_tasks", task.pk)
    assert "no task named" in response.content.decode()
    assert callbacks == []
    assert not AuditEvent.objects.filter(action="django_celery_beat.periodictask.run").exists()


def test_a_reader_of_the_schedule_may_not_pause_or_run_a_task(task, django_capture_on_commit_callbacks):
    client = verified_client(reader_of("django_celery_beat.view_periodictask"))
    assert not BEAT_ACTIONS & offered(client, TASKS)
    before = AuditEvent.objects.count()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        for name in sorted(BEAT_ACTIONS):
            post_action(client, TASKS, name, task.pk)
    assert PeriodicTask.objects.get(pk=task.pk).enabled is True
    assert AuditEvent.objects.count() == before and callbacks == []
