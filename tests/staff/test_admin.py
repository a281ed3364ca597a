from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.test import APIClient

from apps.api.models import ApiClient
from apps.audit.models import AuditEvent
from apps.audit.services import SystemActor, audit_log, audit_seal
from apps.staff.models import StaffUser

pytestmark = pytest.mark.django_db
AUDIT_LIST = "/admin/audit/auditevent/"


def test_administrator_mlro_and_aml_analyst_may_read_the_audit_trail(staff_client, admin_user, mlro, aml_analyst):
    audit_log(actor=None, action="test.visible")
    for user in (admin_user, mlro, aml_analyst):
        response = staff_client(user).get(AUDIT_LIST)
        assert response.status_code == 200, user
        assert "test.visible" in response.content.decode()


def test_support_agents_and_outsiders_may_not(staff_client, support_agent, outsider):
    for user in (support_agent, outsider):
        assert staff_client(user).get(AUDIT_LIST).status_code == 403


def test_the_audit_admin_is_read_only(staff_client, admin_user):
    event = audit_log(actor=None, action="test.readonly")
    audit_seal()
    event.refresh_from_db()
    client = staff_client(admin_user)
    assert client.get(f"{AUDIT_LIST}add/").status_code == 403
    assert client.post(f"{AUDIT_LIST}{event.pk}/delete/", {"post": "yes"}).status_code == 403
    page = client.get(f"{AUDIT_LIST}{event.pk}/change/")
    assert page.status_code == 200 and event.row_hash in page.content.decode()


def test_the_audit_list_filters_without_counting_the_whole_table(staff_client, admin_user):
    for i in range(30):
        audit_log(actor=SystemActor(f"job-{i % 3}"), action=f"test.kind{i % 2}")
    client = staff_client(admin_user)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(AUDIT_LIST, {"action": "test.kind1", "actor": "job-1", "actor_type": "system"})
    assert response.status_code == 200
    html = response.content.decode()
    assert html.count("test.kind1") >= 5 and "test.kind0" not in html
    audit_counts = [q["sql"] for q in queries if "COUNT(" in q["sql"].upper() and "audit_event" in q["sql"]]
    assert audit_counts, "the paginator should still bound the count"
    assert all("LIMIT" in sql.upper() for sql in audit_counts), audit_counts


def test_the_audit_list_filters_by_target_and_date(staff_client, admin_user, mlro):
    audit_log(actor=None, action="test.target", target=mlro)
    client = staff_client(admin_user)
    hit = client.get(AUDIT_LIST, {"target": f"staff.staffuser:{mlro.pk}"}).content.decode()
    assert "test.target" in hit
    window = {"occurred_at_from_0": "2001-01-01", "occurred_at_from_1": "00:00", "occurred_at_to_0": "2001-01-02"}
    miss = client.get(AUDIT_LIST, {**window, "occurred_at_to_1": "00:00"})
    assert miss.status_code == 200 and "test.target" not in miss.content.decode()
    window = {
        "occurred_at_from_0": "2001-01-01",
        "occurred_at_from_1": "00:00",
        "occurred_at_to_0": "2099-01-02",
    }  # far future
    hit = client.get(AUDIT_LIST, {**window, "occurred_at_to_1": "00:00"})
    assert hit.status_code == 200 and "test.target" in hit.content.decode()


def test_creating_an_api_client_in_the_admin_shows_the_key_once_and_audits(staff_client, admin_user):
    client = staff_client(admin_user)
    response = client.post(
        "/admin/api/apiclient/add/",
        {"name": "Sportsbook", "scopes": ["players:read"], "allowed_networks": "", "throttle_rate": "100/min"},
        follow=True,
    )
    assert response.status_code == 200
    created = ApiClient.objects.get(name="Sportsbook")
    page = response.content.decode()
    key = page.split("copy it now): <code>")[1].split("</code>")[0]
    assert key.startswith(f"{created.prefix}.")
    assert APIClient().get("/api/v1/client/", HTTP_AUTHORIZATION=f"Api-Key {key}").status_code == 200
    assert AuditEvent.objects.get(action="api_client.created").actor_name == admin_user.username
    again = client.get(f"/admin/api/apiclient/{created.pk}/change/").content.decode()
    assert key not in again


