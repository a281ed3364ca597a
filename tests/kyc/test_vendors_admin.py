"""Vendors in the admin: an Administrator adds one with its secret, which is never shown again; the events are
read-only; other roles see nothing of either."""

from __future__ import annotations

import pytest

from apps.audit.models import AuditEvent
from apps.audit.services import SystemActor
from apps.kyc import vendors
from apps.kyc.models import Vendor
from tests.conftest import verified_client

pytestmark = pytest.mark.django_db
SECRET = "whsec_" + "a1b2" * 10
ADD = "/admin/kyc/vendor/add/"


def test_an_administrator_adds_a_vendor_and_never_sees_its_secret_again(admin_user):
    client = verified_client(admin_user)
    form = {"name": "Acme ID", "slug": "acme", "active": "on", "tolerance_seconds": "300", "secret": SECRET}

    response = client.post(ADD, form)

    assert response.status_code == 302, response.content.decode()[:2000]
    vendor = Vendor.objects.get(slug="acme")
    assert vendor.secret == SECRET
    page = client.get(f"/admin/kyc/vendor/{vendor.pk}/change/").content.decode()
    assert SECRET not in page and "Acme ID" in page
    assert SECRET not in client.get("/admin/kyc/vendor/").content.decode()
    event = AuditEvent.objects.get(action="kyc.vendor_created")
    assert event.data["secret"] == "set" and SECRET not in str(event.data)

    # saving without a secret keeps it; a new one replaces it
    changed = client.post(f"/admin/kyc/vendor/{vendor.pk}/change/", {**form, "secret": "", "name": "Acme"})
    assert changed.status_code == 302
    vendor.refresh_from_db()
    assert (vendor.name, vendor.secret) == ("Acme", SECRET)
    client.post(f"/admin/kyc/vendor/{vendor.pk}/change/", {**form, "secret": "n" * 40})
    vendor.refresh_from_db()
    assert vendor.secret == "n" * 40
    assert list(
        AuditEvent.objects.filter(action="kyc.vendor_changed").order_by("id").values_list("data__secret", flat=True)
    ) == ["kept", "replaced"]


def test_a_new_vendor_needs_a_long_secret(admin_user):
    client = verified_client(admin_user)
    form = {"name": "Acme ID", "slug": "acme", "tolerance_seconds": "300"}
    assert "Required" in client.post(ADD, form).content.decode()
    assert "At least 32 characters" in client.post(ADD, {**form, "secret": "short"}).content.decode()
    assert not Vendor.objects.exists()


def test_events_are_read_only_and_vendors_are_not_deleted(admin_user):
    vendor = vendors.vendor_save(actor=SystemActor("t"), slug="acme", name="Acme", secret=SECRET)
    client = verified_client(admin_user)
    assert client.get("/admin/kyc/vendorevent/").status_code == 200
    assert client.get("/admin/kyc/vendorevent/add/").status_code == 403
    assert client.get(f"/admin/kyc/vendor/{vendor.pk}/delete/").status_code == 403


@pytest.mark.parametrize("persona", ["kyc_officer", "mlro", "support_agent"])
def test_other_roles_see_no_vendor(persona, request):
    client = verified_client(request.getfixturevalue(persona))
    assert client.get("/admin/kyc/vendor/").status_code == 403
    assert client.get("/admin/kyc/vendorevent/").status_code == 403
    assert client.post(ADD, {"name": "X", "slug": "x", "tolerance_seconds": "300", "secret": SECRET}).status_code == 403
    assert not Vendor.objects.exists()
