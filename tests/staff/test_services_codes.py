"""Every refusal of apps.staff.services (through the service) and of the staff login form (through the login
page): the exact code, and nothing changed (staff, roles, devices, backup codes, audit, outbox)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.contrib.auth.models import Group
from django.test import Client, RequestFactory
from django.utils import timezone
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from apps.audit.services import SystemActor
from apps.staff import forms, services
from apps.staff.models import StaffUser
from tests.conftest import current_code
from tests.factories import PASSWORD, StaffUserFactory
from tests.refusals import ALWAYS, assert_refused, codes_raised_by, snapshot

pytestmark = pytest.mark.django_db
ACTOR = SystemActor("tests")
TABLES = (StaffUser, StaffUser.groups.through, Group, TOTPDevice, StaticDevice, StaticToken)
GOOD_PASSWORD = "a long enough pass phrase 9"


def create(**kwargs: object) -> Callable[[], object]:
    kwargs = {
        "username": "carol",
        "email": "carol@staff.invalid",
        "roles": ["MLRO"],
        "password": GOOD_PASSWORD,
    } | kwargs
    return lambda: services.staff_create(actor=ACTOR, **kwargs)  # type: ignore[arg-type]


def create_with_an_unknown_role():
    return create(roles=["Pit Boss"])


def create_with_a_weak_password():
    return create(password="123")


def create_when_a_roles_group_is_gone():
    Group.objects.filter(name="MLRO").delete()
    return create()


def create_with_a_taken_username():
    StaffUserFactory(username="carol")
    return create()


def create_with_a_taken_email_in_other_case():
    StaffUserFactory(email="Carol@Staff.invalid")
    return create()


def set_an_unknown_role():
    user = StaffUserFactory(roles=["Support Agent"])
    return lambda: services.staff_set_roles(actor=ACTOR, user=user, roles=["Support Agent", "Croupier"])


def reset_without_reason():
    user = StaffUserFactory()
    return lambda: services.staff_reset_second_factor(actor=ACTOR, user=user, reason="  ")


def reset_by_a_member_without_the_permission():
    user, asking = StaffUserFactory(), StaffUserFactory(roles=["MLRO"])
    return lambda: services.staff_reset_second_factor(actor=asking, user=user, reason="lost phone")


def enrol_when_already_enrolled():
    user = StaffUserFactory()  # with a confirmed device
    return lambda: services.staff_enrolment_start(user=user)


def confirm_without_an_enrolment():
    user = StaffUserFactory(device=False)
    return lambda: services.staff_enrolment_confirm(request=RequestFactory().get("/"), user=user, token="123456")


def confirm_with_a_wrong_code():
    user = StaffUserFactory(device=False)
    device = services.staff_enrolment_start(user=user)
    wrong = f"{(int(current_code(device)) + 1) % 1_000_000:06d}"
    return lambda: services.staff_enrolment_confirm(request=RequestFactory().get("/"), user=user, token=wrong)


CASES: list[tuple[str, Callable[[], Callable[[], object]]]] = [
    ("invalid", create_with_an_unknown_role),
    ("invalid", create_with_a_weak_password),
    ("roles_missing", create_when_a_roles_group_is_gone),
    ("username_taken", create_with_a_taken_username),
    ("email_taken", create_with_a_taken_email_in_other_case),
    ("invalid", set_an_unknown_role),
    ("invalid", reset_without_reason),
    ("permission_denied", reset_by_a_member_without_the_permission),
    ("already_enrolled", enrol_when_already_enrolled),
    ("no_enrolment", confirm_without_an_enrolment),
    ("invalid_token", confirm_with_a_wrong_code),
]


@pytest.mark.parametrize(("code", "case"), CASES, ids=[f"{code}-{case.__name__}" for code, case in CASES])
def test_it_refuses_with_the_code_and_changes_nothing(code, case):
    assert_refused(case(), code, tables=TABLES)


def test_it_has_a_case_for_every_code_the_module_raises():
    assert codes_raised_by(services) <= {code for code, _ in CASES}


# --- the login form -----------------------------------------------------------------------------------------


def no_code(user: StaffUser, device: TOTPDevice) -> str:
    return ""


def a_wrong_code(user: StaffUser, device: TOTPDevice) -> str:
    return f"{(int(current_code(device)) + 1) % 1_000_000:06d}"


def the_right_code_after_too_many_wrong_ones(user: StaffUser, device: TOTPDevice) -> str:
    device.throttling_failure_count, device.throttling_failure_timestamp = 5, timezone.now()
    device.save(update_fields=["throttling_failure_count", "throttling_failure_timestamp"])
    return current_code(device)


LOGIN_CASES = [
    ("token_required", no_code),
    ("invalid_token", a_wrong_code),
    ("throttled", the_right_code_after_too_many_wrong_ones),
]


@pytest.mark.parametrize(("code", "case"), LOGIN_CASES, ids=[code for code, _ in LOGIN_CASES])
def test_the_login_page_refuses_with_the_code_and_signs_nobody_in(admin_user, code, case):
    device = TOTPDevice.objects.get(user=admin_user)
    token = case(admin_user, device)
    tables = (*ALWAYS, StaffUser, TOTPDevice)
    before = snapshot(tables)
    client = Client()
    response = client.post(
        "/admin/login/?next=/admin/", {"username": admin_user.username, "password": PASSWORD, "otp_token": token}
    )
    assert response.status_code == 200
    assert [e.code for e in response.context["form"].errors.as_data()["__all__"]] == [code]
    assert forms.StaffLoginForm.error_messages[code] in response.content.decode().replace("&#x27;", "'")
    assert client.get("/admin/").status_code == 302  # not signed in
    after = snapshot(tables)
    # a wrong code is counted by the device's own throttle (that is the refusal's one intended effect)
    for row in (*before["otp_totp.TOTPDevice"], *after["otp_totp.TOTPDevice"]):
        row.pop("throttling_failure_count"), row.pop("throttling_failure_timestamp")
    assert after == before
