from __future__ import annotations

import pytest
import time_machine
from django.test import Client, override_settings
from django_otp.plugins.otp_totp.models import TOTPDevice

from apps.audit.models import AuditEvent
from tests.conftest import current_code, verified_client
from tests.factories import PASSWORD, StaffUserFactory

pytestmark = pytest.mark.django_db
LOGIN = "/admin/login/?next=/admin/"


def login(client: Client, username: str, password: str = PASSWORD, code: str = "", **extra: str):
    return client.post(LOGIN, {"username": username, "password": password, "otp_token": code}, **extra)


def test_it_refuses_a_correct_password_without_a_code(admin_user):
    client = Client()
    response = login(client, admin_user.username)
    assert response.status_code == 200
    assert "Enter the one-time code" in response.content.decode()
    assert client.get("/admin/").status_code == 302


def test_it_refuses_a_correct_password_with_a_wrong_code(admin_user):
    client = Client()
    device = TOTPDevice.objects.get(user=admin_user)
    wrong = f"{(int(current_code(device)) + 1) % 1_000_000:06d}"
    response = login(client, admin_user.username, code=wrong)
    assert "Invalid one-time code" in response.content.decode()
    assert client.get("/admin/").status_code == 302


def test_it_logs_in_with_password_and_code_and_audits_it(admin_user):
    client = Client()
    device = TOTPDevice.objects.get(user=admin_user)
    response = login(client, admin_user.username, code=current_code(device))
    assert response.status_code == 302 and response["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200
    event = AuditEvent.objects.get(action="staff.logged_in")
    assert event.actor_name == admin_user.username and event.data == {"otp_verified": True}
    assert event.ip == "127.0.0.1" and event.request_id


def test_it_refuses_a_wrong_password_even_with_a_code(admin_user):
    client = Client()
    device = TOTPDevice.objects.get(user=admin_user)
    response = login(client, admin_user.username, password="wrong password", code=current_code(device))
    assert response.status_code == 200
    assert client.get("/admin/").status_code == 302


def test_it_sends_a_member_without_a_device_to_enrolment_before_any_page():
    user = StaffUserFactory(device=False, roles=["Administrator"])
    client = Client()
    response = login(client, user.username)
    assert response.status_code == 302
    for path in ("/admin/", "/admin/audit/auditevent/", "/admin/staff/staffuser/"):
        response = client.get(path)
        assert response.status_code == 302 and response["Location"] == "/admin/enrol/", path


def test_enrolment_shows_a_qr_code_once_confirms_with_a_code_and_issues_backup_codes():
    user = StaffUserFactory(device=False, roles=["Administrator"])
    client = Client()
    login(client, user.username)
    page = client.get("/admin/enrol/").content.decode()
    assert "<svg" in page and "otp-secret" in page
    device = TOTPDevice.objects.get(user=user, confirmed=False)
    assert device.config_url.split("secret=")[1].split("&")[0] in page

    wrong = client.post("/admin/enrol/", {"token": "000000" if current_code(device) != "000000" else "111111"})
    assert "not right" in wrong.content.decode()
    assert TOTPDevice.objects.get(pk=device.pk).confirmed is False

    done = client.post("/admin/enrol/", {"token": current_code(device)})
    assert done.status_code == 200
    assert 'id="backup-codes"' in done.content.decode()
    assert TOTPDevice.objects.get(pk=device.pk).confirmed is True
    assert client.get("/admin/").status_code == 200  # the session is now OTP-verified
    assert client.get("/admin/enrol/").status_code == 302  # and the secret is never shown again
    assert AuditEvent.objects.filter(action="staff.enrolled", target_id=str(user.pk)).exists()


def test_a_reload_of_the_enrolment_page_keeps_the_secret_a_phone_already_scanned():
    user = StaffUserFactory(device=False, roles=["Administrator"])
    client = Client()
    login(client, user.username)
    first = client.get("/admin/enrol/").content.decode()
    scanned = TOTPDevice.objects.get(user=user, confirmed=False)  # what the phone read from the first showing
    secret = scanned.config_url.split("secret=")[1].split("&")[0]
    again = client.get("/admin/enrol/").content.decode()
    assert secret in first and secret in again
    assert list(TOTPDevice.objects.filter(user=user).values_list("pk", flat=True)) == [scanned.pk]
    assert AuditEvent.objects.filter(action="staff.enrolment_started", target_id=str(user.pk)).count() == 1

    done = client.post("/admin/enrol/", {"token": current_code(scanned)})
    assert 'id="backup-codes"' in done.content.decode()
    assert TOTPDevice.objects.get(pk=scanned.pk).confirmed is True
    assert client.get("/admin/").status_code == 200


def test_a_second_login_before_confirming_shows_the_same_secret():
    user = StaffUserFactory(device=False, roles=["Administrator"])
    first, second = Client(), Client()
    login(first, user.username)
    first.get("/admin/enrol/")
    scanned = TOTPDevice.objects.get(user=user, confirmed=False)
    login(second, user.username)
    page = second.get("/admin/enrol/").content.decode()
    assert scanned.config_url.split("secret=")[1].split("&")[0] in page
    assert TOTPDevice.objects.filter(user=user).count() == 1


def test_a_reset_second_factor_discards_an_unconfirmed_secret(admin_user):
    from apps.staff import services

    user = StaffUserFactory(device=False, roles=["MLRO"])
    client = Client()
    login(client, user.username)
    client.get("/admin/enrol/")
    old = TOTPDevice.objects.get(user=user, confirmed=False)
    services.staff_reset_second_factor(actor=admin_user, user=user, reason="secret seen by someone else")
    client.get("/admin/enrol/")
    new = TOTPDevice.objects.get(user=user, confirmed=False)
    assert new.pk != old.pk and new.key != old.key


def test_a_backup_code_logs_in_once():
    from django_otp.plugins.otp_static.models import StaticDevice, StaticToken

    user = StaffUserFactory(roles=["Administrator"])
    static = StaticDevice.objects.create(user=user, name="Backup codes", confirmed=True)
    StaticToken.objects.create(device=static, token="abcd1234")
    client = Client()
    assert login(client, user.username, code="abcd-1234").status_code == 302
    assert client.get("/admin/").status_code == 200
    again = Client()
    assert login(again, user.username, code="abcd1234").status_code == 200  # spent


def test_it_locks_out_after_five_failures_even_with_the_right_credentials(admin_user):
    client = Client()
    for _ in range(5):
        login(client, admin_user.username, password="wrong password")
    device = TOTPDevice.objects.get(user=admin_user)
    response = login(client, admin_user.username, code=current_code(device))
    assert response.status_code == 429
    assert "Too many failed sign-ins" in response.content.decode()


def test_wrong_codes_count_towards_the_lockout(admin_user):
    client = Client()
    for _ in range(5):
        login(client, admin_user.username, code="999999x")
    response = login(client, admin_user.username, code=current_code(TOTPDevice.objects.get(user=admin_user)))
    assert response.status_code == 429


def test_the_lockout_is_held_in_redis_for_fifteen_minutes(admin_user):
    from django.core.cache import cache

    client = Client()
    for _ in range(5):
        login(client, admin_user.username, password="wrong password")
    keys = [k for k in cache.keys("*") if "axes" in k]
    assert keys, "django-axes should keep its failure records in the Redis cache"
    assert all(880 <= cache.ttl(k) <= 900 for k in keys)


@override_settings(STAFF_ALLOWED_NETWORKS=["10.20.0.0/16"])
def test_the_admin_answers_403_outside_the_allowed_networks(admin_user):
    assert Client(REMOTE_ADDR="192.0.2.7").get("/admin/login/").status_code == 403
    assert Client(REMOTE_ADDR="10.20.3.4").get("/admin/login/").status_code == 200
    # the API and health checks are not staff pages
    assert Client(REMOTE_ADDR="192.0.2.7").get("/healthz").status_code == 200


@override_settings(STAFF_ALLOWED_NETWORKS=["10.20.0.0/16"])
def test_a_forged_forwarded_for_header_does_not_pass_the_allow_list(admin_user):
    client = Client(REMOTE_ADDR="192.0.2.7", HTTP_X_FORWARDED_FOR="10.20.3.4")
    assert client.get("/admin/login/").status_code == 403


@override_settings(
    STAFF_ALLOWED_NETWORKS=["10.20.0.0/16"],
    AXES_IPWARE_PROXY_COUNT=1,
    AXES_IPWARE_META_PRECEDENCE_ORDER=["HTTP_X_FORWARDED_FOR", "REMOTE_ADDR"],
)
def test_behind_a_trusted_proxy_the_forwarded_address_counts(admin_user):
    client = Client(REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="10.20.3.4, 127.0.0.1")
    assert client.get("/admin/login/").status_code == 200


def test_an_idle_session_expires_after_thirty_minutes(admin_user):
    with time_machine.travel("2026-11-22 10:00", tick=False) as traveller:
        client = verified_client(admin_user)
        assert client.get("/admin/").status_code == 200
        traveller.shift(29 * 60)
        assert client.get("/admin/").status_code == 200  # activity pushes the expiry forward
        traveller.shift(31 * 60)
        response = client.get("/admin/")
        assert response.status_code == 302 and response["Location"].startswith("/admin/login/")


def test_security_headers_are_set(admin_user):
    response = Client().get("/admin/login/")
    assert response["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in response["Content-Security-Policy"]
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["X-Request-ID"]
