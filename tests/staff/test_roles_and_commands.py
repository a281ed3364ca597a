from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django.core.management import CommandError, call_command
from django_otp.plugins.otp_totp.models import TOTPDevice

from apps.audit.models import AuditEvent
from apps.staff.models import StaffUser
from apps.staff.roles import FOUNDATION_PERMISSIONS, ROLES

pytestmark = pytest.mark.django_db


def test_the_seven_roles_exist_with_their_permission_sets():
    assert set(Group.objects.values_list("name", flat=True)) >= set(ROLES)
    admin_perms = {
        f"{p.content_type.app_label}.{p.codename}"
        for p in Group.objects.get(name="Administrator").permissions.select_related("content_type")
    }
    assert set(FOUNDATION_PERMISSIONS["Administrator"]) <= admin_perms
    assert not Group.objects.get(name="Support Agent").permissions.filter(codename="view_auditevent").exists()
    assert Group.objects.get(name="MLRO").permissions.filter(codename="view_auditevent").exists()


def test_create_staff_makes_a_member_with_a_confirmed_device_and_prints_the_uri(capsys):
    call_command("create_staff", "carol", "--role", "KYC Officer", "--password", "a long enough pass phrase 9")
    out = capsys.readouterr().out
    user = StaffUser.objects.get(username="carol")
    assert user.is_staff and not user.is_superuser
    assert list(user.groups.values_list("name", flat=True)) == ["KYC Officer"]
    assert user.check_password("a long enough pass phrase 9")
    device = TOTPDevice.objects.get(user=user)
    assert device.confirmed
    assert "otpauth://totp/Pitboss%3Acarol?secret=" in out and "password:" not in out
    assert AuditEvent.objects.filter(action="staff.created", target_id=str(user.pk)).exists()


def test_create_staff_generates_and_prints_a_password_when_none_is_given(capsys):
    call_command("create_staff", "dave", "--role", "MLRO", "--role", "AML Analyst")
    out = capsys.readouterr().out
    password = next(line.split(": ", 1)[1] for line in out.splitlines() if line.startswith("password: "))
    user = StaffUser.objects.get(username="dave")
    assert user.check_password(password)
    assert sorted(user.groups.values_list("name", flat=True)) == ["AML Analyst", "MLRO"]


def test_create_staff_refuses_a_weak_password_and_creates_nothing():
    with pytest.raises(CommandError, match="password"):
        call_command("create_staff", "erin", "--role", "MLRO", "--password", "123")
    assert not StaffUser.objects.filter(username="erin").exists()


def test_create_staff_refuses_a_taken_username(admin_user):
    with pytest.raises(CommandError, match="username_taken"):
        call_command("create_staff", admin_user.username, "--role", "MLRO")


def test_seed_demo_is_idempotent():
    call_command("seed_demo")
    count = StaffUser.objects.count()
    call_command("seed_demo")
    assert StaffUser.objects.count() == count
    assert StaffUser.objects.filter(username="demo-mlro", groups__name="MLRO").exists()


def test_demo_access_prints_working_credentials_and_keeps_the_totp_secret(capsys):
    from rest_framework.test import APIClient

    call_command("demo_access")
    first = capsys.readouterr().out
    call_command("demo_access")
    second = capsys.readouterr().out

    def field(out: str, name: str) -> str:
        return next(line.split(": ", 1)[1].strip() for line in out.splitlines() if line.strip().startswith(name))

    assert field(first, "TOTP secret") == field(second, "TOTP secret")
    assert field(first, "password") != field(second, "password")
    user = StaffUser.objects.get(username="demo-admin")
    assert user.check_password(field(second, "password"))
    key = second.split("Api-Key ")[1].split("'")[0]
    old_key = first.split("Api-Key ")[1].split("'")[0]
    assert APIClient().get("/api/v1/client/", HTTP_AUTHORIZATION=f"Api-Key {key}").status_code == 200
    assert APIClient().get("/api/v1/client/", HTTP_AUTHORIZATION=f"Api-Key {old_key}").status_code == 401


def test_totp_code_is_refused_without_demo_tools(admin_user, settings):
    settings.DEMO_TOOLS = False
    with pytest.raises(CommandError, match="DEMO_TOOLS"):
        call_command("totp_code", admin_user.username)
