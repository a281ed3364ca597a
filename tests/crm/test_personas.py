"""The CRM's persona rows (tests/crm/personas.py), run the way the suite-wide sweep runs them, until the sweep's
``CASES`` holds them (then this module can go)."""

from __future__ import annotations

import pytest

from apps.staff import roles
from tests.conftest import verified_client
from tests.crm.personas import CRM_CASES
from tests.staff.personas import Unchecked, World, persona

pytestmark = pytest.mark.django_db
GRANTED = sorted(p for p, case in CRM_CASES.items() if case.granted is not None)
DENIED = sorted(p for p, case in CRM_CASES.items() if case.denied is not None)


def test_every_crm_permission_has_a_row():
    from django.contrib.auth.models import Permission

    existing = {
        f"crm.{codename}"
        for codename in Permission.objects.filter(content_type__app_label="crm").values_list("codename", flat=True)
    }
    assert existing == set(CRM_CASES)


def test_the_rows_name_roles_that_hold_and_lack_each_permission():
    defined = roles.defined_role_permissions()
    for permission, case in CRM_CASES.items():
        holders = sorted(role for role, perms in defined.items() if permission in perms)
        assert holders == ([case.granted] if case.granted else []), permission
        assert case.denied is not None or isinstance(case.how, Unchecked)


@pytest.mark.parametrize("permission", GRANTED)
def test_the_role_with_the_permission_succeeds(permission: str):
    case = CRM_CASES[permission]
    staff = persona(case.granted)
    assert staff.has_perm(permission)
    case.how.granted(World(), verified_client(staff), staff)


@pytest.mark.parametrize("permission", DENIED)
def test_the_role_without_the_permission_is_refused(permission: str):
    case = CRM_CASES[permission]
    staff = persona(case.denied)
    assert not staff.has_perm(permission)
    case.how.refused(World(), verified_client(staff), staff)