def test_bad_api_client_input_is_a_form_error_and_creates_nothing(staff_client, admin_user):
    response = staff_client(admin_user).post(
        "/admin/api/apiclient/add/",
        {"name": "Bad", "scopes": ["players:read"], "allowed_networks": "10.0.0.0/33", "throttle_rate": "lots"},
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "not a CIDR network" in html and "6000/min" in html
    assert not ApiClient.objects.filter(name="Bad").exists()


def test_revoking_in_the_admin_goes_through_the_service(staff_client, admin_user, platform_client):
    response = staff_client(admin_user).post(
        "/admin/api/apiclient/",
        {"action": "revoke", "_selected_action": [platform_client.model.pk]},
        follow=True,
    )
    assert response.status_code == 200
    platform_client.model.refresh_from_db()
    assert platform_client.model.revoked
    assert platform_client.api().get("/api/v1/client/").status_code == 401


def test_editing_a_staff_members_roles_is_audited(staff_client, admin_user, support_agent):
    from django.contrib.auth.models import Group

    mlro_group = Group.objects.get(name="MLRO")
    response = staff_client(admin_user).post(
        f"/admin/staff/staffuser/{support_agent.pk}/change/",
        {
            "username": support_agent.username,
            "email": support_agent.email,
            "first_name": "Sam",
            "last_name": support_agent.last_name,
            "is_active": "on",
            "is_staff": "on",
            "groups": [mlro_group.pk],
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    support_agent.refresh_from_db()
    assert support_agent.first_name == "Sam"
    event = AuditEvent.objects.get(action="staff.roles_changed")
    assert event.data == {"old": ["Support Agent"], "new": ["MLRO"]}
    assert AuditEvent.objects.get(action="staff.updated").data == {"first_name": "Sam"}


def test_resetting_a_second_factor_sends_the_member_back_to_enrolment(staff_client, admin_user, mlro):
    response = staff_client(admin_user).post(
        "/admin/staff/staffuser/",
        {"action": "reset_second_factor", "_selected_action": [mlro.pk]},
        follow=True,
    )
    assert response.status_code == 200
    assert not TOTPDevice.objects.filter(user=mlro).exists()
    assert AuditEvent.objects.get(action="staff.second_factor_reset").target_id == str(mlro.pk)


def test_staff_without_the_permission_cannot_manage_staff(staff_client, mlro):
    client = staff_client(mlro)
    assert client.get("/admin/staff/staffuser/").status_code == 403
    before = StaffUser.objects.count()
    response = client.post(
        "/admin/staff/staffuser/add/", {"username": "x", "password1": "p" * 20, "password2": "p" * 20}
    )
    assert response.status_code == 403
    assert StaffUser.objects.count() == before


def test_changing_a_members_password_in_the_admin_is_audited(staff_client, admin_user, mlro):
    response = staff_client(admin_user).post(
        f"/admin/staff/staffuser/{mlro.pk}/password/",
        {"password1": "a brand new pass phrase 77", "password2": "a brand new pass phrase 77"},
    )
    assert response.status_code == 302
    mlro.refresh_from_db()
    assert mlro.check_password("a brand new pass phrase 77")
    event = AuditEvent.objects.get(action="staff.password_changed")
    assert event.target_id == str(mlro.pk) and event.data == {"by_self": False}
    assert "brand new" not in str(event.data)


def test_changing_ones_own_password_is_audited(staff_client, mlro):
    from tests.factories import PASSWORD

    response = staff_client(mlro).post(
        "/admin/password_change/",
        {
            "old_password": PASSWORD,
            "new_password1": "my own new pass phrase 88",
            "new_password2": "my own new pass phrase 88",
        },
    )
    assert response.status_code == 302
    assert AuditEvent.objects.get(action="staff.password_changed").data == {"by_self": True}


def test_pausing_a_beat_entry_in_the_admin_is_audited(staff_client, admin_user):
    from django.core.management import call_command
    from django_celery_beat.models import PeriodicTask

    call_command("install_schedule")
    task = PeriodicTask.objects.get(task="apps.audit.tasks.audit_verify_chain")
    client = staff_client(admin_user)
    page = client.get(f"/admin/django_celery_beat/periodictask/{task.pk}/change/")
    assert page.status_code == 200
    form = page.context["adminform"].form
    data = {k: v for k, v in form.initial.items() if v is not None and not isinstance(v, (list, dict))}
    data.update({"enabled": "", "crontab": task.crontab_id, "regtask": task.task, "task": task.task})
    data.update({"kwargs": task.kwargs, "args": task.args, "queue": task.queue, "headers": "{}"})
    response = client.post(f"/admin/django_celery_beat/periodictask/{task.pk}/change/", data)
    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else response
    task.refresh_from_db()
    assert task.enabled is False
    event = AuditEvent.objects.get(action="django_celery_beat.periodictask.changed")
    assert event.data["enabled"] is False and event.actor_name == admin_user.username


def test_roles_can_be_read_but_not_edited_in_the_admin(staff_client, admin_user):
    from django.contrib.auth.models import Group

    client = staff_client(admin_user)
    assert client.get("/admin/auth/group/").status_code == 200
    assert client.get("/admin/auth/group/add/").status_code == 403
    mlro_group = Group.objects.get(name="MLRO")
    assert client.post(f"/admin/auth/group/{mlro_group.pk}/delete/", {"post": "yes"}).status_code == 403
    assert Group.objects.filter(name="MLRO").exists()
